package server

import (
	"archive/tar"
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"

	"github.com/berthvm/berth/internal/testagent"
	"github.com/berthvm/berth/internal/testenv"
	"github.com/berthvm/berth/internal/testimages"
	"github.com/berthvm/berth/runtime/container"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
)

func TestMain(m *testing.M) {
	// Containers re-execute this test binary as their init and monitor.
	container.RunHidden(os.Args)
	os.Exit(m.Run())
}

// reportScript prints what the docker-merge rules decide, minus what
// differs between engines by design (hostname, container id).
const reportScript = `#!/bin/sh
echo "args: $*"
id
pwd
env | grep -Ev '^(HOSTNAME|PWD|SHLVL|_)=' | sort
`

// mergeImage is busybox with an entrypoint, cmd, env, working dir and user
// set, and users to switch to: the image the merge rules are checked on.
func mergeImage() (v1.Image, error) {
	files, err := testimages.BusyboxFiles()
	if err != nil {
		return nil, err
	}
	var kept []testimages.File
	for _, f := range files {
		if f.Name != "etc/passwd" && f.Name != "etc/group" {
			kept = append(kept, f)
		}
	}
	kept = append(kept,
		testimages.File{Name: "etc/passwd", Body: []byte("root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\n")},
		testimages.File{Name: "etc/group", Body: []byte("root:x:0:\napp:x:1000:\nextra:x:2000:app\n")},
		testimages.File{Name: "home/", Type: tar.TypeDir},
		testimages.File{Name: "home/app/", Type: tar.TypeDir},
		testimages.File{Name: "usr/local/", Type: tar.TypeDir},
		testimages.File{Name: "usr/local/bin/", Type: tar.TypeDir},
		testimages.File{Name: "usr/local/bin/report", Mode: 0o755, Body: []byte(reportScript)},
	)
	l, err := testimages.Layer(kept, false)
	if err != nil {
		return nil, err
	}
	img, err := testimages.Build(runtime.GOARCH, []v1.Layer{l}, []string{"default-arg"}, []string{"PATH=/usr/local/bin:/usr/bin:/bin", "A=image", "B=image"}, false)
	if err != nil {
		return nil, err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.Config.Entrypoint = []string{"report"}
	cf.Config.WorkingDir = "/data"
	cf.Config.User = "app"
	return mutate.ConfigFile(img, cf)
}

// agent is an API server with busybox:latest, hello:latest and
// merge:latest loaded, serving on a unix socket the docker CLI talks to.
type agent struct {
	sock string
	srv  *Server // the agent's server, for checks of its stores
	dir  string  // holds the socket and the state (dir/state)
	reg  string  // host:port of the test registry its images came from
}

func startAgent(t *testing.T, edit ...func(*Options)) *agent {
	t.Helper()
	testenv.NeedRoot(t)
	testenv.NeedCommand(t, "docker")
	imgs := testagent.BaseImages(t)
	mi, err := mergeImage()
	if err != nil {
		t.Fatal(err)
	}
	imgs["merge"] = mi
	var srv *Server
	a := testagent.Start(t, imgs, func(state string) testagent.Server {
		opts := Options{StateDir: state}
		for _, e := range edit {
			e(&opts)
		}
		s := New(opts)
		srv = s
		// Runs after testagent's clean-up: release the image store.
		t.Cleanup(func() {
			if images, err := s.imageStore(); err == nil {
				images.Close()
			}
		})
		return s
	})
	return &agent{sock: a.Sock, srv: srv, dir: a.Dir, reg: a.Registry}
}

// docker runs the docker CLI against host ("" = the machine's Docker Engine).
func docker(t *testing.T, host string, stdin string, args ...string) (string, string, int) {
	t.Helper()
	if host != "" {
		args = append([]string{"-H", "unix://" + host}, args...)
	}
	cmd := exec.Command("docker", args...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("docker %s: %v", strings.Join(args, " "), err)
	}
	return out.String(), errOut.String(), code
}

func TestDockerCLI(t *testing.T) {
	a := startAgent(t)
	run := func(stdin string, args ...string) (string, string, int) { return docker(t, a.sock, stdin, args...) }

	tests := []struct {
		name     string
		stdin    string
		args     []string
		want     string
		wantCode int
	}{
		{"hello greets", "", []string{"run", "--rm", "hello"}, testimages.Greeting, 0},
		{"output", "", []string{"run", "--rm", "busybox", "echo", "hi there"}, "hi there\n", 0},
		{"exit code", "", []string{"run", "--rm", "busybox", "sh", "-c", "exit 3"}, "", 3},
		{"not found is 127", "", []string{"run", "--rm", "busybox", "nosuchcmd"}, "", 127},
		{"not executable is 126", "", []string{"run", "--rm", "busybox", "/etc/passwd"}, "", 126},
		{"stdin", "line1\nline2\n", []string{"run", "--rm", "-i", "busybox", "wc", "-l"}, "2\n", 0},
		// More input than the runtime keeps while the container starts:
		// the docker CLI sends it at once, and all of it arrives.
		{"stdin beyond 1 MiB", strings.Repeat("x", 3<<20+7), []string{"run", "--rm", "-i", "busybox", "wc", "-c"}, "3145735\n", 0},
		{"pid 1", "", []string{"run", "--rm", "busybox", "sh", "-c", "echo $$"}, "1\n", 0},
		{"killed is 137", "", []string{"run", "--rm", "busybox", "sh", "-c", "kill -9 $$; sleep 1; echo survived"}, "survived\n", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, errOut, code := run(tc.stdin, tc.args...)
			if out != tc.want || code != tc.wantCode {
				t.Errorf("docker %s = %q (exit %d), want %q (exit %d); stderr %q", strings.Join(tc.args, " "), out, code, tc.want, tc.wantCode, errOut)
			}
		})
	}

	// A detached container: ps, exec, logs, stop, rm.
	out, errOut, code := run("", "run", "-d", "--name", "web", "busybox", "sh", "-c", "echo started; trap 'exit 0' TERM; while true; do sleep 0.1; done")
	if code != 0 || len(strings.TrimSpace(out)) != 64 {
		t.Fatalf("run -d: %q %q exit %d", out, errOut, code)
	}
	steps := []struct {
		args     []string
		want     string
		wantCode int
	}{
		{[]string{"ps", "--format", "{{.Names}} {{.Image}} {{.Status}}"}, "web busybox Up", 0},
		{[]string{"exec", "web", "sh", "-c", "echo $((1+2)) from exec; ps -o comm | grep -c sh"}, "3 from exec\n", 0},
		{[]string{"exec", "-u", "nobody", "-w", "/tmp", "-e", "X=1", "web", "sh", "-c", "id -u; pwd; echo $X"}, "65534\n/tmp\n1\n", 0},
		{[]string{"exec", "web", "sh", "-c", "exit 4"}, "", 4},
		{[]string{"logs", "web"}, "started\n", 0},
		{[]string{"inspect", "--format", "{{.State.Status}} {{.State.Running}} {{.Name}}", "web"}, "running true /web\n", 0},
		{[]string{"stop", "-t", "5", "web"}, "web\n", 0},
		{[]string{"inspect", "--format", "{{.State.Status}} {{.State.ExitCode}}", "web"}, "exited 0\n", 0},
		{[]string{"ps", "-a", "--format", "{{.Names}} {{.Status}}"}, "web Exited (0)", 0},
		{[]string{"rm", "web"}, "web\n", 0},
		{[]string{"ps", "-a", "-q"}, "", 0},
	}
	for _, s := range steps {
		out, errOut, code := run("", s.args...)
		if !strings.HasPrefix(out, s.want) || code != s.wantCode {
			t.Errorf("docker %s = %q (exit %d), want prefix %q (exit %d); stderr %q", strings.Join(s.args, " "), out, code, s.want, s.wantCode, errOut)
		}
	}
}

// TestMergeRulesMatchDocker runs the same image with the same flags on the
// machine's Docker Engine and on berth and compares what the process sees.
func TestMergeRulesMatchDocker(t *testing.T) {
	a := startAgent(t)
	testenv.NeedCommand(t, "docker")
	if _, _, code := docker(t, "", "", "version"); code != 0 {
		testenv.Skip(t, "the machine's Docker Engine does not answer")
	}
	mi, err := mergeImage()
	if err != nil {
		t.Fatal(err)
	}
	var archive bytes.Buffer
	ref := "berthtest/merge:latest"
	if err := testimages.WriteDockerArchive(&archive, map[string]v1.Image{ref: mi}); err != nil {
		t.Fatal(err)
	}
	if out, errOut, code := docker(t, "", archive.String(), "load"); code != 0 {
		t.Fatalf("docker load: %s %s", out, errOut)
	}
	t.Cleanup(func() { docker(t, "", "", "rmi", "-f", ref) })
	cases := [][]string{
		{},
		{"x", "y"},
		{"--entrypoint", "sh", "-c", "echo entry; id -u"},
		{"--entrypoint", "", "report", "cleared"},
		{"-e", "A=override", "-e", "NEW=1"},
		{"-w", "/other/dir"},
		{"-u", "root"},
		{"-u", "1000:2000"},
		{"-u", "1234"},
		{"-u", "app:extra"},
		{"-t"},
	}
	for _, c := range cases {
		t.Run(strings.Join(c, " "), func(t *testing.T) {
			args := []string{"run", "--rm"}
			var cmd []string
			for i := 0; i < len(c); i++ {
				if strings.HasPrefix(c[i], "-") {
					args = append(args, c[i])
					if c[i] != "-t" {
						args = append(args, c[i+1])
						i++
					}
					continue
				}
				cmd = append(cmd, c[i:]...)
				break
			}
			if len(c) >= 3 && c[0] == "--entrypoint" {
				args, cmd = []string{"run", "--rm", "--entrypoint", c[1]}, c[2:]
			}
			wantOut, wantErr, wantCode := docker(t, "", "", append(append(args, ref), cmd...)...)
			gotOut, gotErr, gotCode := docker(t, a.sock, "", append(append(args, "merge"), cmd...)...)
			if gotOut != wantOut || gotCode != wantCode {
				t.Errorf("docker engine:\n%s(exit %d, stderr %q)\nberth:\n%s(exit %d, stderr %q)", wantOut, wantCode, wantErr, gotOut, gotCode, gotErr)
			}
		})
	}
	_ = fmt.Sprint
}
