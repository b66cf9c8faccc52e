package container

import (
	"errors"
	"fmt"
	"path"
	"strings"
)

// DefaultPath is the PATH a container gets when its image sets none.
const DefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// ErrNoCommand is returned when neither the image nor the user gives a command.
var ErrNoCommand = errors.New("no command specified")

// ApplyConfig merges the image configuration with the user's overrides the
// way Docker does and stores the result in s (s.ID must be set):
// command = entrypoint + cmd, where a user command replaces Cmd only and a
// user entrypoint replaces Entrypoint and clears the image's Cmd; env is
// the image's, overridden by name by the user's, with PATH defaulted and
// HOSTNAME set; working dir is the user's, else the image's, else "/";
// user is the user's, else the image's.
func (s *Spec) ApplyConfig(img ImageConfig, o Overrides) error {
	entrypoint := img.Entrypoint
	cmd := img.Cmd
	if o.Entrypoint != nil {
		entrypoint = o.Entrypoint
		if len(entrypoint) == 1 && entrypoint[0] == "" {
			entrypoint = nil
		}
		cmd = nil
	}
	if len(o.Cmd) > 0 {
		cmd = o.Cmd
	}
	args := append(append([]string{}, entrypoint...), cmd...)
	if len(args) == 0 {
		return ErrNoCommand
	}

	cwd := img.WorkingDir
	if o.WorkingDir != "" {
		cwd = o.WorkingDir
	}
	if cwd == "" {
		cwd = "/"
	}
	if !path.IsAbs(cwd) {
		return fmt.Errorf("the working directory %q is invalid, it needs to be an absolute path", cwd)
	}
	cwd = path.Clean(cwd)

	user := img.User
	if o.User != "" {
		user = o.User
	}
	hostname := o.Hostname
	if hostname == "" {
		if len(s.ID) < 12 {
			return fmt.Errorf("container id %q is too short to name a host", s.ID)
		}
		hostname = s.ID[:12]
	}

	env := MergeEnv(img.Env, o.Env)
	procEnv := MergeEnv([]string{"PATH=" + DefaultPath, "HOSTNAME=" + hostname}, env)
	if o.Tty {
		procEnv = MergeEnv([]string{"TERM=xterm"}, procEnv)
	}

	s.Config = ImageConfig{User: user, Env: env, Entrypoint: entrypoint, Cmd: cmd, WorkingDir: cwd}
	s.Args = args
	s.Env = procEnv
	s.WorkingDir = cwd
	s.User = user
	s.Hostname = hostname
	s.Tty = o.Tty
	return nil
}

// MergeEnv returns base with every entry of over applied: an entry replaces
// the base entry of the same name, or is appended. Order is kept.
func MergeEnv(base, over []string) []string {
	out := append([]string{}, base...)
	index := make(map[string]int, len(out))
	for i, kv := range out {
		index[envName(kv)] = i
	}
	for _, kv := range over {
		name := envName(kv)
		if i, ok := index[name]; ok {
			out[i] = kv
			continue
		}
		index[name] = len(out)
		out = append(out, kv)
	}
	return out
}

func envName(kv string) string {
	name, _, _ := strings.Cut(kv, "=")
	return name
}

// envValue returns the value of name in env, and whether it is set.
func envValue(env []string, name string) (string, bool) {
	for i := len(env) - 1; i >= 0; i-- {
		if k, v, ok := strings.Cut(env[i], "="); ok && k == name {
			return v, true
		}
	}
	return "", false
}
