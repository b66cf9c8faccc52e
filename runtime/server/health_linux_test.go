package server

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/berthvm/berth/internal/testimages"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	ctypes "github.com/moby/moby/api/types/container"
)

// waitFor polls fn until it reports true or the deadline passes.
func waitFor(t *testing.T, what string, limit time.Duration, fn func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		ok, last := fn()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not after %s; last: %s", what, limit, last)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// TestDockerCLIHealth: a --health-cmd check goes starting -> healthy once
// its file exists (docker ps shows it, inspect keeps the log, docker
// events tells of it), and a failing one becomes unhealthy after its
// retries.
func TestDockerCLIHealth(t *testing.T) {
	a := startAgent(t)
	run := func(args ...string) (string, string, int) { return docker(t, a.sock, "", args...) }

	ev := exec.Command("docker", "-H", "unix://"+a.sock, "events", "--filter", "event=health_status", "--format", "{{.Actor.Attributes.name}} {{.Action}}")
	evOut, err := ev.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := ev.Start(); err != nil {
		t.Fatal(err)
	}
	defer ev.Process.Kill()
	events := make(chan string, 10)
	go func() {
		sc := bufio.NewScanner(evOut)
		for sc.Scan() {
			events <- sc.Text()
		}
		close(events)
	}()
	time.Sleep(300 * time.Millisecond) // let docker events subscribe

	if out, errOut, code := run("run", "-d", "--name", "ok", "--health-cmd", "test -f /tmp/ok", "--health-interval", "1s", "--health-retries", "100", "busybox", "sleep", "300"); code != 0 {
		t.Fatalf("docker run -d --health-cmd: exit %d: %s%s", code, out, errOut)
	}
	health := func(name string) ctypes.Health {
		out, errOut, code := run("inspect", "--format", "{{json .State.Health}}", name)
		var h ctypes.Health
		if code != 0 || json.Unmarshal([]byte(out), &h) != nil {
			t.Fatalf("inspect %s: exit %d: %q %s", name, code, out, errOut)
		}
		return h
	}
	if h := health("ok"); h.Status != ctypes.Starting {
		t.Errorf("health right after start = %+v, want starting", h)
	}
	if out, _, _ := run("ps", "--format", "{{.Status}}"); !strings.HasSuffix(out, "(health: starting)\n") {
		t.Errorf("docker ps status = %q, want (health: starting)", out)
	}
	waitFor(t, "a failed check in the log", 5*time.Second, func() (bool, string) {
		h := health("ok")
		return len(h.Log) > 0, string(h.Status)
	})
	if h := health("ok"); h.Status != ctypes.Starting || h.Log[0].ExitCode != 1 || h.FailingStreak < 1 {
		t.Errorf("health after a failed check = %+v, want starting with exit code 1 and a failing streak", h)
	}
	if out, errOut, code := run("exec", "ok", "touch", "/tmp/ok"); code != 0 {
		t.Fatalf("exec touch: exit %d: %s%s", code, out, errOut)
	}
	waitFor(t, "healthy", 5*time.Second, func() (bool, string) {
		h := health("ok")
		return h.Status == ctypes.Healthy, string(h.Status)
	})
	if h := health("ok"); h.FailingStreak != 0 || len(h.Log) > 5 || h.Log[len(h.Log)-1].ExitCode != 0 || h.Log[len(h.Log)-1].End.Before(h.Log[len(h.Log)-1].Start) {
		t.Errorf("healthy health = %+v", h)
	}
	if out, _, _ := run("ps", "--format", "{{.Names}} {{.Status}}"); !strings.HasPrefix(out, "ok Up ") || !strings.HasSuffix(out, " (healthy)\n") {
		t.Errorf("docker ps = %q, want ok Up ... (healthy)", out)
	}
	select {
	case e := <-events:
		if e != "ok health_status: healthy" {
			t.Errorf("docker events --filter event=health_status: %q, want %q", e, "ok health_status: healthy")
		}
	case <-time.After(5 * time.Second):
		t.Errorf("docker events --filter event=health_status: nothing")
	}

	if out, errOut, code := run("run", "-d", "--name", "bad", "--health-cmd", "echo failing; exit 1", "--health-interval", "200ms", "--health-retries", "2", "busybox", "sleep", "300"); code != 0 {
		t.Fatalf("docker run -d failing check: exit %d: %s%s", code, out, errOut)
	}
	waitFor(t, "unhealthy", 30*time.Second, func() (bool, string) {
		h := health("bad")
		return h.Status == ctypes.Unhealthy, string(h.Status)
	})
	if h := health("bad"); h.FailingStreak < 2 || h.Log[0].Output != "failing\n" {
		t.Errorf("unhealthy health = %+v, want a streak of 2 or more and the output", h)
	}
	if out, _, _ := run("ps", "--filter", "name=bad", "--format", "{{.Status}}"); !strings.HasSuffix(out, "(unhealthy)\n") {
		t.Errorf("docker ps status = %q, want (unhealthy)", out)
	}
	if out, _, _ := run("ps", "--filter", "health=unhealthy", "--format", "{{.Names}}"); out != "bad\n" {
		t.Errorf("docker ps --filter health=unhealthy = %q, want bad", out)
	}
	// A timeout kills the check.
	if out, errOut, code := run("run", "-d", "--name", "slow", "--health-cmd", "sleep 60", "--health-interval", "200ms", "--health-timeout", "300ms", "--health-retries", "1", "busybox", "sleep", "300"); code != 0 {
		t.Fatalf("docker run -d slow check: exit %d: %s%s", code, out, errOut)
	}
	// 30 s: room for a loaded host, still well under the 60 s the check
	// would take if its timeout were not applied.
	waitFor(t, "unhealthy by timeout", 30*time.Second, func() (bool, string) {
		h := health("slow")
		return h.Status == ctypes.Unhealthy, string(h.Status)
	})
	if h := health("slow"); h.Log[0].ExitCode != -1 || !strings.Contains(h.Log[0].Output, "exceeded timeout") {
		t.Errorf("timed-out check = %+v", h.Log[0])
	}
	// --no-healthcheck: no health at all; stop ends the checks.
	if out, _, _ := run("run", "-d", "--name", "none", "--no-healthcheck", "busybox", "sleep", "300"); out == "" {
		t.Fatal("docker run --no-healthcheck failed")
	}
	if out, _, _ := run("inspect", "--format", "{{json .State.Health}}", "none"); out != "null\n" {
		t.Errorf("--no-healthcheck health = %q, want null", out)
	}
	run("stop", "-t", "0", "ok")
	n := len(health("ok").Log)
	time.Sleep(1500 * time.Millisecond)
	if got := len(health("ok").Log); got != n && got != 5 {
		t.Errorf("checks went on after stop: %d log entries, then %d", n, got)
	}
}

// TestImageHealthcheck: the image's HEALTHCHECK runs, and --health-*
// flags override only what they set.
func TestImageHealthcheck(t *testing.T) {
	a := startAgent(t)
	bb, err := testimages.Busybox()
	if err != nil {
		t.Fatal(err)
	}
	cf, err := bb.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cf = cf.DeepCopy()
	cf.Config.Healthcheck = &v1.HealthConfig{Test: []string{"CMD-SHELL", "echo from image $0"}, Interval: 200 * time.Millisecond, Retries: 4}
	// A SHELL that prints its own line shows that the check runs with it.
	cf.Config.Shell = []string{"/bin/sh", "-c", "echo from image shell", "sh"}
	img, err := mutate.ConfigFile(bb, cf)
	if err != nil {
		t.Fatal(err)
	}
	var tarball bytes.Buffer
	if err := testimages.WriteDockerArchive(&tarball, map[string]v1.Image{"checked:latest": img}); err != nil {
		t.Fatal(err)
	}
	if out, errOut, code := docker(t, a.sock, tarball.String(), "load"); code != 0 {
		t.Fatalf("docker load: exit %d: %s%s", code, out, errOut)
	}
	if out, errOut, code := docker(t, a.sock, "", "run", "-d", "--name", "img", "--health-timeout", "5s", "checked", "sleep", "300"); code != 0 {
		t.Fatalf("docker run: exit %d: %s%s", code, out, errOut)
	}
	want := `{"Test":["CMD-SHELL","echo from image $0"],"Interval":200000000,"Timeout":5000000000,"Retries":4}` + "\n"
	if out, errOut, _ := docker(t, a.sock, "", "inspect", "--format", "{{json .Config.Healthcheck}}", "img"); out != want {
		t.Errorf("Config.Healthcheck = %q (%s), want %q", out, errOut, want)
	}
	waitFor(t, "healthy by the image's check", 5*time.Second, func() (bool, string) {
		out, _, _ := docker(t, a.sock, "", "inspect", "--format", "{{.State.Health.Status}} {{range .State.Health.Log}}{{.Output}}{{end}}", "img")
		return strings.HasPrefix(out, "healthy from image shell\n"), out
	})
}
