package image

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

func TestParsePlatform(t *testing.T) {
	own := DefaultPlatform()
	tests := []struct {
		in   string
		want v1.Platform
		bad  bool
	}{
		{in: "linux/amd64", want: v1.Platform{OS: "linux", Architecture: "amd64"}},
		{in: "linux/x86_64", want: v1.Platform{OS: "linux", Architecture: "amd64"}},
		{in: "Linux/AARCH64", want: v1.Platform{OS: "linux", Architecture: "arm64", Variant: "v8"}},
		{in: "linux/arm64/v8", want: v1.Platform{OS: "linux", Architecture: "arm64", Variant: "v8"}},
		{in: "linux/arm/7", want: v1.Platform{OS: "linux", Architecture: "arm", Variant: "v7"}},
		{in: "linux/armhf", want: v1.Platform{OS: "linux", Architecture: "arm", Variant: "v7"}},
		{in: "linux/i686", want: v1.Platform{OS: "linux", Architecture: "386"}},
		{in: "linux", want: v1.Platform{OS: "linux", Architecture: own.Architecture, Variant: own.Variant}},
		{in: "", bad: true},
		{in: "linux/", bad: true},
		{in: "/amd64", bad: true},
		{in: "linux/arm/v7/x", bad: true},
	}
	for _, tt := range tests {
		got, err := ParsePlatform(tt.in)
		if tt.bad {
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("ParsePlatform(%q) = %v, %v; want ErrInvalid", tt.in, got, err)
			}
			continue
		}
		if err != nil || got.OS != tt.want.OS || got.Architecture != tt.want.Architecture || got.Variant != tt.want.Variant {
			t.Errorf("ParsePlatform(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
		}
	}
}

func TestCheckPlatform(t *testing.T) {
	amd64 := []v1.Platform{{OS: "linux", Architecture: "amd64"}, {OS: "linux", Architecture: "386"}}
	tests := []struct {
		p       v1.Platform
		runs    []v1.Platform
		wantErr string // "" for runnable
	}{
		{v1.Platform{OS: "linux", Architecture: "amd64"}, amd64, ""},
		{v1.Platform{OS: "linux", Architecture: "386"}, amd64, ""},
		{v1.Platform{OS: "linux", Architecture: "x86_64"}, amd64, ""},
		{v1.Platform{OS: "linux", Architecture: "arm64", Variant: "v8"}, amd64,
			"linux/arm64/v8: this machine runs linux/amd64, linux/386 only; use a machine of that architecture (berth create --arch arm64)"},
		{v1.Platform{OS: "linux", Architecture: "s390x"}, amd64, "berth-os machines are amd64 or arm64"},
		{v1.Platform{OS: "windows", Architecture: "amd64"}, amd64, "windows/amd64: this machine runs"},
		{v1.Platform{OS: "linux", Architecture: "arm", Variant: "v7"}, []v1.Platform{{OS: "linux", Architecture: "arm64"}}, "linux/arm/v7: this machine runs linux/arm64 only"},
	}
	for _, tt := range tests {
		err := checkPlatform(tt.p, tt.runs)
		switch {
		case tt.wantErr == "" && err != nil:
			t.Errorf("checkPlatform(%v) = %v, want nil", tt.p, err)
		case tt.wantErr != "" && (!errors.Is(err, ErrPlatform) || !strings.Contains(err.Error(), tt.wantErr)):
			t.Errorf("checkPlatform(%v) = %v, want ErrPlatform saying %q", tt.p, err, tt.wantErr)
		}
	}
}

func TestPlatformsIncludeOwnAndEmulated(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("binfmt_misc is Linux's")
	}
	dir := t.TempDir()
	old := binfmtDir
	binfmtDir = dir
	t.Cleanup(func() { binfmtDir = old })
	os.WriteFile(filepath.Join(dir, "status"), []byte("enabled\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "qemu-riscv64"), []byte("enabled\ninterpreter /usr/bin/qemu-riscv64\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "qemu-s390x"), []byte("disabled\n"), 0o644)
	ps := Platforms()
	if ps[0].Architecture != runtime.GOARCH {
		t.Errorf("Platforms()[0] = %v, want this machine's", ps[0])
	}
	if err := CheckPlatform(v1.Platform{OS: "linux", Architecture: "riscv64"}); err != nil {
		t.Errorf("riscv64 with an enabled qemu-riscv64 entry: %v", err)
	}
	if err := CheckPlatform(v1.Platform{OS: "linux", Architecture: "s390x"}); err == nil {
		t.Error("s390x with a disabled entry is runnable")
	}
	os.WriteFile(filepath.Join(dir, "status"), []byte("disabled\n"), 0o644)
	if err := CheckPlatform(v1.Platform{OS: "linux", Architecture: "riscv64"}); err == nil {
		t.Error("riscv64 runnable while binfmt_misc is disabled")
	}
	if runtime.GOARCH == "amd64" {
		if err := CheckPlatform(v1.Platform{OS: "linux", Architecture: "386"}); err != nil {
			t.Errorf("an amd64 machine refuses linux/386: %v", err)
		}
	}
}

func TestPlatformMatches(t *testing.T) {
	tests := []struct {
		have, want v1.Platform
		match      bool
	}{
		{v1.Platform{OS: "linux", Architecture: "arm64", Variant: "v8"}, v1.Platform{OS: "linux", Architecture: "arm64"}, true},
		{v1.Platform{OS: "linux", Architecture: "amd64"}, v1.Platform{OS: "linux", Architecture: "386"}, false},
		{v1.Platform{OS: "linux", Architecture: "arm", Variant: "v6"}, v1.Platform{OS: "linux", Architecture: "arm", Variant: "v7"}, false},
		{v1.Platform{OS: "linux", Architecture: "x86_64"}, v1.Platform{OS: "linux", Architecture: "amd64"}, true},
	}
	for _, tt := range tests {
		if got := PlatformMatches(tt.have, tt.want); got != tt.match {
			t.Errorf("PlatformMatches(%v, %v) = %v, want %v", tt.have, tt.want, got, tt.match)
		}
	}
}
