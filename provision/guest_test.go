package provision

import (
	"errors"
	"testing"
)

func TestParseGuest(t *testing.T) {
	tests := []struct {
		name string
		out  string
		want Guest
	}{
		{"berth-os as root", "NAME=\"berth-os\"\nID=berth-os\nPRETTY_NAME=\"berth-os 0.1\"\nberth.arch=x86_64\nberth.uid=0\nberth.user=root\nberth.sha256sum=1\n",
			Guest{ID: "berth-os", PrettyName: "berth-os 0.1", Arch: "x86_64", Init: InitBerthOS, User: "root", Root: true, SHA256Sum: true}},
		{"debian with sudo", "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nID=debian\nberth.arch=aarch64\nberth.uid=1000\nberth.user=ann\nberth.systemd=1\nberth.sha256sum=1\nberth.sudo=1\n",
			Guest{ID: "debian", PrettyName: "Debian GNU/Linux 12 (bookworm)", Arch: "aarch64", Init: InitSystemd, User: "ann", Sudo: true, SHA256Sum: true}},
		{"alpine without systemd", "ID=alpine\nberth.arch=x86_64\nberth.uid=0\nberth.user=root\n",
			Guest{ID: "alpine", PrettyName: "alpine", Arch: "x86_64", Init: InitNone, User: "root", Root: true}},
		{"berth-os as root, its agent and registries read", "ID=berth-os\nberth.uid=0\nberth.agent_sha256=abc123\nberth.registries=1\n",
			Guest{ID: "berth-os", PrettyName: "berth-os", Init: InitBerthOS, Root: true, RootChecked: true, AgentSHA256: "abc123", Registries: true}},
		{"as root, no agent", "ID=debian\nberth.uid=0\nberth.agent_sha256=\n",
			Guest{ID: "debian", PrettyName: "debian", Root: true, RootChecked: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := parseGuest(tt.out); got != tt.want {
				t.Errorf("parseGuest = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestGuestCheck(t *testing.T) {
	ok := Guest{Init: InitSystemd, User: "ann", Sudo: true, SHA256Sum: true}
	if err := ok.Check(); err != nil {
		t.Errorf("Check of a good guest: %v", err)
	}
	bad := Guest{User: "ann", PrettyName: "Alpine Linux"}
	err := bad.Check()
	for _, want := range []error{ErrNoRoot, ErrNoSupervisor, ErrNoSHA256Sum} {
		if !errors.Is(err, want) {
			t.Errorf("Check = %v, want it to include %v", err, want)
		}
	}
}

func TestAsRoot(t *testing.T) {
	tests := []struct {
		g    Guest
		cmd  string
		want string
	}{
		{Guest{Root: true}, "rm -f /x", "rm -f /x"},
		{Guest{Sudo: true}, "echo 'a' > /x", `sudo -n sh -c 'echo '\''a'\'' > /x'`},
	}
	for _, tt := range tests {
		if got := tt.g.asRoot(tt.cmd); got != tt.want {
			t.Errorf("asRoot(%q) = %q, want %q", tt.cmd, got, tt.want)
		}
	}
}
