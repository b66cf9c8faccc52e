package testimages

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
)

func TestHelloRuns(t *testing.T) {
	if runtime.GOOS != "linux" || runtime.GOARCH != "amd64" && runtime.GOARCH != "arm64" {
		t.Skip("the hello program is a Linux amd64/arm64 executable") // not a missing dependency
	}
	prog, err := helloELF(runtime.GOARCH)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "hello")
	if err := os.WriteFile(p, prog, 0o755); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(p).CombinedOutput()
	if err != nil {
		t.Fatalf("run hello: %v (output %q)", err, out)
	}
	if string(out) != Greeting {
		t.Errorf("hello printed %q, want %q", out, Greeting)
	}
}

func TestImagesBuild(t *testing.T) {
	idx, err := HelloIndex()
	if err != nil {
		t.Fatal(err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	if len(im.Manifests) != 2 {
		t.Errorf("hello index has %d manifests, want 2", len(im.Manifests))
	}
	// Digests must not change between builds: tests and benchmarks
	// compare them.
	a, _ := Hello("amd64")
	b, _ := Hello("amd64")
	da, _ := a.Digest()
	db, _ := b.Digest()
	if da != db {
		t.Errorf("hello digest changed between builds: %s, %s", da, db)
	}
}
