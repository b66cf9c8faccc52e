package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gofrs/flock"

	"github.com/berthvm/berth/internal/hostagent"
	"github.com/berthvm/berth/internal/machine"
)

// fakeHostAgent makes machine name in root look served by a host agent:
// its lock held (until the test ends) and its status written.
func fakeHostAgent(tb testing.TB, root, name, agent string) {
	tb.Helper()
	dir := filepath.Join(root, "machines", name)
	l := flock.New(filepath.Join(dir, hostagent.LockFile))
	if ok, err := l.TryLock(); !ok || err != nil {
		tb.Fatalf("lock: %v", err)
	}
	tb.Cleanup(func() { l.Unlock() })
	b, _ := json.Marshal(hostagent.Status{Pid: os.Getpid(), Endpoint: "unix://" + dir + "/docker.sock", State: hostagent.StateReady, Agent: agent})
	if err := os.WriteFile(filepath.Join(dir, hostagent.StatusFile), b, 0o600); err != nil {
		tb.Fatal(err)
	}
}

// TestLsReadsHostAgentStatus: with a host agent, ls shows its endpoint and
// the agent status it keeps, and asks the machine's agent nothing.
func TestLsReadsHostAgentStatus(t *testing.T) {
	root := t.TempDir()
	mustBerth(t, root, "create", "-d", "fake", "dev")
	mustBerth(t, root, "create", "-d", "fake", "plain")
	fakeHostAgent(t, root, "dev", "v9.9")
	asked := map[string]bool{}
	d := &deps{store: machine.NewStore(root), stdout: &bytes.Buffer{}, stderr: &bytes.Buffer{}, getenv: func(string) string { return "" },
		agentStatus: func(ctx context.Context, m *machine.Machine) string { asked[m.Name] = true; return "asked" }}
	if err := runLs(context.Background(), lsOptions{Format: "{{.Name}} {{.URL}} {{.Agent}}", Timeout: 10e9}, d); err != nil {
		t.Fatal(err)
	}
	got := strings.ReplaceAll(d.stdout.(*bytes.Buffer).String(), root, "ROOT")
	want := "dev unix://ROOT/machines/dev/docker.sock v9.9\nplain ssh://root@127.0.0.1:2222 asked\n"
	if got != want {
		t.Errorf("ls = %q, want %q", got, want)
	}
	if asked["dev"] {
		t.Error("ls asked the agent of a machine whose host agent runs")
	}
}

// BenchmarkLsHostAgents20 lists 20 running machines whose host agents run
// (fake driver; target: under 100 ms).
func BenchmarkLsHostAgents20(b *testing.B) {
	root := b.TempDir()
	for i := range 20 {
		name := fmt.Sprintf("m%02d", i)
		mustBerth(b, root, "create", "-d", "fake", name)
		fakeHostAgent(b, root, name, "v1")
	}
	d := &deps{store: machine.NewStore(root), stdout: &bytes.Buffer{}, stderr: &bytes.Buffer{}, getenv: func(string) string { return "" },
		agentStatus: func(ctx context.Context, m *machine.Machine) string { b.Fatal("ls asked an agent"); return "" }}
	b.ResetTimer()
	for b.Loop() {
		out := d.stdout.(*bytes.Buffer)
		out.Reset()
		if err := runLs(context.Background(), lsOptions{Timeout: 10e9}, d); err != nil {
			b.Fatal(err)
		}
		if n := strings.Count(out.String(), "unix://"); n != 20 {
			b.Fatalf("%d host agent endpoints listed, want 20", n)
		}
	}
}
