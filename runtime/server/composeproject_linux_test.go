package server

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/berthvm/berth/internal/testenv"
	"github.com/berthvm/berth/internal/testnetns"
)

// composeProject is the project a developer's day is made of: three
// services on compose's default project network; web with a
// healthcheck, db with a named volume, worker waiting for web to be
// healthy and reaching it and db by their service names.
const composeProject = `services:
  web:
    image: busybox
    command: ["sh", "-c", "mkdir -p /w && echo web-page > /w/index.html && exec httpd -f -p 80 -h /w"]
    healthcheck:
      test: ["CMD-SHELL", "wget -q -O /dev/null http://127.0.0.1/ || exit 1"]
      interval: 500ms
      retries: 30
  db:
    image: busybox
    command: ["sh", "-c", "echo stored > /data/row && exec httpd -f -p 5432 -h /data"]
    volumes: ["dbdata:/data"]
  worker:
    image: busybox
    command: ["sh", "-c", "echo worker-started; exec sleep 300"]
    depends_on:
      web:
        condition: service_healthy
      db:
        condition: service_started
volumes:
  dbdata:
`

// TestComposeProjectBothVersions runs composeProject with Debian's
// docker-compose 1.29.2 and with docker compose v5: up -d (v5 also up
// --wait), ps with one line per service numbered 1, logs, exec, names
// resolving between services, run --rm (a one-off container, removed),
// and down -v leaving no container, network or volume.
func TestComposeProjectBothVersions(t *testing.T) {
	if testnetns.Reexec(t) {
		return
	}
	testenv.NeedCommand(t, "docker-compose")
	clients := []struct{ name, bin, file, sep string }{
		{"v1", "docker-compose", "docker-compose.yml", "_"},
		{"v5", composeV5(t), "compose.yaml", "-"},
	}
	a := startAgent(t, func(o *Options) { o.Bridge = true })
	for _, c := range clients {
		t.Run(c.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "shop")
			os.MkdirAll(dir, 0o755)
			file := composeProject
			if c.name == "v1" {
				file = "version: \"2.4\"\n" + file
			}
			if err := os.WriteFile(filepath.Join(dir, c.file), []byte(file), 0o644); err != nil {
				t.Fatal(err)
			}
			run := func(args ...string) string {
				t.Helper()
				out, code := compose(t, c.bin, a.sock, dir, args...)
				if code != 0 {
					t.Fatalf("%s %s: exit %d:\n%s", c.name, strings.Join(args, " "), code, out)
				}
				return out
			}
			if c.name == "v5" {
				run("up", "-d", "--wait")
			} else {
				run("up", "-d")
			}
			names, _, _ := docker(t, a.sock, "", "ps", "--format", "{{.Names}} {{.Status}}")
			for _, svc := range []string{"web", "db", "worker"} {
				want := "shop" + c.sep + svc + c.sep + "1 Up"
				if strings.Count(names, "shop"+c.sep+svc+c.sep) != 1 || !strings.Contains(names, want) {
					t.Errorf("%s: docker ps lacks one %q:\n%s", c.name, want, names)
				}
			}
			if !strings.Contains(names, "shop"+c.sep+"web"+c.sep+"1 Up") || !strings.Contains(names, "(healthy)") {
				t.Errorf("%s: web not healthy in docker ps:\n%s", c.name, names)
			}
			ps := run("ps")
			for _, svc := range []string{"web", "db", "worker"} {
				if strings.Count(ps, "shop"+c.sep+svc+c.sep+"1") != 1 {
					t.Errorf("%s ps: want one line for %s:\n%s", c.name, svc, ps)
				}
			}
			if logs := run("logs", "worker"); !strings.Contains(logs, "worker-started") {
				t.Errorf("%s logs worker = %q", c.name, logs)
			}
			got := run("exec", "-T", "worker", "sh", "-c", "wget -q -O - http://web/ && wget -q -O - http://db:5432/row")
			if got != "web-page\nstored\n" {
				t.Errorf("%s exec in worker, web and db by name: %q", c.name, got)
			}
			if out := run("run", "--rm", "-T", "worker", "sh", "-c", "wget -q -O - http://web/"); !strings.Contains(out, "web-page") {
				t.Errorf("%s run --rm: %q", c.name, out)
			}
			if all, _, _ := docker(t, a.sock, "", "ps", "-a", "--format", "{{.Names}}"); strings.Count(all, "\n") != 3 {
				t.Errorf("%s: after run --rm, want only the 3 service containers:\n%s", c.name, all)
			}
			run("down", "-v")
			for _, what := range [][]string{{"ps", "-aq"}, {"volume", "ls", "-q"}, {"network", "ls", "-q", "--filter", "type=custom"}} {
				if out, _, _ := docker(t, a.sock, "", what...); strings.TrimSpace(out) != "" {
					t.Errorf("%s: left after down -v (docker %s): %q", c.name, strings.Join(what, " "), out)
				}
			}
		})
	}
}
