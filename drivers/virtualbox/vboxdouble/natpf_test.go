package vboxdouble

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/berthvm/berth/internal/testenv"
)

// TestLiveNATRules boots a VM without disks in QEMU: a rule whose host
// port is taken at power-up is kept but only logged, as VirtualBox does;
// controlvm natpf1 adds and deletes rules on the running VM as QEMU host
// forwards that listen on this computer, and showvminfo lists them.
func TestLiveNATRules(t *testing.T) {
	testenv.NeedQEMU(t)
	f := newFixture(t)
	f.must("createvm", "--name", "nat", "--basefolder", t.TempDir(), "--register")
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	busyPort := busy.Addr().(*net.TCPAddr).Port
	keep, live := freeTCP(t), freeUDP(t)
	f.must("modifyvm", "nat", "--memory", "64", "--nic1", "nat", "--natpf1", fmt.Sprintf("busy,tcp,127.0.0.1,%d,,22", busyPort))
	f.must("modifyvm", "nat", "--natpf1", fmt.Sprintf("keep,tcp,127.0.0.1,%d,,80", keep))
	f.must("startvm", "nat", "--type", "headless")
	defer f.run("controlvm", "nat", "poweroff")

	info := f.must("showvminfo", "nat", "--machinereadable")
	logDir := between(info, "LogFldr=\"", "\"")
	log, _ := os.ReadFile(filepath.Join(logDir, "VBox.log"))
	if want := fmt.Sprintf("NAT#0: configuration error: failed to set up redirection of %d to 22.", busyPort); !strings.Contains(string(log), want) {
		t.Errorf("VBox.log lacks %q:\n%s", want, log)
	}
	if !taken("tcp", keep) {
		t.Errorf("the rule on free port %d does not listen after startvm", keep)
	}

	rule := fmt.Sprintf("dns,udp,127.0.0.1,%d,,53", live)
	f.must("controlvm", "nat", "natpf1", rule)
	if !taken("udp", live) {
		t.Errorf("controlvm natpf1 %s: nothing listens on udp port %d", rule, live)
	}
	info = f.must("showvminfo", "nat", "--machinereadable")
	for i, r := range []string{fmt.Sprintf("busy,tcp,127.0.0.1,%d,,22", busyPort), fmt.Sprintf("keep,tcp,127.0.0.1,%d,,80", keep), rule} {
		if line := fmt.Sprintf("Forwarding(%d)=%q", i, r); !strings.Contains(info, line) {
			t.Errorf("showvminfo lacks %s:\n%s", line, info)
		}
	}
	_, errs, code := f.run("controlvm", "nat", "natpf1", rule)
	if code != 1 || !strings.Contains(errs, "A NAT rule of this name already exists") {
		t.Errorf("adding the rule again: exit %d, %q", code, errs)
	}
	f.must("controlvm", "nat", "natpf1", "delete", "dns")
	if taken("udp", live) {
		t.Errorf("udp port %d still held after controlvm natpf1 delete", live)
	}
	if info = f.must("showvminfo", "nat", "--machinereadable"); strings.Contains(info, rule) {
		t.Errorf("showvminfo still lists the deleted rule:\n%s", info)
	}
	_, errs, code = f.run("controlvm", "nat", "natpf1", "delete", "dns")
	if code != 1 || !strings.Contains(errs, "NS_ERROR_INVALID_ARG") {
		t.Errorf("deleting a missing rule: exit %d, %q", code, errs)
	}
}

func between(s, from, to string) string {
	_, after, _ := strings.Cut(s, from)
	v, _, _ := strings.Cut(after, to)
	return v
}

func freeTCP(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func freeUDP(t *testing.T) int {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	return pc.LocalAddr().(*net.UDPAddr).Port
}

func taken(proto string, port int) bool {
	return hostPortBusy(&rule{Proto: proto, HostIP: "127.0.0.1", HostPort: port})
}
