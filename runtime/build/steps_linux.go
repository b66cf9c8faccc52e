package build

import (
	"fmt"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/berthvm/berth/runtime/image"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

func dockerHistory(t time.Time, createdBy string, empty bool) ocispec.History {
	return ocispec.History{Created: &t, CreatedBy: createdBy, EmptyLayer: empty}
}

func digestOf(s string) digest.Digest { return digest.Digest(s) }

// dispatch runs one instruction on st.
func (r *run) dispatch(st *state, c instructions.Command) error {
	if ex, ok := c.(instructions.SupportsSingleWordExpansion); ok {
		env := stageEnv(st)
		if err := ex.Expand(func(w string) (string, error) { return r.expand(w, env) }); err != nil {
			return badRequest("%s:%d: %v", r.df.name, lineOf(c), err)
		}
	}
	switch c := c.(type) {
	case *instructions.EnvCommand:
		var parts []string
		for _, kv := range c.Env {
			parts = append(parts, kv.Key+"="+kv.Value)
		}
		return r.meta(st, "ENV "+strings.Join(parts, " "), func(img *dockerspec.DockerOCIImage) {
			for _, kv := range c.Env {
				img.Config.Env = setEnv(img.Config.Env, kv.Key, kv.Value)
			}
		})
	case *instructions.LabelCommand:
		var parts []string
		for _, kv := range c.Labels {
			parts = append(parts, kv.Key+"="+kv.Value)
		}
		return r.meta(st, "LABEL "+strings.Join(parts, " "), func(img *dockerspec.DockerOCIImage) {
			if img.Config.Labels == nil {
				img.Config.Labels = map[string]string{}
			}
			for _, kv := range c.Labels {
				img.Config.Labels[kv.Key] = kv.Value
			}
		})
	case *instructions.MaintainerCommand:
		return r.meta(st, "MAINTAINER "+c.Maintainer, func(img *dockerspec.DockerOCIImage) { img.Author = c.Maintainer })
	case *instructions.CmdCommand:
		if len(c.Files) > 0 {
			return badRequest("%s:%d: CMD with a heredoc is not supported by berth's builder", r.df.name, lineOf(c))
		}
		cmd := commandLine(st, c.ShellDependantCmdLine)
		st.cmdSet = true
		return r.meta(st, fmt.Sprintf("CMD %q", cmd), func(img *dockerspec.DockerOCIImage) { img.Config.Cmd = cmd })
	case *instructions.EntrypointCommand:
		if len(c.Files) > 0 {
			return badRequest("%s:%d: ENTRYPOINT with a heredoc is not supported by berth's builder", r.df.name, lineOf(c))
		}
		ep := commandLine(st, c.ShellDependantCmdLine)
		keepCmd := st.cmdSet
		return r.meta(st, fmt.Sprintf("ENTRYPOINT %q", ep), func(img *dockerspec.DockerOCIImage) {
			img.Config.Entrypoint = ep
			if !keepCmd {
				img.Config.Cmd = nil
			}
		})
	case *instructions.ExposeCommand:
		ports, err := exposedPorts(c.Ports)
		if err != nil {
			return badRequest("%s:%d: EXPOSE: %v", r.df.name, lineOf(c), err)
		}
		return r.meta(st, "EXPOSE "+strings.Join(ports, " "), func(img *dockerspec.DockerOCIImage) {
			if img.Config.ExposedPorts == nil {
				img.Config.ExposedPorts = map[string]struct{}{}
			}
			for _, p := range ports {
				img.Config.ExposedPorts[p] = struct{}{}
			}
		})
	case *instructions.UserCommand:
		return r.meta(st, "USER "+c.User, func(img *dockerspec.DockerOCIImage) { img.Config.User = c.User })
	case *instructions.VolumeCommand:
		for _, v := range c.Volumes {
			if strings.TrimSpace(v) == "" {
				return badRequest("%s:%d: VOLUME specified can not be an empty string", r.df.name, lineOf(c))
			}
		}
		return r.meta(st, fmt.Sprintf("VOLUME %v", c.Volumes), func(img *dockerspec.DockerOCIImage) {
			if img.Config.Volumes == nil {
				img.Config.Volumes = map[string]struct{}{}
			}
			for _, v := range c.Volumes {
				img.Config.Volumes[v] = struct{}{}
			}
		})
	case *instructions.StopSignalCommand:
		if err := checkSignal(c.Signal); err != nil {
			return badRequest("%s:%d: STOPSIGNAL: %v", r.df.name, lineOf(c), err)
		}
		return r.meta(st, "STOPSIGNAL "+c.Signal, func(img *dockerspec.DockerOCIImage) { img.Config.StopSignal = c.Signal })
	case *instructions.HealthCheckCommand:
		h := *c.Health
		return r.meta(st, fmt.Sprintf("HEALTHCHECK %q %s %s %s %d", h.Test, h.Interval, h.Timeout, h.StartPeriod, h.Retries), func(img *dockerspec.DockerOCIImage) {
			old := img.Config.Healthcheck
			if old != nil && len(h.Test) == 0 {
				h.Test = old.Test
			}
			img.Config.Healthcheck = &h
		})
	case *instructions.ShellCommand:
		return r.meta(st, fmt.Sprintf("SHELL %v", c.Shell), func(img *dockerspec.DockerOCIImage) { img.Config.Shell = slices.Clone(c.Shell) })
	case *instructions.OnbuildCommand:
		return r.meta(st, "ONBUILD "+c.Expression, func(img *dockerspec.DockerOCIImage) {
			img.Config.OnBuild = append(img.Config.OnBuild, c.Expression)
		})
	case *instructions.ArgCommand:
		return r.argStep(st, c)
	case *instructions.WorkdirCommand:
		return r.workdir(st, c)
	case *instructions.RunCommand:
		return r.runCommand(st, c)
	case *instructions.CopyCommand:
		return r.copyCommand(st, c)
	case *instructions.AddCommand:
		return r.addCommand(st, c)
	}
	return badRequest("%s:%d: %s is not supported by berth's builder", r.df.name, lineOf(c), strings.ToUpper(c.Name()))
}

// commandLine is a CMD, ENTRYPOINT or RUN in exec form, or the shell
// with the command line in shell form.
func commandLine(st *state, c instructions.ShellDependantCmdLine) []string {
	if c.PrependShell {
		return append(slices.Clone(shellOf(st)), strings.Join(c.CmdLine, " "))
	}
	return slices.Clone(c.CmdLine)
}

func setEnv(env []string, k, v string) []string {
	for i, kv := range env {
		if name, _, _ := strings.Cut(kv, "="); name == k {
			env[i] = k + "=" + v
			return env
		}
	}
	return append(env, k+"="+v)
}

// exposedPorts turns EXPOSE words into "80/tcp" keys (ranges expanded).
func exposedPorts(words []string) ([]string, error) {
	var out []string
	for _, w := range words {
		for _, f := range strings.Fields(w) {
			p, proto, _ := strings.Cut(f, "/")
			if proto == "" {
				proto = "tcp"
			}
			proto = strings.ToLower(proto)
			if proto != "tcp" && proto != "udp" && proto != "sctp" {
				return nil, fmt.Errorf("invalid proto %q in %q", proto, f)
			}
			lo, hi, isRange := strings.Cut(p, "-")
			a, err := strconv.ParseUint(lo, 10, 16)
			if err != nil {
				return nil, fmt.Errorf("invalid port %q", f)
			}
			b := a
			if isRange {
				if b, err = strconv.ParseUint(hi, 10, 16); err != nil || b < a {
					return nil, fmt.Errorf("invalid port range %q", f)
				}
			}
			for n := a; n <= b; n++ {
				out = append(out, fmt.Sprintf("%d/%s", n, proto))
			}
		}
	}
	return out, nil
}

func checkSignal(s string) error {
	if n, err := strconv.Atoi(s); err == nil {
		if n <= 0 || n > 64 {
			return fmt.Errorf("invalid signal: %s", s)
		}
		return nil
	}
	name := strings.TrimPrefix(strings.ToUpper(s), "SIG")
	if name == "" || strings.ContainsAny(name, " \t") {
		return fmt.Errorf("invalid signal: %s", s)
	}
	return nil
}

// argStep declares stage ARGs: a build arg's value, else the default,
// else the global ARG's value.
func (r *run) argStep(st *state, c *instructions.ArgCommand) error {
	var parts []string
	for _, kv := range c.Args {
		var val *string
		if kv.Value != nil {
			v := *kv.Value
			val = &v
		} else if mv, ok := r.globals[kv.Key]; ok && mv != nil {
			v := *mv
			val = &v
		}
		if bv, ok := r.req.BuildArgs[kv.Key]; ok && bv != nil {
			v := *bv
			val = &v
		}
		r.used[kv.Key] = true
		st.args = slices.DeleteFunc(st.args, func(a arg) bool { return a.name == kv.Key })
		st.args = append(st.args, arg{name: kv.Key, value: val})
		if kv.Value != nil {
			parts = append(parts, kv.Key+"="+*kv.Value)
		} else {
			parts = append(parts, kv.Key)
		}
	}
	return r.meta(st, "ARG "+strings.Join(parts, " "), func(*dockerspec.DockerOCIImage) {})
}

// buildArgEnv is the NAME=value list of the stage's ARGs with a value
// that ENV does not override, plus the proxy args given, for RUN.
func buildArgEnv(st *state, given map[string]*string) (history, env []string) {
	set := map[string]bool{}
	for _, kv := range st.img.Config.Env {
		k, _, _ := strings.Cut(kv, "=")
		set[k] = true
	}
	for _, a := range st.args {
		if a.value == nil || set[a.name] {
			continue
		}
		if !proxyArgs[a.name] {
			history = append(history, a.name+"="+*a.value)
		}
		env = append(env, a.name+"="+*a.value)
	}
	for k, v := range given {
		if proxyArgs[k] && v != nil && !set[k] && !slices.ContainsFunc(st.args, func(a arg) bool { return a.name == k }) {
			env = append(env, k+"="+*v)
		}
	}
	slices.Sort(env)
	return history, env
}

// workdir sets the working directory and makes it when missing.
func (r *run) workdir(st *state, c *instructions.WorkdirCommand) error {
	dir := c.Path
	if !path.IsAbs(dir) {
		base := st.img.Config.WorkingDir
		if base == "" {
			base = "/"
		}
		dir = path.Join(base, dir)
	}
	dir = path.Clean(dir)
	comment := "WORKDIR " + dir
	key := image.CacheKey(st.key(), "workdir", dir)
	if ok, err := r.cached(st, key); ok || err != nil {
		return err
	}
	l, release, err := r.inOverlay(st, func(root int) error { return mkdirAllIn(root, dir) })
	if err != nil {
		return err
	}
	if release != nil {
		defer release()
	}
	img := st.copyImage()
	img.Config.WorkingDir = dir
	return r.commit(st, key, img, nop(st, comment), l)
}
