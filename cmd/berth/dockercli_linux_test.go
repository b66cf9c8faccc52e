package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/creack/pty"

	"github.com/berthvm/berth/internal/hostagent"
	"github.com/berthvm/berth/internal/testenv"
	"github.com/berthvm/berth/internal/testwait"
)

// dockerCLI is the docker CLI the acceptance tests drive: the one this
// machine kind ships in /usr/local/bin (28.x), else the first on $PATH.
func dockerCLI(t *testing.T) string {
	t.Helper()
	if _, err := os.Stat("/usr/local/bin/docker"); err == nil {
		return "/usr/local/bin/docker"
	}
	testenv.NeedCommand(t, "docker")
	p, _ := exec.LookPath("docker")
	return p
}

// dockerEnv is the environment of a docker client pointed at a machine
// by `berth env`: the variables env printed, applied by a real shell, and
// a docker config folder of the test's own, so that nothing of this
// computer's docker setup (contexts, credentials) takes part, and the
// host's Docker Engine is never reached.
func dockerEnv(t *testing.T, root, name string) []string {
	t.Helper()
	script := fmt.Sprintf(`eval "$(%q -s %q env --shell bash %s)" && env`, os.Args[0], root, name)
	out, err := exec.Command("bash", "-c", script).Output()
	if err != nil {
		t.Fatalf("eval $(berth env %s): %v", name, err)
	}
	env := []string{"DOCKER_CONFIG=" + t.TempDir(), "PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}
	var host string
	for _, l := range strings.Split(string(out), "\n") {
		k, v, _ := strings.Cut(l, "=")
		switch k {
		case "DOCKER_HOST", "DOCKER_MACHINE_NAME", "BERTH_MACHINE":
			env = append(env, l)
		}
		if k == "DOCKER_HOST" {
			host = v
		}
	}
	if !strings.HasPrefix(host, "unix://") || !strings.Contains(host, filepath.Join(root, "machines", name)) && !strings.Contains(host, "/berth-") {
		t.Fatalf("berth env set DOCKER_HOST=%q, want the machine's host agent socket", host)
	}
	return env
}

// docker runs the docker CLI with env and returns its stdout, failing
// the test unless it exits with want.
func docker(t *testing.T, env []string, want int, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, dockerCLI(t), args...)
	cmd.Env = env
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("docker %s: %v", strings.Join(args, " "), err)
	}
	if code != want {
		t.Fatalf("docker %s: exit %d, want %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), code, want, out.String(), errb.String())
	}
	return out.String()
}

// answersWithin waits up to d for 127.0.0.1:port to answer GET / with
// want and returns how long it took.
func answersWithin(t *testing.T, port int, want string, d time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	url := fmt.Sprintf("http://127.0.0.1:%d/", port)
	c := &http.Client{Timeout: 2 * time.Second}
	testwait.For(t, d, "GET "+url+" answered "+strconv.Quote(want), func() error {
		res, err := c.Get(url)
		if err != nil {
			return err
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if string(b) != want {
			return fmt.Errorf("%d %q", res.StatusCode, b)
		}
		return nil
	})
	return time.Since(start)
}

// refusedWithin waits up to d for 127.0.0.1:port to refuse connections.
func refusedWithin(t *testing.T, port int, d time.Duration, why string) time.Duration {
	t.Helper()
	start := time.Now()
	testwait.Until(t, d, why+": 127.0.0.1:"+strconv.Itoa(port)+" refusing connections", func() bool {
		c, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), time.Second)
		if err != nil {
			return true
		}
		c.Close()
		return false
	})
	return time.Since(start)
}

// loadWithDocker loads the test busybox image with `docker load`.
func loadWithDocker(t *testing.T, env []string) {
	t.Helper()
	if out := docker(t, env, 0, "load", "-i", busyboxArchive(t)); !strings.Contains(out, "busybox:latest") {
		t.Errorf("docker load printed %q", out)
	}
}

// dockerCLISuite is what a user does with the real docker CLI after
// `eval $(berth env NAME)` on a running machine: version, info, load, run
// (plain, through a pty, detached with a published port answered on this
// computer's 127.0.0.1), ps, logs -f, exec, stop (the port goes), a
// container exiting by itself (its forward goes), rm; then the host agent
// killed and started again by the next berth command.
func dockerCLISuite(t *testing.T, root, name string) {
	env := dockerEnv(t, root, name)
	if out := docker(t, env, 0, "version", "--format", "{{.Server.APIVersion}}"); strings.TrimSpace(out) == "" {
		t.Error("docker version printed no server API version")
	}
	if out := docker(t, env, 0, "info", "--format", "{{.OSType}} {{.Name}}"); !strings.HasPrefix(out, "linux ") {
		t.Errorf("docker info = %q", out)
	}
	loadWithDocker(t, env)
	// berth url names the same endpoint, which curl reaches too.
	url := strings.TrimSpace(mustBerth(t, root, "url", name))
	testenv.NeedCommand(t, "curl")
	if out, err := exec.Command("curl", "-sS", "--unix-socket", strings.TrimPrefix(url, "unix://"), "http://berth/_ping").CombinedOutput(); err != nil || string(out) != "OK" {
		t.Errorf("curl --unix-socket $(berth url %s) /_ping = %q, %v; want OK", name, out, err)
	}
	if out := docker(t, env, 0, "run", "--rm", "busybox", "echo", "hello from docker run"); out != "hello from docker run\n" {
		t.Errorf("docker run --rm = %q", out)
	}
	docker(t, env, 3, "run", "--rm", "busybox", "sh", "-c", "exit 3")

	// docker run -it through a pty.
	cmd := exec.Command(dockerCLI(t), "run", "-it", "--rm", "busybox", "sh", "-c", "tty; read line; echo got:$line; exit 4")
	cmd.Env = env
	ptmx, err := pty.Start(cmd)
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(ptmx, "typed\r")
	var ttyOut bytes.Buffer
	io.Copy(&ttyOut, ptmx) // ends with EIO once docker exits
	ptmx.Close()
	var ee *exec.ExitError
	if err := cmd.Wait(); !errors.As(err, &ee) || ee.ExitCode() != 4 {
		t.Errorf("docker run -it: %v, want exit 4", err)
	}
	if s := ttyOut.String(); !strings.Contains(s, "/dev/pts/") || !strings.Contains(s, "got:typed") {
		t.Errorf("docker run -it printed %q, want its tty and the typed line", s)
	}

	ports := pickPorts(t, 2)
	web, brief := ports[0], ports[1]
	docker(t, env, 0, append([]string{"run", "-d", "--name", "web", "-p", fmt.Sprintf("%d:80", web), "busybox"}, httpd("served")...)...)
	t.Logf("published port answered %v after docker run -d", answersWithin(t, web, "served\n", 2*time.Second))
	if out := docker(t, env, 0, "ps", "--format", "{{.Names}} {{.Status}}"); !strings.HasPrefix(out, "web Up") {
		t.Errorf("docker ps = %q", out)
	}
	if out := docker(t, env, 0, "exec", "web", "cat", "/w/index.html"); out != "served\n" {
		t.Errorf("docker exec = %q", out)
	}
	docker(t, env, 5, "exec", "web", "sh", "-c", "exit 5")
	docker(t, env, 0, "stop", "-t", "1", "web")
	t.Logf("the port stopped answering %v after docker stop", refusedWithin(t, web, 2*time.Second, "after docker stop"))
	docker(t, env, 0, "rm", "web")

	// logs -f follows until the container ends.
	docker(t, env, 0, "run", "-d", "--name", "talker", "busybox", "sh", "-c", "echo one; sleep 1; echo two")
	if out := docker(t, env, 0, "logs", "-f", "talker"); out != "one\ntwo\n" {
		t.Errorf("docker logs -f = %q, want one and two", out)
	}
	docker(t, env, 0, "rm", "talker")

	// A container that exits by itself: its forward goes.
	docker(t, env, 0, "run", "-d", "--name", "brief", "-p", fmt.Sprintf("%d:80", brief), "busybox",
		"sh", "-c", "mkdir /w && echo brief > /w/index.html && httpd -p 80 -h /w && sleep 4")
	answersWithin(t, brief, "brief\n", 2*time.Second)
	docker(t, env, 0, "wait", "brief")
	t.Logf("the port of a container that exited stopped answering %v after docker wait", refusedWithin(t, brief, 2*time.Second, "after the container exited"))
	docker(t, env, 0, "rm", "brief")

	// The host agent killed: the next berth command starts it again.
	dir := filepath.Join(root, "machines", name)
	st, err := hostagent.ReadStatus(dir)
	if err != nil {
		t.Fatalf("host agent status: %v", err)
	}
	killProcess(st.Pid)
	testwait.Until(t, 10*time.Second, "the killed host agent's lock freed", func() bool { return !hostagent.Running(dir) })
	r := berth(t, root, "", "ps", "-m", name)
	if r.code != 0 || !strings.Contains(r.stderr, "Started the host agent of machine "+name) {
		t.Errorf("berth ps after the host agent was killed: exit %d, stderr %q; want it started again, said on stderr", r.code, r.stderr)
	}
	docker(t, env, 0, "ps")
}

// TestDockerCLIOnQEMU: the real docker CLI against a QEMU machine through
// its host agent (see dockerCLISuite), docker-compose 1.29.2 on a file of
// network_mode: bridge services, and the host agent through a machine
// killed and started again under it.
func TestDockerCLIOnQEMU(t *testing.T) {
	root := qemuMachine(t, "dk", "--no-share")
	dockerCLISuite(t, root, "dk")
	buildSuite(t, root, "dk")
	composeSuite(t, root, "dk")

	// The machine killed under its host agent and started again: docker
	// works after the start.
	env := dockerEnv(t, root, "dk")
	if pid := qemuPID(root, "dk"); alive(pid) {
		killProcess(pid)
		waitDead(t, pid)
	}
	mustBerth(t, root, "start", "dk")
	if out := docker(t, env, 0, "run", "--rm", "busybox", "echo", "back"); out != "back\n" {
		t.Errorf("docker run after the machine came back = %q", out)
	}
	if out := mustBerth(t, root, "ls", "--format", "{{.Name}} {{.URL}} {{.Agent}}"); !strings.HasPrefix(out, "dk unix://") {
		t.Errorf("ls = %q, want the host agent's endpoint as URL", out)
	}
	agentGoneSuite(t, root, "dk", env)
}

// agentGoneSuite: with the machine's agent unreachable (its socket
// removed), docker and curl through the host agent get a 503 that says
// why (the host agent opens its streams without waiting for the machine,
// and answers once the client's request is read); once the agent is
// restarted docker works again.
func agentGoneSuite(t *testing.T, root, name string, env []string) {
	mustBerth(t, root, "ssh", name, "--", "rm", "/run/berth/agent.sock")
	cmd := exec.Command(dockerCLI(t), "ps")
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 || !strings.Contains(string(out), "agent cannot be reached") || !strings.Contains(string(out), "not running") {
		t.Errorf("docker ps without the agent's socket: %v\n%s\nwant exit 1 saying the agent cannot be reached, as it is not running", err, out)
	}
	testenv.NeedCommand(t, "curl")
	var sock string
	for _, e := range env {
		if v, ok := strings.CutPrefix(e, "DOCKER_HOST=unix://"); ok {
			sock = v
		}
	}
	curl, err := exec.Command("curl", "-sS", "-w", "\n%{http_code}", "--unix-socket", sock, "http://berth/_ping").CombinedOutput()
	if err != nil || !strings.HasSuffix(string(curl), "\n503") || !strings.Contains(string(curl), "not running") {
		t.Errorf("curl _ping without the agent's socket: %v\n%s\nwant a 503 saying the agent is not running", err, curl)
	}
	// The supervisor starts the agent again, and with it its socket.
	mustBerth(t, root, "ssh", name, "--", "sh", "-c", "kill $(cat /run/berth/agent.pid)")
	testwait.Until(t, 30*time.Second, "docker ps working after the agent's restart", func() bool {
		cmd := exec.Command(dockerCLI(t), "ps")
		cmd.Env = env
		return cmd.Run() == nil
	})
}

// buildSuite: berth build sends a context (its .dockerignore applied)
// through the host agent; the image runs with docker; a rebuild comes
// from the cache.
func buildSuite(t *testing.T, root, name string) {
	env := dockerEnv(t, root, name)
	dir := t.TempDir()
	files := map[string]string{
		"Dockerfile":    "FROM busybox\nARG WHO=nobody\nCOPY a.txt /a.txt\nRUN cat /a.txt > /b.txt && echo \"by $WHO\" >> /b.txt\n",
		"a.txt":         "from the context\n",
		"ignored.txt":   "left out\n",
		".dockerignore": "ignored.txt\n",
	}
	for n, body := range files {
		if err := os.WriteFile(filepath.Join(dir, n), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	r := berth(t, root, "", "build", "-m", name, "-t", "built", "--build-arg", "WHO=berth", dir)
	if r.code != 0 {
		t.Fatalf("berth build: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if !strings.HasPrefix(lines[len(lines)-1], "sha256:") || !strings.Contains(r.stdout, "Step 4/4") || !strings.Contains(r.stderr, "Sending build context") {
		t.Errorf("berth build printed:\n%s\nstderr:\n%s\nwant the steps, a sending line and the image ID last", r.stdout, r.stderr)
	}
	if out := docker(t, env, 0, "run", "--rm", "built", "cat", "/b.txt"); out != "from the context\nby berth\n" {
		t.Errorf("the built image's /b.txt = %q", out)
	}
	docker(t, env, 1, "run", "--rm", "built", "test", "-e", "/ignored.txt")
	r = berth(t, root, "", "build", "-m", name, "-t", "built", "--build-arg", "WHO=berth", dir)
	if r.code != 0 || strings.Count(r.stdout, "Using cache") != 3 {
		t.Errorf("berth build again: exit %d, want 3 steps from the cache:\n%s%s", r.code, r.stdout, r.stderr)
	}
	docker(t, env, 0, "rmi", "built")
}

// composeSuite runs docker-compose 1.29.2 (Debian's) through the host
// agent: up -d, ps, logs and down of services on network_mode: bridge.
func composeSuite(t *testing.T, root, name string) {
	testenv.NeedCommand(t, "docker-compose")
	env := dockerEnv(t, root, name)
	port := pickPorts(t, 1)[0]
	dir := t.TempDir()
	file := fmt.Sprintf(`version: "2.4"
services:
  web:
    image: busybox
    network_mode: bridge
    ports: ["%d:80"]
    command: ["sh", "-c", "mkdir -p /w && echo composed > /w/index.html && exec httpd -f -p 80 -h /w"]
  talker:
    image: busybox
    network_mode: bridge
    command: ["sh", "-c", "echo talking; exec sleep 300"]
`, port)
	if err := os.WriteFile(filepath.Join(dir, "docker-compose.yml"), []byte(file), 0o644); err != nil {
		t.Fatal(err)
	}
	compose := func(args ...string) string {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, "docker-compose", append([]string{"-p", "bt"}, args...)...)
		cmd.Dir, cmd.Env = dir, env
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("docker-compose %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	compose("up", "-d")
	answersWithin(t, port, "composed\n", 5*time.Second)
	ps := compose("ps")
	for _, want := range []string{"bt_web_1", "bt_talker_1", "Up"} {
		if !strings.Contains(ps, want) {
			t.Errorf("docker-compose ps lacks %q:\n%s", want, ps)
		}
	}
	if logs := compose("logs", "talker"); !strings.Contains(logs, "talking") {
		t.Errorf("docker-compose logs talker = %q", logs)
	}
	compose("down")
	if out := docker(t, env, 0, "ps", "-a", "--format", "{{.Names}}"); strings.Contains(out, "bt_") {
		t.Errorf("containers left after docker-compose down: %q", out)
	}
	refusedWithin(t, port, 2*time.Second, "after docker-compose down")
}

// TestDockerCLIOnVirtualBox: dockerCLISuite on a machine of the
// VirtualBox driver, through the VBoxManage double (NAT rules added and
// removed by the host agent as the containers change).
func TestDockerCLIOnVirtualBox(t *testing.T) {
	vboxEnv(t)
	iso := testenv.ISO(t)
	treeAgent(t)
	root := t.TempDir()
	t.Cleanup(func() { berth(t, root, "", "rm", "-y", "-f", "vdk") })
	mustBerth(t, root, "create", "-d", "virtualbox", "--virtualbox-iso", iso,
		"--virtualbox-memory", "768", "--virtualbox-disk-size", "1000", "--no-share", "vdk")
	dockerCLISuite(t, root, "vdk")
	composeSuite(t, root, "vdk")
}
