package container

import (
	"fmt"
	"os"
	"strings"
	"testing"
)

func TestIsolation(t *testing.T) {
	rt := newTestRuntime(t)
	tests := []struct {
		name, script, want string
	}{
		{"pid 1 is the command", `echo $$; for p in /proc/[0-9]*; do readlink $p/exe; done | sort -u`, "1\n/bin/busybox\n"},
		{"capabilities are docker's 14", `grep -E '^Cap(Inh|Prm|Eff|Bnd|Amb)' /proc/self/status | tr -d '\t'`,
			fmt.Sprintf("CapInh:0000000000000000\nCapPrm:%016x\nCapEff:%016x\nCapBnd:%016x\nCapAmb:0000000000000000\n", DefaultCapMask(), DefaultCapMask(), DefaultCapMask())},
		{"non-root has no capabilities", `su app -s /bin/sh -c "grep -E '^Cap(Prm|Eff)' /proc/self/status | tr -d '\t'"`, "CapPrm:0000000000000000\nCapEff:0000000000000000\n"},
		{"proc sys read-only", `echo 1 > /proc/sys/kernel/ns_last_pid 2>/dev/null && echo writable || echo ro`, "ro\n"},
		{"sys read-only", `touch /sys/x 2>/dev/null && echo writable || echo ro`, "ro\n"},
		{"only fds 0-2", `ls /proc/self/fd | sort -n | tr '\n' ' '`, "0 1 2 3 "},
		{"hostname", `hostname; cat /etc/hostname`, "myhost\nmyhost\n"},
		{"devices", `ls /dev | tr '\n' ' '`, "fd full mqueue null ptmx pts random shm stderr stdin stdout tty urandom zero "},
		{"network is loopback only", `ls /sys/class/net | tr '\n' ' '; cat /sys/class/net/lo/operstate`, "lo unknown\n"},
		{"root is the image", `ls / | tr '\n' ' '`, "bin dev etc home proc root sys tmp "},
		{"cgroup namespace", `grep ^0:: /proc/self/cgroup`, "0::/\n"},
		{"mounts", `awk '{for(i=7;i<=NF;i++) if($i=="-"){if($5 ~ /^\/etc\//) print $5; else print $5, $(i+1); break}}' /proc/self/mountinfo | grep -Ev '^/proc/|^/sys/(firmware|devices)' | sort | tr '\n' ';'`,
			"/ overlay;/dev tmpfs;/dev/mqueue mqueue;/dev/pts devpts;/dev/shm tmpfs;/etc/hostname;/etc/hosts;/etc/resolv.conf;/proc proc;/sys sysfs;/sys/fs/cgroup cgroup2;"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := sh(tc.script)
			o.Hostname = "myhost"
			res := runContainer(t, rt, ImageConfig{}, o, nil)
			if res.startErr != nil {
				t.Fatalf("start: %v", res.startErr)
			}
			if res.stdout != tc.want {
				t.Errorf("got  %q\nwant %q (stderr %q)", res.stdout, tc.want, res.stderr)
			}
		})
	}
}

func TestStartErrors(t *testing.T) {
	rt := newTestRuntime(t)
	tests := []struct {
		name     string
		o        Overrides
		wantCode int
		wantMsg  string
	}{
		{"not found", Overrides{Cmd: []string{"nosuchcmd"}}, 127, "executable file not found in $PATH"},
		{"not executable", Overrides{Cmd: []string{"/etc/passwd"}}, 126, "permission denied"},
		{"unknown user", Overrides{Cmd: []string{"true"}, User: "nosuch"}, 125, "unable to find user nosuch"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := runContainer(t, rt, ImageConfig{}, tc.o, nil)
			se, ok := res.startErr.(*StartError)
			if !ok {
				t.Fatalf("start error = %v, want a StartError", res.startErr)
			}
			if se.Code != tc.wantCode || !strings.Contains(se.Message, tc.wantMsg) {
				t.Errorf("start error = %d %q, want %d containing %q", se.Code, se.Message, tc.wantCode, tc.wantMsg)
			}
			if res.state.ExitCode != tc.wantCode {
				t.Errorf("recorded exit code = %d, want %d", res.state.ExitCode, tc.wantCode)
			}
		})
	}
}

func TestMaskedPaths(t *testing.T) {
	rt := newTestRuntime(t)
	var script strings.Builder
	n := 0
	for _, p := range maskedPaths {
		if _, err := os.Stat(p); err != nil {
			continue // absent on this kernel
		}
		n++
		fmt.Fprintf(&script, "if [ -d %[1]s ]; then echo %[1]s $(ls -A %[1]s | wc -l); else echo %[1]s $(wc -c < %[1]s); fi\n", p)
	}
	if n == 0 {
		t.Fatal("none of the masked paths exists on this host")
	}
	res := runContainer(t, rt, ImageConfig{}, sh(script.String()), nil)
	for _, line := range strings.Split(strings.TrimSpace(res.stdout), "\n") {
		if !strings.HasSuffix(line, " 0") {
			t.Errorf("masked path not empty: %q", line)
		}
	}
	if got := strings.Count(res.stdout, "\n"); got != n {
		t.Errorf("checked %d paths, want %d (stderr %q)", got, n, res.stderr)
	}
}
