package main

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/client"

	"github.com/berthvm/berth/internal/hostagent"
	"github.com/berthvm/berth/internal/hostport"
	"github.com/berthvm/berth/internal/testenv"
	"github.com/berthvm/berth/internal/testimages"
	"github.com/berthvm/berth/internal/testregistry"
	"github.com/berthvm/berth/internal/testwait"
)

// teamExample copies examples/team into a folder called team, pointed at
// the registry on host (127.0.0.1:PORT, which the machines see at
// 10.0.2.2:PORT) and at free host ports, and returns its folder and the
// web and db host ports.
func teamExample(t *testing.T, registry string) (dir string, webPort, dbPort int) {
	t.Helper()
	src := filepath.Join(testenv.RepoRoot(t), "examples", "team")
	dir = filepath.Join(t.TempDir(), "team")
	webPort, _ = hostport.Pick()
	dbPort, _ = hostport.Pick()
	for dbPort == webPort {
		dbPort, _ = hostport.Pick()
	}
	_, regPort, _ := strings.Cut(registry, ":")
	repl := strings.NewReplacer("10.0.2.2:5000", "10.0.2.2:"+regPort, "48080", strconv.Itoa(webPort), "47000", strconv.Itoa(dbPort))
	for _, f := range []string{"berth.yaml", "app/compose.yaml", "db/compose.yaml"} {
		b, err := os.ReadFile(filepath.Join(src, f))
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(dir, f), repl.Replace(string(b)))
	}
	return dir, webPort, dbPort
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func editFile(t *testing.T, path, old, new string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), old) {
		t.Fatalf("%s lacks %q", path, old)
	}
	writeFile(t, path, strings.Replace(string(b), old, new, 1))
}

// httpGet returns the body of url, retrying until it answers 200 with
// want in it (the host agent makes forwards as containers start).
func httpGet(t *testing.T, url, want string) string {
	t.Helper()
	var body string
	testwait.Until(t, 60*time.Second, url+" to answer "+want, func() bool {
		resp, err := http.Get(url)
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		body = string(b)
		return resp.StatusCode == 200 && strings.Contains(body, want)
	})
	return body
}

// containerIDs maps the compose services of project on machine name to
// their container IDs, through the machine's host agent.
func containerIDs(t *testing.T, root, name string) map[string]string {
	t.Helper()
	c, err := client.New(client.WithHost(hostagent.Endpoint(filepath.Join(root, "machines", name))))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := c.Ping(ctx, client.PingOptions{NegotiateAPIVersion: true}); err != nil {
		t.Fatal(err)
	}
	res, err := c.ContainerList(ctx, client.ContainerListOptions{All: true})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, ct := range res.Items {
		if ct.Labels["com.docker.compose.project"] == "team" {
			out[ct.Labels["com.docker.compose.service"]] = ct.ID
		}
	}
	return out
}

// TestTeamEnvironmentOnQEMU runs examples/team through the CLI on two
// QEMU machines that boot once (twice counting down and up): a bad ISO,
// up from nothing, plan, an edited compose file, down and up with the
// volume's data, lock and --frozen, an override file, a port conflict
// with another environment and down --destroy.
func TestTeamEnvironmentOnQEMU(t *testing.T) {
	testenv.NeedQEMU(t)
	// build/berth-os.iso is now a relative link to berth-os-amd64.iso,
	// which the QEMU driver's hard link into the machine folder breaks:
	// boot the file it names.
	iso, err := filepath.EvalSymlinks(testenv.ISO(t))
	if err != nil {
		t.Fatal(err)
	}
	treeAgent(t)
	reg := testregistry.Start(t, testregistry.Options{})
	img, err := testimages.Busybox()
	if err != nil {
		t.Fatal(err)
	}
	if err := testimages.Push(context.Background(), reg.Host+"/busybox:latest", img, "", ""); err != nil {
		t.Fatal(err)
	}
	t.Setenv("BERTH_QEMU_ISO", iso)
	t.Setenv("BERTH_QEMU_ACCEL", "tcg")
	t.Setenv("BERTH_DRIVER", "qemu")
	root := t.TempDir()
	killOnCleanup(t, root, "team-db")
	killOnCleanup(t, root, "team-app")
	dir, webPort, _ := teamExample(t, reg.Host)
	file := filepath.Join(dir, "berth.yaml")
	web := "http://127.0.0.1:" + strconv.Itoa(webPort)

	t.Run("bad ISO leaves the other machine up", func(t *testing.T) {
		writeFile(t, filepath.Join(dir, "bad.iso"), strings.Repeat("not an iso\n", 1000))
		editFile(t, file, "    depends-on: [db]", "    depends-on: [db]\n    iso: bad.iso")
		r := berth(t, root, "", "up", "--wait", "-f", file)
		if r.code != exitError || !strings.Contains(r.stdout, "machine app [team-app]: FAILED") || !strings.Contains(r.stdout, "machine db [team-db] (created): ok") {
			t.Fatalf("up with a bad ISO for app: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
		}
		if got := mustBerth(t, root, "ls", "--format", "{{.Name}} {{.State}}"); got != "team-db Running\n" {
			t.Errorf("ls after the failed up = %q, want team-db running alone", got)
		}
	})

	t.Run("up after the fix completes", func(t *testing.T) {
		editFile(t, file, "\n    iso: bad.iso", "")
		r := berth(t, root, "", "up", "--wait", "-f", file)
		if r.code != 0 {
			t.Fatalf("up: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
		}
		for _, want := range []string{"machine app [team-app] (created): ok", "service web: ", "service kv: "} {
			if !strings.Contains(r.stdout, want) {
				t.Errorf("up's report lacks %q:\n%s", want, r.stdout)
			}
		}
		httpGet(t, web+"/", "web is up")
		httpGet(t, web+"/cgi-bin/db", "db says: first boot")
	})

	t.Run("plan of a converged environment", func(t *testing.T) {
		if got := mustBerth(t, root, "plan", "-f", file); !strings.Contains(got, "Nothing to do") {
			t.Errorf("plan = %q, want nothing to do", got)
		}
	})

	t.Run("one edited compose file recreates one service", func(t *testing.T) {
		before := containerIDs(t, root, "team-app")
		editFile(t, filepath.Join(dir, "app", "compose.yaml"), "sleep 5", "sleep 3")
		plan := mustBerth(t, root, "plan", "-f", file)
		if strings.Count(plan, "recreate") != 1 || !strings.Contains(plan, "service worker: recreate") {
			t.Errorf("plan after editing worker = %q, want exactly one recreate, of worker", plan)
		}
		mustBerth(t, root, "up", "--wait", "-f", file)
		after := containerIDs(t, root, "team-app")
		if after["web"] != before["web"] || after["worker"] == before["worker"] || after["worker"] == "" {
			t.Errorf("containers before %v, after %v: want web kept and worker recreated", before, after)
		}
	})

	t.Run("down then up keeps the volume", func(t *testing.T) {
		mustBerth(t, root, "exec", "-m", "team-db", "team-kv-1", "sh", "-c", "echo second > /data/value")
		mustBerth(t, root, "down", "-f", file)
		if got := mustBerth(t, root, "ls", "--format", "{{.Name}} {{.State}}"); got != "team-app Stopped\nteam-db Stopped\n" {
			t.Errorf("ls after down = %q", got)
		}
		r := berth(t, root, "", "up", "--wait", "-f", file)
		if r.code != 0 || !strings.Contains(r.stdout, "(started)") {
			t.Fatalf("up after down: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
		}
		httpGet(t, web+"/cgi-bin/db", "db says: second")
	})

	t.Run("down --volumes of a stopped machine", func(t *testing.T) {
		mustBerth(t, root, "down", "-f", file, "db")
		r := berth(t, root, "", "down", "--volumes", "-f", file, "db")
		if r.code != 0 || !strings.Contains(r.stderr, "starting it to remove its volumes") {
			t.Fatalf("down --volumes of stopped db: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
		}
		if got := mustBerth(t, root, "ls", "--format", "{{.Name}} {{.State}}"); got != "team-app Running\nteam-db Stopped\n" {
			t.Errorf("ls after down --volumes db = %q", got)
		}
		if r := berth(t, root, "", "up", "--wait", "-f", file); r.code != 0 {
			t.Fatalf("up after down --volumes: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
		}
		httpGet(t, web+"/cgi-bin/db", "db says: first boot") // a new volume
		mustBerth(t, root, "exec", "-m", "team-db", "team-kv-1", "sh", "-c", "echo second > /data/value")
	})

	t.Run("override file", func(t *testing.T) {
		over := filepath.Join(dir, "berth.override.yaml")
		writeFile(t, over, "machines:\n  app:\n    cpus: 2\n")
		if got := mustBerth(t, root, "plan", "-f", file); !strings.Contains(got, "cpus: 1 -> 2 (restart)") {
			t.Errorf("plan with an override = %q", got)
		}
		if got := mustBerth(t, root, "ls", "--format", "{{.Name}} {{.Error}}"); !strings.Contains(got, "team-app drifted from berth.yaml: cpus 1 -> 2") {
			t.Errorf("ls does not mark the drifted machine: %q", got)
		}
		writeFile(t, over, "machines:\n  app:\n    memory: 4000GiB\n")
		r := berth(t, root, "", "up", "-f", file)
		if r.code != exitError || !strings.Contains(r.stderr, "this computer has") || !strings.Contains(r.stderr, "changed nothing") {
			t.Errorf("up asking for more memory than the host has: exit %d\n%s", r.code, r.stderr)
		}
		os.Remove(over)
	})

	t.Run("lock and up --frozen", func(t *testing.T) {
		out := mustBerth(t, root, "lock", "-f", file)
		if !strings.Contains(out, "3 images") {
			t.Errorf("lock = %q", out)
		}
		lock, err := os.ReadFile(filepath.Join(dir, "berth.lock"))
		if err != nil || !strings.Contains(string(lock), "amd64: sha256:") || !strings.Contains(string(lock), "sha256: ") {
			t.Fatalf("berth.lock = %s (%v)", lock, err)
		}
		r := berth(t, root, "", "up", "--frozen", "--wait", "-f", file)
		if r.code != 0 {
			t.Fatalf("up --frozen: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
		}
		httpGet(t, web+"/cgi-bin/db", "db says: second")
		editFile(t, filepath.Join(dir, "berth.lock"), "service: worker", "service: worker2")
		r = berth(t, root, "", "up", "--frozen", "-f", file)
		if r.code == 0 || !strings.Contains(r.stderr, "service worker is not in the lock") {
			t.Errorf("up --frozen with a lock that lacks worker: exit %d\n%s", r.code, r.stderr)
		}
	})

	t.Run("port conflict with another environment", func(t *testing.T) {
		other := filepath.Join(t.TempDir(), "other")
		writeFile(t, filepath.Join(other, "berth.yaml"), "machines:\n  x:\n    compose: compose.yaml\n")
		writeFile(t, filepath.Join(other, "compose.yaml"), "services:\n  s:\n    image: busybox\n    ports: [\""+strconv.Itoa(webPort)+":80\"]\n")
		r := berth(t, root, "", "up", "-f", filepath.Join(other, "berth.yaml"))
		if r.code == 0 || !strings.Contains(r.stderr, "held by machine team-app (environment team)") {
			t.Errorf("up of a second environment on the same port: exit %d\n%s", r.code, r.stderr)
		}
		if got := mustBerth(t, root, "ls", "-q"); strings.Contains(got, "other-x") {
			t.Errorf("the refused up made a machine: %q", got)
		}
	})

	t.Run("down --destroy leaves nothing", func(t *testing.T) {
		mustBerth(t, root, "down", "--destroy", "-f", file)
		if got := mustBerth(t, root, "ls", "-q"); got != "" {
			t.Errorf("ls after down --destroy = %q", got)
		}
		if entries, _ := os.ReadDir(filepath.Join(root, "machines")); len(entries) != 0 {
			t.Errorf("machine folders left: %v", entries)
		}
	})
}
