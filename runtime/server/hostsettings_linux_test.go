package server

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/berthvm/berth/internal/testnetns"
)

// TestDockerCLIHostSettings runs the docker CLI's container settings
// beyond the basics: capabilities, --init, /dev/shm size, ulimits,
// sysctls, --mount, --stop-signal, --group-add, --oom-score-adj.
func TestDockerCLIHostSettings(t *testing.T) {
	if testnetns.Reexec(t) {
		return
	}
	a := startAgent(t, func(o *Options) { o.Bridge = true })
	// ALL is every capability the agent has.
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	_, all, _ := strings.Cut(string(status), "CapPrm:\t")
	all, _, _ = strings.Cut(all, "\n")
	run := func(args ...string) (string, string, int) { return docker(t, a.sock, "", args...) }
	bindDir := t.TempDir()
	if err := os.WriteFile(bindDir+"/f", []byte("bound\n"), 0o644); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name     string
		args     []string
		want     string
		wantCode int
	}{
		{"cap-add NET_ADMIN", []string{"--cap-add", "NET_ADMIN", "busybox", "sh", "-c", "ip link add v0 type veth peer name v1 && ip link show v0 >/dev/null && echo added"}, "added\n", 0},
		{"no NET_ADMIN by default", []string{"busybox", "sh", "-c", "ip link add v0 type veth peer name v1 2>/dev/null || echo refused"}, "refused\n", 0},
		{"cap-drop CHOWN", []string{"--cap-drop", "CHOWN", "busybox", "sh", "-c", "touch /f && chown 1 /f 2>/dev/null || echo refused"}, "refused\n", 0},
		{"cap-drop ALL", []string{"--cap-drop", "ALL", "busybox", "sh", "-c", "grep CapEff /proc/self/status"}, "CapEff:\t0000000000000000\n", 0},
		{"cap-add ALL", []string{"--cap-add", "ALL", "busybox", "sh", "-c", "grep CapEff /proc/self/status"}, "CapEff:\t" + all + "\n", 0},
		{"privileged", []string{"--privileged", "busybox", "sh", "-c", "grep -E 'CapEff|Seccomp:' /proc/self/status; test -c /dev/kmsg && echo devices"}, "CapEff:\t" + all + "\nSeccomp:\t0\ndevices\n", 0},
		{"user drops caps", []string{"--cap-add", "NET_ADMIN", "--user", "1000", "busybox", "grep", "CapEff", "/proc/self/status"}, "CapEff:\t0000000000000000\n", 0},
		{"init is pid 1", []string{"--init", "busybox", "sh", "-c", "cat /proc/1/cmdline | tr '\\0' ' '; echo; [ $$ != 1 ] && echo child"}, "berth-agent container-init \nchild\n", 0},
		{"init reaps orphans", []string{"--init", "busybox", "sh", "-c", "(sleep 0.1 &); sleep 0.6; ps -o stat | grep -c Z || true"}, "0\n", 0},
		{"device", []string{"--device", "/dev/null:/dev/mynull", "busybox", "sh", "-c", "test -c /dev/mynull && echo device"}, "device\n", 0},
		{"mount bind", []string{"--mount", "type=bind,src=" + bindDir + ",dst=/b,readonly", "busybox", "cat", "/b/f"}, "bound\n", 0},
		{"init with a terminal", []string{"-t", "--init", "busybox", "tty"}, "/dev/pts/0\r\n", 0},
		{"init keeps the exit code", []string{"--init", "busybox", "sh", "-c", "exit 5"}, "", 5},
		{"shm-size", []string{"--shm-size", "8m", "busybox", "sh", "-c", "df -k /dev/shm | tail -1 | awk '{print $2}'"}, "8192\n", 0},
		{"ulimit nofile", []string{"--ulimit", "nofile=100:100", "busybox", "sh", "-c", "ulimit -n"}, "100\n", 0},
		{"sysctl", []string{"--sysctl", "net.ipv4.ip_forward=1", "busybox", "cat", "/proc/sys/net/ipv4/ip_forward"}, "1\n", 0},
		{"sysctl outside a namespace", []string{"--sysctl", "kernel.panic=1", "busybox", "true"}, "", 125},
		{"mount tmpfs", []string{"--mount", "type=tmpfs,destination=/t,tmpfs-size=1m,tmpfs-mode=0700", "busybox", "sh", "-c", "stat -c %a /t; df -k /t | tail -1 | awk '{print $2}'"}, "700\n1024\n", 0},
		{"group-add", []string{"--group-add", "123", "--user", "1000", "busybox", "id", "-G"}, "0 123\n", 0},
		{"oom-score-adj", []string{"--oom-score-adj", "500", "busybox", "cat", "/proc/self/oom_score_adj"}, "500\n", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"run", "--rm"}, tc.args...)
			out, errOut, code := run(args...)
			if out != tc.want || code != tc.wantCode {
				t.Errorf("docker %s = %q (exit %d), want %q (exit %d); stderr %q", strings.Join(args, " "), out, code, tc.want, tc.wantCode, errOut)
			}
		})
	}

	// A named volume by --mount keeps its data; exec gets the added caps.
	if out, errOut, code := run("run", "--rm", "--mount", "type=volume,source=data,target=/data", "busybox", "sh", "-c", "echo kept > /data/f"); code != 0 {
		t.Fatalf("--mount type=volume: exit %d: %s%s", code, out, errOut)
	}
	if out, errOut, _ := run("run", "--rm", "--mount", "type=volume,src=data,dst=/d,readonly", "busybox", "sh", "-c", "cat /d/f; touch /d/g 2>/dev/null || echo ro"); out != "kept\nro\n" {
		t.Errorf("--mount type=volume again, readonly: %q (%s), want kept and ro", out, errOut)
	}
	if out, _, _ := run("volume", "ls", "-q"); !strings.Contains(out, "data\n") {
		t.Errorf("volume ls = %q, want data", out)
	}

	// --init forwards stop's SIGTERM to a command that has no handler.
	if out, errOut, code := run("run", "-d", "--name", "inited", "--init", "busybox", "sleep", "300"); code != 0 {
		t.Fatalf("run --init: exit %d: %s%s", code, out, errOut)
	}
	start := time.Now()
	run("stop", "-t", "5", "inited")
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("stop of an --init container took %s: SIGTERM not forwarded", d)
	}
	if out, _, _ := run("inspect", "-f", "{{.State.ExitCode}} {{.HostConfig.Init}}", "inited"); out != "143 true\n" {
		t.Errorf("--init after stop: %q, want 143 true", out)
	}

	// exec gets the container's added capabilities and groups.
	if out, errOut, code := run("run", "-d", "--name", "ex", "--cap-add", "NET_ADMIN", "--group-add", "123", "busybox", "sleep", "300"); code != 0 {
		t.Fatalf("run -d ex: exit %d: %s%s", code, out, errOut)
	}
	if out, errOut, _ := run("exec", "ex", "sh", "-c", "id -G; ip link add v0 type veth peer name v1 && echo added"); out != "0 123\nadded\n" {
		t.Errorf("exec with added caps and groups: %q (%s)", out, errOut)
	}

	// --stop-signal: stop sends it (the trap exits 7, not 143).
	if out, errOut, code := run("run", "-d", "--name", "sig", "--stop-signal", "USR1", "--stop-timeout", "3", "busybox", "sh", "-c", "trap 'exit 7' USR1; while true; do sleep 0.1; done"); code != 0 {
		t.Fatalf("run --stop-signal: exit %d: %s%s", code, out, errOut)
	}
	time.Sleep(300 * time.Millisecond)
	if out, errOut, code := run("stop", "sig"); code != 0 {
		t.Fatalf("stop sig: exit %d: %s%s", code, out, errOut)
	}
	if out, _, _ := run("inspect", "-f", "{{.State.ExitCode}} {{.Config.StopSignal}} {{.Config.StopTimeout}}", "sig"); out != "7 USR1 3\n" {
		t.Errorf("after stop with --stop-signal USR1: %q, want 7 USR1 3", out)
	}
	// restart stops with it too (SIGTERM would wait the 3 s stop timeout).
	run("start", "sig")
	time.Sleep(300 * time.Millisecond)
	start = time.Now()
	if out, errOut, code := run("restart", "sig"); code != 0 {
		t.Errorf("restart sig: exit %d: %s%s", code, out, errOut)
	}
	if d := time.Since(start); d > 2500*time.Millisecond {
		t.Errorf("restart with --stop-signal USR1 took %s: the stop signal was not sent", d)
	}
	if out, _, _ := run("inspect", "-f", "{{.HostConfig.ShmSize}} {{.HostConfig.CapAdd}}", "sig"); out != "67108864 []\n" {
		t.Errorf("inspect shm size and caps: %q", out)
	}
	if _, errOut, code := run("run", "--rm", "--cap-add", "NOPE", "busybox", "true"); code != 125 || !strings.Contains(errOut, "CapAdd") {
		t.Errorf("--cap-add NOPE: exit %d, %q; want 125 naming CapAdd", code, errOut)
	}
}

func TestCheckSysctl(t *testing.T) {
	tests := []struct {
		key, mode string
		ok        bool
	}{
		{"net.ipv4.ip_forward", "bridge", true},
		{"net.ipv4.ip_forward", "host", false},
		{"kernel.shmmax", "host", true},
		{"fs.mqueue.msg_max", "", true},
		{"kernel.panic", "", false},
		{"vm.swappiness", "", false},
	}
	for _, tc := range tests {
		if err := checkSysctl(tc.key, tc.mode); (err == nil) != tc.ok {
			t.Errorf("checkSysctl(%s, %s) = %v, want ok %v", tc.key, tc.mode, err, tc.ok)
		}
	}
}
