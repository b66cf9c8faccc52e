//go:build !windows

package image

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/berthvm/berth/internal/testenv"
	"github.com/berthvm/berth/internal/testimages"
	"github.com/berthvm/berth/internal/testregistry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
)

func openStore(t *testing.T) *Store {
	t.Helper()
	testenv.NeedRoot(t)
	s, err := Open(filepath.Join(t.TempDir(), "store"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// loadBusybox loads busybox into s as example.com/busybox:1.
func loadBusybox(t *testing.T, s *Store) {
	t.Helper()
	bb, err := testimages.Busybox()
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := testimages.WriteDockerArchive(&buf, map[string]v1.Image{"example.com/busybox:1": bb}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Load(context.Background(), &buf, nil); err != nil {
		t.Fatal(err)
	}
}

var shared struct {
	once sync.Once
	reg  *testregistry.Registry
	err  error
}

// registry returns a registry shared by this package's tests, holding
// busybox:latest, hello:latest (a two-platform index) and layered:latest.
func registry(t *testing.T) *testregistry.Registry {
	t.Helper()
	testenv.NeedCommand(t, "docker-registry")
	shared.once.Do(func() {
		if shared.reg, shared.err = testregistry.Run(testregistry.Options{}); shared.err != nil {
			return
		}
		shared.err = pushTestImages(shared.reg.Host, "", "")
	})
	if shared.err != nil {
		t.Fatalf("test registry: %v", shared.err)
	}
	return shared.reg
}

func pushTestImages(host, user, pass string) error {
	ctx := context.Background()
	bb, err := testimages.Busybox()
	if err != nil {
		return err
	}
	if err := testimages.Push(ctx, host+"/busybox:latest", bb, user, pass); err != nil {
		return err
	}
	idx, err := testimages.HelloIndex()
	if err != nil {
		return err
	}
	if err := testimages.PushIndex(ctx, host+"/hello:latest", idx, user, pass); err != nil {
		return err
	}
	ly, err := testimages.Layered()
	if err != nil {
		return err
	}
	return testimages.Push(ctx, host+"/layered:latest", ly, user, pass)
}

func TestMain(m *testing.M) {
	if ref := os.Getenv("BERTH_IMAGE_TEST_CHILD_PULL"); ref != "" {
		childPull(os.Getenv("BERTH_IMAGE_TEST_CHILD_ROOT"), ref)
		return
	}
	code := m.Run()
	if shared.reg != nil {
		shared.reg.Stop()
	}
	os.Exit(code)
}
