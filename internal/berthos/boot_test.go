package berthos

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"

	"github.com/berthvm/berth/internal/testenv"
	"github.com/berthvm/berth/internal/testwait"
)

// bootTimeout bounds one boot to SSH under TCG on a busy machine.
const bootTimeout = 6 * time.Minute

// TestBootRebootPowerOff boots the ISO once, checks the guest, reboots it,
// checks what must survive, and powers it off with the ACPI button.
func TestBootRebootPowerOff(t *testing.T) {
	testenv.NeedQEMU(t)
	testenv.NeedCommand(t, "dumpe2fs")
	iso := testenv.ISO(t)
	const hostname = "berthos-test"
	g := newGuest(t, iso, hostname)
	v := g.boot(t)

	ctx, cancel := context.WithTimeout(context.Background(), bootTimeout)
	defer cancel()
	c, hostKey, err := v.dial(ctx, g.signer)
	if err != nil {
		t.Fatalf("first boot: %v", err)
	}
	t.Logf("first boot: SSH answered %s after QEMU started", time.Since(v.started).Round(100*time.Millisecond))
	bootID := strings.TrimSpace(mustRun(t, c, "cat /proc/sys/kernel/random/boot_id"))

	t.Run("os-release", func(t *testing.T) {
		osRelease := mustRun(t, c, "cat /etc/os-release")
		wantVersion := readVersion(t)
		for key, want := range map[string]string{"ID": "berth-os", "VERSION_ID": wantVersion} {
			if got := field(osRelease, key, "="); got != want {
				t.Errorf("/etc/os-release %s = %q, want %q\n%s", key, got, want, osRelease)
			}
		}
	})
	t.Run("hostname from seed", func(t *testing.T) {
		if got := strings.TrimSpace(mustRun(t, c, "hostname")); got != hostname {
			t.Errorf("hostname = %q, want %q", got, hostname)
		}
	})
	t.Run("data disk", func(t *testing.T) { checkDataDisk(t, c) })
	t.Run("cgroup2 controllers", func(t *testing.T) { checkCgroups(t, c) })
	t.Run("overlay mount", func(t *testing.T) {
		out := mustRun(t, c, `set -e; d=$(mktemp -d); cd $d; mkdir lower upper work merged
echo from-lower > lower/a
mount -t overlay overlay -o lowerdir=lower,upperdir=upper,workdir=work merged
echo from-merged > merged/b
cat merged/a upper/b; umount merged`)
		if want := "from-lower\nfrom-merged\n"; out != want {
			t.Errorf("overlay: got %q, want %q", out, want)
		}
	})
	t.Run("pivot_root in a new mount namespace", func(t *testing.T) {
		out := mustRun(t, c, `set -e; d=$(mktemp -d)
unshare -m sh -c "mount --make-rprivate / && mount -t tmpfs new $d && mkdir $d/old && touch $d/in-new-root && cd $d && pivot_root . old && exec /old/usr/bin/busybox ls /"`)
		if got := strings.Fields(out); strings.Join(got, " ") != "in-new-root old" {
			t.Errorf("ls / after pivot_root = %q, want [in-new-root old]", got)
		}
	})
	t.Run("password login refused", func(t *testing.T) { checkNoPassword(t, v.port) })
	t.Run("sftp", func(t *testing.T) { checkSFTP(t, c) })
	t.Run("agent slot", func(t *testing.T) { checkAgentSlot(t, c) })

	const marker = "/var/lib/berth/survives-reboot"
	want := "written at boot " + bootID
	mustRun(t, c, fmt.Sprintf("printf %%s '%s' > %s && sync", want, marker))
	agentRuns := countLines(t, c, "/var/lib/berth/agent-runs")

	// Reboot: the same QEMU resets and boots the CD again.
	run(c, "reboot") // the connection may drop before an answer
	c.Close()
	c2, hostKey2 := dialNewBoot(t, v, g, bootID)
	defer c2.Close()
	t.Logf("reboot: SSH answered again")

	t.Run("file survives reboot", func(t *testing.T) {
		got, err := run(c2, "cat "+marker)
		if err != nil || got != want {
			t.Errorf("%s after reboot = %q (%v), want %q", marker, got, err, want)
		}
	})
	t.Run("host key same after reboot", func(t *testing.T) {
		if !bytes.Equal(hostKey.Marshal(), hostKey2.Marshal()) {
			t.Errorf("host key changed across the reboot: %s then %s", ssh.FingerprintSHA256(hostKey), ssh.FingerprintSHA256(hostKey2))
		}
	})
	t.Run("data disk not formatted again", func(t *testing.T) {
		checkDataDisk(t, c2)
		serial, _ := os.ReadFile(v.serial)
		if n := bytes.Count(serial, []byte("formatting the blank disk")); n != 1 {
			t.Errorf("the console shows %d formats of the data disk over two boots, want 1", n)
		}
	})
	t.Run("agent started at boot", func(t *testing.T) {
		testwait.Until(t, 60*time.Second, "the agent to start after the reboot", func() bool {
			return countLines(t, c2, "/var/lib/berth/agent-runs") > agentRuns
		})
	})
	t.Run("console shows ready", func(t *testing.T) {
		serial, _ := os.ReadFile(v.serial)
		for _, want := range []string{"berth-os: host name " + hostname + ", address 10.0.2.15 (eth0)", "berth-os ready"} {
			if !bytes.Contains(serial, []byte(want)) {
				t.Errorf("serial console lacks %q", want)
			}
		}
	})

	// The ACPI power button: a clean poweroff.
	if err := v.qmp("system_powerdown"); err != nil {
		t.Fatal(err)
	}
	ctx2, cancel2 := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel2()
	if err := v.waitExit(ctx2); err != nil {
		t.Fatalf("ACPI power-off: %v", err)
	}
	serial, _ := os.ReadFile(v.serial)
	for _, want := range []string{"power button pressed", "agent stopped", "data disk unmounted cleanly", "reboot: Power down"} {
		if !bytes.Contains(serial, []byte(want)) {
			t.Errorf("serial console after ACPI power-off lacks %q", want)
		}
	}
	state := g.dataDiskState(t)
	if got := field(state, "Filesystem state", ":"); got != "clean" {
		t.Errorf("data disk state after power-off = %q, want clean", got)
	}
	if features := field(state, "Filesystem features", ":"); strings.Contains(features, "needs_recovery") {
		t.Errorf("data disk journal needs recovery after power-off (features: %s)", features)
	}
}

func readVersion(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(testenv.RepoRoot(t), "scripts", "iso", "VERSION"))
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

func checkDataDisk(t *testing.T, c *ssh.Client) {
	t.Helper()
	mounts := mustRun(t, c, "cat /proc/mounts")
	var got string
	for _, line := range strings.Split(mounts, "\n") {
		if f := strings.Fields(line); len(f) >= 3 && f[1] == "/var/lib/berth" {
			got = f[0] + " " + f[2]
		}
	}
	if want := "/dev/vda ext4"; got != want {
		t.Errorf("/var/lib/berth is mounted from %q, want %q\n%s", got, want, mounts)
	}
	if label := field(mustRun(t, c, "tune2fs -l /dev/vda"), "Filesystem volume name", ":"); label != "berth-data" {
		t.Errorf("data disk label = %q, want berth-data", label)
	}
}

func checkCgroups(t *testing.T, c *ssh.Client) {
	t.Helper()
	out := mustRun(t, c, `set -e; grep ' /sys/fs/cgroup ' /proc/mounts | cut -d' ' -f3
cat /sys/fs/cgroup/cgroup.subtree_control
mkdir -p /sys/fs/cgroup/berthos-test; cat /sys/fs/cgroup/berthos-test/cgroup.controllers
echo 20 > /sys/fs/cgroup/berthos-test/pids.max; echo 64M > /sys/fs/cgroup/berthos-test/memory.max
cat /sys/fs/cgroup/berthos-test/pids.max; rmdir /sys/fs/cgroup/berthos-test`)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 4 {
		t.Fatalf("cgroup check printed %q", out)
	}
	if lines[0] != "cgroup2" {
		t.Errorf("/sys/fs/cgroup is %q, want cgroup2", lines[0])
	}
	for i, what := range []string{"root cgroup.subtree_control", "child cgroup.controllers"} {
		have := strings.Fields(lines[i+1])
		for _, want := range []string{"cpu", "memory", "pids", "io"} {
			if !contains(have, want) {
				t.Errorf("%s = %q, lacks %s", what, have, want)
			}
		}
	}
	if lines[3] != "20" {
		t.Errorf("child pids.max = %q, want 20", lines[3])
	}
}

func contains(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}

func checkNoPassword(t *testing.T, port int) {
	t.Helper()
	cfg := &ssh.ClientConfig{
		User: "root",
		Auth: []ssh.AuthMethod{
			ssh.Password("root"),
			ssh.KeyboardInteractive(func(string, string, []string, []bool) ([]string, error) {
				return []string{"root"}, nil
			}),
		},
		HostKeyCallback: ssh.InsecureIgnoreHostKey(),
		Timeout:         30 * time.Second,
	}
	c, err := ssh.Dial("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), cfg)
	if err == nil {
		c.Close()
		t.Fatal("a password login succeeded, want it refused")
	}
	msg := err.Error()
	if !strings.Contains(msg, "unable to authenticate") || strings.Contains(msg, "password") || strings.Contains(msg, "keyboard-interactive") {
		t.Errorf("password login: got %q, want the server to offer neither password nor keyboard-interactive", msg)
	}
}

func checkSFTP(t *testing.T, c *ssh.Client) {
	t.Helper()
	sc, err := sftp.NewClient(c)
	if err != nil {
		t.Fatalf("sftp (dropbear runs /usr/lib/sftp-server): %v", err)
	}
	defer sc.Close()
	f, err := sc.Create("/tmp/sftp-test")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write([]byte("over sftp")); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if got := mustRun(t, c, "cat /tmp/sftp-test"); got != "over sftp" {
		t.Errorf("file written over SFTP holds %q, want %q", got, "over sftp")
	}
}

// checkAgentSlot installs a crash-looping agent (it must be backed off),
// then a long-running one (it must start at once as a new binary, and be
// restarted when killed). The long-running one stays for the reboot and
// the power-off.
func checkAgentSlot(t *testing.T, c *ssh.Client) {
	t.Helper()
	const runs = "/var/lib/berth/agent-runs"
	const log = "/var/lib/berth/log/berth-agent.log"
	install := func(body string) {
		mustRun(t, c, fmt.Sprintf(`set -e; mkdir -p /var/lib/berth/bin; b=/var/lib/berth/bin/berth-agent
printf '#!/bin/sh\necho "$* $$" >> %s\n%s\n' > $b.tmp; chmod 755 $b.tmp; mv $b.tmp $b`, runs, body))
	}
	install("exit 3")
	// berth-os installed and started the agent shipped on its CD at first
	// boot: end it, so that the supervisor runs the crashing one.
	mustRun(t, c, "p=$(cat /run/berth/agent.pid 2>/dev/null) && kill $p; true")
	delays := regexp.MustCompile(`restarting in (\d+)s`)
	var got []string
	// The shipped agent ended above counts as one failure (1 s); the
	// crashing one's restarts then back off 2 s, 4 s, ...
	doubled := func() bool {
		for i := 0; i+1 < len(got); i++ {
			if got[i] == "2" && got[i+1] == "4" {
				return true
			}
		}
		return false
	}
	testwait.Until(t, 90*time.Second, "a crashing agent's restarts backed off 2 s then 4 s", func() bool {
		out, _ := run(c, "cat "+log)
		got = nil
		for _, m := range delays.FindAllStringSubmatch(out, -1) {
			got = append(got, m[1])
		}
		return doubled()
	})
	if first := strings.Fields(mustRun(t, c, "head -n 1 "+runs)); len(first) == 0 || first[0] != "serve" {
		t.Errorf("the agent was started with %q, want serve", first)
	}

	install("exec sleep 100000")
	var pid string
	testwait.Until(t, 60*time.Second, "the replaced agent to start", func() bool {
		out, err := run(c, `p=$(cat /run/berth/agent.pid) && grep -q '^sleep' /proc/$p/cmdline && echo $p`)
		pid = strings.TrimSpace(out)
		return err == nil && pid != ""
	})
	mustRun(t, c, "kill "+pid)
	testwait.Until(t, 60*time.Second, "the killed agent to be restarted", func() bool {
		out, err := run(c, `p=$(cat /run/berth/agent.pid) && grep -q '^sleep' /proc/$p/cmdline && echo $p`)
		p := strings.TrimSpace(out)
		return err == nil && p != "" && p != pid
	})
}

func countLines(t *testing.T, c *ssh.Client, path string) int {
	t.Helper()
	out, _ := run(c, "cat "+path+" 2>/dev/null")
	return strings.Count(out, "\n")
}

// dialNewBoot waits for SSH from a boot other than oldBootID.
func dialNewBoot(t *testing.T, v *vm, g *guest, oldBootID string) (*ssh.Client, ssh.PublicKey) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), bootTimeout)
	defer cancel()
	var (
		c   *ssh.Client
		key ssh.PublicKey
	)
	testwait.For(t, bootTimeout, "the guest to boot again", func() error {
		nc, nkey, err := v.dial(ctx, g.signer)
		if err != nil {
			t.Fatalf("after reboot: %v", err)
		}
		id, err := run(nc, "cat /proc/sys/kernel/random/boot_id")
		if err == nil && strings.TrimSpace(id) != oldBootID {
			c, key = nc, nkey
			return nil
		}
		nc.Close() // still the old boot, going down
		return fmt.Errorf("boot %s answers", oldBootID)
	})
	return c, key
}
