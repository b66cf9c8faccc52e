package provision_test

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/berthvm/berth/drivers"
	"github.com/berthvm/berth/drivers/qemu"
	"github.com/berthvm/berth/internal/agentclient"
	"github.com/berthvm/berth/internal/machine"
	"github.com/berthvm/berth/internal/testenv"
	"github.com/berthvm/berth/internal/testwait"
	"github.com/berthvm/berth/provision"
	"github.com/berthvm/berth/provision/agentbin"
	"github.com/berthvm/berth/runtime/berthapi"
	"github.com/berthvm/berth/sshutil"
)

// binary picks the test agent of version v whatever the machine says.
func binary(t *testing.T, v string) func(string) (*agentbin.Binary, error) {
	bin := testenv.NeedAgent(t, v)
	return func(unameM string) (*agentbin.Binary, error) {
		arch, err := agentbin.GoArch(unameM)
		if err != nil {
			return nil, err
		}
		if arch != runtime.GOARCH {
			t.Fatalf("machine is %s, test agents are %s", arch, runtime.GOARCH)
		}
		return agentbin.FromFile(bin, arch)
	}
}

// bootBerthOS creates a berth-os machine in QEMU (TCG, small) and returns
// it with an SSH connection; both end with the test.
func bootBerthOS(t *testing.T) (*machine.Machine, *sshutil.Client) {
	t.Helper()
	testenv.NeedQEMU(t)
	iso := testenv.ISO(t)
	store := machine.NewStore(t.TempDir())
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	m, err := store.Create(ctx, machine.CreateSpec{
		Name: "prov",
		NewDriver: func(base drivers.Base) (drivers.Driver, error) {
			d := qemu.New(base)
			d.ISOSource, d.AccelRequested, d.CPUs, d.MemoryMB, d.DiskSizeMB = iso, "tcg", 1, 768, 1000
			return d, nil
		},
	}, machine.Steps{
		MakeKey: func(ctx context.Context, dir string) (string, error) {
			k, err := sshutil.GenerateKey(filepath.Join(dir, "id_ed25519"), "berth-test")
			if err != nil {
				return "", err
			}
			return k.PublicKey, nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := m.Driver.Remove(context.Background()); err != nil {
			t.Errorf("remove machine: %v", err)
		}
	})
	target, err := agentclient.SSHTarget(ctx, m)
	if err != nil {
		t.Fatal(err)
	}
	c, err := sshutil.WaitForSSH(ctx, target, sshutil.WaitOptions{Timeout: 4 * time.Minute, ConsoleLog: filepath.Join(m.Dir, "serial.log")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return m, c
}

// shippedAgent is the agent on the berth-os CD (scripts/iso/build.sh puts
// it at /berth-agent).
func shippedAgent(t *testing.T) *agentbin.Binary {
	t.Helper()
	testenv.NeedCommand(t, "xorriso")
	dst := filepath.Join(t.TempDir(), "berth-agent")
	if out, err := exec.Command("xorriso", "-osirrox", "on", "-indev", testenv.ISO(t), "-extract", "/berth-agent", dst).CombinedOutput(); err != nil {
		t.Fatalf("take the agent out of the ISO (built by `make iso` with the agent of `make agents`): %v\n%s", err, out)
	}
	bin, err := agentbin.FromFile(dst, runtime.GOARCH)
	if err != nil {
		t.Fatal(err)
	}
	return bin
}

func agentPid(t *testing.T, c *sshutil.Client) string {
	t.Helper()
	out, err := c.Output(context.Background(), "cat "+berthapi.PidFile)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(out))
}

func remoteSum(t *testing.T, c *sshutil.Client) string {
	t.Helper()
	out, err := c.Output(context.Background(), "sha256sum "+berthapi.AgentPath+" | cut -d' ' -f1")
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(out))
}

// TestBerthOS provisions a berth-os VM, provisions it again, kills the
// agent, interrupts an upgrade's upload, upgrades, and uninstalls.
func TestBerthOS(t *testing.T) {
	m, c := bootBerthOS(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	v1, err := binary(t, "1.0.0-test")("x86_64")
	if err != nil {
		t.Fatal(err)
	}

	// berth-os installed the agent its CD carries at first boot: with that
	// very agent, provisioning uploads nothing.
	shipped := shippedAgent(t)
	start := time.Now()
	res, err := provision.Provision(ctx, c, provision.Options{Machine: m.Name, Binary: func(string) (*agentbin.Binary, error) { return shipped, nil }})
	if err != nil {
		t.Fatalf("provision with the agent berth-os ships: %v", err)
	}
	t.Logf("provision with the shipped agent took %s", time.Since(start).Round(time.Millisecond))
	if res.Uploaded || res.Changed || res.OldSHA256 != shipped.SHA256 || res.Health.Version == "" {
		t.Errorf("provision with the shipped agent = %+v, want no upload and the shipped agent (sha256 %s) answering", res, shipped.SHA256)
	}
	shippedVersion := res.Health.Version

	// An agent of another version replaces the shipped one.
	start = time.Now()
	res, err = provision.Provision(ctx, c, provision.Options{Machine: m.Name, Binary: binary(t, "1.0.0-test")})
	if err != nil {
		t.Fatalf("first provision: %v", err)
	}
	t.Logf("provision of another version on a fresh VM took %s", time.Since(start).Round(time.Millisecond))
	if !res.Changed || !res.Uploaded || res.Guest.Init != provision.InitBerthOS || res.Health.Version != "1.0.0-test" ||
		res.OldSHA256 != shipped.SHA256 || res.OldVersion != shippedVersion {
		t.Errorf("first provision = %+v, want an upload onto berth-os replacing the shipped agent %s and version 1.0.0-test answering", res, shippedVersion)
	}
	pid := agentPid(t, c)

	start = time.Now()
	res, err = provision.Provision(ctx, c, provision.Options{Machine: m.Name, Binary: binary(t, "1.0.0-test")})
	if err != nil {
		t.Fatalf("second provision: %v", err)
	}
	t.Logf("provision on a provisioned VM took %s", time.Since(start).Round(time.Millisecond))
	if res.Changed || res.Uploaded {
		t.Errorf("second provision changed the machine: %+v", res)
	}
	if got := agentPid(t, c); got != pid {
		t.Errorf("second provision restarted the agent: pid %s, was %s", got, pid)
	}

	t.Run("killed agent comes back", func(t *testing.T) {
		if _, err := c.Output(ctx, "kill -9 "+pid); err != nil {
			t.Fatal(err)
		}
		testwait.For(t, 90*time.Second, "the agent to come back after kill -9", func() error {
			ac, err := agentclient.New(ctx, c, agentclient.Options{Machine: m.Name})
			if err != nil {
				return err
			}
			defer ac.Close()
			h, err := ac.Health(ctx)
			if err == nil && h.Version != "1.0.0-test" {
				return fmt.Errorf("agent %s answers", h.Version)
			}
			return err
		})
		if got := agentPid(t, c); got == pid {
			t.Errorf("agent pid is still %s after kill -9", got)
		}
		pid = agentPid(t, c)
	})

	t.Run("interrupted upload", func(t *testing.T) {
		uctx, ucancel := context.WithCancel(ctx)
		defer ucancel()
		_, err := provision.Provision(uctx, c, provision.Options{
			Machine: m.Name, Binary: binary(t, "2.0.0-test"),
			UploadProgress: func(sent, total int64) {
				if sent > total/2 {
					ucancel()
				}
			},
		})
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("interrupted provision: err = %v, want context.Canceled", err)
		}
		if got := remoteSum(t, c); got != v1.SHA256 {
			t.Errorf("agent on the machine has sha256 %s after an interrupted upload, want the old %s", got, v1.SHA256)
		}
		if got := agentPid(t, c); got != pid {
			t.Errorf("interrupted upload restarted the agent: pid %s, was %s", got, pid)
		}
	})

	t.Run("upgrade", func(t *testing.T) {
		res, err := provision.Provision(ctx, c, provision.Options{Machine: m.Name, Binary: binary(t, "2.0.0-test"), Upgrade: true})
		if err != nil {
			t.Fatal(err)
		}
		if !res.Uploaded || res.OldVersion != "1.0.0-test" || res.Health.Version != "2.0.0-test" {
			t.Errorf("upgrade = %+v, want 1.0.0-test replaced by 2.0.0-test", res)
		}
		if got := agentPid(t, c); got == pid {
			t.Errorf("upgrade did not restart the agent (pid %s)", got)
		}
		// No temporary files are left next to the agent.
		out, err := c.Output(ctx, "ls -a "+filepath.Dir(berthapi.AgentPath))
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(strings.Fields(string(out)), " "); got != ". .. berth-agent berth-agent.sha256" {
			t.Errorf("agent folder holds %v, want only berth-agent and its berth-agent.sha256", got)
		}
	})

	t.Run("uninstall", func(t *testing.T) {
		if err := provision.Uninstall(ctx, c); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Output(ctx, "test ! -e "+berthapi.AgentPath); err != nil {
			t.Errorf("agent binary still there: %v", err)
		}
		_, err := provision.Provision(ctx, c, provision.Options{Machine: m.Name, Binary: binary(t, "2.0.0-test"), Upgrade: true})
		if !errors.Is(err, provision.ErrNoAgent) {
			t.Errorf("upgrade without agent: err = %v, want ErrNoAgent", err)
		}
	})
}
