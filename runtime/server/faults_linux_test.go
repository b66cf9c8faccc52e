package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/berthvm/berth/internal/reliability"
	"github.com/berthvm/berth/internal/testenv"
	"github.com/berthvm/berth/internal/testimages"
	"github.com/berthvm/berth/internal/testregistry"
	"github.com/berthvm/berth/internal/testwait"
	"github.com/berthvm/berth/internal/version"
	"github.com/berthvm/berth/runtime/image"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"golang.org/x/sys/unix"
)

// procAgent is the agent binary serving in a process of its own, so that
// a test can kill it with SIGKILL.
type procAgent struct {
	t          *testing.T
	bin, sock  string
	state      string
	cmd        *exec.Cmd
	logs       bytes.Buffer
	logMu      sync.Mutex
	startCount int
}

func startProcAgent(t *testing.T, state string) *procAgent {
	t.Helper()
	testenv.NeedRoot(t)
	testenv.NeedCommand(t, "docker")
	dir, err := os.MkdirTemp("", "berth-fault-")
	if err != nil {
		t.Fatal(err)
	}
	p := &procAgent{t: t, bin: testenv.NeedAgent(t, version.Version), sock: filepath.Join(dir, "agent.sock"), state: state}
	p.start()
	t.Cleanup(func() {
		if out, _, _ := docker(t, p.sock, "", "ps", "-aq"); out != "" {
			docker(t, p.sock, "", append([]string{"rm", "-f"}, strings.Fields(out)...)...)
		}
		p.cmd.Process.Signal(unix.SIGTERM)
		p.cmd.Wait()
		if t.Failed() {
			t.Logf("agent log:\n%s", p.logs.String())
		}
		os.RemoveAll(dir)
	})
	return p
}

func (p *procAgent) Write(b []byte) (int, error) {
	p.logMu.Lock()
	defer p.logMu.Unlock()
	return p.logs.Write(b)
}

func (p *procAgent) start() {
	p.t.Helper()
	// --bridge=false: the host's network is not the test's to change.
	p.cmd = exec.Command(p.bin, "serve", "--bridge=false", "--socket", p.sock, "--state-dir", p.state)
	p.cmd.Stderr = p
	if err := p.cmd.Start(); err != nil {
		p.t.Fatal(err)
	}
	p.startCount++
	testwait.Dial(p.t, 30*time.Second, "unix", p.sock)
}

func (p *procAgent) kill() {
	p.cmd.Process.Signal(unix.SIGKILL)
	p.cmd.Wait()
}

// dockerUntil runs the docker CLI against sock and calls at() delay after
// ready (given the output so far, polled) first holds, while the CLI still
// runs; at() runs anyway once the CLI ends. It returns the CLI's output
// and exit code.
func dockerUntil(t *testing.T, sock string, ready func(out string) bool, delay time.Duration, at func(), args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command("docker", append([]string{"-H", "unix://" + sock}, args...)...)
	if args[0] == "build" { // the classic builder, as dockerBuild runs it
		cmd.Dir = args[len(args)-1]
		for _, kv := range os.Environ() {
			if !strings.HasPrefix(kv, "DOCKER_BUILDKIT=") && !strings.HasPrefix(kv, "DOCKER_CONFIG=") {
				cmd.Env = append(cmd.Env, kv)
			}
		}
		cmd.Env = append(cmd.Env, "DOCKER_CONFIG="+t.TempDir(), "DOCKER_BUILDKIT=0")
	}
	var mu sync.Mutex
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = lockedWriter{&mu, &out}, lockedWriter{&mu, &out}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	var err error
	fired := false
wait:
	for {
		select {
		case err = <-exited:
			break wait
		case <-tick.C:
			mu.Lock()
			now := out.String()
			mu.Unlock()
			if !fired && ready(now) {
				fired = true
				time.Sleep(delay)
				at()
			}
		}
	}
	if !fired {
		at() // the operation ended before the fault: inject it anyway
	}
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	}
	return out.String(), code
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}

// outHas is a ready condition: the CLI printed s.
func outHas(s string) func(string) bool {
	return func(out string) bool { return strings.Contains(out, s) }
}

// entryIn is a ready condition: a new entry appeared in dir (the agent
// began to stage or create something there) since its first poll, which
// comes right after the CLI starts.
func entryIn(dir string) func(string) bool {
	var before map[string]bool
	return func(string) bool {
		des, _ := os.ReadDir(dir)
		if before == nil {
			before = map[string]bool{}
			for _, de := range des {
				before[de.Name()] = true
			}
			return false
		}
		for _, de := range des {
			if !before[de.Name()] {
				return true
			}
		}
		return false
	}
}

// TestAgentKilledMidOperation kills the agent with SIGKILL during a pull,
// a load, a run, an exec, a docker cp and a volume copy-up. Each time: a
// container started before keeps running (same process), the image store
// verifies (opened while the agent is down), every listed container and
// volume is usable after the agent restarts, and the operation done again
// succeeds.
func TestAgentKilledMidOperation(t *testing.T) {
	started := time.Now()
	reg := testregistry.Start(t, testregistry.Options{})
	ctx := context.Background()
	bb, big := busyboxAndBig(t)
	// busybox and the big image's 100 MB: what a volume copies up.
	bigbox := stack(t, bb, big)
	for name, img := range map[string]v1.Image{"busybox": bb, "big": big, "bigbox": bigbox} {
		if err := testimages.Push(ctx, reg.Host+"/"+name+":latest", img, "", ""); err != nil {
			t.Fatal(err)
		}
	}
	bigTar := archiveFile(t, "loaded-big:latest", big)
	bigFile := filepath.Join(t.TempDir(), "bigfile")
	if err := os.WriteFile(bigFile, bytes.Repeat([]byte("0123456789abcdef"), 4<<20), 0o644); err != nil {
		t.Fatal(err)
	}

	state := t.TempDir()
	p := startProcAgent(t, state)
	run := func(args ...string) string {
		t.Helper()
		out, errOut, code := docker(t, p.sock, "", args...)
		if code != 0 {
			t.Fatalf("docker %s: exit %d: %s%s", strings.Join(args, " "), code, out, errOut)
		}
		return out
	}
	run("pull", "-q", reg.Host+"/busybox")
	run("tag", reg.Host+"/busybox", "busybox")
	run("pull", "-q", reg.Host+"/bigbox")
	run("run", "-d", "--name", "keeper", "busybox", "sleep", "100000")
	keeperPid := run("inspect", "-f", "{{.State.Pid}}", "keeper")
	keeperID := strings.TrimSpace(run("inspect", "-f", "{{.Id}}", "keeper"))

	buildDir := t.TempDir()
	if err := os.WriteFile(filepath.Join(buildDir, "Dockerfile"), []byte("FROM busybox\nRUN echo step started && sleep 2 && echo built > /built\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	images := filepath.Join(state, "images", "tmp")
	containers := filepath.Join(state, "containers")
	faults := []struct {
		name  string
		ready func(string) bool
		delay time.Duration
		args  []string
		again []string // the operation done again after the restart
	}{
		{"pull", entryIn(filepath.Join(state, "images", "blobs", "sha256")), 100 * time.Millisecond, []string{"pull", reg.Host + "/big"}, []string{"pull", "-q", reg.Host + "/big"}},
		{"load", entryIn(images), 0, []string{"load", "-i", bigTar}, []string{"load", "-q", "-i", bigTar}},
		{"run", entryIn(containers), 0, []string{"run", "-d", "--name", "started", "busybox", "sleep", "100000"}, []string{"run", "--rm", "busybox", "true"}},
		{"exec", outHas("exec started"), 0, []string{"exec", "keeper", "sh", "-c", "echo exec started; sleep 3; echo late"}, []string{"exec", "keeper", "true"}},
		{"cp", func(string) bool {
			_, err := os.Stat(filepath.Join(containers, keeperID, "upper", "tmp"))
			return err == nil
		}, 200 * time.Millisecond, []string{"cp", bigFile, "keeper:/tmp/big"}, []string{"cp", bigFile, "keeper:/tmp/big"}},
		{"build", outHas("step started"), 300 * time.Millisecond, []string{"build", "-t", "killed-build", buildDir}, []string{"build", "-t", "killed-build", buildDir}},
		{"volume copy-up", entryIn(containers), 300 * time.Millisecond, []string{"run", "--rm", "-v", "copyvol:/big0", reg.Host + "/bigbox", "true"}, []string{"run", "--rm", "-v", "copyvol:/big0", reg.Host + "/bigbox", "true"}},
	}
	var survived, lost int64
	for _, fl := range faults {
		t.Run(fl.name, func(t *testing.T) {
			out, code := dockerUntil(t, p.sock, fl.ready, fl.delay, p.kill, fl.args...)
			t.Logf("docker %s, agent killed: exit %d: %s", fl.args[0], code, lastLines(out, 3))
			// The store, opened while the agent is down.
			images := openStoreOffline(t, filepath.Join(state, "images"))
			n := verifyImages(t, images)
			images.Close()
			p.start()
			if got := run("inspect", "-f", "{{.State.Status}} {{.State.Pid}}", "keeper"); got != "running "+keeperPid {
				t.Errorf("the container started before the kill: %q, want running with pid %s", got, keeperPid)
				n++
			}
			n += checkListed(t, p.sock)
			again := docker
			if fl.again[0] == "build" {
				again = func(t *testing.T, sock, _ string, args ...string) (string, string, int) {
					return dockerBuild(t, sock, buildDir, args...)
				}
			}
			if out, errOut, code := again(t, p.sock, "", fl.again...); code != 0 {
				t.Errorf("docker %s after the restart: exit %d: %s%s", strings.Join(fl.again, " "), code, out, errOut)
				n++
			}
			lost += n
			if n == 0 && !t.Failed() {
				survived++
			}
		})
	}
	// The volume whose copy-up the kill interrupted holds all of the
	// image's files, whole.
	want := run("run", "--rm", reg.Host+"/bigbox", "sh", "-c", "cd /big0 && md5sum *")
	if got := run("run", "--rm", "-v", "copyvol:/v", reg.Host+"/bigbox", "sh", "-c", "cd /v && md5sum *"); got != want {
		t.Errorf("the volume copied up while the agent was killed differs from the image:\n%s\nwant\n%s", got, want)
		lost++
		survived--
	}
	reliability.Record(t, started, reliability.Row{
		Area: "fault", What: "agent SIGKILLed during pull, load, run, exec, docker cp, build, volume copy-up", Runs: int64(len(faults)),
		Faults: int64(len(faults)), Survived: survived, Lost: lost,
		Notes: "a running container kept running (same pid); image store verified while the agent was down; listed containers and volumes usable; each operation redone",
	})
}

// openStoreOffline opens the image store at root once no process holds
// it (the killed agent's lock goes with it; a child caught between fork
// and exec may hold it a moment), naming the holders if one stays.
func openStoreOffline(t *testing.T, root string) *image.Store {
	t.Helper()
	var s *image.Store
	var err error
	deadline := time.Now().Add(10 * time.Second)
	for {
		if s, err = image.Open(root, image.Options{}); err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		var holders []string
		lock := filepath.Join(root, "lock")
		fds, _ := filepath.Glob("/proc/[0-9]*/fd/*")
		for _, fd := range fds {
			if l, _ := os.Readlink(fd); l == lock {
				pid := strings.Split(fd, "/")[2]
				cmdline, _ := os.ReadFile("/proc/" + pid + "/cmdline")
				holders = append(holders, pid+" "+strings.ReplaceAll(string(cmdline), "\x00", " "))
			}
		}
		t.Fatalf("open the image store while the agent is down: %v; held by %q", err, holders)
	}
	return s
}

// lastLines is the last n lines of s, for logs.
func lastLines(s string, n int) string {
	l := strings.Split(strings.TrimSpace(s), "\n")
	if len(l) > n {
		l = l[len(l)-n:]
	}
	return strings.Join(l, " | ")
}

// cuttableProxy relays TCP connections to target until cut, which closes
// every connection and refuses new ones until restore.
type cuttableProxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	conns  []net.Conn
	cut    bool
	bytes  int64
}

func newCuttableProxy(t *testing.T, target string) *cuttableProxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &cuttableProxy{ln: ln, target: target}
	t.Cleanup(func() { ln.Close(); p.cutNow() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			p.mu.Lock()
			if p.cut {
				p.mu.Unlock()
				c.Close()
				continue
			}
			u, err := net.Dial("tcp", target)
			if err != nil {
				p.mu.Unlock()
				c.Close()
				continue
			}
			p.conns = append(p.conns, c, u)
			p.mu.Unlock()
			go func() { io.Copy(u, c); u.Close() }()
			go func() { io.Copy(counter{p, c}, u); c.Close() }()
		}
	}()
	return p
}

func (p *cuttableProxy) add(n int64) { p.mu.Lock(); p.bytes += n; p.mu.Unlock() }

// counter counts the bytes the registry sends as they pass.
type counter struct {
	p *cuttableProxy
	w io.Writer
}

func (c counter) Write(b []byte) (int, error) {
	n, err := c.w.Write(b)
	c.p.add(int64(n))
	return n, err
}

func (p *cuttableProxy) cutNow() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut = true
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

func (p *cuttableProxy) restore() { p.mu.Lock(); p.cut = false; p.mu.Unlock() }

func (p *cuttableProxy) addr() string { return p.ln.Addr().String() }

// TestRegistryCutMidPull cuts the network to the registry while a pull
// runs: the pull fails with an error that says the registry could not be
// reached, nothing half-pulled is listed, and a retry resumes (the layers
// fetched before the cut are not fetched again) and succeeds.
func TestRegistryCutMidPull(t *testing.T) {
	started := time.Now()
	reg := testregistry.Start(t, testregistry.Options{})
	big, err := testimages.Big()
	if err != nil {
		t.Fatal(err)
	}
	bb, err := testimages.Busybox()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	bigbox := stack(t, bb, big)
	if err := testimages.Push(ctx, reg.Host+"/big:latest", bigbox, "", ""); err != nil {
		t.Fatal(err)
	}
	px := newCuttableProxy(t, reg.Host)
	p := startProcAgent(t, t.TempDir())
	ref := px.addr() + "/big:latest"
	out, code := dockerUntil(t, p.sock, outHas("Download complete"), 0, px.cutNow, "pull", ref)
	var lost int64
	if code == 0 {
		t.Fatalf("the pull through a cut network succeeded:\n%s", out)
	}
	if !strings.Contains(out, px.addr()) && !strings.Contains(strings.ToLower(out), "registry") {
		t.Errorf("the cut pull's error does not name the registry:\n%s", out)
	}
	t.Logf("cut pull: %s", lastLines(out, 2))
	if got, _, _ := docker(t, p.sock, "", "images", "-q", ref); got != "" {
		t.Errorf("a half-pulled image is listed: %q", got)
		lost++
	}
	px.restore()
	px.mu.Lock()
	before := px.bytes
	px.mu.Unlock()
	out2, errOut, code := docker(t, p.sock, "", "pull", ref)
	if code != 0 {
		t.Fatalf("the retried pull: exit %d: %s%s", code, out2, errOut)
	}
	px.mu.Lock()
	fetched := px.bytes - before
	px.mu.Unlock()
	if !strings.Contains(out2, "Already exists") {
		t.Errorf("the retry fetched every layer again (%d bytes), want the layers pulled before the cut kept:\n%s", fetched, out2)
	}
	t.Logf("retry fetched %d bytes of the ~%d MB image", fetched, testimages.BigLayers*testimages.BigLayerBytes>>20)
	if got, errOut, code := docker(t, p.sock, "", "run", "--rm", ref, "ls", "/big4"); code != 0 || !strings.Contains(got, "f00") {
		t.Errorf("run the resumed image: exit %d, %q %s", code, got, errOut)
		lost++
	}
	survived := int64(0)
	if !t.Failed() {
		survived = 1
	}
	reliability.Record(t, started, reliability.Row{
		Area: "fault", What: "network to the registry cut mid-pull, then retry", Runs: 1, Faults: 1, Survived: survived, Lost: lost,
		Notes: fmt.Sprintf("clear error, nothing half-pulled listed, retry kept the layers fetched before the cut (fetched %d MB again)", fetched>>20),
	})
}

// freeBytes is how many bytes the file system holding dir has free.
func freeBytes(t *testing.T, dir string) int64 {
	t.Helper()
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		t.Fatal(err)
	}
	return int64(st.Bavail) * st.Bsize
}

// TestDiskFull fills the agent's disk (a 96 MB tmpfs as its state
// folder) with a pull, a load, two builds (a RUN step writing, a context
// larger than the disk) and a container's writes: each fails with an
// error that names the disk, nothing half-made is listed, the store
// verifies, and the space comes back (after builder prune, rm). A
// container that exits, and one killed, while the disk is full read
// exited, not running, also after the agent restarts with the disk still
// full, and their state reaches state.json once there is room.
func TestDiskFull(t *testing.T) {
	started := time.Now()
	testenv.NeedRoot(t)
	reg := testregistry.Start(t, testregistry.Options{})
	ctx := context.Background()
	bb, big := busyboxAndBig(t)
	for name, img := range map[string]v1.Image{"busybox": bb, "big": big} {
		if err := testimages.Push(ctx, reg.Host+"/"+name+":latest", img, "", ""); err != nil {
			t.Fatal(err)
		}
	}
	bigTar := archiveFile(t, "loaded-big:latest", big)
	disk := t.TempDir()
	if err := unix.Mount("tmpfs", disk, "tmpfs", 0, "size=96m"); err != nil {
		t.Fatalf("mount a small disk: %v", err)
	}
	t.Cleanup(func() { unix.Unmount(disk, unix.MNT_DETACH) })
	state := filepath.Join(disk, "state")
	p := startProcAgent(t, state)
	run := func(args ...string) string {
		t.Helper()
		out, errOut, code := docker(t, p.sock, "", args...)
		if code != 0 {
			t.Fatalf("docker %s: exit %d: %s%s", strings.Join(args, " "), code, out, errOut)
		}
		return out
	}
	bbRef := reg.Host + "/busybox"
	run("pull", "-q", bbRef)
	// Builds: a RUN step that writes more than the disk holds, and a
	// context larger than the disk.
	runDir, ctxDir := t.TempDir(), t.TempDir()
	writeFiles(t, runDir, map[string]string{"Dockerfile": "FROM " + bbRef + "\nRUN dd if=/dev/zero of=/fill bs=1M count=200\n"})
	writeFiles(t, ctxDir, map[string]string{"Dockerfile": "FROM " + bbRef + "\nCOPY big /big\n"})
	if err := os.WriteFile(filepath.Join(ctxDir, "big"), bytes.Repeat([]byte{0}, 120<<20), 0o644); err != nil {
		t.Fatal(err)
	}
	run("builder", "prune", "-f")
	free0 := freeBytes(t, disk)
	var runs, survived, lost int64
	fault := func(what string, do func() (string, string, int), free ...string) {
		t.Helper()
		runs++
		out, errOut, code := do()
		msg := out + errOut
		ok := true
		if code == 0 {
			t.Errorf("%s on a full disk succeeded: %s", what, msg)
			ok = false
		} else if !strings.Contains(msg, "the machine's disk ("+state+") is full") {
			t.Errorf("%s on a full disk: the error does not name the disk: %s", what, lastLines(msg, 3))
			ok = false
		}
		t.Logf("%s: %s", what, lastLines(msg, 1))
		if got := run("images", "-a", "--format", "{{.Repository}}"); got != bbRef+"\n" {
			t.Errorf("after %s on a full disk the images are %q, want busybox alone", what, got)
			lost++
			ok = false
		}
		if len(free) > 0 {
			run(free...)
		}
		testwait.For(t, 10*time.Second, "the space back after "+what, func() error {
			if free := freeBytes(t, disk); free0-free > 1<<20 {
				return fmt.Errorf("%d bytes fewer free than before", free0-free)
			}
			return nil
		})
		if ok {
			survived++
		}
	}
	dockerArgs := func(args ...string) func() (string, string, int) {
		return func() (string, string, int) { return docker(t, p.sock, "", args...) }
	}
	fault("pull", dockerArgs("pull", reg.Host+"/big"))
	fault("load", dockerArgs("load", "-i", bigTar))
	fault("build (RUN writes)", func() (string, string, int) {
		return dockerBuild(t, p.sock, runDir, "build", "-t", "filled", ".")
	}, "builder", "prune", "-f")
	fault("build (large context)", func() (string, string, int) {
		return dockerBuild(t, p.sock, ctxDir, "build", "-t", "filled", ".")
	}, "builder", "prune", "-f")

	// A container filling the disk: its own write fails; the agent still
	// answers. It exits with the disk still full (its file stays), and so
	// does one killed meanwhile: neither reads running afterwards.
	runs += 2
	run("run", "-d", "--name", "sleeper", bbRef, "sleep", "100000")
	sleeperID := strings.TrimSpace(run("inspect", "-f", "{{.Id}}", "sleeper"))
	out, _, code := docker(t, p.sock, "", "run", "--name", "filler", bbRef, "sh", "-c", "dd if=/dev/zero of=/fill bs=1M count=200 2>&1; echo written")
	if code != 0 || !strings.Contains(out, "No space left on device") || !strings.Contains(out, "written") {
		t.Errorf("a container filling the disk: exit %d, %q; want its own write refused", code, out)
	}
	if free := freeBytes(t, disk); free > 64<<10 {
		t.Fatalf("after the container that fills the disk, %d bytes are free, want none", free)
	}
	run("kill", "sleeper")
	if got := run("wait", "sleeper"); got != "137\n" {
		t.Errorf("docker wait of the container killed with the disk full: %q, want 137", got)
	}
	exitedOK := func(when string) {
		t.Helper()
		for _, c := range []struct{ name, want string }{{"filler", "exited 0"}, {"sleeper", "exited 137"}} {
			if got := strings.TrimSpace(run("inspect", "-f", "{{.State.Status}} {{.State.ExitCode}}", c.name)); got != c.want {
				t.Errorf("%s: container %s reads %q, want %q", when, c.name, got, c.want)
				lost++
			}
		}
		if got := run("ps", "-q"); got != "" {
			t.Errorf("%s: docker ps lists %q, want no running container", when, got)
		}
	}
	exitedOK("with the disk full")
	// A new container needs room for its state: refused by name while
	// the disk is full, fine once the space is back.
	if out, errOut, code := docker(t, p.sock, "", "run", "--rm", bbRef, "echo", "runs"); code != 0 && !strings.Contains(errOut, "the machine's disk ("+state+") is full") {
		t.Errorf("run with a full disk: exit %d, %q %q; want it to run or an error naming the disk", code, out, errOut)
	}
	// The agent restarted (killed) with the disk still full.
	p.kill()
	p.start()
	exitedOK("after the agent restarted with the disk full")
	// Not running, so rm needs no -f.
	run("rm", "filler")
	if got := run("run", "--rm", bbRef, "echo", "runs"); got != "runs\n" {
		t.Errorf("after rm of the container that filled the disk, a container printed %q", got)
	}
	var st struct{ Status string }
	if b, err := os.ReadFile(filepath.Join(state, "containers", sleeperID, "state.json")); err != nil || json.Unmarshal(b, &st) != nil || st.Status != "exited" {
		t.Errorf("once there is room, the killed container's state.json reads %q (%v), want exited", b, err)
	}
	if got := run("start", "sleeper"); strings.TrimSpace(got) != "sleeper" {
		t.Errorf("start of the container killed while the disk was full: %q", got)
	}
	run("rm", "-f", "sleeper")
	if free := freeBytes(t, disk); free0-free > 1<<20 {
		t.Errorf("after rm of the container that filled the disk, %d bytes fewer free than before", free0-free)
	} else if !t.Failed() {
		survived += 2
	}
	// The store, opened while the agent is down, verifies.
	p.cmd.Process.Signal(unix.SIGTERM)
	p.cmd.Wait()
	images := openStoreOffline(t, filepath.Join(state, "images"))
	lost += verifyImages(t, images)
	images.Close()
	p.start()
	lost += checkListed(t, p.sock)
	reliability.Record(t, started, reliability.Row{
		Area: "fault", What: "disk full (96 MB state disk) during pull, load, build (RUN, context), a container's writes, exit and kill", Runs: runs, Faults: runs, Survived: survived, Lost: lost,
		Notes: "error names the disk and how to free it; nothing half-made listed; space back within 1 MB after the failure, builder prune and rm; containers that exit or are killed with the disk full read exited (also after an agent restart), state.json saved once there is room; store verified",
	})
}

// archiveFile writes img as a docker save archive, tagged ref, into a
// file of the test's and returns its path.
func archiveFile(t *testing.T, ref string, img v1.Image) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "image.tar")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := testimages.WriteDockerArchive(f, map[string]v1.Image{ref: img}); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return p
}

// stack is an image of lower's layers under upper's, running sh.
func stack(t *testing.T, lower, upper v1.Image) v1.Image {
	t.Helper()
	var layers []v1.Layer
	for _, img := range []v1.Image{lower, upper} {
		ls, err := img.Layers()
		if err != nil {
			t.Fatal(err)
		}
		layers = append(layers, ls...)
	}
	out, err := testimages.Build(runtime.GOARCH, layers, []string{"sh"}, testimages.PathEnv, false)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// busyboxAndBig are the test images busybox and big (100 MB of files).
func busyboxAndBig(t *testing.T) (bb, big v1.Image) {
	t.Helper()
	bb, err := testimages.Busybox()
	if err != nil {
		t.Fatal(err)
	}
	if big, err = testimages.Big(); err != nil {
		t.Fatal(err)
	}
	return bb, big
}
