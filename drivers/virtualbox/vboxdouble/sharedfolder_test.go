package vboxdouble

import (
	"strings"
	"testing"
)

func TestSharedFolders(t *testing.T) {
	f := newFixture(t)
	f.must("createvm", "--name", "dev", "--basefolder", t.TempDir(), "--register")
	host, other := t.TempDir(), t.TempDir()
	f.must("sharedfolder", "add", "dev", "--name", "berth0", "--hostpath", host)
	f.must("sharedfolder", "add", "--name=berth1", "-p", other, "--readonly", "dev")
	for _, tt := range []struct {
		args     []string
		wantCode int
		wantErr  string
	}{
		{[]string{"sharedfolder", "add", "dev", "--hostpath", host}, 2, "No shared folder name (--name) was given"},
		{[]string{"sharedfolder", "add", "dev", "--name", "x"}, 2, "No host path (--hostpath) was given"},
		{[]string{"sharedfolder", "add", "--name", "x", "--hostpath", host}, 2, "No machine was specified"},
		{[]string{"sharedfolder", "add", "dev", "dev2", "--name", "x", "--hostpath", host}, 2, "Machine name given more than once: first 'dev', then 'dev2'"},
		{[]string{"sharedfolder", "add", "dev", "--name", "a b", "--hostpath", host}, 2, "Invalid shared folder name 'a b': contains space"},
		{[]string{"sharedfolder", "add", "dev", "--name", "berth0", "--hostpath", host}, 1, "Shared folder named 'berth0' already exists"},
		{[]string{"sharedfolder", "add", "dev", "--name", "x", "--hostpath", host, "--bogus"}, 2, "Unknown option: --bogus"},
		{[]string{"sharedfolder", "remove", "dev", "--name", "nope"}, 1, "Could not find a shared folder named 'nope'."},
		{[]string{"sharedfolder", "frob", "dev"}, 2, "Unknown subcommand: frob"},
		{[]string{"sharedfolder", "add", "nope", "--name", "x", "--hostpath", host}, 1, "Could not find a registered machine named 'nope'"},
	} {
		_, errs, code := f.run(tt.args...)
		if code != tt.wantCode || !strings.Contains(errs, tt.wantErr) {
			t.Errorf("VBoxManage %s: exit %d, stderr:\n%s\nwant exit %d and %q", strings.Join(tt.args, " "), code, errs, tt.wantCode, tt.wantErr)
		}
	}
	out := f.must("showvminfo", "dev", "--machinereadable")
	want := `SharedFolderNameMachineMapping1="berth0"
SharedFolderPathMachineMapping1="` + host + `"
SharedFolderNameMachineMapping2="berth1"
SharedFolderPathMachineMapping2="` + other + `"
`
	if !strings.Contains(out, want) {
		t.Errorf("showvminfo lacks the shared folders:\n%s\nwant the lines\n%s", out, want)
	}
	if i, j := strings.Index(out, "xhci="), strings.Index(out, "SharedFolderNameMachineMapping1="); i < 0 || j < i {
		t.Errorf("shared folders should follow xhci as in VirtualBox's output:\n%s", out)
	}

	st, err := loadState(f.env["VBOXDOUBLE_HOME"])
	if err != nil {
		t.Fatal(err)
	}
	e := &env{home: f.env["VBOXDOUBLE_HOME"], getenv: func(k string) string { return f.env[k] }}
	args, err := e.qemuArgs(st.findVM("dev"), "headless")
	if err != nil {
		t.Fatal(err)
	}
	line := strings.Join(args, " ")
	for _, w := range []string{
		"-virtfs local,path=" + host + ",mount_tag=berth0,security_model=none,multidevs=remap ",
		"-virtfs local,path=" + other + ",mount_tag=berth1,security_model=none,multidevs=remap,readonly=on",
	} {
		if !strings.Contains(line+" ", w) {
			t.Errorf("QEMU command line %q lacks %q", line, w)
		}
	}

	f.must("sharedfolder", "remove", "dev", "--name", "berth0")
	if out := f.must("showvminfo", "dev", "--machinereadable"); strings.Contains(out, `"berth0"`) || !strings.Contains(out, `SharedFolderNameMachineMapping1="berth1"`) {
		t.Errorf("after remove of berth0, showvminfo:\n%s", out)
	}
}
