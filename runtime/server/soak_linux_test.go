package server

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/berthvm/berth/internal/reliability"
	"github.com/berthvm/berth/internal/testnetns"
	"github.com/berthvm/berth/runtime/container"
)

// soakCycles is how many cycles TestSoak runs: BERTH_SOAK_CYCLES, or 20
// (the short form `make test` runs; `make soak` runs 500).
func soakCycles(t *testing.T) int {
	if s := os.Getenv("BERTH_SOAK_CYCLES"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			t.Fatalf("BERTH_SOAK_CYCLES=%q: want a positive number", s)
		}
		return n
	}
	return 20
}

// footprint is what an agent holds on its machine that a finished
// container must give back.
type footprint struct {
	mounts, links, nftLines, procs, fds int
	bytes                               int64
	heap                                uint64
}

func (f footprint) String() string {
	return fmt.Sprintf("%d mounts, %d links, %d nftables lines, %d processes, %d open files, %d bytes on disk, %d heap bytes",
		f.mounts, f.links, f.nftLines, f.procs, f.fds, f.bytes, f.heap)
}

// measure takes a's footprint. The agent runs in this process, in this
// test's network namespace (testnetns): its open files and memory are
// this process's; links and nftables rules are the namespace's.
func measure(t *testing.T, a *agent) footprint {
	t.Helper()
	var f footprint
	mi, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	f.mounts = strings.Count(string(mi), a.dir)
	links, err := os.ReadDir("/sys/class/net")
	if err != nil {
		t.Fatal(err)
	}
	f.links = len(links)
	out, err := exec.Command("nft", "list", "ruleset").Output()
	if err != nil {
		t.Fatalf("nft list ruleset: %v", err)
	}
	f.nftLines = strings.Count(string(out), "\n")
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range procs {
		if b, err := os.ReadFile(p); err == nil && strings.Contains(string(b), a.dir) {
			f.procs++
		}
	}
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	f.fds = len(fds)
	filepath.Walk(filepath.Join(a.dir, "state"), func(p string, fi os.FileInfo, err error) error {
		if err == nil {
			if st, ok := fi.Sys().(*syscall.Stat_t); ok {
				f.bytes += st.Blocks * 512
			}
		}
		return nil
	})
	// The least of three readings after a GC: what stays allocated.
	for i := 0; i < 3; i++ {
		runtime.GC()
		debug.FreeOSMemory()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		if i == 0 || ms.HeapAlloc < f.heap {
			f.heap = ms.HeapAlloc
		}
	}
	return f
}

// TestSoak runs mixed cycles on one agent (in-process, as the other tests
// of this package; a VM would make 500 cycles take hours under TCG): run
// -d with a published port and a volume, exec, run --rm on the bridge and
// on none, a second container reading the volume, a request through the
// published port, stop, rm, volume rm. Then nothing may be left behind:
// mounts, cgroups, veth pairs, nftables rules, processes, the agent's
// open files, bytes on the data disk (within 1 MB), the agent's memory
// (within 10% after a GC).
func TestSoak(t *testing.T) {
	if testnetns.Reexec(t) {
		return
	}
	started := time.Now()
	// Few kept events: the warm-up fills that bounded ring, so that the
	// memory measured after it is what containers leave.
	a := startAgent(t, func(o *Options) { o.Bridge = true; o.EventsKept = 32 })
	cycles := soakCycles(t)
	run := func(args ...string) string {
		t.Helper()
		out, errOut, code := docker(t, a.sock, "", args...)
		if code != 0 {
			t.Fatalf("docker %s: exit %d: %s%s", strings.Join(args, " "), code, out, errOut)
		}
		return out
	}
	cgRoot, err := container.CgroupRoot()
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	cidDir := t.TempDir()
	cycle := func(i int) {
		name, vol := fmt.Sprintf("soak%d", i), fmt.Sprintf("soakvol%d", i)
		id := strings.TrimSpace(run("run", "-d", "--name", name, "-p", "127.0.0.1::80", "-v", vol+":/data", "busybox",
			"sh", "-c", "echo cycle "+strconv.Itoa(i)+" > /data/f && exec httpd -f -p 80 -h /data"))
		ids = append(ids, id)
		if got := run("exec", name, "cat", "/data/f"); got != fmt.Sprintf("cycle %d\n", i) {
			t.Fatalf("cycle %d: exec read %q", i, got)
		}
		for _, netw := range []string{"bridge", "none"} {
			cid := filepath.Join(cidDir, fmt.Sprintf("%d-%s", i, netw))
			run("run", "--rm", "--cidfile", cid, "--network", netw, "-v", vol+":/data:ro", "busybox", "cat", "/data/f")
			if b, err := os.ReadFile(cid); err == nil {
				ids = append(ids, strings.TrimSpace(string(b)))
			}
		}
		port := strings.TrimSpace(run("port", name, "80/tcp"))
		var body []byte
		var getErr error
		for try := 0; try < 50; try++ { // httpd may not listen yet
			var resp *http.Response
			if resp, getErr = http.Get("http://" + port + "/f"); getErr == nil {
				body, getErr = io.ReadAll(resp.Body)
				resp.Body.Close()
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		if getErr != nil || string(body) != fmt.Sprintf("cycle %d\n", i) {
			t.Fatalf("cycle %d: GET through %s: %q, %v", i, port, body, getErr)
		}
		run("stop", "-t", "1", name)
		run("rm", name)
		run("volume", "rm", vol)
	}
	// Warm up: caches, pools, the first network set-up, the kept events.
	for i := -3; i <= 0; i++ {
		cycle(i)
	}
	http.DefaultClient.CloseIdleConnections()
	before := measure(t, a)
	for i := 1; i <= cycles; i++ {
		cycle(i)
	}
	http.DefaultClient.CloseIdleConnections()
	var after footprint
	// What a finished container gives back may take a moment (a monitor
	// exiting, a connection closing).
	deadline := time.Now().Add(10 * time.Second)
	for {
		after = measure(t, a)
		if after.mounts == before.mounts && after.links == before.links && after.nftLines == before.nftLines &&
			after.procs == before.procs && after.fds <= before.fds || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	var lost int64
	check := func(what string, ok bool) {
		if !ok {
			t.Errorf("after %d cycles %s: before %v; after %v", cycles, what, before, after)
			lost++
		}
	}
	check("mounts are left", after.mounts == before.mounts)
	check("network links are left", after.links == before.links)
	check("nftables rules are left", after.nftLines == before.nftLines)
	check("processes are left", after.procs == before.procs)
	check("open files are left", after.fds <= before.fds)
	check("the data disk holds more than 1 MB more", after.bytes-before.bytes <= 1<<20)
	check("the agent's memory grew more than 10%", float64(after.heap) <= 1.1*float64(before.heap))
	leftCgroups := 0
	for _, id := range ids {
		if _, err := os.Stat(filepath.Join(cgRoot, "berth", id)); err == nil {
			leftCgroups++
		}
	}
	check(fmt.Sprintf("%d of %d containers' cgroups are left", leftCgroups, len(ids)), leftCgroups == 0)
	if out := run("ps", "-aq"); out != "" {
		t.Errorf("containers left: %q", out)
	}
	if out := run("volume", "ls", "-q"); out != "" {
		t.Errorf("volumes left: %q", out)
	}
	lost += checkConsistent(t, a)
	t.Logf("%d cycles: before %v; after %v", cycles, before, after)
	reliability.Record(t, started, reliability.Row{
		Area: "soak", What: "mixed container cycles on one agent (in-process)", Runs: int64(cycles), Lost: lost,
		Notes: fmt.Sprintf("run -d -p -v, exec, run --rm bridge+none, GET via -p, stop, rm, volume rm; left: mounts %+d, links %+d, nft lines %+d, processes %+d, fds %+d, cgroups %d, disk %+d B, heap %+.1f%%",
			after.mounts-before.mounts, after.links-before.links, after.nftLines-before.nftLines, after.procs-before.procs, after.fds-before.fds, leftCgroups, after.bytes-before.bytes, 100*(float64(after.heap)/float64(before.heap)-1)),
	})
}
