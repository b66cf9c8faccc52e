package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/berthvm/berth/drivers"
	"github.com/berthvm/berth/drivers/qemu"
	_ "github.com/berthvm/berth/internal/fakedriver" // registers "fake"
	"github.com/berthvm/berth/internal/machine"
	"github.com/berthvm/berth/internal/testenv"
)

// result is what one berth run printed and its exit code.
type result struct {
	stdout, stderr string
	code           int
}

// berth runs the CLI as main does, on the store at root, with stdin.
func berth(t testing.TB, root, stdin string, args ...string) result {
	t.Helper()
	var out, errOut bytes.Buffer
	app := newApp(strings.NewReader(stdin), &out, &errOut)
	err := app.RunContext(context.Background(), append([]string{"berth", "-s", root}, args...))
	r := result{stdout: out.String(), stderr: errOut.String()}
	if err != nil {
		var msg string
		r.code, msg = exitCode(err)
		if msg != "" { // as main prints it
			r.stderr += "berth: " + msg + "\n"
		}
	}
	return r
}

// mustBerth runs berth and fails t unless it exits 0.
func mustBerth(t testing.TB, root string, args ...string) string {
	t.Helper()
	r := berth(t, root, "", args...)
	if r.code != 0 {
		t.Fatalf("berth %s: exit %d\n%s%s", strings.Join(args, " "), r.code, r.stderr, machineLogs(root))
	}
	return r.stdout
}

// machineLogs is the end of each machine's serial console and, where its
// SSH answers, of its agent's log: what a failure on a CI host needs to be
// understood afterwards.
func machineLogs(root string) string {
	dirs, _ := filepath.Glob(filepath.Join(root, "machines", "*"))
	var b strings.Builder
	for _, dir := range dirs {
		name := filepath.Base(dir)
		if out, err := os.ReadFile(filepath.Join(dir, qemu.ConsoleFile)); err == nil {
			fmt.Fprintf(&b, "--- the end of machine %s's console:\n%s\n", name, lastLines(string(out), 40))
		}
		if _, err := os.Stat(filepath.Join(dir, qemu.PIDFile)); err != nil {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		var out bytes.Buffer
		app := newApp(strings.NewReader(""), &out, &out)
		err := app.RunContext(ctx, []string{"berth", "-s", root, "ssh", name, "--", agentDiagnosis})
		cancel()
		fmt.Fprintf(&b, "--- machine %s's agent log and processes (%v):\n%s\n", name, err, out.String())
	}
	return b.String()
}

// agentDiagnosis prints the end of the agent's log and the processes and,
// when the agent runs without serving, where it waits: its threads' kernel
// wait channels, then its goroutines (SIGQUIT makes Go print them to the
// log the supervisor keeps; the agent restarts).
const agentDiagnosis = `log=/var/lib/berth/log/berth-agent.log; tail -n 30 $log; ps | tail -n 25
pid=$(cat /run/berth/agent.pid 2>/dev/null)
if [ -n "$pid" ] && [ ! -S /run/berth/agent.sock ]; then
  echo "--- agent $pid runs but does not serve; its threads wait in:"
  for t in /proc/$pid/task/*; do echo "$t $(cat $t/wchan 2>/dev/null)"; done
  kill -QUIT $pid; sleep 3; grep -A 40 '^goroutine 1 \[' $log | head -n 60
fi`

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func TestExitCodes(t *testing.T) {
	tests := []struct {
		err  error
		want int
	}{
		{errors.New("x"), exitError},
		{usagef("bad"), exitUsage},
		{fmt.Errorf("create: %w", machine.ValidateName("../x")), exitUsage},
		{machine.ErrNoActive, exitUsage},
		{fmt.Errorf("create machine %q: %w", "dev", fmt.Errorf("%w: no qemu", drivers.ErrPreCreate)), exitPreCreate},
		{fmt.Errorf("%w: %q", machine.ErrNotFound, "dev"), exitNotFound},
		{fmt.Errorf("create: %w", context.Canceled), exitInterrupted},
	}
	for _, tt := range tests {
		if got, _ := exitCode(tt.err); got != tt.want {
			t.Errorf("exitCode(%v) = %d, want %d", tt.err, got, tt.want)
		}
	}
}

func TestHelp(t *testing.T) {
	root := t.TempDir()
	out := mustBerth(t, root, "--help")
	for _, want := range []string{"EXIT CODES", "3    pre-create check failed", "4    machine not found", "create", "ls", "completion"} {
		if !strings.Contains(out, want) {
			t.Errorf("berth --help lacks %q:\n%s", want, out)
		}
	}
	// Every command has help with examples.
	for _, mk := range commands {
		c := mk()
		out := mustBerth(t, root, c.Name, "--help")
		if !strings.Contains(out, "EXAMPLES:") || !strings.Contains(out, "berth "+c.Name) {
			t.Errorf("berth %s --help has no examples:\n%s", c.Name, out)
		}
	}
}

func TestUsageErrors(t *testing.T) {
	root := filepath.Join(t.TempDir(), "store")
	tests := []struct {
		args []string
		want int
		msg  string
	}{
		{[]string{"bogus"}, exitUsage, `unknown command "bogus"`},
		{[]string{"ls", "--bogus"}, exitUsage, "flag provided but not defined"},
		{[]string{"ls", "--filter", "color=red"}, exitUsage, `unknown key "color"`},
		{[]string{"ls", "--filter", "name=("}, exitUsage, "bad --filter"},
		{[]string{"ls", "--format", "{{.Nope"}, exitUsage, "bad --format"},
		{[]string{"create"}, exitUsage, "create takes one machine name"},
		{[]string{"create", "-d", "fake", "../x"}, exitUsage, "invalid machine name"},
		{[]string{"create", "-d", "fake", strings.Repeat("a", 64)}, exitUsage, "at most 63 characters"},
		{[]string{"create", "dev"}, exitUsage, "choose a driver with -d"},
		{[]string{"create", "-d", "nope", "dev"}, exitUsage, `unknown driver "nope"`},
		{[]string{"create", "-d", "fake", "--label", "novalue", "dev"}, exitUsage, `bad --label "novalue"`},
		{[]string{"create", "-d", "fake", "--fake-fail", "x", "--fake-ssh-port", "0", "dev"}, exitUsage, "--fake-ssh-port 0"},
		{[]string{"create", "-d", "fake", "--fake-fail", "precreate", "dev"}, exitPreCreate, "pre-create check failed"},
		{[]string{"status", "nope"}, exitNotFound, `machine not found: "nope"`},
		{[]string{"inspect", "nope"}, exitNotFound, "machine not found"},
		{[]string{"status"}, exitUsage, "no machine named"},
		{[]string{"rm"}, exitUsage, "at least one machine"},
		{[]string{"completion", "tcsh"}, exitUsage, `unknown shell "tcsh"`},
	}
	for _, tt := range tests {
		r := berth(t, root, "", tt.args...)
		if r.code != tt.want || !strings.Contains(r.stderr, tt.msg) {
			t.Errorf("berth %s: exit %d, stderr %q; want exit %d and %q", strings.Join(tt.args, " "), r.code, r.stderr, tt.want, tt.msg)
		}
	}
	// Bad input touched nothing.
	if names, _ := machine.NewStore(root).Names(); len(names) != 0 {
		t.Errorf("machines after bad input: %v", names)
	}
}

func TestCreateFlagsFromEnv(t *testing.T) {
	root := t.TempDir()
	t.Setenv("FAKE_SSH_PORT", "2345")
	out := mustBerth(t, root, "create", "-d", "fake", "--label", "team=web", "dev")
	if !strings.Contains(out, "Machine dev is ready") {
		t.Errorf("create printed %q", out)
	}
	if got := mustBerth(t, root, "inspect", "--format", "{{.Driver.SSHPort}} {{.Labels.team}}", "dev"); got != "2345 web\n" {
		t.Errorf("inspect = %q, want the port from $FAKE_SSH_PORT and the label", got)
	}
	// A flag beats its environment variable.
	mustBerth(t, root, "create", "-d", "fake", "--fake-ssh-port", "2400", "dev2")
	if got := mustBerth(t, root, "inspect", "--format", "{{.Driver.SSHPort}}", "dev2"); got != "2400\n" {
		t.Errorf("inspect = %q, want 2400", got)
	}
	if r := berth(t, root, "", "create", "-d", "fake", "dev"); r.code != exitError || !strings.Contains(r.stderr, "already exists") {
		t.Errorf("create of an existing name: exit %d, %q", r.code, r.stderr)
	}
}

func TestCreateFailureLeavesNothing(t *testing.T) {
	root := t.TempDir()
	r := berth(t, root, "", "create", "-d", "fake", "--fake-fail", "start", "dev")
	if r.code != exitError || !strings.Contains(r.stderr, `create machine "dev": starting the VM: fake start failure`) {
		t.Errorf("create: exit %d, %q", r.code, r.stderr)
	}
	if got := mustBerth(t, root, "ls", "-q"); got != "" {
		t.Errorf("ls after a failed create = %q", got)
	}
	r = berth(t, root, "", "create", "-d", "fake", "--fake-fail", "start", "--keep-on-error", "dev")
	if r.code != exitError {
		t.Errorf("create --keep-on-error: exit %d", r.code)
	}
	if got := mustBerth(t, root, "ls", "--format", "{{.Name}}: {{.Error}}"); !strings.Contains(got, "dev: create machine \"dev\": starting the VM: fake start failure") {
		t.Errorf("ls after a kept failure = %q", got)
	}
	mustBerth(t, root, "rm", "-y", "dev")
	if got := mustBerth(t, root, "ls", "-q"); got != "" {
		t.Errorf("ls after rm = %q", got)
	}
}

func TestStatusAndActive(t *testing.T) {
	root := t.TempDir()
	mustBerth(t, root, "create", "-d", "fake", "dev")
	if got := mustBerth(t, root, "status", "dev"); got != "Running\n" {
		t.Errorf("status = %q, want Running", got)
	}
	if r := berth(t, root, "", "active"); r.code != exitUsage || !strings.Contains(r.stderr, "BERTH_MACHINE") {
		t.Errorf("active with no default: exit %d, %q", r.code, r.stderr)
	}
	t.Setenv("BERTH_MACHINE", "dev")
	if got := mustBerth(t, root, "active"); got != "dev\n" {
		t.Errorf("active = %q, want dev", got)
	}
	if got := mustBerth(t, root, "status"); got != "Running\n" {
		t.Errorf("status of the active machine = %q", got)
	}
	t.Setenv("BERTH_MACHINE", "")
	mustBerth(t, root, "create", "-d", "fake", "default")
	if got := mustBerth(t, root, "active"); got != "default\n" {
		t.Errorf("active = %q, want default", got)
	}
	t.Setenv("BERTH_MACHINE", "gone")
	if r := berth(t, root, "", "active"); r.code != exitNotFound {
		t.Errorf("active naming a missing machine: exit %d, %q", r.code, r.stderr)
	}
}

func TestCompletion(t *testing.T) {
	root := t.TempDir()
	for _, sh := range []string{"bash", "zsh", "fish"} {
		if out := mustBerth(t, root, "completion", sh); !strings.Contains(out, "berth") || len(out) < 100 {
			t.Errorf("completion %s = %q", sh, out)
		}
	}
}

func TestVersion(t *testing.T) {
	if out := mustBerth(t, t.TempDir(), "version"); !strings.HasPrefix(out, "berth dev (go") {
		t.Errorf("version = %q", out)
	}
}

// TestFakeDriverNotInBinary: the fake driver is for tests only.
func TestFakeDriverNotInBinary(t *testing.T) {
	testenv.NeedCommand(t, "go")
	out, err := exec.Command("go", "list", "-deps", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	if strings.Contains(string(out), "internal/fakedriver") {
		t.Error("the berth binary links internal/fakedriver; import it from tests only")
	}
	if !strings.Contains(string(out), "github.com/berthvm/berth/internal/machine") {
		t.Errorf("go list -deps output looks wrong:\n%s", out)
	}
}
