package server

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/berthvm/berth/internal/testenv"
	"github.com/berthvm/berth/runtime/build"
	"github.com/berthvm/berth/runtime/container"
)

// dockerBuild runs the docker CLI with the classic builder forced
// (DOCKER_BUILDKIT=0) and a config folder of its own, so no buildx
// plugin is seen; it returns stdout, stderr and the exit code.
func dockerBuild(t *testing.T, sock, dir string, args ...string) (string, string, int) {
	t.Helper()
	return dockerBuildEnv(t, sock, dir, []string{"DOCKER_BUILDKIT=0"}, args...)
}

// dockerBuildEnv is dockerBuild with env instead of DOCKER_BUILDKIT=0
// (the test's own DOCKER_BUILDKIT left out).
func dockerBuildEnv(t *testing.T, sock, dir string, env []string, args ...string) (string, string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "docker", append([]string{"-H", "unix://" + sock}, args...)...)
	cmd.Dir = dir
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "DOCKER_BUILDKIT=") && !strings.HasPrefix(kv, "DOCKER_CONFIG=") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(append(cmd.Env, "DOCKER_CONFIG="+t.TempDir()), env...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return out.String(), errOut.String(), 0
	case errors.As(err, &ee):
		return out.String(), errOut.String(), ee.ExitCode()
	}
	t.Fatalf("docker %s: %v", strings.Join(args, " "), err)
	return "", "", 0
}

// writeFiles writes name -> content under dir.
func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, body := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

const everyInstruction = `# syntax is BuildKit's own parser's
ARG BASE=busybox
FROM ${BASE} AS tools
ARG GREETING=hello
RUN mkdir -p /out && echo "$GREETING from tools" > /out/greeting.txt
RUN echo built-by-tools > /out/tool.txt

FROM scratch AS files
COPY --chmod=0640 data/ /data/

FROM ${BASE}
LABEL org.example.app="demo" stage=final
MAINTAINER berth tests
ENV APP_HOME=/srv/app PATH_EXTRA=/opt/bin
ARG VERSION=0.0.0
ARG HTTP_PROXY
WORKDIR $APP_HOME
COPY app.sh ./
COPY --from=tools /out/greeting.txt /srv/app/
COPY --from=files /data /srv/data
COPY --chown=1000:1000 conf/*.conf /etc/app/
ADD archive.tar /srv/extracted/
ADD notes.txt /srv/notes.txt
RUN echo "version $VERSION" > /srv/app/version.txt && rm /etc/motd 2>/dev/null; true
RUN ["/bin/sh", "-c", "echo exec-form > /srv/app/exec.txt"]
SHELL ["/bin/sh", "-e", "-c"]
RUN test -f /srv/app/app.sh
USER 1000
EXPOSE 8080 9000/udp
VOLUME /var/lib/app
STOPSIGNAL SIGINT
HEALTHCHECK --interval=5s --timeout=2s CMD test -f /srv/app/app.sh
ONBUILD RUN echo triggered > /tmp/onbuild.txt
ENTRYPOINT ["/bin/sh", "/srv/app/app.sh"]
CMD ["world"]
`

const appScript = `echo "app says $1"
cat /srv/app/greeting.txt /srv/app/version.txt /srv/app/exec.txt /srv/data/d.txt /srv/extracted/inside.txt
`

// buildContextDir writes the context of everyInstruction.
func buildContextDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"Dockerfile":        everyInstruction,
		"app.sh":            appScript,
		"data/d.txt":        "data file\n",
		"conf/a.conf":       "a=1\n",
		"conf/b.conf":       "b=2\n",
		"conf/skip.txt":     "not copied\n",
		"notes.txt":         "notes\n",
		"secret.key":        "must not be sent\n",
		".dockerignore":     "secret.key\n",
		"tarsrc/inside.txt": "from the archive\n",
	})
	tarCmd := exec.Command("tar", "-C", filepath.Join(dir, "tarsrc"), "-cf", filepath.Join(dir, "archive.tar"), "inside.txt")
	if out, err := tarCmd.CombinedOutput(); err != nil {
		t.Fatalf("tar: %v: %s", err, out)
	}
	return dir
}

var stepRe = regexp.MustCompile(`(?m)^Step (\d+)/(\d+) : (.*)$`)

// TestDockerBuild: the docker CLI builds a multi-stage Dockerfile using
// every instruction through the classic builder endpoint; the image runs
// and carries its config; a rebuild uses the cache for every step; a
// change to one copied file rebuilds from that step on.
func TestDockerBuild(t *testing.T) {
	a := startAgent(t)
	dir := buildContextDir(t)
	out, errOut, code := dockerBuild(t, a.sock, dir, "build", "--build-arg", "VERSION=1.2.3", "-t", "demo", "-t", "demo:v1", ".")
	if code != 0 {
		t.Fatalf("docker build: exit %d\n%s\n%s", code, out, errOut)
	}
	t.Logf("build output:\n%s%s", out, errOut)
	for _, want := range []string{"Successfully built ", "Successfully tagged demo:latest", "Successfully tagged demo:v1", "Step 1/", " ---> Running in "} {
		if !strings.Contains(out, want) {
			t.Errorf("build output lacks %q", want)
		}
	}
	run := func(args ...string) string {
		t.Helper()
		o, e, c := docker(t, a.sock, "", args...)
		if c != 0 {
			t.Fatalf("docker %v: exit %d: %s%s", args, c, o, e)
		}
		return o
	}
	got := run("run", "--rm", "demo")
	for _, want := range []string{"app says world", "hello from tools", "version 1.2.3", "exec-form", "data file", "from the archive"} {
		if !strings.Contains(got, want) {
			t.Errorf("the image's output lacks %q:\n%s", want, got)
		}
	}
	checks := map[string]string{
		"{{.Config.User}}":                           "1000",
		"{{.Config.WorkingDir}}":                     "/srv/app",
		"{{json .Config.Entrypoint}}":                `["/bin/sh","/srv/app/app.sh"]`,
		"{{json .Config.Cmd}}":                       `["world"]`,
		"{{.Config.StopSignal}}":                     "SIGINT",
		`{{index .Config.Labels "org.example.app"}}`: "demo",
		"{{json .Config.ExposedPorts}}":              `{"8080/tcp":{},"9000/udp":{}}`,
		"{{json .Config.Volumes}}":                   `{"/var/lib/app":{}}`,
		"{{json .Config.OnBuild}}":                   `["RUN echo triggered > /tmp/onbuild.txt"]`,
		"{{json .Config.Shell}}":                     `["/bin/sh","-e","-c"]`,
		"{{json .Config.Healthcheck.Test}}":          `["CMD-SHELL","test -f /srv/app/app.sh"]`,
		"{{.Author}}":                                "berth tests",
	}
	for f, want := range checks {
		if got := strings.TrimSpace(run("image", "inspect", "-f", f, "demo")); got != want {
			t.Errorf("inspect %s = %q, want %q", f, got, want)
		}
	}
	files := run("run", "--rm", "--entrypoint", "sh", "demo", "-c",
		"stat -c '%n %u:%g %a' /etc/app/a.conf /srv/data/d.txt; ls /etc/app; test -e /etc/motd && echo motd-kept; env | grep -c HTTP_PROXY; echo $APP_HOME")
	for _, want := range []string{"/etc/app/a.conf 1000:1000", "/srv/data/d.txt 0:0 640", "a.conf\nb.conf\n", "0\n/srv/app"} {
		if !strings.Contains(files, want) {
			t.Errorf("files in the image: want %q in:\n%s", want, files)
		}
	}
	if strings.Contains(files, "motd-kept") {
		t.Errorf("a file RUN removed is still there (whiteout lost):\n%s", files)
	}
	if h := run("history", "--no-trunc", "--format", "{{.CreatedBy}}", "demo"); !strings.Contains(h, "|1 VERSION=1.2.3 /bin/sh -c echo") || !strings.Contains(h, "#(nop)  ENV APP_HOME=/srv/app") {
		t.Errorf("history lacks the RUN with its build arg or the ENV:\n%s", h)
	}
	id := strings.TrimSpace(run("image", "inspect", "-f", "{{.Id}}", "demo"))

	// Nothing changed: every step comes from the cache, same image.
	out2, errOut2, code := dockerBuild(t, a.sock, dir, "build", "--build-arg", "VERSION=1.2.3", "-t", "demo", ".")
	if code != 0 {
		t.Fatalf("rebuild: exit %d\n%s\n%s", code, out2, errOut2)
	}
	steps := len(stepRe.FindAllString(out2, -1))
	fromSteps := 3
	if n := strings.Count(out2, "---> Using cache"); n != steps-fromSteps {
		t.Errorf("rebuild used the cache %d times for %d steps (%d FROM):\n%s", n, steps, fromSteps, out2)
	}
	if strings.Contains(out2, "Running in") {
		t.Errorf("rebuild ran a step:\n%s", out2)
	}
	if id2 := strings.TrimSpace(run("image", "inspect", "-f", "{{.Id}}", "demo")); id2 != id {
		t.Errorf("cached rebuild made %s, first build %s", id2, id)
	}

	// One copied file changed: the steps before it come from the cache,
	// it and those after run again.
	writeFiles(t, dir, map[string]string{"conf/b.conf": "b=3\n"})
	out3, errOut3, code := dockerBuild(t, a.sock, dir, "build", "--build-arg", "VERSION=1.2.3", "-t", "demo", ".")
	if code != 0 {
		t.Fatalf("rebuild after a change: exit %d\n%s\n%s", code, out3, errOut3)
	}
	parts := strings.SplitN(out3, "COPY --chown=1000:1000 conf/*.conf /etc/app/", 2)
	if len(parts) != 2 {
		t.Fatalf("no COPY conf step in:\n%s", out3)
	}
	if n := strings.Count(parts[1], "Using cache"); n != 0 {
		t.Errorf("steps after the changed COPY came from the cache (%d):\n%s", n, out3)
	}
	if n := strings.Count(parts[0], "Using cache"); n < 8 {
		t.Errorf("steps before the changed COPY did not come from the cache (%d):\n%s", n, out3)
	}
	if got := run("run", "--rm", "--entrypoint", "cat", "demo", "/etc/app/b.conf"); got != "b=3\n" {
		t.Errorf("b.conf after the rebuild = %q", got)
	}
	if got := run("run", "--rm", "--entrypoint", "ls", "demo", "/srv"); strings.Contains(got, "secret") {
		t.Errorf(".dockerignore'd file reached the image: %s", got)
	}
}

// TestDockerBuildOptions: -f, --target, --no-cache, -q, --label and an
// image whose ONBUILD triggers run when it is a base.
func TestDockerBuildOptions(t *testing.T) {
	a := startAgent(t)
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"build/app.Dockerfile": "FROM busybox AS one\nRUN echo one > /one\nFROM one AS two\nRUN echo two > /two\nFROM two\nRUN echo three > /three\n",
		"base.Dockerfile":      "FROM busybox\nONBUILD COPY hello.txt /hello.txt\nONBUILD RUN cat /hello.txt > /seen.txt\n",
		"child.Dockerfile":     "FROM onbase\nRUN cat /seen.txt\n",
		"hello.txt":            "hi from the child's context\n",
	})
	run := func(args ...string) string {
		t.Helper()
		o, e, c := docker(t, a.sock, "", args...)
		if c != 0 {
			t.Fatalf("docker %v: exit %d: %s%s", args, c, o, e)
		}
		return o
	}
	build := func(args ...string) string {
		t.Helper()
		o, e, c := dockerBuild(t, a.sock, dir, append([]string{"build"}, args...)...)
		if c != 0 {
			t.Fatalf("docker build %v: exit %d: %s%s", args, c, o, e)
		}
		return o
	}
	build("-f", "build/app.Dockerfile", "--target", "two", "-t", "two", ".")
	if got := run("run", "--rm", "two", "cat", "/one", "/two"); got != "one\ntwo\n" {
		t.Errorf("target two holds %q", got)
	}
	if _, _, c := docker(t, a.sock, "", "run", "--rm", "two", "test", "-e", "/three"); c == 0 {
		t.Error("--target two ran the stage after it")
	}
	out := build("-f", "build/app.Dockerfile", "--no-cache", "--label", "team=build", "-t", "three", ".")
	if strings.Contains(out, "Using cache") {
		t.Errorf("--no-cache used the cache:\n%s", out)
	}
	if got := strings.TrimSpace(run("image", "inspect", "-f", `{{index .Config.Labels "team"}}`, "three")); got != "build" {
		t.Errorf("--label team=build: label is %q", got)
	}
	q := strings.TrimSpace(build("-q", "-f", "build/app.Dockerfile", "--label", "team=build", "."))
	if id := strings.TrimSpace(run("image", "inspect", "-f", "{{.Id}}", "three")); q != id {
		t.Errorf("docker build -q printed %q, want the image ID %s", q, id)
	}
	// Without DOCKER_BUILDKIT and without a buildx plugin, the docker CLI
	// says BuildKit's component is missing and uses the classic builder.
	o, e, c := dockerBuildEnv(t, a.sock, dir, nil, "build", "-f", "build/app.Dockerfile", "-t", "nobuildkit", ".")
	if c != 0 || !strings.Contains(o, "Successfully tagged nobuildkit:latest") {
		t.Errorf("docker build without DOCKER_BUILDKIT: exit %d\n%s%s", c, o, e)
	}
	t.Logf("docker build without DOCKER_BUILDKIT nor buildx, stderr:\n%s", e)
	build("-f", "base.Dockerfile", "-t", "onbase", ".")
	out = build("-f", "child.Dockerfile", "-t", "onchild", ".")
	if !strings.Contains(out, "hi from the child's context") || !strings.Contains(out, "Executing 2 build triggers") {
		t.Errorf("the ONBUILD triggers did not run:\n%s", out)
	}
	if got := strings.TrimSpace(run("image", "inspect", "-f", "{{json .Config.OnBuild}}", "onchild")); got != "null" && got != "[]" {
		t.Errorf("the child kept its base's triggers: %s", got)
	}
}

// TestDockerBuildBadInput: what a build refuses, and that a failed build
// leaves no image and no build container.
func TestDockerBuildBadInput(t *testing.T) {
	a := startAgent(t)
	tests := []struct {
		name, dockerfile string
		want             []string
		code             int
	}{
		{"syntax error names file and line", "FROM busybox\nRUN true\nFOO bar\n", []string{"Dockerfile:3", "unknown instruction: FOO"}, 1},
		{"copy outside the context", "FROM busybox\nCOPY ../secret /x\n", []string{"Dockerfile:2", "forbidden path outside the build context: ../secret"}, 1},
		{"copy of a missing path", "FROM busybox\nCOPY nothere.txt /x\n", []string{"Dockerfile:2", "file not found in build context", "nothere.txt"}, 1},
		{"failing run shows output and code", "FROM busybox\nRUN echo about to fail && exit 3\n", []string{"about to fail", "returned a non-zero code: 3"}, 3},
		{"run --mount", "FROM busybox\nRUN --mount=type=cache,target=/c true\n", []string{"Dockerfile:2", "needs BuildKit"}, 1},
		{"missing base", "FROM 127.0.0.1:1/nothing/here\n", []string{"pull base image"}, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			writeFiles(t, dir, map[string]string{"Dockerfile": tc.dockerfile})
			before, _, _ := docker(t, a.sock, "", "images", "-aq")
			out, errOut, code := dockerBuild(t, a.sock, dir, "build", "-t", "bad", ".")
			if code == 0 {
				t.Fatalf("build succeeded:\n%s", out)
			}
			all := out + errOut
			for _, w := range tc.want {
				if !strings.Contains(all, w) {
					t.Errorf("output lacks %q:\n%s", w, all)
				}
			}
			if after, _, _ := docker(t, a.sock, "", "images", "-aq"); after != before {
				t.Errorf("a failed build changed the images: %q -> %q", before, after)
			}
			if ps, _, _ := docker(t, a.sock, "", "ps", "-aq"); strings.TrimSpace(ps) != "" {
				t.Errorf("a failed build left containers: %s", ps)
			}
		})
	}
}

// TestBuildCancelAndConcurrent: a client that goes away mid-RUN stops
// the build, leaving no container and no image; two builds at once each
// get their own result; builder prune frees the cache that system df
// counts.
func TestBuildCancelAndConcurrent(t *testing.T) {
	a := startAgent(t)
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"slow/Dockerfile": "FROM busybox\nRUN echo started; sleep 60\n",
		"a/Dockerfile":    "FROM busybox\nCOPY f /f\nRUN sleep 1; cat /f > /g\n",
		"a/f":             "from a\n",
		"b/Dockerfile":    "FROM busybox\nCOPY f /f\nRUN sleep 1; cat /f > /g\n",
		"b/f":             "from b\n",
	})
	cmd := exec.Command("docker", "-H", "unix://"+a.sock, "build", "-t", "slow", ".")
	cmd.Dir = filepath.Join(dir, "slow")
	cmd.Env = append(os.Environ(), "DOCKER_BUILDKIT=0", "DOCKER_CONFIG="+t.TempDir())
	pr, pw, _ := os.Pipe()
	cmd.Stdout = pw
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pw.Close()
	buf := make([]byte, 4096)
	var seen string
	for !strings.Contains(seen, "started") {
		n, err := pr.Read(buf)
		if err != nil {
			t.Fatalf("build output ended before RUN started: %q", seen)
		}
		seen += string(buf[:n])
	}
	cmd.Process.Kill()
	cmd.Wait()
	deadline := time.Now().Add(30 * time.Second)
	for {
		ps, _, _ := docker(t, a.sock, "", "ps", "-aq")
		if strings.TrimSpace(ps) == "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the build container outlived its client: %s", ps)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if _, _, c := docker(t, a.sock, "", "image", "inspect", "slow"); c == 0 {
		t.Error("a cancelled build tagged its image")
	}

	type res struct {
		name, out string
		code      int
	}
	done := make(chan res, 2)
	for _, n := range []string{"a", "b"} {
		go func() {
			o, e, c := dockerBuild(t, a.sock, filepath.Join(dir, n), "build", "-t", "par-"+n, ".")
			done <- res{n, o + e, c}
		}()
	}
	for range 2 {
		r := <-done
		if r.code != 0 {
			t.Fatalf("build %s: exit %d\n%s", r.name, r.code, r.out)
		}
	}
	for _, n := range []string{"a", "b"} {
		if o, _, _ := docker(t, a.sock, "", "run", "--rm", "par-"+n, "cat", "/g"); o != "from "+n+"\n" {
			t.Errorf("par-%s holds %q", n, o)
		}
	}
	df, _, _ := docker(t, a.sock, "", "system", "df", "--format", "{{.Type}} {{.TotalCount}}")
	if !regexp.MustCompile(`Build Cache [1-9]`).MatchString(df) {
		t.Errorf("system df counts no build cache:\n%s", df)
	}
	out, errOut, code := docker(t, a.sock, "", "builder", "prune", "-f")
	if code != 0 || !strings.Contains(out, "Total reclaimed space") {
		t.Errorf("builder prune: exit %d: %s%s", code, out, errOut)
	}
	df, _, _ = docker(t, a.sock, "", "system", "df", "--format", "{{.Type}} {{.TotalCount}}")
	if !strings.Contains(df, "Build Cache 0") {
		t.Errorf("system df after builder prune:\n%s", df)
	}
	if o, _, _ := docker(t, a.sock, "", "run", "--rm", "par-a", "cat", "/g"); o != "from a\n" {
		t.Errorf("builder prune broke a built image: %q", o)
	}
	o, e, c := dockerBuild(t, a.sock, filepath.Join(dir, "a"), "build", "-t", "par-a", ".")
	if c != 0 || strings.Contains(o, "Using cache") {
		t.Errorf("after builder prune the build used a cache (exit %d):\n%s%s", c, o, e)
	}
}

// TestBuildLeftoversRemovedAtStart: what a killed agent's build left
// (a build container, the build folder) is gone when the builder opens
// again, as at the next agent start; other containers stay.
func TestBuildLeftoversRemovedAtStart(t *testing.T) {
	testenv.NeedRoot(t)
	dir := t.TempDir()
	s := New(Options{StateDir: filepath.Join(dir, "state")})
	images, err := s.imageStore()
	if err != nil {
		t.Fatal(err)
	}
	defer images.Close()
	rt, err := s.containerRuntime()
	if err != nil {
		t.Fatal(err)
	}
	lower := t.TempDir()
	ctx := context.Background()
	mk := func(labels map[string]string) string {
		info, err := rt.Create(ctx, container.Spec{LowerDirs: []string{lower}, Args: []string{"true"}, WorkingDir: "/", Labels: labels})
		if err != nil {
			t.Fatal(err)
		}
		return info.Spec.ID
	}
	left := mk(map[string]string{build.BuildLabel: "killed"})
	kept := mk(nil)
	defer rt.Remove(ctx, kept, true)
	stale := filepath.Join(dir, "state", BuildDir, "0123", "context")
	if err := os.MkdirAll(stale, 0o700); err != nil {
		t.Fatal(err)
	}
	s.openBuilder()
	if s.builder.err != nil {
		t.Fatal(s.builder.err)
	}
	if _, err := rt.Get(left); err == nil {
		t.Error("the build container a killed build left is still there")
	}
	if _, err := rt.Get(kept); err != nil {
		t.Errorf("a container of the user's went with the leftovers: %v", err)
	}
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("the build folder a killed build left is still there: %v", err)
	}
}

// TestDockerBuildAddURL: ADD of a URL is fetched by the agent and checked
// against --checksum; a wrong checksum is refused with both digests.
func TestDockerBuildAddURL(t *testing.T) {
	a := startAgent(t)
	body := "fetched over http\n"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, body) }))
	defer srv.Close()
	sum := sha256.Sum256([]byte(body))
	good := "sha256:" + hex.EncodeToString(sum[:])
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"Dockerfile":     "FROM busybox\nADD --checksum=" + good + " " + srv.URL + "/files/note.txt /srv/\n",
		"bad/Dockerfile": "FROM busybox\nADD --checksum=sha256:" + strings.Repeat("0", 64) + " " + srv.URL + "/note.txt /n\n",
	})
	if o, e, c := dockerBuild(t, a.sock, dir, "build", "-t", "fetched", "."); c != 0 {
		t.Fatalf("build: exit %d\n%s%s", c, o, e)
	}
	if o, _, _ := docker(t, a.sock, "", "run", "--rm", "fetched", "cat", "/srv/note.txt"); o != body {
		t.Errorf("/srv/note.txt = %q", o)
	}
	o, e, c := dockerBuild(t, a.sock, filepath.Join(dir, "bad"), "build", ".")
	if c == 0 || !strings.Contains(o+e, "checksum is "+good) {
		t.Errorf("a wrong checksum: exit %d\n%s%s", c, o, e)
	}
}
