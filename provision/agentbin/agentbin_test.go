package agentbin

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestGoArch(t *testing.T) {
	tests := []struct {
		in, want string
		err      error
	}{
		{"x86_64", "amd64", nil},
		{"aarch64", "arm64", nil},
		{"arm64", "arm64", nil},
		{"riscv64", "", ErrNoBuild},
		{"armv7l", "", ErrNoBuild},
	}
	for _, tt := range tests {
		got, err := GoArch(tt.in)
		if got != tt.want || !errors.Is(err, tt.err) {
			t.Errorf("GoArch(%q) = %q, %v; want %q, %v", tt.in, got, err, tt.want, tt.err)
		}
	}
}

// TestForMachine checks the embedded agents when `make build` put them
// there, and the clear error when it did not.
func TestForMachine(t *testing.T) {
	for _, arch := range []string{"amd64", "arm64"} {
		uname := map[string]string{"amd64": "x86_64", "arm64": "aarch64"}[arch]
		b, err := ForMachine(uname)
		if !slices.Contains(Embedded(), arch) {
			if !errors.Is(err, ErrNotEmbedded) {
				t.Errorf("ForMachine(%q) without embedded agents: err = %v, want ErrNotEmbedded", uname, err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("ForMachine(%q): %v", uname, err)
		}
		if b.Arch != arch || b.Size() < 1<<20 || string(b.Data[:4]) != "\x7fELF" || len(b.SHA256) != 64 {
			t.Errorf("ForMachine(%q) = arch %s, %d bytes, sha %q; want an ELF agent for %s", uname, b.Arch, b.Size(), b.SHA256, arch)
		}
	}
}

func TestFromFile(t *testing.T) {
	dir := t.TempDir()
	notELF := filepath.Join(dir, "script")
	if err := os.WriteFile(notELF, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := FromFile(notELF, "amd64"); err == nil {
		t.Error("FromFile of a shell script: want an error")
	}
	elf := filepath.Join(dir, "agent")
	if err := os.WriteFile(elf, []byte("\x7fELF rest"), 0o755); err != nil {
		t.Fatal(err)
	}
	b, err := FromFile(elf, "amd64")
	if err != nil {
		t.Fatal(err)
	}
	// printf '\x7fELF rest' | sha256sum
	if got, want := b.SHA256, "c88fcfce1b87d23ac576e4587decf07fc2b410800a2730eeb14cf346e929492e"; got != want {
		t.Errorf("SHA256 = %s, want %s", got, want)
	}
}
