package golden

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// recorder is a testing.TB that notes the failure instead of failing.
type recorder struct {
	testing.TB
	failure string
}

func (r *recorder) Helper() {}

func (r *recorder) Errorf(format string, args ...any) {
	r.failure = fmt.Sprintf(format, args...)
}

func (r *recorder) Fatal(args ...any) {
	r.failure = fmt.Sprint(args...)
	runtime.Goexit()
}

func (r *recorder) Fatalf(format string, args ...any) {
	r.failure = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

// assert runs Assert on a recorder and returns its failure, "" if none.
func assert(t *testing.T, path string, got []byte) string {
	r := &recorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		Assert(r, path, got)
	}()
	<-done
	return r.failure
}

func TestAssert(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "out.golden")
	if err := os.WriteFile(path, []byte("one\ntwo\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, path, got string
		wantFailure     string // a part of it; "" for none
	}{
		{"same", path, "one\ntwo\n", ""},
		{"differs", path, "one\n", "output differs from " + path},
		{"no file", filepath.Join(dir, "missing.golden"), "x", "run go test -update to write it"},
	}
	for _, tt := range tests {
		got := assert(t, tt.path, []byte(tt.got))
		if (got == "") != (tt.wantFailure == "") || !strings.Contains(got, tt.wantFailure) {
			t.Errorf("%s: failure %q, want one containing %q", tt.name, got, tt.wantFailure)
		}
	}
}

// TestAssertUpdate: -update writes the file, making its folder, and the
// comparison then passes.
func TestAssertUpdate(t *testing.T) {
	old := *update
	*update = true
	defer func() { *update = old }()
	path := filepath.Join(t.TempDir(), "sub", "new.golden")
	if failure := assert(t, path, []byte("fresh\n")); failure != "" {
		t.Errorf("failure %q, want none", failure)
	}
	if b, err := os.ReadFile(path); err != nil || string(b) != "fresh\n" {
		t.Errorf("file = %q, %v; want %q", b, err, "fresh\n")
	}
}
