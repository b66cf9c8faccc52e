//go:build linux

package generic_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/berthvm/berth/drivers"
	"github.com/berthvm/berth/drivers/driverstest"
	"github.com/berthvm/berth/drivers/generic"
	"github.com/berthvm/berth/internal/agentclient"
	"github.com/berthvm/berth/internal/machine"
	"github.com/berthvm/berth/internal/testenv"
	"github.com/berthvm/berth/internal/testhost"
	"github.com/berthvm/berth/internal/testwait"
	"github.com/berthvm/berth/provision"
	"github.com/berthvm/berth/provision/agentbin"
	"github.com/berthvm/berth/runtime/berthapi"
)

// binary picks the test agent of version v (see testenv.Agent).
func binary(t *testing.T, v string) func(string) (*agentbin.Binary, error) {
	bin := testenv.NeedAgent(t, v)
	return func(unameM string) (*agentbin.Binary, error) {
		arch, err := agentbin.GoArch(unameM)
		if err != nil {
			return nil, err
		}
		if arch != runtime.GOARCH {
			return nil, fmt.Errorf("host is %s, test agents are %s", arch, runtime.GOARCH)
		}
		return agentbin.FromFile(bin, arch)
	}
}

func newDriver(h *testhost.Host, user string) func(base drivers.Base) (drivers.Driver, error) {
	return func(base drivers.Base) (drivers.Driver, error) {
		d := generic.New(base)
		d.IPAddress, d.SSHPort, d.SSHUser, d.SSHKey = h.Host, h.Port, user, h.KeyPath
		return d, nil
	}
}

// TestConformance runs the drivers contract suite against a real host.
func TestConformance(t *testing.T) {
	h := testhost.Start(t, testhost.Options{})
	driverstest.Run(t, driverstest.Options{
		New: func(t testing.TB, base drivers.Base) drivers.Driver {
			d, _ := newDriver(h, "berth")(base)
			return d
		},
		Timeout: time.Minute,
	})
}

// TestAdoptHost adopts a systemd host as a non-root sudo user: create
// provisions the agent as a systemd unit; the agent killed comes back;
// provisioning again changes nothing; an upgrade replaces it; rm removes
// the agent and keeps the host.
func TestAdoptHost(t *testing.T) {
	h := testhost.Start(t, testhost.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	store := machine.NewStore(t.TempDir())
	var res *provision.Result
	m, err := store.Create(ctx, machine.CreateSpec{Name: "gen", NewDriver: newDriver(h, "berth")}, machine.Steps{
		Provision: func(ctx context.Context, m *machine.Machine) error {
			sc, err := agentclient.DialMachine(ctx, m)
			if err != nil {
				return err
			}
			defer sc.Close()
			res, err = provision.Provision(ctx, sc, provision.Options{Machine: m.Name, Binary: binary(t, "1.0.0-test")})
			return err
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Guest.Init != provision.InitSystemd || res.Guest.Root || !res.Guest.Sudo || res.Health.Version != "1.0.0-test" {
		t.Errorf("provision = %+v, want a systemd host, user berth with sudo, agent 1.0.0-test", res)
	}
	if st, err := m.Driver.State(ctx); st != drivers.StateRunning || err != nil {
		t.Errorf("State = %v, %v; want Running", st, err)
	}
	if out, err := h.Exec("systemctl", "is-active", "berth-agent"); err != nil || strings.TrimSpace(out) != "active" {
		t.Errorf("systemctl is-active berth-agent = %q, %v", out, err)
	}

	health := func() berthapi.Health {
		t.Helper()
		ac, err := agentclient.ForLoaded(ctx, m)
		if err != nil {
			t.Fatal(err)
		}
		defer ac.Close()
		hh, err := ac.Health(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return hh
	}
	first := health()

	t.Run("killed agent comes back", func(t *testing.T) {
		if out, err := h.Exec("pkill", "-KILL", "-x", "berth-agent"); err != nil {
			t.Fatalf("kill the agent: %v %s", err, out)
		}
		testwait.For(t, 60*time.Second, "the agent to come back after SIGKILL", func() error {
			ac, err := agentclient.ForLoaded(ctx, m)
			if err != nil {
				return err
			}
			defer ac.Close()
			hh, err := ac.Health(ctx)
			if err == nil && hh.Pid == first.Pid {
				return fmt.Errorf("the agent %d still answers", hh.Pid)
			}
			return err
		})
	})

	t.Run("provision again changes nothing", func(t *testing.T) {
		sc, err := agentclient.DialMachine(ctx, m)
		if err != nil {
			t.Fatal(err)
		}
		defer sc.Close()
		before := health().Pid
		res, err := provision.Provision(ctx, sc, provision.Options{Machine: "gen", Binary: binary(t, "1.0.0-test")})
		if err != nil {
			t.Fatal(err)
		}
		if res.Changed || res.Health.Pid != before {
			t.Errorf("second provision: changed %v, pid %d (was %d); want nothing changed", res.Changed, res.Health.Pid, before)
		}
	})

	t.Run("upgrade", func(t *testing.T) {
		sc, err := agentclient.DialMachine(ctx, m)
		if err != nil {
			t.Fatal(err)
		}
		defer sc.Close()
		res, err := provision.Provision(ctx, sc, provision.Options{Machine: "gen", Binary: binary(t, "2.0.0-test"), Upgrade: true})
		if err != nil {
			t.Fatal(err)
		}
		if res.OldVersion != "1.0.0-test" || res.Health.Version != "2.0.0-test" {
			t.Errorf("upgrade: %s -> %s, want 1.0.0-test -> 2.0.0-test", res.OldVersion, res.Health.Version)
		}
	})

	t.Run("rm removes the agent and keeps the host", func(t *testing.T) {
		if err := store.Remove(ctx, "gen", false); err != nil {
			t.Fatal(err)
		}
		if out, err := h.Exec("test", "-e", berthapi.AgentPath); err == nil {
			t.Errorf("agent binary still on the host after rm: %s", out)
		}
		if out, err := h.Exec("test", "-e", provision.UnitPath); err == nil {
			t.Errorf("systemd unit still on the host after rm: %s", out)
		}
		if out, err := h.Exec("pgrep", "-x", "berth-agent"); err == nil {
			t.Errorf("agent still running after rm: pid %s", out)
		}
		h.Dial(t, "berth") // the host itself is still there
	})
}

// TestRefusals checks that hosts provisioning cannot serve get a clear
// error before anything is changed on them.
func TestRefusals(t *testing.T) {
	withSystemd := testhost.Start(t, testhost.Options{})
	noSystemd := testhost.Start(t, testhost.Options{NoSystemd: true})
	tests := []struct {
		name string
		host *testhost.Host
		user string
		want error
	}{
		{"user without sudo", withSystemd, "nosudo", provision.ErrNoRoot},
		{"host without systemd", noSystemd, "root", provision.ErrNoSupervisor},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := tt.host.Dial(t, tt.user)
			_, err := provision.Provision(t.Context(), c, provision.Options{Machine: "gen", Binary: binary(t, "1.0.0-test")})
			if !errors.Is(err, tt.want) {
				t.Fatalf("provision: err = %v, want %v", err, tt.want)
			}
			if out, err := tt.host.Exec("test", "-e", filepath.Dir(berthapi.AgentPath)); err == nil {
				t.Errorf("provisioning that failed its checks changed the host: %s exists %s", filepath.Dir(berthapi.AgentPath), out)
			}
		})
	}
}
