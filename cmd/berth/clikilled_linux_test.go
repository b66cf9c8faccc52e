package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/berthvm/berth/internal/hostagent"
	"github.com/berthvm/berth/internal/machine"
	"github.com/berthvm/berth/internal/reliability"
	"github.com/berthvm/berth/internal/testenv"
	"github.com/berthvm/berth/internal/testwait"
	"github.com/berthvm/berth/internal/version"
)

// killAtStep runs berth (this test binary as berth) with args and env
// and has it SIGKILLed as that step begins (BERTH_TEST_KILL_AT_STEP: it
// kills itself as the step line "step..." is printed, before the step
// runs), or kills it after delay once it runs when step is empty. It
// returns what berth printed; the test fails when berth ended otherwise.
func killAtStep(t *testing.T, root, step string, delay time.Duration, env []string, args ...string) string {
	t.Helper()
	cmd := exec.Command(os.Args[0], append([]string{"-s", root}, args...)...)
	cmd.Env = append(append(os.Environ(), "BERTH_TEST_AS_MAIN=1", "BERTH_TEST_KILL_AT_STEP="+step), env...)
	var out syncBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	began := time.Now()
	err := testwait.Poll(context.Background(), 5*time.Minute, func() error {
		select {
		case err := <-done:
			done <- err
			return nil
		default:
		}
		if step == "" && time.Since(began) >= delay || step != "" && strings.Contains(out.String(), " "+step+"...") {
			return nil
		}
		return errors.New("not yet")
	})
	cmd.Process.Signal(syscall.SIGKILL)
	werr := <-done
	if err != nil || !strings.Contains(fmt.Sprint(werr), "killed") {
		t.Errorf("berth %s ended before the kill at %q: %v\n%s", strings.Join(args, " "), step, werr, out.String())
	}
	return out.String()
}

// procsOf lists the processes (pid and command line) whose command line
// names something in dir: the machine's QEMU, its host agent.
func procsOf(dir string) []string {
	var found []string
	paths, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil || !strings.Contains(string(b), dir+string(filepath.Separator)) && !strings.HasSuffix(strings.TrimRight(string(b), "\x00"), dir) {
			continue
		}
		if stat, err := os.ReadFile(filepath.Join(filepath.Dir(p), "stat")); err == nil && strings.Contains(string(stat), ") Z ") {
			continue // a zombie: ended, its parent not told yet
		}
		found = append(found, strings.Split(p, "/")[2]+" "+strings.ReplaceAll(string(b), "\x00", " "))
	}
	return found
}

// hostAgentPid is the pid machine name's host agent recorded, or 0.
func hostAgentPid(root, name string) int {
	b, err := os.ReadFile(filepath.Join(root, "machines", name, hostagent.StatusFile))
	if err != nil {
		return 0
	}
	var st hostagent.Status
	if json.Unmarshal(b, &st) != nil {
		return 0
	}
	return st.Pid
}

// TestQEMUCLIKilledAtEveryStep SIGKILLs berth at each step of create,
// start and stop of QEMU machines (the host agent killed: powerLoss):
// each time ls lists the machine (with the error of the step that did not
// finish), rm removes it, and no process of it (QEMU, host agent) is
// left. The machines boot an ISO with no OS (the VM runs, nothing boots)
// except for the kill while create waits for SSH.
func TestQEMUCLIKilledAtEveryStep(t *testing.T) {
	started := time.Now()
	testenv.NeedQEMU(t)
	bare := bareISO(t)
	root := t.TempDir()
	bareArgs := func(name string) []string {
		return []string{"create", "-d", "qemu", "--qemu-iso", bare, "--qemu-accel", "tcg",
			"--qemu-cpus", "1", "--qemu-memory", "256", "--qemu-disk-size", "200", name}
	}
	var runs, survived, lost int64
	// after checks what a kill left: ls lists name with an error holding
	// wantErr (none when empty); rm removes it, and nothing of it runs.
	after := func(what, name, wantErr string) {
		t.Helper()
		runs++
		ok := true
		ls := berth(t, root, "", "ls", "--format", "{{.Name}}|{{.Error}}")
		line := ""
		for _, l := range strings.Split(ls.stdout, "\n") {
			if strings.HasPrefix(l, name+"|") {
				line = l
			}
		}
		switch {
		case ls.code != 0:
			t.Errorf("%s: ls: exit %d: %s", what, ls.code, ls.stderr)
			ok = false
		case line == "":
			t.Errorf("%s: ls does not list %s: %q %s", what, name, ls.stdout, ls.stderr)
			ok = false
			lost++
		case wantErr != "" && !strings.Contains(line, wantErr):
			t.Errorf("%s: ls shows %q, want the error %q", what, line, wantErr)
			ok = false
		case wantErr == "" && line != name+"|":
			t.Errorf("%s: ls shows %q, want no error", what, line)
			ok = false
		}
		t.Logf("%s: ls: %s", what, line)
		if r := berth(t, root, "", "rm", "-y", name); r.code != 0 {
			t.Errorf("%s: rm: exit %d: %s", what, r.code, r.stderr)
			ok = false
		}
		dir := filepath.Join(root, "machines", name)
		if _, err := os.Stat(dir); !os.IsNotExist(err) {
			t.Errorf("%s: rm left %s: %v", what, dir, err)
			ok = false
		}
		if err := testwait.Poll(context.Background(), 15*time.Second, func() error {
			if p := procsOf(dir); len(p) > 0 {
				return fmt.Errorf("%q", p)
			}
			return nil
		}); err != nil {
			t.Errorf("%s: after rm, processes of %s run: %v", what, name, err)
			ok = false
		}
		if ok {
			survived++
		}
	}

	// create, killed at each step.
	createSteps := []string{"making the SSH key", "checking the host", "creating the VM", "starting the VM", "starting the host agent"}
	for i, step := range createSteps {
		name := fmt.Sprintf("c%d", i)
		killOnCleanup(t, root, name)
		killAtStep(t, root, step, 0, nil, bareArgs(name)...)
		want := "create did not finish"
		switch step {
		case "making the SSH key": // before its config is written
			want = "has no config.json (a create was interrupted"
		case "starting the host agent":
			want = "" // the machine is made; its host agent starts again with start
		}
		after("create killed at "+step, name, want)
	}
	// ... and while it waits for SSH of a real boot.
	iso := testenv.ISO(t)
	killOnCleanup(t, root, "ssh")
	killAtStep(t, root, "waiting for SSH", 0, []string{"BERTH_TEST_WAIT_SSH=1"}, qemuCreateArgs(iso, "ssh")...)
	after("create killed at waiting for SSH", "ssh", "create did not finish")
	// ... and, in `make reliability` (each a boot to SSH), while it
	// provisions the agent and waits for it.
	if os.Getenv(reliability.DirEnv) != "" {
		agent := testenv.NeedAgent(t, version.Version)
		for i, step := range []string{"provisioning", "waiting for the agent"} {
			name := fmt.Sprintf("a%d", i)
			killOnCleanup(t, root, name)
			killAtStep(t, root, step, 0, []string{"BERTH_TEST_AGENT=" + agent}, qemuCreateArgs(iso, name)...)
			after("create killed at "+step, name, "create did not finish")
		}
	}

	// start, killed at each step, and stop, of a stopped machine.
	withSteps(t, machine.Steps{MakeKey: fixedKey})
	for i, step := range []string{"starting the VM", "waiting for the agent, restoring port forwards", "starting the host agent", ""} {
		name := fmt.Sprintf("s%d", i)
		killOnCleanup(t, root, name)
		mustBerth(t, root, bareArgs(name)...)
		if step == "" { // stop, killed while it waits for the power-off
			killAtStep(t, root, "", time.Second, nil, "stop", name)
			after("stop killed", name, "")
			continue
		}
		mustBerth(t, root, "kill", name) // stopped at once: the VM boots nothing to power off
		killAtStep(t, root, step, 0, nil, "start", name)
		want := ""
		if step == "starting the VM" {
			want = "start did not finish"
		}
		after("start killed at "+step, name, want)
	}

	reliability.Record(t, started, reliability.Row{
		Area: "fault", What: "berth SIGKILLed at each create step, start step and during stop (QEMU)", Runs: runs, Faults: runs, Survived: survived, Lost: lost,
		Notes: "ls lists the machine with the unfinished create's or start's error; rm removes its folder; no QEMU or host agent process left",
	})
}

// TestQEMUParallelCreates runs 4 creates of different QEMU machines at
// once, each a berth process of its own: all succeed, each machine runs
// with SSH and QMP of its own, and rm of all four leaves no process.
func TestQEMUParallelCreates(t *testing.T) {
	started := time.Now()
	testenv.NeedQEMU(t)
	bare := bareISO(t)
	root := t.TempDir()
	names := []string{"p1", "p2", "p3", "p4"}
	for _, n := range names {
		killOnCleanup(t, root, n)
	}
	errs := make(chan string, len(names))
	for _, n := range names {
		go func() {
			cmd := exec.Command(os.Args[0], "-s", root, "create", "-q", "-d", "qemu", "--qemu-iso", bare, "--qemu-accel", "tcg",
				"--qemu-cpus", "1", "--qemu-memory", "256", "--qemu-disk-size", "200", n)
			cmd.Env = append(os.Environ(), "BERTH_TEST_AS_MAIN=1")
			out, err := cmd.CombinedOutput()
			if err != nil {
				errs <- fmt.Sprintf("create %s: %v\n%s", n, err, out)
				return
			}
			errs <- ""
		}()
	}
	var failed int64
	for range names {
		if e := <-errs; e != "" {
			t.Error(e)
			failed++
		}
	}
	t.Logf("4 creates at once took %v", time.Since(started).Round(100*time.Millisecond))
	if got := mustBerth(t, root, "ls", "--format", "{{.Name}} {{.State}}"); got != "p1 Running\np2 Running\np3 Running\np4 Running\n" {
		t.Errorf("ls after 4 creates at once = %q", got)
	}
	ports := map[int]string{}
	for _, n := range names {
		p := sshPortOf(t, root, n)
		if other, ok := ports[p]; ok {
			t.Errorf("machines %s and %s got the same SSH port %d", other, n, p)
		}
		ports[p] = n
	}
	mustBerth(t, root, append([]string{"rm", "-y"}, names...)...)
	for _, n := range names {
		if p := procsOf(filepath.Join(root, "machines", n)); len(p) > 0 {
			t.Errorf("after rm, processes of %s run: %q", n, p)
		}
	}
	reliability.Record(t, started, reliability.Row{
		Area: "concurrency", What: "4 creates of different QEMU machines at once (berth processes)", Runs: int64(len(names)), Lost: failed,
		Notes: "each create succeeded; all four Running with SSH ports of their own; rm of all left no process",
	})
}
