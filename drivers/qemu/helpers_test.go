package qemu

import (
	"os/exec"
	"runtime"
	"strconv"
	"testing"
)

const (
	runtimeGOOS   = runtime.GOOS
	runtimeGOARCH = runtime.GOARCH
)

func itoa(n int) string { return strconv.Itoa(n) }

// exitError returns a real *exec.ExitError with the given status.
func exitError(t *testing.T, code int) error {
	t.Helper()
	err := exec.Command("sh", "-c", "exit "+itoa(code)).Run()
	if err == nil {
		t.Fatalf("sh exit %d succeeded", code)
	}
	return err
}
