package container

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"github.com/berthvm/berth/internal/atomicfile"

	"github.com/berthvm/berth/runtime/seccomp"
)

// seccompFilter is the filter a container's processes (init and exec)
// run under: Docker's default profile, the container's own, or none with
// seccomp=unconfined.
func seccompFilter(spec Spec, runtimeDir string) ([]byte, error) {
	if spec.SeccompUnconfined {
		return nil, nil
	}
	if spec.SeccompProfile != "" {
		f, err := seccomp.CompileProfile([]byte(spec.SeccompProfile))
		if err != nil {
			return nil, fmt.Errorf("seccomp profile of the container: %w", err)
		}
		return f, nil
	}
	f, err := defaultFilter(runtimeDir)
	if err != nil {
		return nil, fmt.Errorf("seccomp profile: %w (run with --security-opt seccomp=unconfined to go without)", err)
	}
	return f, nil
}

// defaultFilterFile, in the runtime's folder, holds Docker's default
// profile compiled by the agent (seccomp.DefaultFilter), so that each
// container's monitor reads it instead of compiling it again: 14 ms of
// CPU time in a TCG machine, on every container's start.
const defaultFilterFile = ".seccomp-default.bpf"

// saveDefaultFilter writes defaultFilterFile into the runtime folder dir.
// Each agent start writes it again: the agent's version and the kernel
// it was compiled for are this start's. On failure the monitors compile
// the profile themselves.
func saveDefaultFilter(dir string) {
	path := filepath.Join(dir, defaultFilterFile)
	f, err := seccomp.DefaultFilter()
	if err != nil || atomicfile.Write(path, f) != nil {
		os.Remove(path)
	}
}

// defaultFilter is readDefaultFilter, once per process.
var defaultFilter = func() func(dir string) ([]byte, error) {
	var once sync.Once
	var f []byte
	var err error
	return func(dir string) ([]byte, error) {
		once.Do(func() { f, err = readDefaultFilter(dir) })
		return f, err
	}
}()

// readDefaultFilter is seccomp.DefaultFilter as the agent saved it in the
// runtime folder dir, or compiled here when the file is missing or is no
// filter.
func readDefaultFilter(dir string) ([]byte, error) {
	b, err := os.ReadFile(filepath.Join(dir, defaultFilterFile))
	if err == nil && len(b) > 0 && len(b)%8 == 0 {
		return b, nil
	}
	return seccomp.DefaultFilter()
}
