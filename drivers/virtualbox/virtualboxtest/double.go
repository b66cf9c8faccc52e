package virtualboxtest

import (
	"bufio"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/berthvm/berth/internal/testenv"
)

// Double is a built VBoxManage double with its own state folder.
type Double struct {
	// Bin is the VBoxManage executable; Dir is its folder, for PATH.
	Bin, Dir string
	// Home is the double's state folder (VBOXDOUBLE_HOME).
	Home string
}

// BuildDouble builds the VBoxManage double into a temporary folder and
// gives it a fresh state folder. It kills the VMs the double still runs
// when the test ends.
func BuildDouble(t testing.TB) *Double {
	t.Helper()
	testenv.NeedCommand(t, "go")
	dir := t.TempDir()
	bin := filepath.Join(dir, "VBoxManage")
	cmd := exec.Command("go", "build", "-o", bin, "github.com/berthvm/berth/drivers/virtualbox/vboxdouble/vboxmanage")
	cmd.Dir = testenv.RepoRoot(t)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build the VBoxManage double: %v\n%s", err, out)
	}
	d := &Double{Bin: bin, Dir: dir, Home: filepath.Join(t.TempDir(), "vboxdouble")}
	t.Cleanup(d.KillAll)
	return d
}

// Env is the environment for running the double: PATH with it first and
// its state folder, plus extra settings (VBOXDOUBLE_*).
func (d *Double) Env(extra ...string) []string {
	return append([]string{"PATH=" + d.Dir + string(os.PathListSeparator) + os.Getenv("PATH"), "VBOXDOUBLE_HOME=" + d.Home}, extra...)
}

// Calls returns every command line the double ran, in order.
func (d *Double) Calls() [][]string {
	f, err := os.Open(filepath.Join(d.Home, "calls.log"))
	if err != nil {
		return nil
	}
	defer f.Close()
	var calls [][]string
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var args []string
		if json.Unmarshal(sc.Bytes(), &args) == nil {
			calls = append(calls, args)
		}
	}
	return calls
}

// Use makes the double the VBoxManage of this test and everything it
// runs: its folder goes first on PATH, and extra VBOXDOUBLE_* settings
// ("NAME=value") are set. Tests that call it cannot run in parallel.
func (d *Double) Use(t testing.TB, extra ...string) {
	t.Helper()
	for _, kv := range d.Env(extra...) {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
}

// KillAll powers off every VM the double runs.
func (d *Double) KillAll() {
	b, err := os.ReadFile(filepath.Join(d.Home, "state.json"))
	if err != nil {
		return
	}
	var st struct {
		VMs []struct {
			Name  string `json:"name"`
			State string `json:"state"`
		} `json:"vms"`
	}
	if json.Unmarshal(b, &st) != nil {
		return
	}
	for _, v := range st.VMs {
		if v.State == "running" || v.State == "paused" {
			cmd := exec.Command(d.Bin, "controlvm", v.Name, "poweroff")
			cmd.Env = append(os.Environ(), d.Env()...)
			cmd.Run()
		}
	}
}
