package berthos

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/berthvm/berth/internal/testenv"
)

// TestSharesScript runs the guest's shared-folder script
// (rootfs/usr/lib/berth/shares.sh) in busybox sh on the host, with mount,
// modprobe and mkdir replaced by functions that print what they were
// asked: 9p gets berth's options unless the seed names some, and vboxsf is
// used where the VirtualBox guest device exists and becomes 9p where it
// does not (QEMU, the VBoxManage double).
func TestSharesScript(t *testing.T) {
	testenv.NeedCommand(t, "busybox")
	script := filepath.Join(testenv.RepoRoot(t), "scripts", "iso", "rootfs", "usr", "lib", "berth", "shares.sh")
	const mounts = `berth0 /src 9p
berth1 /data vboxsf
berth2 /x 9p trans=virtio,version=9p2000.L,cache=loose
berth3 /bad 9p`
	const opts = "trans=virtio,version=9p2000.L,msize=512000,cache=mmap"
	tests := []struct {
		name, vboxDev string
		want          []string
	}{
		{"without VirtualBox", "/nonexistent", []string{
			"modprobe -q -a 9pnet_virtio 9p", "mount -t 9p -o " + opts + " berth0 /src", "mounted 9p share berth0 at /src",
			"no VirtualBox guest device: mounting share berth1 over virtio-9p", "mount -t 9p -o " + opts + " berth1 /data",
			"mount -t 9p -o trans=virtio,version=9p2000.L,cache=loose berth2 /x",
			"could not mount 9p share berth3 at /bad",
		}},
		{"in VirtualBox", "/dev/null", []string{
			"mount -t 9p -o " + opts + " berth0 /src",
			"modprobe -q vboxsf", "mount -t vboxsf berth1 /data", "mounted vboxsf share berth1 at /data",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sh := `
say() { echo "say: $*"; }
modprobe() { echo "modprobe $*"; }
mkdir() { :; }
mount() { echo "mount $*"; [ "$6" != /bad ] && [ "$4" != /bad ]; }
. "$1"
SEED_MOUNTS=$2
shares_mount`
			cmd := exec.Command("busybox", "sh", "-c", sh, "sh", script, mounts)
			cmd.Env = []string{"PATH=/usr/bin:/bin", "SHARES_LOG=" + filepath.Join(t.TempDir(), "log"), "VBOXGUEST_DEV=" + tt.vboxDev}
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("shares.sh: %v\n%s", err, out)
			}
			for _, w := range tt.want {
				if !strings.Contains(string(out), w) {
					t.Errorf("shares.sh printed:\n%s\nwant a line holding %q", out, w)
				}
			}
			if tt.vboxDev == "/dev/null" && strings.Contains(string(out), "over virtio-9p") {
				t.Errorf("shares.sh fell back to 9p although the VirtualBox device exists:\n%s", out)
			}
		})
	}
}
