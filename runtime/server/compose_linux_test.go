package server

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/berthvm/berth/internal/testagent"
	"github.com/berthvm/berth/internal/testenv"
	"github.com/berthvm/berth/internal/testnetns"
)

// composeFile has a service that becomes healthy after 2 s and one that
// waits for it (network_mode: bridge: no project network).
const composeFile = `version: "2.4"
services:
  db:
    image: busybox
    network_mode: bridge
    command: sh -c 'sleep 2; touch /tmp/ready; exec sleep 300'
    healthcheck:
      test: ["CMD-SHELL", "test -f /tmp/ready"]
      interval: 500ms
      retries: 20
  web:
    image: busybox
    network_mode: bridge
    command: sleep 300
    depends_on:
      db:
        condition: service_healthy
`

// compose runs a compose binary in dir against the agent's socket, as
// project "shop" unless args name another (-p), for at most 3 minutes.
func compose(t *testing.T, bin, sock, dir string, args ...string) (string, int) {
	t.Helper()
	return testagent.Compose(t, bin, sock, dir, args...)
}

// TestComposeServiceHealthy: docker-compose 1.29.2 brings up a service
// that depends on another's health only once that one is healthy.
func TestComposeServiceHealthy(t *testing.T) {
	if testnetns.Reexec(t) {
		return
	}
	testenv.NeedCommand(t, "docker-compose")
	a := startAgent(t, func(o *Options) { o.Bridge = true })
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "docker-compose.yml"), []byte(composeFile), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, code := compose(t, "docker-compose", a.sock, dir, "up", "-d"); code != 0 {
		t.Fatalf("docker-compose up -d: exit %d:\n%s", code, out)
	}
	out, errOut, _ := docker(t, a.sock, "", "inspect", "-f", "{{.State.Health.Status}} {{range .State.Health.Log}}{{if eq .ExitCode 0}}{{.End.UnixNano}} {{end}}{{end}}", "shop_db_1")
	f := strings.Fields(out)
	if len(f) < 2 || f[0] != "healthy" {
		t.Fatalf("db after up: %q (%s), want healthy", out, errOut)
	}
	started, _, _ := docker(t, a.sock, "", "inspect", "-f", "{{.State.Running}} {{.State.StartedAt}}", "shop_web_1")
	running, at, _ := strings.Cut(strings.TrimSpace(started), " ")
	webStart, err := time.Parse(time.RFC3339Nano, at)
	var healthyAt time.Time
	if err == nil {
		var ns int64
		_, err = fmt.Sscan(f[1], &ns)
		healthyAt = time.Unix(0, ns)
	}
	if err != nil || running != "true" || webStart.Before(healthyAt) {
		t.Errorf("web: %q, started before db was healthy (%s)? %v", started, healthyAt, err)
	}
	if out, code := compose(t, "docker-compose", a.sock, dir, "down"); code != 0 {
		t.Errorf("docker-compose down: exit %d:\n%s", code, out)
	}
}

// composeV5 is docker compose v5 as scripts/compose-v5.sh builds it.
func composeV5(t *testing.T) string {
	t.Helper()
	return testagent.ComposeV5(t)
}

// TestComposeV5: docker compose v5 runs a project whose services use the
// bridge network: version, up -d (in health order), ps, down.
func TestComposeV5(t *testing.T) {
	if testnetns.Reexec(t) {
		return
	}
	bin := composeV5(t)
	a := startAgent(t, func(o *Options) { o.Bridge = true })
	dir := t.TempDir()
	// v5 sends volumes and binds as HostConfig.Mounts.
	file := strings.Replace(composeFile, `version: "2.4"`+"\n", "", 1) + `    volumes:
      - data:/data
      - ./site:/site:ro
volumes:
  data:
`
	if err := os.MkdirAll(filepath.Join(dir, "site"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "site", "index.html"), []byte("hi\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "compose.yaml"), []byte(file), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, code := compose(t, bin, a.sock, dir, "version"); code != 0 || !strings.Contains(out, "v5.6.0") {
		t.Fatalf("docker-compose version: exit %d: %s", code, out)
	}
	if out, code := compose(t, bin, a.sock, dir, "up", "-d"); code != 0 {
		t.Fatalf("compose v5 up -d: exit %d:\n%s", code, out)
	}
	if out, code := compose(t, bin, a.sock, dir, "exec", "-T", "web", "sh", "-c", "cat /site/index.html; echo v > /data/f && cat /data/f"); code != 0 || out != "hi\nv\n" {
		t.Errorf("compose v5 exec in web with its volume and bind: exit %d: %q", code, out)
	}
	out, code := compose(t, bin, a.sock, dir, "ps", "--format", "{{.Service}} {{.State}} {{.Health}}")
	if want := "db running healthy\nweb running \n"; code != 0 || out != want {
		t.Errorf("compose v5 ps: exit %d: %q, want %q", code, out, want)
	}
	if out, code := compose(t, bin, a.sock, dir, "down", "-v"); code != 0 {
		t.Errorf("compose v5 down -v: exit %d:\n%s", code, out)
	}
	if out, _, _ := docker(t, a.sock, "", "volume", "ls", "-q"); out != "" {
		t.Errorf("volumes left after down -v: %q", out)
	}
	if out, _, _ := docker(t, a.sock, "", "ps", "-aq"); out != "" {
		t.Errorf("containers left after down: %q", out)
	}
}
