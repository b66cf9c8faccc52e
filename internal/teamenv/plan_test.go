package teamenv

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/berthvm/berth/drivers"
	"github.com/berthvm/berth/internal/machine"
)

func storedQEMU(t *testing.T, cpus, memMB, diskMB int, shares []drivers.Share, insecure []string) *machine.Machine {
	t.Helper()
	raw, _ := json.Marshal(map[string]any{"CPUs": cpus, "MemoryMB": memMB, "DiskSizeMB": diskMB, "AccelRequested": "tcg", "Binary": "qemu-system-x86_64"})
	return &machine.Machine{Config: machine.Config{Name: "shop-app", DriverName: "qemu", Driver: raw, Shares: shares, InsecureRegistries: insecure}}
}

func TestMachinePlan(t *testing.T) {
	want := &Machine{Name: "app", Driver: "qemu", CPUs: 2, MemoryBytes: 2 << 30, DiskBytes: 20 << 30, InsecureRegistries: []string{"10.0.2.2:5000"}}
	tests := []struct {
		name    string
		have    *machine.Machine
		running bool
		want    []string
		needs   string
	}{
		{"missing", nil, false, []string{"app: create"}, ActCreate},
		{"converged", storedQEMU(t, 2, 2048, 20480, nil, []string{"10.0.2.2:5000"}), true, nil, ""},
		{"stopped", storedQEMU(t, 2, 2048, 20480, nil, []string{"10.0.2.2:5000"}), false, []string{"app: start"}, ActStart},
		{"sizes", storedQEMU(t, 1, 1024, 20480, nil, []string{"10.0.2.2:5000"}), true,
			[]string{"app: cpus 1 -> 2 (restart)", "app: memory 1GiB -> 2GiB (restart)"}, ActRestart},
		{"registries", storedQEMU(t, 2, 2048, 20480, nil, nil), true, []string{"app: insecure-registries (none) -> 10.0.2.2:5000 (restart)"}, ActRestart},
		{"smaller disk", storedQEMU(t, 2, 2048, 40960, nil, []string{"10.0.2.2:5000"}), true, []string{"app: disk 40GiB -> 20GiB (refused: a disk only grows"}, ActRefuse},
		{"bigger disk", storedQEMU(t, 2, 2048, 10240, nil, []string{"10.0.2.2:5000"}), true, []string{"app: disk 10GiB -> 20GiB (recreate: "}, ActRecreate},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := MachinePlan(want, tt.have, tt.running)
			if len(got) != len(tt.want) {
				t.Fatalf("plan = %v, want %v", got, tt.want)
			}
			for i, c := range got {
				if !strings.HasPrefix(c.String(), tt.want[i]) {
					t.Errorf("change %d = %q, want %q", i, c, tt.want[i])
				}
			}
			if n := Needs(got); n != tt.needs {
				t.Errorf("needs = %q, want %q", n, tt.needs)
			}
		})
	}
	vb := &Machine{Name: "app", Driver: "virtualbox"}
	if got := MachinePlan(vb, storedQEMU(t, 2, 2048, 20480, nil, nil), true); len(got) != 1 || got[0].Action != ActRecreate || got[0].Setting != "driver" {
		t.Errorf("a new driver: %v, want one recreate", got)
	}
}

func TestApplyChangesTheDriver(t *testing.T) {
	store := machine.NewStore(t.TempDir())
	have := storedQEMU(t, 1, 1024, 20000, nil, nil)
	want := &Machine{Name: "app", Driver: "qemu", CPUs: 2, MemoryBytes: 3 << 30, InsecureRegistries: []string{"r:5000"}}
	if err := Apply(store, want, have); err != nil {
		t.Fatal(err)
	}
	if got := MachinePlan(want, have, true); len(got) != 0 {
		t.Errorf("plan after Apply = %v, want none", got)
	}
}

func TestCheckPorts(t *testing.T) {
	held := []Holder{
		{Machine: "shop-app", Env: "shop", Forward: drivers.Forward{Proto: "tcp", HostPort: 8080}},
		{Machine: "dev", Forward: drivers.Forward{Proto: "tcp", HostPort: 9000}},
	}
	taken := func(proto string, port int) bool { return port != 7777 }
	ok := []PortUse{{Machine: "shop-app", Service: "web", Proto: "tcp", Port: 8080}, {Machine: "shop-db", Service: "db", Proto: "udp", Port: 9000}}
	if err := CheckPorts(ok, held, taken); err != nil {
		t.Errorf("own and free ports: %v", err)
	}
	bad := []PortUse{
		{Machine: "web-a", Service: "a", Proto: "tcp", Port: 8080},
		{Machine: "web-a", Service: "b", Proto: "tcp", Port: 9000},
		{Machine: "web-a", Service: "c", Proto: "tcp", Port: 7777},
		{Machine: "web-b", Service: "d", Proto: "tcp", Port: 7000},
		{Machine: "web-a", Service: "e", Proto: "tcp", Port: 7000},
	}
	err := CheckPorts(bad, held, taken)
	if !errors.Is(err, ErrPortTaken) {
		t.Fatalf("err = %v", err)
	}
	for _, w := range []string{
		"host port 8080/tcp (service a on web-a): held by machine shop-app (environment shop)",
		"host port 9000/tcp (service b on web-a): held by machine dev",
		"host port 7777/tcp (service c on web-a): held by another program on this computer",
		"host port 7000/tcp: published by service e on web-a and by service d on web-b",
	} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error lacks %q:\n%v", w, err)
		}
	}
}

func TestCheckHost(t *testing.T) {
	env := &Env{File: "/x/berth.yaml", Machines: map[string]*Machine{
		"a": {Name: "a", Driver: "qemu", CPUs: 8, MemoryBytes: 6 << 30, lines: map[string]int{"cpus": 4}},
		"b": {Name: "b", Driver: "qemu", CPUs: 1, MemoryBytes: 6 << 30},
	}}
	err := CheckHost(env, Host{CPUs: 4, MemoryBytes: 8 << 30}, nil)
	for _, w := range []string{"/x/berth.yaml:4: machines.a.cpus: 8 CPUs asked, this computer has 4", "ask for 12GiB of memory together", "this computer has 8GiB"} {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("CheckHost error lacks %q: %v", w, err)
		}
	}
	if err := CheckHost(env, Host{CPUs: 4, MemoryBytes: 8 << 30}, []string{"b"}); err != nil {
		t.Errorf("only b: %v", err)
	}
}

func TestPinned(t *testing.T) {
	im := Image{Image: "10.0.2.2:5000/busybox:latest", Platforms: map[string]string{"amd64": "sha256:aa"}}
	if got, ok := im.Pinned("amd64"); !ok || got != "10.0.2.2:5000/busybox@sha256:aa" {
		t.Errorf("Pinned = %q %v", got, ok)
	}
	if _, ok := im.Pinned("arm64"); ok {
		t.Error("Pinned of a missing architecture succeeded")
	}
}
