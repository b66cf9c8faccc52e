package virtualbox

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/berthvm/berth/drivers"
)

func readTestdata(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestParseMachineReadableReal(t *testing.T) {
	out := readTestdata(t, "showvminfo-5.0-first.txt") + readTestdata(t, "showvminfo-later-lines.txt")
	got := parseMachineReadable(out)
	want := vmInfo{
		Name:     "dev",
		UUID:     "a9ac2d70-3220-4d95-a3cc-cbbcf2c09fb8",
		VMState:  "running",
		CPUs:     1,
		MemoryMB: 1024,
		LogDir:   "/Users/chriswan/.docker/machine/machines/dev/dev/Logs",
		Media: map[string]string{
			"SATA-0-0": "/Users/x/.berth/machines/dev/boot.iso",
			"SATA-1-0": "/Users/x/.berth/machines/dev/disk.vdi",
		},
		Forwards:      map[string]string{"ssh": "ssh,tcp,127.0.0.1,50123,,22"},
		MACs:          map[int]string{1: "080027E2A6F1", 2: "0800274D1A2B"},
		SharedFolders: map[string]string{"Users": "/Users"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("parseMachineReadable:\n got %+v\nwant %+v", got, want)
	}
}

func TestParseMachineReadableQuirks(t *testing.T) {
	got := parseMachineReadable(readTestdata(t, "showvminfo-quirks.txt"))
	want := vmInfo{
		Name:     `C:\new "vm"`,
		UUID:     "94b1feaa-798a-4b7a-a9bc-67a07ac8ccac",
		VMState:  "aborted-saved",
		CPUs:     2,
		MemoryMB: 512,
		LogDir:   `C:\Users\x\.berth\machines\dev\dev\Logs`,
		Media:    map[string]string{"SATA-0-0": `C:\Users\x\.berth\machines\dev\boot.iso`},
		Forwards: map[string]string{
			"ssh":                "ssh,tcp,127.0.0.1,2222,,22",
			"tcp-127.0.0.1-8080": "tcp-127.0.0.1-8080,tcp,127.0.0.1,8080,,80",
		},
		MACs:          map[int]string{1: "080027E2A6F1", 2: "0800274D1A2B"},
		SharedFolders: map[string]string{},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("parseMachineReadable:\n got %+v\nwant %+v", got, want)
	}
}

func TestStateOf(t *testing.T) {
	tests := map[string]drivers.State{
		"running": drivers.StateRunning, "paused": drivers.StatePaused,
		"saved": drivers.StateSaved, "aborted-saved": drivers.StateSaved,
		"poweroff": drivers.StateStopped, "aborted": drivers.StateStopped,
		"starting": drivers.StateStarting, "restoring": drivers.StateStarting,
		"stopping": drivers.StateStopping, "gurumeditation": drivers.StateNone, "": drivers.StateNone,
	}
	for word, want := range tests {
		if got := stateOf(word); got != want {
			t.Errorf("stateOf(%q) = %v; want %v", word, got, want)
		}
	}
}

func TestParseListVMs(t *testing.T) {
	got := parseListVMs(readTestdata(t, "list-vms.txt") + "\"odd\" {name}\" {0b1ab0ba-0000-4000-8000-000000000001}\nnot a vm line\n")
	want := []listedVM{
		{"dev", "a9ac2d70-3220-4d95-a3cc-cbbcf2c09fb8"},
		{"vbf-smoke", "24aa0bbd-3d9c-4ba3-a41f-273c0ab57661"},
		{"odd\" {name}", "0b1ab0ba-0000-4000-8000-000000000001"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("parseListVMs:\n got %q\nwant %q", got, want)
	}
}

func TestParseHostOnlyIfs(t *testing.T) {
	want := []hostOnlyIf{
		{Name: "vboxnet0", IPAddress: "192.168.99.1", NetworkMask: "255.255.255.0", Up: true, NetworkName: "HostInterfaceNetworking-vboxnet0"},
		{Name: "vboxnet1", IPAddress: "169.254.37.187", NetworkMask: "255.255.255.0", Up: true, NetworkName: "HostInterfaceNetworking-vboxnet1"},
	}
	real := readTestdata(t, "hostonlyifs-5.x.txt")
	if got := parseHostOnlyIfs(real); !reflect.DeepEqual(got, want) {
		t.Errorf("parseHostOnlyIfs(5.x):\n got %+v\nwant %+v", got, want)
	}
	// VirtualBox 6.x adds a Wireless line per adapter.
	v6 := ""
	for _, line := range splitLines(real) {
		v6 += line + "\n"
		if len(line) > 11 && line[:11] == "MediumType:" {
			v6 += "Wireless:        No\n"
		}
	}
	if got := parseHostOnlyIfs(v6); !reflect.DeepEqual(got, want) {
		t.Errorf("parseHostOnlyIfs(6.x):\n got %+v\nwant %+v", got, want)
	}
}

func splitLines(s string) []string {
	var out []string
	start := 0
	for i := 0; i < len(s); i++ {
		if s[i] == '\n' {
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return out
}

func TestParseDHCPServers(t *testing.T) {
	tests := []struct {
		file string
		want []dhcpServer
	}{
		{"dhcpservers-5.x.txt", []dhcpServer{{NetworkName: "HostInterfaceNetworking-vboxnet0", Enabled: true,
			dhcpConfig: dhcpConfig{ServerIP: "192.168.99.6", Mask: "255.255.255.0", Lower: "192.168.99.100", Upper: "192.168.99.254"}}}},
		{"dhcpservers-6.1.txt", []dhcpServer{{NetworkName: "HostInterfaceNetworking-vboxnet0", Enabled: true,
			dhcpConfig: dhcpConfig{ServerIP: "192.168.56.100", Mask: "255.255.255.0", Lower: "192.168.56.101", Upper: "192.168.56.254"}}}},
		{"dhcpservers-6.1-two.txt", []dhcpServer{
			{NetworkName: "HostInterfaceNetworking-vboxnet0", Enabled: true,
				dhcpConfig: dhcpConfig{ServerIP: "192.168.56.100", Mask: "255.255.255.0", Lower: "192.168.56.101", Upper: "192.168.56.254"}},
			{NetworkName: "HostInterfaceNetworking-vboxnet1", Enabled: false,
				dhcpConfig: dhcpConfig{ServerIP: "192.168.59.2", Mask: "255.255.255.0", Lower: "192.168.59.128", Upper: "192.168.59.254"}},
		}},
	}
	for _, tt := range tests {
		if got := parseDHCPServers(readTestdata(t, tt.file)); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("parseDHCPServers(%s):\n got %+v\nwant %+v", tt.file, got, tt.want)
		}
	}
}

func TestParseCreatedIf(t *testing.T) {
	got, err := parseCreatedIf("Interface 'vboxnet3' was successfully created\n")
	if err != nil || got != "vboxnet3" {
		t.Errorf("parseCreatedIf = %q, %v; want vboxnet3", got, err)
	}
	if _, err := parseCreatedIf("0%...100%\n"); err == nil {
		t.Error("parseCreatedIf(no name) = nil error")
	}
}
