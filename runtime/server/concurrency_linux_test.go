package server

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/berthvm/berth/internal/reliability"
	"github.com/berthvm/berth/internal/testimages"
)

// parallel runs fn(i) for i in [0, n) at once and waits for all.
func parallel(n int, fn func(i int)) {
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() { defer wg.Done(); fn(i) }()
	}
	wg.Wait()
}

// TestConcurrency: 50 docker run at once, a pull of one image by 4
// clients at once, and pairs of commands changing one container at once;
// each answers right and the store stays consistent.
func TestConcurrency(t *testing.T) {
	started := time.Now()
	a := startAgent(t)
	var runs, lost int64

	// 50 runs at once, each printing its own number.
	outs := make([]string, 50)
	codes := make([]int, 50)
	errs := make([]string, 50)
	parallel(50, func(i int) {
		outs[i], errs[i], codes[i] = docker(t, a.sock, "", "run", "--rm", "busybox", "echo", fmt.Sprint("run ", i))
	})
	for i := range outs {
		runs++
		if codes[i] != 0 || outs[i] != fmt.Sprintf("run %d\n", i) {
			t.Errorf("run %d of 50 at once: exit %d, %q %q", i, codes[i], outs[i], errs[i])
			lost++
		}
	}
	if out, _, _ := docker(t, a.sock, "", "ps", "-aq"); out != "" {
		t.Errorf("containers left by 50 run --rm: %q", out)
	}

	// One image pulled by 4 clients at once.
	ly, err := testimages.Layered()
	if err != nil {
		t.Fatal(err)
	}
	ref := a.reg + "/concurrent:latest"
	if err := testimages.Push(context.Background(), ref, ly, "", ""); err != nil {
		t.Fatal(err)
	}
	parallel(4, func(i int) {
		if out, errOut, code := docker(t, a.sock, "", "pull", "-q", ref); code != 0 || !strings.Contains(out, ref) {
			t.Errorf("pull %d of 4 at once: exit %d, %q %q", i, code, out, errOut)
		}
	})
	runs += 4
	if out, _, _ := docker(t, a.sock, "", "images", "-q", ref); len(strings.Fields(out)) != 1 {
		t.Errorf("after 4 pulls at once, images %s = %q, want one", ref, out)
	}
	if out, errOut, code := docker(t, a.sock, "", "run", "--rm", ref, "cat", "/etc/motd"); code != 0 || strings.TrimSpace(out) != "layer 3" {
		t.Errorf("run the image 4 clients pulled at once: exit %d, %q %q", code, out, errOut)
	}

	// Two commands changing one container at once, both orders of each
	// pair: what is left is a container in one clear state, or none.
	pairs := [][2][]string{
		{{"stop", "-t", "1", "cc"}, {"kill", "cc"}},
		{{"rm", "-f", "cc"}, {"restart", "-t", "1", "cc"}},
		{{"rename", "cc", "cc1"}, {"rename", "cc", "cc2"}},
		{{"stop", "-t", "1", "cc"}, {"rm", "-f", "cc"}},
		{{"pause", "cc"}, {"kill", "cc"}},
	}
	for _, p := range pairs {
		for range 2 {
			docker(t, a.sock, "", "rm", "-f", "cc", "cc1", "cc2")
			if _, errOut, code := docker(t, a.sock, "", "run", "-d", "--name", "cc", "busybox", "sleep", "1000"); code != 0 {
				t.Fatalf("run cc: %s", errOut)
			}
			parallel(2, func(i int) { docker(t, a.sock, "", p[i]...) })
			runs += 2
			out, _, _ := docker(t, a.sock, "", "ps", "-a", "--format", "{{.Names}} {{.State}}")
			for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
				if l == "" {
					continue
				}
				f := strings.Fields(l)
				if len(f) != 2 || (f[1] != "running" && f[1] != "exited" && f[1] != "paused") {
					t.Errorf("after %v and %v at once: %q", p[0], p[1], l)
					lost++
				}
			}
			p[0], p[1] = p[1], p[0]
		}
	}
	docker(t, a.sock, "", "unpause", "cc")
	docker(t, a.sock, "", "rm", "-f", "cc", "cc1", "cc2")
	lost += checkConsistent(t, a)
	reliability.Record(t, started, reliability.Row{
		Area: "concurrency", What: "50 runs at once, 4 pulls of one image at once, 5 pairs of commands on one container at once (both orders)",
		Runs: runs, Lost: lost, Notes: "every output right, one image listed, the container in one clear state or gone, store consistent",
	})
}
