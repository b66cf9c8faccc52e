package converge

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/moby/moby/client"

	"github.com/berthvm/berth/internal/testagent"
	"github.com/berthvm/berth/internal/testenv"
	"github.com/berthvm/berth/internal/testnetns"
	"github.com/berthvm/berth/runtime/container"
	"github.com/berthvm/berth/runtime/server"
)

func TestMain(m *testing.M) {
	// Containers re-execute this test binary as their init and monitor.
	container.RunHidden(os.Args)
	os.Exit(m.Run())
}

// shopFile is the project the tests converge: db with a healthcheck that
// passes after a second and a named volume that records its first start;
// web waiting for db to be healthy, publishing a port, naming the host;
// worker, two replicas, waiting for web to start. {{WEB_ENV}} and
// {{EXTRA}} are replaced to change it.
const shopFile = `services:
  db:
    image: busybox
    command: ["sh", "-c", "trap 'exit 0' TERM; [ -f /data/first ] || date +%s%N > /data/first; sleep 1; touch /tmp/ready; while true; do sleep 0.1; done"]
    volumes: ["dbdata:/data"]
    healthcheck:
      test: ["CMD-SHELL", "test -f /tmp/ready"]
      interval: 200ms
      retries: 50
  web:
    image: busybox
    command: ["sh", "-c", "trap 'exit 0' TERM; mkdir -p /w && echo page > /w/index.html && exec httpd -f -p 80 -h /w"]
    environment:
      MODE: "{{WEB_ENV}}"
    ports: ["127.0.0.1:18080:80"]
    extra_hosts: ["host.docker.internal:host-gateway"]
    labels:
      team: shop
    working_dir: /w
    restart: unless-stopped
    depends_on:
      db:
        condition: service_healthy
  worker:
    image: busybox
    command: ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 0.1; done"]
    deploy:
      replicas: {{REPLICAS}}
    depends_on: [web]
  debug:
    image: busybox
    profiles: [debug]
{{EXTRA}}volumes:
  dbdata:
`

type project struct {
	dir      string
	env      string
	replicas int
	// extra is text inserted before volumes: (more services).
	extra string
}

func (pr project) write(t testing.TB) {
	t.Helper()
	s := strings.ReplaceAll(shopFile, "{{WEB_ENV}}", pr.env)
	s = strings.ReplaceAll(s, "{{REPLICAS}}", strconv.Itoa(pr.replicas))
	s = strings.ReplaceAll(s, "{{EXTRA}}", pr.extra)
	if err := os.WriteFile(filepath.Join(pr.dir, "compose.yaml"), []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

func (pr project) load(t testing.TB) *types.Project {
	t.Helper()
	pr.write(t)
	p, err := Load(context.Background(), LoadOptions{Files: []string{"compose.yaml"}, WorkDir: pr.dir, Name: "shop"})
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	return p
}

// startAgent runs an agent with a bridge network in this process (the
// caller is in a private network namespace) and returns a client for it.
func startAgent(t testing.TB) (*testagent.Agent, *client.Client) {
	t.Helper()
	testenv.NeedCommand(t, "docker")
	a := testagent.Start(t, testagent.BaseImages(t), func(state string) testagent.Server {
		return server.New(server.Options{StateDir: state, Bridge: true, HostGateway: netip.MustParseAddr("10.0.2.2")})
	})
	return a, a.Client(t)
}

// events records Up's and Down's events.
type events struct {
	mu  sync.Mutex
	all []Event
}

func (e *events) add(ev Event) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.all = append(e.all, ev)
}

// steps lists "step container" of the events with status, in order.
func (e *events) steps(status string) []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []string
	for _, ev := range e.all {
		if ev.Status == status && ev.Container != "" {
			out = append(out, ev.Step+" "+ev.Container)
		}
	}
	return out
}

// ids maps container names of the project to their IDs.
func ids(t *testing.T, api client.APIClient) map[string]string {
	t.Helper()
	cs, err := projectContainers(context.Background(), api, "shop", true)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]string{}
	for _, c := range cs {
		m[name(c)] = c.ID
	}
	return m
}

func docker(t *testing.T, a *testagent.Agent, args ...string) string {
	t.Helper()
	cmd := exec.Command("docker", append([]string{"-H", a.Host()}, args...)...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		t.Fatalf("docker %s: %v: %s", strings.Join(args, " "), err, errOut.String())
	}
	return out.String()
}

func changes(cs []Change) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.Action+" "+c.Container)
	}
	sort.Strings(out)
	return out
}

func resultStates(r Result) map[string]string {
	m := map[string]string{}
	for _, s := range r.Services {
		st := s.State + " " + strings.Join(s.Containers, ",")
		if s.Err != nil {
			st += " err"
		}
		m[s.Name] = st
	}
	return m
}

// TestUpPlanDown converges the shop project onto an in-process agent
// from nothing (depends_on service_healthy), then checks that Plan has
// nothing to do, that compose v5 sees the same project and finds nothing
// to recreate (docker-compose 1.29.2 lists it too), that one changed
// service is the only one recreated, that failing services (unhealthy
// dependency, image not found) are reported while others come up (one
// with build: among them), that orphans and replicas beyond the scale
// go, that Up of one service brings what it depends on, and that Down
// keeps the volume's data unless asked to remove volumes.
func TestUpPlanDown(t *testing.T) {
	if testnetns.Reexec(t) {
		return
	}
	ctx := context.Background()
	a, api := startAgent(t)
	dir := filepath.Join(t.TempDir(), "shop")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	pr := project{dir: dir, env: "one", replicas: 2}
	p := pr.load(t)

	// From nothing, with --wait.
	var ev events
	res, err := Up(ctx, api, p, UpOptions{Wait: true, WaitTimeout: 20 * time.Second, Progress: ev.add})
	if err != nil {
		t.Fatalf("up: %v (%+v)\ndb: %s", err, res, docker(t, a, "inspect", "-f", "{{json .State}} {{json .Config.Healthcheck}}", "shop-db-1"))
	}
	want := map[string]string{
		"db":     "healthy shop-db-1",
		"web":    "running shop-web-1",
		"worker": "running shop-worker-1,shop-worker-2",
	}
	if got := resultStates(res); !equalMaps(got, want) {
		t.Errorf("up result = %v, want %v", got, want)
	}
	created := ev.steps(StatusDone)
	for _, w := range []string{"network shop_default", "volume shop_dbdata", "create shop-db-1", "create shop-web-1", "create shop-worker-1", "create shop-worker-2"} {
		if !slices.Contains(created, w) {
			t.Errorf("events done %v lack %q", created, w)
		}
	}
	// web started only once db was healthy.
	out := docker(t, a, "inspect", "-f", "{{range .State.Health.Log}}{{if eq .ExitCode 0}}{{.End.UnixNano}} {{end}}{{end}}", "shop-db-1")
	webStart := docker(t, a, "inspect", "-f", "{{.State.StartedAt}}", "shop-web-1")
	var firstHealthy int64
	if f := strings.Fields(out); len(f) > 0 {
		firstHealthy = parseInt(f[0])
	}
	started, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(webStart))
	if err != nil || firstHealthy == 0 || started.UnixNano() < firstHealthy {
		t.Errorf("web started at %s, db first healthy at %d: web must wait for db (%v)", webStart, firstHealthy, err)
	}
	// The settings reached the container.
	got := docker(t, a, "inspect", "-f", "{{.Config.WorkingDir}} {{.Config.Labels.team}} {{.HostConfig.RestartPolicy.Name}} {{range .Config.Env}}{{if eq . \"MODE=one\"}}{{.}}{{end}}{{end}} {{.HostConfig.PortBindings}}", "shop-web-1")
	if want := "/w shop unless-stopped MODE=one map[80/tcp:[{127.0.0.1 18080}]]\n"; got != want {
		t.Errorf("web's settings = %q, want %q", got, want)
	}
	// (The agent's inspect shows no HostConfig.ExtraHosts: look at the file.)
	if got := docker(t, a, "exec", "shop-web-1", "grep", "host.docker.internal", "/etc/hosts"); !strings.HasPrefix(got, "10.0.2.2") {
		t.Errorf("host.docker.internal in web's /etc/hosts: %q", got)
	}
	if got := docker(t, a, "exec", "shop-worker-1", "wget", "-q", "-O", "-", "http://web/index.html"); got != "page\n" {
		t.Errorf("worker reaching web by its service name = %q", got)
	}

	// Nothing to do now.
	plan, err := Plan(ctx, api, p)
	if err != nil || len(plan) != 0 {
		t.Errorf("plan after up = %v, %v; want nothing", plan, err)
	}

	t.Run("compose v5 sees the same project", func(t *testing.T) {
		bin := testagent.ComposeV5(t)
		out, code := testagent.Compose(t, bin, a.Sock, dir, "-p", "shop", "ps", "--format", "json")
		if code != 0 {
			t.Fatalf("compose ps: exit %d: %s", code, out)
		}
		var names []string
		for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
			var c struct{ Name, Service, State, Health string }
			if err := json.Unmarshal([]byte(line), &c); err != nil {
				t.Fatalf("compose ps line %q: %v", line, err)
			}
			names = append(names, c.Name+" "+c.Service+" "+c.State+" "+c.Health)
		}
		sort.Strings(names)
		want := []string{"shop-db-1 db running healthy", "shop-web-1 web running ", "shop-worker-1 worker running ", "shop-worker-2 worker running "}
		if !slices.Equal(names, want) {
			t.Errorf("compose v5 ps = %q, want %q", names, want)
		}
		// The same config hash: compose's up leaves every container alone.
		hashes, code := testagent.Compose(t, bin, a.Sock, dir, "-p", "shop", "config", "--hash", "*")
		for _, svc := range []string{"db", "web", "worker"} {
			h, _ := ServiceHash(p.Services[svc])
			if code != 0 || !strings.Contains(hashes, svc+" "+h) {
				t.Errorf("compose v5 config --hash: exit %d %q; berth's hash of %s: %s", code, hashes, svc, h)
			}
		}
		before := ids(t, api)
		if out, code := testagent.Compose(t, bin, a.Sock, dir, "-p", "shop", "up", "-d"); code != 0 {
			t.Fatalf("compose v5 up -d: exit %d: %s", code, out)
		}
		if after := ids(t, api); !equalMaps(after, before) {
			t.Errorf("compose v5 up -d changed containers: before %v, after %v", before, after)
		}
	})

	t.Run("docker-compose 1.29.2 sees the same project", func(t *testing.T) {
		testenv.NeedCommand(t, "docker-compose")
		out, code := testagent.Compose(t, "docker-compose", a.Sock, dir, "-p", "shop", "-f", "compose.yaml", "ps", "-q")
		got := strings.Fields(out)
		var want []string
		for _, id := range ids(t, api) {
			want = append(want, id)
		}
		sort.Strings(got)
		sort.Strings(want)
		if code != 0 || !slices.Equal(got, want) {
			t.Errorf("docker-compose ps -q: exit %d: %q, want %q", code, out, want)
		}
	})

	// One changed service: one recreate.
	before := ids(t, api)
	pr.env = "two"
	p = pr.load(t)
	plan, err = Plan(ctx, api, p)
	if want := []string{"recreate shop-web-1"}; err != nil || !slices.Equal(changes(plan), want) {
		t.Errorf("plan after editing web = %v, %v; want %v", plan, err, want)
	}
	if res, err := Up(ctx, api, p, UpOptions{}); err != nil {
		t.Fatalf("up after editing web: %v (%+v)", err, res)
	}
	after := ids(t, api)
	for n, id := range before {
		if changed := after[n] != id; changed != (n == "shop-web-1") {
			t.Errorf("container %s: %s before, %s after; only shop-web-1 should change", n, id, after[n])
		}
	}
	if got := docker(t, a, "exec", "shop-web-1", "sh", "-c", "echo $MODE"); got != "two\n" {
		t.Errorf("web's MODE after the recreate = %q", got)
	}

	// A failing service is reported; the others come up.
	pr.extra = `  broken:
    image: busybox
    command: ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 0.1; done"]
    healthcheck:
      test: ["CMD", "false"]
      interval: 200ms
      retries: 2
  needsbroken:
    image: busybox
    depends_on:
      broken:
        condition: service_healthy
  missing:
    image: 127.0.0.1:1/nosuch:latest
  built:
    build: ./app
`
	writeFiles(t, dir, map[string]string{
		"app/Dockerfile": "FROM busybox\nRUN echo built > /built\nCMD [\"sh\", \"-c\", \"trap 'exit 0' TERM; while true; do sleep 0.1; done\"]\n",
	})
	ev = events{}
	p = pr.load(t)
	res, err = Up(ctx, api, p, UpOptions{Progress: ev.add})
	if !errors.Is(err, ErrServiceFailed) {
		t.Errorf("up with failing services: err %v, want ErrServiceFailed", err)
	}
	errs := map[string]string{}
	for _, s := range res.Services {
		if s.Err != nil {
			errs[s.Name] = s.Err.Error()
		}
	}
	if len(errs) != 2 || !strings.Contains(errs["needsbroken"], "unhealthy") || !strings.Contains(errs["missing"], "pull 127.0.0.1:1/nosuch:latest") {
		t.Errorf("failed services = %q; want needsbroken (broken unhealthy) and missing (pull)", errs)
	}
	if got := resultStates(res); got["db"] != "healthy shop-db-1" || got["web"] != "running shop-web-1" {
		t.Errorf("the others after a failing up: %v", got)
	}
	// A service with build: gets its image built (named as compose names
	// it), once.
	if got := docker(t, a, "exec", "shop-built-1", "cat", "/built"); got != "built\n" {
		t.Errorf("the built service's /built = %q", got)
	}
	if got := docker(t, a, "inspect", "-f", "{{.Config.Image}}", "shop-built-1"); got != "shop-built\n" {
		t.Errorf("the built service's image = %q, want shop-built", got)
	}
	builds := 0
	for _, e := range ev.all {
		if e.Step == StepBuild && e.Status == StatusDone {
			builds++
		}
	}
	if builds != 1 {
		t.Errorf("%d builds done, want 1", builds)
	}

	// Orphans (services gone from the file) and replicas beyond the scale
	// are removed.
	pr.extra, pr.replicas = "", 1
	p = pr.load(t)
	plan, err = Plan(ctx, api, p)
	if want := []string{"remove shop-broken-1", "remove shop-built-1", "remove shop-worker-2"}; err != nil || !slices.Equal(changes(plan), want) {
		t.Errorf("plan after removing services and a replica = %v, %v; want %v", changes(plan), err, want)
	}
	if _, err := Up(ctx, api, p, UpOptions{}); err != nil {
		t.Fatalf("up removing orphans: %v", err)
	}
	if n := ids(t, api); len(n) != 3 || n["shop-broken-1"] != "" || n["shop-built-1"] != "" || n["shop-worker-2"] != "" {
		t.Errorf("containers after removing orphans and a replica: %v", n)
	}

	// Down keeps the volume; up again finds its data.
	first := docker(t, a, "exec", "shop-db-1", "cat", "/data/first")
	if err := Down(ctx, api, "shop", false, nil); err != nil {
		t.Fatalf("down: %v", err)
	}
	if n := ids(t, api); len(n) != 0 {
		t.Errorf("containers after down: %v", n)
	}
	if got := docker(t, a, "network", "ls", "--filter", "label="+LabelProject+"=shop", "-q"); got != "" {
		t.Errorf("networks after down: %q", got)
	}
	// Only web (and db, which it needs) first, then all.
	res, err = Up(ctx, api, p, UpOptions{Services: []string{"web"}})
	if got, want := resultStates(res), map[string]string{"db": "healthy shop-db-1", "web": "running shop-web-1"}; err != nil || !equalMaps(got, want) {
		t.Errorf("up web after down = %v, %v; want %v", got, err, want)
	}
	if _, err := Up(ctx, api, p, UpOptions{Wait: true, WaitTimeout: 2 * time.Minute}); err != nil {
		t.Fatalf("up after down: %v", err)
	}
	if again := docker(t, a, "exec", "shop-db-1", "cat", "/data/first"); again != first || first == "" {
		t.Errorf("volume data after down and up = %q, was %q", again, first)
	}
	st, err := Status(ctx, api, "shop")
	if err != nil || len(st) != 3 || st[0].Name != "db" || st[0].State != "healthy" || st[2].Name != "worker" || len(st[2].Containers) != 1 {
		t.Errorf("status = %+v, %v", st, err)
	}

	// Down with volumes leaves nothing.
	if err := Down(ctx, api, "shop", true, nil); err != nil {
		t.Fatalf("down -v: %v", err)
	}
	if got := docker(t, a, "ps", "-aq"); got != "" {
		t.Errorf("containers after down -v: %q", got)
	}
	if got := docker(t, a, "volume", "ls", "-q"); got != "" {
		t.Errorf("volumes after down -v: %q", got)
	}
}

func equalMaps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func parseInt(s string) int64 {
	var n int64
	for _, r := range s {
		if r < '0' || r > '9' {
			return 0
		}
		n = n*10 + int64(r-'0')
	}
	return n
}

// BenchmarkPlan: Plan on a converged project (what `berth plan` asks each
// machine), against an in-process agent.
func BenchmarkPlan(b *testing.B) {
	if testnetns.Reexec(b) {
		return
	}
	ctx := context.Background()
	_, api := startAgent(b)
	dir := filepath.Join(b.TempDir(), "shop")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.Fatal(err)
	}
	p := project{dir: dir, env: "one", replicas: 2}.load(b)
	if _, err := Up(ctx, api, p, UpOptions{}); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if plan, err := Plan(ctx, api, p); err != nil || len(plan) != 0 {
			b.Fatalf("plan = %v, %v", plan, err)
		}
	}
	b.StopTimer()
	if err := Down(ctx, api, "shop", true, nil); err != nil {
		b.Fatal(err)
	}
}
