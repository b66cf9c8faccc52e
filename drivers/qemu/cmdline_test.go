package qemu

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

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
	shares := base
	shares.Shares = []Share{{Tag: "berth0", Dir: "/home/me"}, {Tag: "berth2", Dir: "/odd,dir/src"}}
	tests := []struct {
		golden string
		spec   Spec
	}{
		{"args_tcg.golden", base},
		{"args_shares.golden", shares},
		{"args_kvm.golden", kvm},
		{"args_comma_foreground.golden", comma},
	}
	for _, tt := range tests {
		got := strings.Join(Args(tt.spec), "\n") + "\n"
		path := filepath.Join("testdata", tt.golden)
		if *update {
			if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run go test -update to write it)", err)
		}
		if got != string(want) {
			t.Errorf("Args for %s:\ngot:\n%s\nwant:\n%s", tt.golden, got, want)
		}
	}
}

func TestProbeArgs(t *testing.T) {
	got := strings.Join(probeArgs("kvm", "/tmp/p,1.img"), " ")
	want := "-accel kvm -machine pc -cpu host -m 16 -nodefaults -no-user-config -display none -drive file=/tmp/p,,1.img,format=raw,if=ide -device isa-debug-exit,iobase=0xf4,iosize=0x04"
	if got != want {
		t.Errorf("probeArgs:\ngot  %s\nwant %s", got, want)
	}
}
