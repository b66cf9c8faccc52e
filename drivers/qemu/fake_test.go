package qemu

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/berthvm/berth/drivers"
)

// fakeRunner records the command lines it is given and answers with fn.
type fakeRunner struct {
	mu    sync.Mutex
	calls [][]string
	fn    func(args []string) ([]byte, error)
}

func (f *fakeRunner) Run(ctx context.Context, args ...string) ([]byte, error) {
	f.mu.Lock()
	f.calls = append(f.calls, args)
	f.mu.Unlock()
	if f.fn == nil {
		return nil, nil
	}
	return f.fn(args)
}

// testKey is an authorized_keys line for seeds made in tests.
const testKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOdbKZ9Q5hHf1l0kqG0cD5bRz6xXWw9bqkZ1tD4V0Yy4 test"

// newTestDriver makes a driver for machine name in a fresh folder.
func newTestDriver(t *testing.T, name string) *Driver {
	t.Helper()
	dir := filepath.Join(t.TempDir(), name)
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	return New(drivers.Base{MachineName: name, Dir: dir, CacheDir: t.TempDir(), SSHPublicKey: testKey})
}
