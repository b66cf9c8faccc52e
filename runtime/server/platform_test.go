package server

import (
	"net/http"
	"runtime"
	"strings"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/berthvm/berth/runtime/image"
)

func imageOf(os, arch, variant string) image.Image {
	return image.Image{ID: "sha256:x", Config: ocispec.Image{Platform: ocispec.Platform{OS: os, Architecture: arch, Variant: variant}}}
}

// TestCheckImagePlatform: what create says about an image's platform and
// the platform= it was asked for.
func TestCheckImagePlatform(t *testing.T) {
	if runtime.GOARCH != "amd64" {
		t.Skip("the cases are written for an amd64 machine")
	}
	tests := []struct {
		name     string
		img      image.Image
		platform string
		status   int    // 0: no error
		msg      string // in the error
	}{
		{"own platform", imageOf("linux", "amd64", ""), "", 0, ""},
		{"no platform in the config", imageOf("", "", ""), "", 0, ""},
		{"32-bit x86", imageOf("linux", "386", ""), "", 0, ""},
		{"asked for and found", imageOf("linux", "386", ""), "linux/386", 0, ""},
		{"asked for another: pull it", imageOf("linux", "amd64", ""), "linux/386", http.StatusNotFound,
			"image with reference busybox was found but does not match the specified platform: wanted linux/386, actual: linux/amd64"},
		// mips64: a platform no qemu-user binfmt entry berth knows
		// covers, so that the host's binfmt_misc does not matter.
		{"an image this machine cannot run", imageOf("linux", "mips64", ""), "", http.StatusBadRequest,
			"image busybox: a platform this machine cannot run: linux/mips64: this machine runs linux/amd64, linux/386"},
		{"an image this machine cannot run, and what to do", imageOf("linux", "mips64", ""), "", http.StatusBadRequest,
			"; or pull the image for this machine (berth pull --platform linux/amd64 busybox)"},
		{"asked for a platform this machine cannot run", imageOf("linux", "amd64", ""), "linux/mips64", http.StatusBadRequest, "this machine runs linux/amd64"},
		{"a bad platform", imageOf("linux", "amd64", ""), "linux/", http.StatusBadRequest, "want OS[/ARCH[/VARIANT]]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := checkImagePlatform("busybox", tt.img, tt.platform)
			if tt.status == 0 {
				if err != nil {
					t.Errorf("err = %v, want nil", err)
				}
				return
			}
			if err == nil || statusOf(err) != tt.status || !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("err = %v (status %d), want status %d saying %q", err, statusOf(err), tt.status, tt.msg)
			}
		})
	}
}
