package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/berthvm/berth/drivers"
	"github.com/berthvm/berth/internal/golden"
	"github.com/berthvm/berth/internal/machine"
)

// lsStore makes a store with a running, a stopped, a labelled and a broken
// machine, and an agent hook that answers for running machines.
func lsStore(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	mustBerth(t, root, "create", "-d", "fake", "--label", "env=dev", "dev")
	mustBerth(t, root, "create", "-d", "fake", "--fake-ssh-port", "2201", "--label", "team=web", "--label", "env=prod", "web1")
	mustBerth(t, root, "create", "-d", "fake", "--fake-ssh-port", "2202", "--label", "team=web", "web2")
	mustBerth(t, root, "create", "-d", "fake", "idle")
	s := machine.NewStore(root)
	m, err := s.Load("idle")
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Driver.(drivers.Lifecycle).Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(s.Dir("broken"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(s.Dir("broken"), machine.ConfigFile), []byte(`{"ConfigVersion": 1, "Na`), 0o600); err != nil {
		t.Fatal(err)
	}
	old := agentStatus
	agentStatus = func(ctx context.Context, m *machine.Machine) string { return "v0.1.0" }
	t.Cleanup(func() { agentStatus = old })
	t.Setenv("BERTH_MACHINE", "web1")
	return root
}

func TestLsGolden(t *testing.T) {
	root := lsStore(t)
	tests := []struct {
		name string
		args []string
	}{
		{"default", nil},
		{"quiet", []string{"-q"}},
		{"format-table", []string{"--format", `table {{.Name}}\t{{.State}}\t{{.Labels}}`}},
		{"format-plain", []string{"--format", "{{.Name}} {{.DriverName}} {{.URL}}"}},
		{"format-json", []string{"--format", "{{json .}}"}},
		{"filter-state", []string{"--filter", "state=running"}},
		{"filter-state-or", []string{"--filter", "state=Stopped", "--filter", "state=Error"}},
		{"filter-name", []string{"--filter", "name=^web"}},
		{"filter-label", []string{"--filter", "label=team=web"}},
		{"filter-label-key", []string{"--filter", "label=env"}},
		{"filter-driver", []string{"--filter", "driver=fake", "-q"}},
		{"filter-driver-none", []string{"--filter", "driver=qemu"}},
		{"filter-and", []string{"--filter", "label=team=web", "--filter", "name=2$"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := mustBerth(t, root, append([]string{"ls"}, tt.args...)...)
			golden.Assert(t, filepath.Join("testdata", "ls", tt.name+".golden"), []byte(got))
		})
	}
}

// TestLsHangingDriver: a driver that never answers gives a Timeout row
// within --timeout, and the other machines are listed.
func TestLsHangingDriver(t *testing.T) {
	root := t.TempDir()
	mustBerth(t, root, "create", "-d", "fake", "dev")
	mustBerth(t, root, "create", "-d", "fake", "--fake-hang-state", "stuck")
	start := time.Now()
	out := mustBerth(t, root, "ls", "--timeout", "500ms", "--format", "{{.Name}} {{.State}} {{.Error}}")
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("ls took %v with --timeout 500ms", took)
	}
	want := "dev Running \nstuck Timeout the fake driver did not answer within 500ms\n"
	if out != want {
		t.Errorf("ls = %q, want %q", out, want)
	}
}

func TestInspect(t *testing.T) {
	root := t.TempDir()
	mustBerth(t, root, "create", "-d", "fake", "--label", "team=web", "dev")
	out := mustBerth(t, root, "inspect", "dev")
	for _, want := range []string{"{\n    \"ConfigVersion\": 1,\n    \"Name\": \"dev\",\n    \"DriverName\": \"fake\",\n    \"Driver\": {\n        \"SSHPort\": 2222\n    },", `"team": "web"`, `"Created": "`} {
		if !strings.Contains(out, want) {
			t.Errorf("inspect lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, `"Error"`) {
		t.Errorf("inspect of a complete machine shows an Error:\n%s", out)
	}
	for format, want := range map[string]string{
		"{{.DriverName}}":     "fake\n",
		"{{.Driver.SSHPort}}": "2222\n",
		"{{json .Labels}}":    `{"team":"web"}` + "\n",
	} {
		if got := mustBerth(t, root, "inspect", "--format", format, "dev"); got != want {
			t.Errorf("inspect --format %s = %q, want %q", format, got, want)
		}
	}
}

func TestRm(t *testing.T) {
	root := lsStore(t)
	// No answer: nothing removed.
	r := berth(t, root, "n\n", "rm", "dev")
	if r.code != 0 || !strings.Contains(r.stderr, "Are you sure?") || !strings.Contains(r.stderr, "Nothing removed") {
		t.Errorf("rm answered n: exit %d, %q", r.code, r.stderr)
	}
	if r := berth(t, root, "", "rm", "dev"); r.code != exitUsage {
		t.Errorf("rm with no answer on stdin: exit %d, %q", r.code, r.stderr)
	}
	// A broken machine, a missing one and a good one: keeps going, reports the failure.
	r = berth(t, root, "", "rm", "-y", "broken", "nope", "dev")
	if r.code != exitNotFound || !strings.Contains(r.stderr, `machine not found: "nope"`) {
		t.Errorf("rm -y broken nope dev: exit %d, %q", r.code, r.stderr)
	}
	if r.stdout != "Removed broken\nRemoved dev\n" {
		t.Errorf("rm printed %q", r.stdout)
	}
	r = berth(t, root, "yes\n", "rm", "idle")
	if r.code != 0 || r.stdout != "Removed idle\n" {
		t.Errorf("rm answered yes: exit %d, %q %q", r.code, r.stdout, r.stderr)
	}
	// -f does not ask (docker-machine's -f implies -y).
	r = berth(t, root, "", "rm", "-f", "web2")
	if r.code != 0 || r.stdout != "Removed web2\n" || strings.Contains(r.stderr, "Are you sure") {
		t.Errorf("rm -f: exit %d, %q %q", r.code, r.stdout, r.stderr)
	}
	if got := mustBerth(t, root, "ls", "-q"); got != "web1\n" {
		t.Errorf("ls after rm = %q", got)
	}
	if entries, _ := os.ReadDir(filepath.Join(root, "machines")); len(entries) != 1 {
		t.Errorf("machine folders left: %v", entries)
	}
}

// BenchmarkLs100 lists 100 stored machines with the fake driver.
//
//	go test -run '^$' -bench Ls100 ./cmd/berth
func BenchmarkLs100(b *testing.B) {
	root := b.TempDir()
	s := machine.NewStore(root)
	for i := range 100 {
		name := fmt.Sprintf("m%03d", i)
		spec := machine.CreateSpec{Name: name, NewDriver: func(base drivers.Base) (drivers.Driver, error) {
			reg, err := drivers.Lookup("fake")
			if err != nil {
				return nil, err
			}
			return reg.New(base), nil
		}}
		if _, err := s.Create(context.Background(), spec, machine.Steps{}); err != nil {
			b.Fatal(err)
		}
	}
	d := &deps{store: s, stdout: &bytes.Buffer{}, stderr: &bytes.Buffer{}, getenv: func(string) string { return "" }}
	cpu := cpuTime()
	b.ResetTimer()
	for b.Loop() {
		out := d.stdout.(*bytes.Buffer)
		out.Reset()
		if err := runLs(context.Background(), lsOptions{}, d); err != nil {
			b.Fatal(err)
		}
		if n := strings.Count(out.String(), "Running"); n != 100 {
			b.Fatalf("%d running machines listed, want 100", n)
		}
	}
	// Wall time depends on how busy the host is; CPU time much less.
	if used := cpuTime() - cpu; used > 0 {
		b.ReportMetric(float64(used.Microseconds())/1000/float64(b.N), "cpu-ms/op")
	}
}

// TestLsHangingAgent: an agent that never answers costs only the AGENT
// column; the driver's state and a stored error (first line) still show.
func TestLsHangingAgent(t *testing.T) {
	root := t.TempDir()
	mustBerth(t, root, "create", "-d", "fake", "dev")
	s := machine.NewStore(root)
	m, err := s.Load("dev")
	if err != nil {
		t.Fatal(err)
	}
	m.Error = "provisioning: no answer\nthe agent's log ends with: ..."
	if err := s.Save(m); err != nil {
		t.Fatal(err)
	}
	d := &deps{store: s, stdout: &bytes.Buffer{}, stderr: &bytes.Buffer{}, getenv: func(string) string { return "" },
		agentStatus: func(ctx context.Context, m *machine.Machine) string { time.Sleep(time.Hour); return "" }}
	start := time.Now()
	if err := runLs(t.Context(), lsOptions{Timeout: 300 * time.Millisecond, Format: "{{.State}}|{{.URL}}|{{.Agent}}|{{.Error}}"}, d); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("ls took %v with --timeout 300ms", took)
	}
	want := "Running|ssh://root@127.0.0.1:2222|Timeout|provisioning: no answer\n"
	if got := d.stdout.(*bytes.Buffer).String(); got != want {
		t.Errorf("ls = %q, want %q", got, want)
	}
}

// TestLsAsksAgentsOnlyForTheAgentColumn: asking an agent costs an SSH
// connection, so ls does it only when its output shows the column.
func TestLsAsksAgentsOnlyForTheAgentColumn(t *testing.T) {
	root := lsStore(t)
	var calls atomic.Int32
	agentStatus = func(ctx context.Context, m *machine.Machine) string { calls.Add(1); return "v0.1.0" }
	tests := []struct {
		args []string
		want bool
	}{
		{nil, true},
		{[]string{"--format", "{{json .}}"}, true},
		{[]string{"--format", "{{.Name}} {{.Agent}}"}, true},
		{[]string{"-q"}, false},
		{[]string{"--format", "{{.Name}} {{.State}}"}, false},
		{[]string{"--format", "table {{.Name}}\t{{.URL}}"}, false},
	}
	for _, tt := range tests {
		calls.Store(0)
		mustBerth(t, root, append([]string{"ls"}, tt.args...)...)
		if got := calls.Load() > 0; got != tt.want {
			t.Errorf("ls %q asked the agents: %v, want %v", tt.args, got, tt.want)
		}
	}
}
