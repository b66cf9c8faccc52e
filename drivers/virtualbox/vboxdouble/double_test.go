package vboxdouble

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/berthvm/berth/internal/testenv"
)

type fixture struct {
	t   *testing.T
	env map[string]string
}

func newFixture(t *testing.T, kv ...string) *fixture {
	f := &fixture{t: t, env: map[string]string{"VBOXDOUBLE_HOME": t.TempDir(), "HOME": t.TempDir()}}
	for i := 0; i+1 < len(kv); i += 2 {
		f.env[kv[i]] = kv[i+1]
	}
	return f
}

func (f *fixture) run(args ...string) (stdout, stderr string, code int) {
	var o, e bytes.Buffer
	code = Main(args, &o, &e, func(k string) string { return f.env[k] })
	return o.String(), e.String(), code
}

// must runs a command that must succeed with nothing on stderr but
// progress or warnings.
func (f *fixture) must(args ...string) string {
	f.t.Helper()
	out, errs, code := f.run(args...)
	if code != 0 || strings.Contains(errs, "error:") {
		f.t.Fatalf("VBoxManage %s: exit %d\n%s", strings.Join(args, " "), code, errs)
	}
	return out
}

func TestSyntaxIsRefusedLikeVBoxManage(t *testing.T) {
	f := newFixture(t)
	f.must("createvm", "--name", "dev", "--basefolder", t.TempDir(), "--register")
	tests := []struct {
		name     string
		ver      string
		args     []string
		wantCode int
		wantErr  string
	}{
		{"unknown command", "", []string{"frobnicate"}, 2, "VBoxManage: error: Invalid command 'frobnicate'"},
		{"modifyvm unknown option exits 1", "", []string{"modifyvm", "dev", "--frobnicate", "on"}, 1, "VBoxManage: error: Unknown option: --frobnicate"},
		{"abbreviations are not options", "", []string{"modifyvm", "dev", "--mem", "512"}, 1, "Unknown option: --mem"},
		{"bad on/off names the value", "", []string{"modifyvm", "dev", "--acpi", "yes"}, 1, "Unknown option: yes"},
		{"bad number", "", []string{"modifyvm", "dev", "--memory", "lots"}, 1, "Invalid argument format: --memory"},
		{"bad enum", "", []string{"modifyvm", "dev", "--firmware", "coreboot"}, 1, "Invalid --firmware argument 'coreboot'"},
		{"missing index", "", []string{"modifyvm", "dev", "--nic", "nat"}, 2, "--nic: RTGetOpt: Command line option needs an index."},
		{"missing value", "", []string{"modifyvm", "dev", "--memory"}, 1, "--memory: RTGetOpt: Command line option needs argument."},
		{"flag with a value", "", []string{"createvm", "--name", "x", "--register=1"}, 2, "Unknown option: --register=1"},
		{"createvm needs a name", "", []string{"createvm", "--register"}, 2, "Parameter --name is required"},
		{"startvm says unknown in lower case", "", []string{"startvm", "dev", "--kind", "headless"}, 2, "VBoxManage: error: unknown option: --kind"},
		{"dashed spellings are 7.0+", "6.1.38r153438", []string{"modifyvm", "dev", "--nat-pf1", "a,tcp,,1,,2"}, 1, "Unknown option: --nat-pf1"},
		{"7.1 spellings are 7.1+", "7.0.12r159484", []string{"modifyvm", "dev", "--firmware-logo-fade-in", "off"}, 1, "Unknown option: --firmware-logo-fade-in"},
		{"unknown VM", "", []string{"showvminfo", "nope", "--machinereadable"}, 1, "VBoxManage: error: Could not find a registered machine named 'nope'\nVBoxManage: error: Details: code VBOX_E_OBJECT_NOT_FOUND (0x80bb0001), component VirtualBoxWrap, interface IVirtualBox, callee nsISupports\nVBoxManage: error: Context: \"FindMachine("},
		{"list unknown type", "", []string{"list", "vmz"}, 2, `Unknown subcommand "vmz".`},
		{"controlvm needs a running VM", "", []string{"controlvm", "dev", "acpipowerbutton"}, 1, "Machine 'dev' is not currently running."},
		{"natpf delete of a missing rule", "", []string{"modifyvm", "dev", "--natpf1", "delete", "ssh"}, 1, "VBoxManage: error: Code NS_ERROR_INVALID_ARG (0x80070057) - Invalid argument value (extended info not available)\nVBoxManage: error: Context: \"RemoveRedirect(Bstr(ValueUnion.psz).raw())\" at line 1766 of file VBoxManageModifyVM.cpp"},
		{"natpf with too few fields", "", []string{"modifyvm", "dev", "--natpf1", "ssh,tcp,,2222"}, 2, "Missing or invalid argument to '--natpf'"},
		{"storageattach unknown option exits 1", "", []string{"storageattach", "dev", "--storagectl", "SATA", "--bogus", "1"}, 1, "Unknown option: --bogus"},
		{"valid but not modelled", "", []string{"list", "ostypes"}, 1, "the VBoxManage double does not implement list ostypes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f.env["VBOXDOUBLE_VERSION"] = tt.ver
			out, errs, code := f.run(tt.args...)
			if code != tt.wantCode || !strings.Contains(errs, tt.wantErr) {
				t.Errorf("VBoxManage %s: exit %d, stderr:\n%s\nwant exit %d and %q", strings.Join(tt.args, " "), code, errs, tt.wantCode, tt.wantErr)
			}
			if out != "" && tt.wantCode == 2 {
				t.Errorf("syntax error printed on stdout: %q", out)
			}
		})
	}
	f.env["VBOXDOUBLE_VERSION"] = ""
	// A failed modifyvm saves nothing of the call.
	f.run("modifyvm", "dev", "--memory", "777", "--natpf1", "delete", "nope")
	if out := f.must("showvminfo", "dev", "--machinereadable"); !strings.Contains(out, "\nmemory=128\n") {
		t.Errorf("a failed modifyvm changed memory:\n%s", out)
	}
}

func TestVersion(t *testing.T) {
	f := newFixture(t)
	for _, flag := range []string{"--version", "-v", "-V"} {
		if out := f.must(flag); out != "7.1.12r169651\n" {
			t.Errorf("%s = %q", flag, out)
		}
	}
	f.env["VBOXDOUBLE_VERSION"] = "6.1.38r153438"
	if out := f.must("--version"); out != "6.1.38r153438\n" {
		t.Errorf("--version = %q", out)
	}
}

func TestVMDefinitionRoundTrip(t *testing.T) {
	testenv.NeedCommand(t, "qemu-img")
	f := newFixture(t)
	m := t.TempDir()
	iso := filepath.Join(m, "boot.iso")
	os.WriteFile(iso, []byte("not really an iso"), 0o600)
	if out := f.must("createmedium", "disk", "--filename", m+"/disk.vdi", "--size", "64", "--format", "VDI"); !strings.HasPrefix(out, "Medium created. UUID: ") {
		t.Errorf("createmedium stdout = %q", out)
	}
	out := f.must("createvm", "--basefolder", m+"/vbox", "--name", "dev", "--register")
	if want := "Virtual machine 'dev' is created and registered.\nUUID: "; !strings.HasPrefix(out, want) || !strings.HasSuffix(out, "Settings file: '"+m+"/vbox/dev/dev.vbox'\n") {
		t.Errorf("createvm stdout = %q", out)
	}
	f.must("modifyvm", "dev", "--cpus", "2", "--memory", "512", "--boot1", "dvd", "--nic1", "nat", "--nictype1", "virtio", "--natpf1", "ssh,tcp,127.0.0.1,2222,,22")
	f.must("storagectl", "dev", "--name", "SATA", "--add", "sata", "--hostiocache", "on")
	f.must("storageattach", "dev", "--storagectl", "SATA", "--port", "0", "--device", "0", "--type", "dvddrive", "--medium", iso)
	f.must("storageattach", "dev", "--storagectl", "SATA", "--port", "1", "--device", "0", "--type", "hdd", "--medium", m+"/disk.vdi")
	info := f.must("showvminfo", "dev", "--machinereadable")
	for _, want := range []string{
		"name=\"dev\"\n", "\ncpus=2\n", "\nmemory=512\n", "\nVMState=\"poweroff\"\n", "\nboot1=\"dvd\"\n",
		"\nstoragecontrollername0=\"SATA\"\n", "\n\"SATA-0-0\"=\"" + iso + "\"\n", "\n\"SATA-1-0\"=\"" + m + "/disk.vdi\"\n", "\n\"SATA-2-0\"=\"none\"\n",
		"\nnic1=\"nat\"\n", "\nnictype1=\"virtio\"\n", "\nForwarding(0)=\"ssh,tcp,127.0.0.1,2222,,22\"\n", "\nnic2=\"none\"\n",
		"\nLogFldr=\"" + m + "/vbox/dev/Logs\"\n", "\nmacaddress1=\"080027",
	} {
		if !strings.Contains(info, want) {
			t.Errorf("showvminfo lacks %q:\n%s", want, info)
		}
	}
	if out := f.must("list", "vms"); !strings.HasPrefix(out, "\"dev\" {") {
		t.Errorf("list vms = %q", out)
	}
	if out := f.must("list", "runningvms"); out != "" {
		t.Errorf("list runningvms = %q; want nothing", out)
	}
	_, errs, code := f.run("modifyvm", "dev", "--natpf1", "ssh,tcp,127.0.0.1,2223,,22")
	if code != 1 || !strings.Contains(errs, "A NAT rule of this name already exists") {
		t.Errorf("duplicate rule: exit %d %s", code, errs)
	}
	f.must("unregistervm", "dev", "--delete")
	for _, gone := range []string{m + "/disk.vdi", m + "/vbox/dev/dev.vbox"} {
		if _, err := os.Stat(gone); !os.IsNotExist(err) {
			t.Errorf("%s survived unregistervm --delete", gone)
		}
	}
	if _, err := os.Stat(iso); err != nil {
		t.Errorf("unregistervm --delete removed the DVD image: %v", err)
	}
	if out := f.must("list", "vms"); out != "" {
		t.Errorf("list vms after unregister = %q", out)
	}
}

func TestHostOnlyAndDHCP(t *testing.T) {
	for _, ver := range []string{"5.2.8r121009", "6.1.38r153438"} {
		f := newFixture(t, "VBOXDOUBLE_VERSION", ver)
		if out := f.must("hostonlyif", "create"); out != "Interface 'vboxnet0' was successfully created\n" {
			t.Errorf("hostonlyif create = %q", out)
		}
		f.must("hostonlyif", "ipconfig", "vboxnet0", "--ip", "192.168.59.1", "--netmask", "255.255.255.0")
		f.must("dhcpserver", "add", "--netname", "HostInterfaceNetworking-vboxnet0", "--ip", "192.168.59.2", "--netmask", "255.255.255.0", "--lowerip", "192.168.59.100", "--upperip", "192.168.59.254", "--enable")
		ifs := f.must("list", "hostonlyifs")
		if !strings.Contains(ifs, "Name:            vboxnet0\n") || !strings.Contains(ifs, "IPAddress:       192.168.59.1\n") {
			t.Errorf("list hostonlyifs:\n%s", ifs)
		}
		dhcp := f.must("list", "dhcpservers")
		label := "Dhcpd IP:       192.168.59.2\n"
		if ver[0] == '5' {
			label = "IP:             192.168.59.2\n"
		}
		if !strings.Contains(dhcp, label) {
			t.Errorf("list dhcpservers (%s) lacks %q:\n%s", ver, label, dhcp)
		}
	}
	f := newFixture(t)
	f.must("hostonlyif", "create")
	_, errs, code := f.run("hostonlyif", "ipconfig", "vboxnet0", "--ip", "192.168.99.1")
	if code != 1 || !strings.Contains(errs, "E_ACCESSDENIED") {
		t.Errorf("ipconfig outside 192.168.56.0/21 on 7.x: exit %d %s", code, errs)
	}
}

func TestInjectedFaults(t *testing.T) {
	f := newFixture(t, "VBOXDOUBLE_NOT_READY", "2")
	for i := 0; i < 2; i++ {
		_, errs, code := f.run("list", "vms")
		if code != 1 || !strings.Contains(errs, "VBoxManage: error: The object is not ready") {
			t.Errorf("call %d: exit %d %q; want the object is not ready", i+1, code, errs)
		}
	}
	f.must("list", "vms")
}

// TestStrictSessionsRefuseOverlappingCalls shows that, without a lock on
// the caller's side, overlapping calls fail as on VirtualBox: this is what
// makes the parallel-create test of the driver meaningful.
func TestStrictSessionsRefuseOverlappingCalls(t *testing.T) {
	f := newFixture(t, "VBOXDOUBLE_STRICT_SESSIONS", "1", "VBOXDOUBLE_DELAY", "200ms")
	codes := make(chan string, 3)
	for range 3 {
		go func() {
			_, errs, _ := f.run("list", "vms")
			codes <- errs
		}()
	}
	locked := 0
	for range 3 {
		if strings.Contains(<-codes, "is already locked for a session") {
			locked++
		}
	}
	if locked == 0 {
		t.Error("three overlapping calls all succeeded; want session-lock errors")
	}
}
