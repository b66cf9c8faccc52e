//go:build linux

package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/berthvm/berth/internal/testenv"
	"github.com/berthvm/berth/internal/testhost"
	"github.com/berthvm/berth/provision/agentbin"
	"github.com/berthvm/berth/runtime/berthapi"
)

// withAgentHooks turns on, for one test, what agent.go wires into create,
// ls and inspect.
func withAgentHooks(t *testing.T) {
	withSteps(t, wiredSteps)
	oldStatus, oldInspect := agentStatus, agentInspectHook
	agentStatus, agentInspectHook = wiredAgentStatus, wiredInspect
	t.Cleanup(func() { agentStatus, agentInspectHook = oldStatus, oldInspect })
}

// embeddedAgentVersion runs the agent this berth carries for this host and
// returns its version.
func embeddedAgentVersion(t *testing.T) string {
	t.Helper()
	if len(agentbin.Embedded()) == 0 {
		testenv.Skip(t, "this test binary was built without agent binaries (`make build` embeds them; `make test` runs it first)")
	}
	bin, err := agentbin.ForMachine("x86_64")
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "berth-agent")
	if err := os.WriteFile(p, bin.Data, 0o755); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(p, "version").Output()
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(out))
}

// TestGenericHost adopts a Debian host berth did not make, through the
// CLI: create provisions the embedded agent over SSH as a sudo user, ls
// and inspect show it, provision again changes nothing, stop is refused by
// role, rm removes the agent and keeps the host.
func TestGenericHost(t *testing.T) {
	want := embeddedAgentVersion(t)
	h := testhost.Start(t, testhost.Options{})
	withAgentHooks(t)
	root := t.TempDir()

	start := time.Now()
	mustBerth(t, root, "create", "-d", "generic", "--generic-ip-address", h.Host, "--generic-ssh-port", strconv.Itoa(h.Port),
		"--generic-ssh-user", "berth", "--generic-ssh-key", h.KeyPath, "gen")
	t.Logf("create -d generic (fresh host, provisioning included) took %s", time.Since(start).Round(time.Millisecond))

	ls := mustBerth(t, root, "ls")
	if !strings.Contains(ls, "generic") || !strings.Contains(ls, "Running") || !strings.Contains(ls, want) {
		t.Errorf("ls =\n%s\nwant gen Running with agent %s", ls, want)
	}
	if got := mustBerth(t, root, "ls", "--format", "{{.Agent}}"); strings.TrimSpace(got) != want {
		t.Errorf("ls AGENT = %q, want %q", got, want)
	}
	if got := mustBerth(t, root, "inspect", "--format", "{{.Agent.Health.version}} {{.Agent.Health.stateDir}}", "gen"); strings.TrimSpace(got) != want+" /var/lib/berth" {
		t.Errorf("inspect agent health = %q, want %q", got, want+" /var/lib/berth")
	}

	start = time.Now()
	out := mustBerth(t, root, "provision", "gen")
	t.Logf("provision of a provisioned host took %s", time.Since(start).Round(time.Millisecond))
	if !strings.Contains(out, "already in place") {
		t.Errorf("provision again = %q, want 'already in place'", out)
	}
	if out := mustBerth(t, root, "upgrade", "gen"); !strings.Contains(out, "already in place") {
		t.Errorf("upgrade to the same agent = %q, want 'already in place'", out)
	}

	r := berth(t, root, "", "stop", "gen")
	if r.code == 0 || !strings.Contains(r.stderr, "a generic machine is started and stopped outside berth") {
		t.Errorf("stop gen: exit %d, %q; want a refusal saying why", r.code, r.stderr)
	}

	mustBerth(t, root, "rm", "-y", "gen")
	if out, err := h.Exec("test", "-e", berthapi.AgentPath); err == nil {
		t.Errorf("rm left the agent on the host %s", out)
	}
	h.Dial(t, "berth") // the host is still there
}

// TestGenericKeepAgent checks rm --keep-agent.
func TestGenericKeepAgent(t *testing.T) {
	embeddedAgentVersion(t)
	h := testhost.Start(t, testhost.Options{})
	withAgentHooks(t)
	root := t.TempDir()
	mustBerth(t, root, "create", "-d", "generic", "--generic-ip-address", h.Host, "--generic-ssh-port", strconv.Itoa(h.Port),
		"--generic-ssh-user", "root", "--generic-ssh-key", h.KeyPath, "keep")
	mustBerth(t, root, "rm", "-y", "--keep-agent", "keep")
	if out, err := h.Exec("systemctl", "is-active", "berth-agent"); err != nil {
		t.Errorf("rm --keep-agent stopped the agent: %s %v", out, err)
	}
}
