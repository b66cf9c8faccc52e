package qemu

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/berthvm/berth/internal/golden"
)

func TestArgs(t *testing.T) {
	base := Spec{
		Name: "dev", Accel: "tcg", CPUs: 2, MemoryMB: 2048,
		ISO: "/m/dev/boot.iso", Seed: "/m/dev/seed.iso", Disk: "/m/dev/disk.qcow2",
		SSHPort: 40022, QMP: "/m/dev/qmp.sock", PIDFile: "/m/dev/qemu.pid",
		Console: "/m/dev/serial.log", Daemonize: true,
	}
	kvm := base
	kvm.Accel, kvm.CPUs, kvm.MemoryMB = "kvm", 4, 8192
	comma := base
	comma.Daemonize = false
	for _, p := range []*string{&comma.ISO, &comma.Seed, &comma.Disk, &comma.QMP, &comma.PIDFile, &comma.Console} {
		*p = strings.Replace(*p, "/m/", "/odd,dir/", 1)
	}
	kernel := base
	kernel.Kernel, kernel.Initrd, kernel.Append = "/c/boot/x/vmlinuz", "/c/boot/x/initrd.img", "console=ttyS0,115200n8 quiet "+GuestModules
	shares := base
	shares.Shares = []Share{{Tag: "berth0", Dir: "/home/me"}, {Tag: "berth2", Dir: "/odd,dir/src"}}
	arm := shares
	arm.Arch, arm.Firmware, arm.Vars = ArchARM64, "/usr/share/AAVMF/AAVMF_CODE.fd", "/m/dev/efivars.fd"
	hvf := arm
	hvf.Accel, hvf.Shares = "hvf", nil
	tests := []struct {
		golden string
		spec   Spec
	}{
		{"args_tcg.golden", base},
		{"args_kernel.golden", kernel},
		{"args_shares.golden", shares},
		{"args_kvm.golden", kvm},
		{"args_comma_foreground.golden", comma},
		{"args_arm64_tcg.golden", arm},
		{"args_arm64_hvf.golden", hvf},
	}
	for _, tt := range tests {
		got := strings.Join(Args(tt.spec), "\n") + "\n"
		golden.Assert(t, filepath.Join("testdata", tt.golden), []byte(got))
	}
}

func TestProbeArgs(t *testing.T) {
	got := strings.Join(probeArgs("kvm", "/tmp/p,1.img"), " ")
	want := "-accel kvm -machine pc -cpu host -m 16 -nodefaults -no-user-config -display none -drive file=/tmp/p,,1.img,format=raw,if=ide -device isa-debug-exit,iobase=0xf4,iosize=0x04"
	if got != want {
		t.Errorf("probeArgs:\ngot  %s\nwant %s", got, want)
	}
}
