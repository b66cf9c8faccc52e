package server

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path"

	"github.com/berthvm/berth/runtime/archive"
	"github.com/berthvm/berth/runtime/container"
	"golang.org/x/sys/unix"
)

// archiveRoutes are docker cp's endpoints.
func (s *Server) archiveRoutes() {
	s.handle("GET /containers/{id}/archive", s.getArchive)
	s.handle("PUT /containers/{id}/archive", s.putArchive)
}

// pathStatHeader carries the stat of the path asked for, base64 JSON.
const pathStatHeader = "X-Docker-Container-Path-Stat"

// archiveError maps the archive package's errors to Docker's answers.
func archiveError(err error, p, id string) error {
	switch {
	case errors.Is(err, archive.ErrNotFound):
		return Errorf(http.StatusNotFound, "Could not find the file %s in container %s", p, id)
	case errors.Is(err, archive.ErrNotDir), errors.Is(err, archive.ErrRefused):
		return WithStatus(http.StatusBadRequest, err)
	}
	return err
}

// archiveTarget reads the container and the ?path= of a request.
func (s *Server) archiveTarget(r *http.Request) (containerRuntime, container.Info, string, error) {
	rt, info, err := s.getContainer(r)
	if err != nil {
		return nil, info, "", err
	}
	p := r.URL.Query().Get("path")
	if p == "" {
		return nil, info, "", Errorf(http.StatusBadRequest, "path is empty: give ?path=")
	}
	return rt, info, p, nil
}

// getArchive answers HEAD (the path's stat only) and GET (its tar).
func (s *Server) getArchive(w http.ResponseWriter, r *http.Request) error {
	rt, info, p, err := s.archiveTarget(r)
	if err != nil {
		return err
	}
	root, inRoot, name, err := archiveRoot(r.Context(), rt, info, p, false)
	if err != nil {
		return err
	}
	defer root.Close()
	st, err := archive.StatPath(root.Fd, inRoot)
	if err != nil {
		return archiveError(err, p, r.PathValue("id"))
	}
	if name != "" {
		st.Name = name
	}
	b, err := json.Marshal(st)
	if err != nil {
		return err
	}
	w.Header().Set(pathStatHeader, base64.StdEncoding.EncodeToString(b))
	if r.Method == http.MethodHead {
		w.WriteHeader(http.StatusOK)
		return nil
	}
	s.containerEvent(container.Event{Action: "archive-path", Spec: info.Spec})
	w.Header().Set("Content-Type", "application/x-tar")
	w.WriteHeader(http.StatusOK)
	return archive.Write(r.Context(), w, root.Fd, inRoot, name)
}

func (s *Server) putArchive(w http.ResponseWriter, r *http.Request) error {
	rt, info, p, err := s.archiveTarget(r)
	if err != nil {
		return err
	}
	if _, _, inMount := container.MountAt(info.Spec.Mounts, p); info.Spec.ReadonlyRootfs && !inMount {
		return Errorf(http.StatusForbidden, "container rootfs is marked read-only")
	}
	root, inRoot, _, err := archiveRoot(r.Context(), rt, info, p, true)
	if err != nil {
		return err
	}
	defer root.Close()
	opts := archive.ExtractOptions{NoOverwriteDirNonDir: boolParam(r, "noOverwriteDirNonDir")}
	if boolParam(r, "copyUIDGID") {
		u, err := containerUser(root.Fd, info.Spec.User)
		if err != nil {
			return err
		}
		opts.Owner = &u
	}
	if err := archive.Extract(r.Context(), root.Fd, inRoot, r.Body, opts); err != nil {
		return archiveError(err, p, r.PathValue("id"))
	}
	s.containerEvent(container.Event{Action: "extract-to-dir", Spec: info.Spec})
	w.WriteHeader(http.StatusOK)
	return nil
}

// archiveRoot opens the root p is resolved in and gives p's path there:
// a running container's own root (its volumes mounted); for a stopped
// one the volume or bind mount that holds p by name, else its layers.
// name, when not "", is the name archive entries and the stat take (the
// mount's own name rather than its source's).
func archiveRoot(ctx context.Context, rt containerRuntime, info container.Info, p string, writable bool) (*container.RootFS, string, string, error) {
	if !info.State.Running() {
		if m, rel, ok := container.MountAt(info.Spec.Mounts, p); ok {
			if fi, err := os.Stat(m.Source); err == nil && fi.IsDir() {
				if writable && m.ReadOnly {
					return nil, "", "", Errorf(http.StatusForbidden, "mounted volume is marked read-only")
				}
				fd, err := unix.Open(m.Source, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
				if err != nil {
					return nil, "", "", fmt.Errorf("open the volume at %s: %w", m.Target, err)
				}
				name := ""
				switch rel {
				case "/":
					name = path.Base(path.Clean("/" + p))
				case "/.":
					name = "."
				}
				return &container.RootFS{Fd: fd}, rel, name, nil
			}
		}
	}
	root, err := rt.OpenRootFS(ctx, info.Spec.ID, writable)
	if err != nil {
		return nil, "", "", containerError(err)
	}
	return root, p, "", nil
}

// containerUser resolves the container's user (root when none) in its own
// /etc/passwd and /etc/group, read inside its root.
func containerUser(root int, user string) ([2]int, error) {
	if user == "" {
		return [2]int{0, 0}, nil
	}
	open := func(name string) io.Reader {
		fd, err := unix.Openat2(root, name, &unix.OpenHow{Flags: unix.O_RDONLY | unix.O_CLOEXEC | unix.O_NONBLOCK, Resolve: unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS})
		if err != nil {
			return nil
		}
		f := os.NewFile(uintptr(fd), name)
		defer f.Close()
		if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
			return nil
		}
		b, _ := io.ReadAll(io.LimitReader(f, 16<<20))
		return bytes.NewReader(b)
	}
	u, err := container.ResolveUser(user, open("etc/passwd"), open("etc/group"))
	if err != nil {
		return [2]int{}, Errorf(http.StatusBadRequest, "copyUIDGID: user %s: %v", user, err)
	}
	return [2]int{int(u.UID), int(u.GID)}, nil
}
