package vboxmanage

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
)

// Output is what one VBoxManage run printed and how it ended.
type Output struct {
	Stdout   string
	Stderr   string
	ExitCode int
	// Signal names the signal that ended VBoxManage when it crashed
	// ("segmentation fault"); ExitCode is then -1.
	Signal string
}

// Runner runs VBoxManage once. It returns an error only when the program
// could not be run at all (not installed, ctx ended); a non-zero exit is
// reported in Output.ExitCode. Fakes in tests implement it.
type Runner interface {
	Run(ctx context.Context, args []string) (Output, error)
}

// ErrNotInstalled is returned (wrapped in a NotInstalledError) when
// VBoxManage cannot be found.
var ErrNotInstalled = errors.New("VBoxManage not found")

// NotInstalledError says where berth looked for VBoxManage and how to
// install VirtualBox.
type NotInstalledError struct {
	Looked []string
}

func (e *NotInstalledError) Error() string {
	return fmt.Sprintf("%v (looked in %s): install VirtualBox 5.0 or newer from https://www.virtualbox.org/wiki/Downloads, or put VBoxManage on PATH",
		ErrNotInstalled, strings.Join(e.Looked, ", "))
}

// Unwrap makes errors.Is(err, ErrNotInstalled) work.
func (e *NotInstalledError) Unwrap() error { return ErrNotInstalled }

// Candidates lists where VBoxManage is looked for, in order, on goos with
// the environment getenv. On Windows VirtualBox's installer sets
// VBOX_INSTALL_PATH or VBOX_MSI_INSTALL_PATH; elsewhere it is on PATH.
func Candidates(goos string, getenv func(string) string) []string {
	if goos != "windows" {
		return []string{"VBoxManage (PATH)"}
	}
	var out []string
	for _, env := range []string{"VBOX_INSTALL_PATH", "VBOX_MSI_INSTALL_PATH"} {
		for _, dir := range strings.Split(getenv(env), ";") { // Windows list separator
			if dir != "" {
				out = append(out, windowsJoin(dir, "VBoxManage.exe"))
			}
		}
	}
	out = append(out, `C:\Program Files\Oracle\VirtualBox\VBoxManage.exe`, "VBoxManage.exe (PATH)")
	return out
}

// windowsJoin joins with a backslash whatever the build OS is, so that the
// candidate list reads the same in tests on Linux.
func windowsJoin(dir, name string) string {
	return strings.TrimRight(dir, `\/`) + `\` + name
}

// Find returns the path of VBoxManage on this host.
func Find() (string, error) {
	cands := Candidates(runtime.GOOS, os.Getenv)
	for _, c := range cands {
		if name, ok := strings.CutSuffix(c, " (PATH)"); ok {
			if p, err := exec.LookPath(name); err == nil {
				return p, nil
			}
			continue
		}
		if st, err := os.Stat(c); err == nil && !st.IsDir() {
			return c, nil
		}
	}
	return "", &NotInstalledError{Looked: cands}
}

// ExecRunner runs the real VBoxManage with exec.CommandContext. Path empty
// means Find it at the first run.
type ExecRunner struct {
	Path string
	// Env, when set, is added to the environment of every run.
	Env []string
}

// Run implements Runner.
func (r *ExecRunner) Run(ctx context.Context, args []string) (Output, error) {
	path := r.Path
	if path == "" {
		p, err := Find()
		if err != nil {
			return Output{}, err
		}
		path = p
	}
	cmd := exec.CommandContext(ctx, path, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if len(r.Env) > 0 {
		cmd.Env = append(os.Environ(), r.Env...)
	}
	err := cmd.Run()
	out := Output{Stdout: stdout.String(), Stderr: stderr.String()}
	var exit *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exit) && ctx.Err() == nil:
		out.ExitCode = exit.ExitCode()
		if out.ExitCode == -1 {
			out.Signal = signalOf(exit)
		}
	case errors.Is(err, exec.ErrNotFound) || errors.Is(err, os.ErrNotExist):
		return out, &NotInstalledError{Looked: []string{path}}
	default:
		if ctx.Err() != nil {
			return out, fmt.Errorf("run VBoxManage %s: %w", strings.Join(args, " "), ctx.Err())
		}
		return out, fmt.Errorf("run VBoxManage %s: %w", strings.Join(args, " "), err)
	}
	return out, nil
}

// signalOf names the signal that ended a process ("segmentation fault"):
// os/exec says it as "signal: NAME".
func signalOf(exit *exec.ExitError) string {
	if s, ok := strings.CutPrefix(exit.Error(), "signal: "); ok {
		return s
	}
	return exit.Error()
}
