package server

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/berthvm/berth/internal/testenv"
	"github.com/berthvm/berth/internal/testimages"
	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// benchDockerfile: a base image, a context of 300 files and a 8 MB one,
// shell work in RUN, metadata, and a copied app file late (the file the
// "one file changed" case edits).
const benchDockerfile = `FROM %s
ENV APP=/srv/app LANG=C.UTF-8
WORKDIR /srv/app
COPY lib/ ./lib/
COPY blob.bin ./
RUN for i in $(seq 1 200); do echo "$i" > /tmp/gen.$i; done && cat lib/*.txt | wc -l > lines.txt
LABEL org.example.bench=build
EXPOSE 8080
COPY app.sh ./
RUN sh app.sh > out.txt
CMD ["sh", "app.sh"]
`

// TestBuildBench (opt-in: BERTH_BENCH_BUILD=1, root, the host's Docker
// Engine): the same Dockerfile and context built by the agent (in this
// process, natively) and by this host's Docker Engine with the classic
// builder (DOCKER_BUILDKIT=0 docker build): cold (--no-cache), a cached
// rebuild, and a rebuild after one copied file changed. Prints BENCH lines;
// scripts/bench-build.sh puts them in BENCHMARKS.md. The host engine gets
// a base image and the built tag for the run; both are removed after.
func TestBuildBench(t *testing.T) {
	if os.Getenv("BERTH_BENCH_BUILD") == "" {
		t.Skip("a benchmark: BERTH_BENCH_BUILD=1 (scripts/bench-build.sh)")
	}
	testenv.NeedCommand(t, "docker")
	rounds := 3
	a := startAgent(t)
	base := fmt.Sprintf("berth-bench-base:%d", os.Getpid())
	tag := fmt.Sprintf("berth-bench-build:%d", os.Getpid())
	bb, err := testimages.Busybox()
	if err != nil {
		t.Fatal(err)
	}
	tarball := filepath.Join(t.TempDir(), "base.tar")
	f, err := os.Create(tarball)
	if err != nil {
		t.Fatal(err)
	}
	if err := testimages.WriteDockerArchive(f, map[string]v1.Image{base: bb}); err != nil {
		t.Fatal(err)
	}
	f.Close()
	for _, host := range []string{"", a.sock} {
		if o, e, c := docker(t, host, "", "load", "-i", tarball); c != 0 {
			t.Fatalf("docker load: %s%s", o, e)
		}
	}
	// Every image a host build made is removed at the end (with its
	// intermediate images), then the base: the host engine is left as it
	// was, its build cache included.
	var made []string
	t.Cleanup(func() {
		docker(t, "", "", "rmi", "-f", tag)
		for _, id := range made {
			docker(t, "", "", "rmi", id)
		}
		docker(t, "", "", "rmi", base)
	})

	dir := t.TempDir()
	files := map[string]string{"Dockerfile": fmt.Sprintf(benchDockerfile, base), "app.sh": "echo app v1; cat lines.txt\n"}
	for i := range 300 {
		files[fmt.Sprintf("lib/f%03d.txt", i)] = strings.Repeat(fmt.Sprintf("line %d\n", i), 20)
	}
	writeFiles(t, dir, files)
	blob := make([]byte, 8<<20)
	for i := range blob {
		blob[i] = byte(i * 7)
	}
	if err := os.WriteFile(filepath.Join(dir, "blob.bin"), blob, 0o644); err != nil {
		t.Fatal(err)
	}
	time1 := func(host string, args ...string) time.Duration {
		start := time.Now()
		cmd := exec.Command("docker", append(append([]string{}, hostArgs(host)...), args...)...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "DOCKER_BUILDKIT=0")
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("docker %v: %v\n%s", args, err, out)
		}
		took := time.Since(start)
		if host == "" {
			made = append(made, strings.TrimSpace(string(out)))
		}
		return took
	}
	engines := []struct{ name, host string }{{"berth", a.sock}, {"docker", ""}}
	type row struct{ berth, docker []time.Duration }
	cases := []string{"cold (--no-cache)", "cached rebuild", "one copied file changed"}
	res := map[string]*row{}
	for _, c := range cases {
		res[c] = &row{}
	}
	for r := range rounds {
		for _, e := range engines {
			add := func(c string, d time.Duration) {
				if e.name == "berth" {
					res[c].berth = append(res[c].berth, d)
				} else {
					res[c].docker = append(res[c].docker, d)
				}
			}
			add(cases[0], time1(e.host, "build", "-q", "--no-cache", "-t", tag, "."))
			add(cases[1], time1(e.host, "build", "-q", "-t", tag, "."))
			writeFiles(t, dir, map[string]string{"app.sh": fmt.Sprintf("echo app v%d-%s; cat lines.txt\n", r+2, e.name)})
			add(cases[2], time1(e.host, "build", "-q", "-t", tag, "."))
		}
	}
	for _, c := range cases {
		fmt.Printf("BENCH build %q berth_ms=%d docker_ms=%d rounds=%d\n", c, median(res[c].berth).Milliseconds(), median(res[c].docker).Milliseconds(), rounds)
	}
}

func hostArgs(host string) []string {
	if host == "" {
		return nil
	}
	return []string{"-H", "unix://" + host}
}

func median(ds []time.Duration) time.Duration {
	s := append([]time.Duration{}, ds...)
	for i := range s {
		for j := i + 1; j < len(s); j++ {
			if s[j] < s[i] {
				s[i], s[j] = s[j], s[i]
			}
		}
	}
	return s[len(s)/2]
}
