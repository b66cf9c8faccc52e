package server

import (
	"os"
	"testing"

	"github.com/moby/moby/api/types/mount"
)

func TestTmpfsData(t *testing.T) {
	tests := []struct {
		opts *mount.TmpfsOptions
		want string
	}{
		{nil, "mode=1777"},
		{&mount.TmpfsOptions{SizeBytes: 1 << 20}, "mode=1777,size=1048576"},
		{&mount.TmpfsOptions{Mode: 0o700}, "mode=700"},
		{&mount.TmpfsOptions{Mode: os.ModeSticky | 0o777}, "mode=1777"},
	}
	for _, tc := range tests {
		if got := tmpfsData(tc.opts); got != tc.want {
			t.Errorf("tmpfsData(%+v) = %q, want %q", tc.opts, got, tc.want)
		}
	}
}
