// Package virtualboxtest has test helpers for the VirtualBox driver: a
// scripted VBoxManage runner for unit tests and a builder for the VBoxManage
// double that boots VMs in QEMU.
package virtualboxtest

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/berthvm/berth/drivers/virtualbox/vboxmanage"
)

// Step is one expected VBoxManage call and its scripted answer.
type Step struct {
	// Args is the expected command line; nil accepts any.
	Args []string
	Out  vboxmanage.Output
	Err  error
}

// Script is a vboxmanage.Runner that answers calls from a list of steps, in
// order, and fails the test on an unexpected or extra call.
type Script struct {
	T     testing.TB
	Steps []Step

	mu    sync.Mutex
	calls [][]string
}

// Run implements vboxmanage.Runner.
func (s *Script) Run(_ context.Context, args []string) (vboxmanage.Output, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := len(s.calls)
	s.calls = append(s.calls, slices.Clone(args))
	if n >= len(s.Steps) {
		s.T.Errorf("unexpected VBoxManage call %d: %s (script has %d steps)", n+1, strings.Join(args, " "), len(s.Steps))
		return vboxmanage.Output{ExitCode: 1, Stderr: "VBoxManage: error: virtualboxtest: unexpected call\n"}, nil
	}
	st := s.Steps[n]
	if st.Args != nil && !slices.Equal(st.Args, args) {
		s.T.Errorf("VBoxManage call %d:\n got %s\nwant %s", n+1, strings.Join(args, " "), strings.Join(st.Args, " "))
		return vboxmanage.Output{ExitCode: 1, Stderr: "VBoxManage: error: virtualboxtest: wrong call\n"}, nil
	}
	return st.Out, st.Err
}

// Calls returns the command lines run so far.
func (s *Script) Calls() [][]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.calls)
}

// Done fails the test when scripted steps were not used.
func (s *Script) Done() {
	s.T.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.calls) < len(s.Steps) {
		s.T.Errorf("%d scripted VBoxManage calls were not made; next: %s", len(s.Steps)-len(s.calls), fmt.Sprint(s.Steps[len(s.calls)].Args))
	}
}

// Ok is a successful output with stdout.
func Ok(stdout string) vboxmanage.Output { return vboxmanage.Output{Stdout: stdout} }

// Fail is a failed output: exit code and stderr.
func Fail(code int, stderr string) vboxmanage.Output {
	return vboxmanage.Output{ExitCode: code, Stderr: stderr}
}
