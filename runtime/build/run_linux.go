package build

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/berthvm/berth/runtime/container"
	"github.com/berthvm/berth/runtime/image"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/moby/api/pkg/stdcopy"
	"golang.org/x/sys/unix"
)

// runCommand runs a RUN step as a container of the current state and
// stores what it changed as a layer.
func (r *run) runCommand(st *state, c *instructions.RunCommand) error {
	if len(c.FlagsUsed) > 0 {
		return badRequest("%s:%d: RUN --%s needs BuildKit; berth's classic builder does not do it", r.df.name, lineOf(c), c.FlagsUsed[0])
	}
	if len(c.Files) > 0 {
		return badRequest("%s:%d: RUN with a heredoc is not supported by berth's builder: write the script to a file and COPY it", r.df.name, lineOf(c))
	}
	args := commandLine(st, c.ShellDependantCmdLine)
	hist, argEnv := buildArgEnv(st, r.req.BuildArgs)
	createdBy := strings.Join(args, " ")
	if len(hist) > 0 {
		createdBy = "|" + strconv.Itoa(len(hist)) + " " + strings.Join(hist, " ") + " " + createdBy
	}
	key := image.CacheKey(st.key(), "run", createdBy)
	if ok, err := r.cached(st, key); ok || err != nil {
		return err
	}
	if st.id == "" {
		return badRequest("%s:%d: RUN in a stage FROM scratch: the stage has no files to run a command with", r.df.name, lineOf(c))
	}
	env := container.MergeEnv(st.img.Config.Env, argEnv)
	l, release, err := r.runContainer(st, args, env)
	if err != nil {
		return err
	}
	defer release()
	return r.commit(st, key, st.copyImage(), createdBy, &l)
}

// runContainer runs args in a container of st, streams its output, and
// stores its changes as a layer (released by the caller once recorded).
func (r *run) runContainer(st *state, args, env []string) (image.Layer, func(), error) {
	id := container.NewID()
	img, err := r.b.images.Use(st.id, id)
	if err != nil {
		return image.Layer{}, nil, fmt.Errorf("use build state %s: %w", image.ShortID(st.id), err)
	}
	spec := container.Spec{
		ID: id, Image: st.id, ImageID: img.ID,
		Labels:      map[string]string{BuildLabel: r.id},
		NetworkMode: r.req.NetworkMode,
		ExtraHosts:  r.req.ExtraHosts,
	}
	spec.ShmSize = r.req.ShmSize
	for i := len(img.LayerDirs) - 1; i >= 0; i-- {
		spec.LowerDirs = append(spec.LowerDirs, img.LayerDirs[i])
	}
	cfg := st.img.Config
	ic := container.ImageConfig{User: cfg.User, Env: env, Cmd: args, WorkingDir: cfg.WorkingDir}
	if err := spec.ApplyConfig(ic, container.Overrides{Entrypoint: []string{}, Cmd: args}); err != nil {
		r.b.images.Release(img.ID, id)
		return image.Layer{}, nil, badRequest("RUN: %v", err)
	}
	// Removal releases the image; a failed create releases it here.
	if _, err := r.b.rt.Create(r.ctx, spec); err != nil {
		r.b.images.Release(img.ID, id)
		return image.Layer{}, nil, fmt.Errorf("create build container: %w", err)
	}
	defer r.b.rt.Remove(context.Background(), id, true)
	r.out.Stream(" ---> Running in " + id[:12] + "\n")
	att, err := r.b.rt.RequestAttach(id, container.AttachOptions{Stdout: true, Stderr: true})
	if err != nil {
		return image.Layer{}, nil, err
	}
	if err := r.b.rt.Start(r.ctx, id); err != nil {
		att.Cancel()
		return image.Layer{}, nil, fmt.Errorf("start build container: %w", err)
	}
	copied := make(chan struct{})
	go func() {
		defer close(copied)
		conn, err := att.Conn(r.ctx)
		if err != nil {
			return
		}
		defer conn.Close()
		stop := context.AfterFunc(r.ctx, func() { conn.Close() })
		defer stop()
		w := streamWriter{r.out}
		stdcopy.StdCopy(w, w, conn)
	}()
	state, err := r.b.rt.Wait(r.ctx, id, container.WaitNotRunning)
	if err != nil {
		// Mostly the build is cancelled, which ends the copier's
		// stream: it is not left sending once the build has returned.
		select {
		case <-copied:
		case <-time.After(5 * time.Second):
		}
		return image.Layer{}, nil, err
	}
	select {
	case <-copied:
	case <-time.After(5 * time.Second):
	}
	if state.ExitCode != 0 {
		se := &stepError{
			msg:  fmt.Sprintf("The command '%s' returned a non-zero code: %d", strings.Join(args, " "), state.ExitCode),
			code: state.ExitCode,
		}
		// A step that failed with the disk full most likely failed for
		// it: said, before the step's files go and free the space.
		if upper, err := r.b.rt.ChangesDir(id); err == nil && diskFull(upper) {
			se.err = syscall.ENOSPC
			se.msg += " (no space left on device)"
		}
		return image.Layer{}, nil, se
	}
	upper, err := r.b.rt.ChangesDir(id)
	if err != nil {
		return image.Layer{}, nil, err
	}
	l, release, err := r.storeDiff(upper, true)
	if err != nil {
		return l, nil, err
	}
	r.out.Stream("Removing intermediate container " + id[:12] + "\n")
	return l, release, nil
}

// streamWriter sends a RUN step's output to the client as it comes.
type streamWriter struct{ out Output }

func (w streamWriter) Write(p []byte) (int, error) {
	w.out.Stream(string(p))
	return len(p), nil
}

var _ io.Writer = streamWriter{}

// diskFull reports whether the file system holding dir has (almost) no
// space left: under 64 KiB free.
func diskFull(dir string) bool {
	var st unix.Statfs_t
	return unix.Statfs(dir, &st) == nil && int64(st.Bavail)*st.Bsize < 64<<10
}
