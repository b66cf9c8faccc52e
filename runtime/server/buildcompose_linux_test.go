package server

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/berthvm/berth/internal/testenv"
	"github.com/berthvm/berth/internal/testnetns"
)

const composeBuildFile = `version: "2.4"
services:
  web:
    build:
      context: ./web
      args:
        GREETING: hello-compose
    image: shop-web:dev
    command: ["sh", "-c", "cat /greeting; sleep 30"]
`

// composeWithEnv runs a compose binary in dir against sock with env
// added, and returns its combined output and exit code.
func composeWithEnv(t *testing.T, bin, sock, dir string, env []string, args ...string) (string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = dir
	cmd.Env = append(append(os.Environ(), "DOCKER_HOST=unix://"+sock, "COMPOSE_PROJECT_NAME=shop", "DOCKER_CONFIG="+t.TempDir()), env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		return out.String(), ee.ExitCode()
	}
	if err != nil {
		t.Fatalf("%s %v: %v", bin, args, err)
	}
	return out.String(), 0
}

// TestComposeBuild: docker-compose 1.29.2 (its own builder client) and
// docker compose v5 (no buildx plugin: it falls back to the classic
// builder) build a service with build args through POST /build, and
// up --build runs it.
func TestComposeBuild(t *testing.T) {
	if testnetns.Reexec(t) {
		return
	}
	testenv.NeedCommand(t, "docker-compose")
	a := startAgent(t, func(o *Options) { o.Bridge = true })
	composes := []struct {
		name, bin string
		env       []string
	}{
		{"1.29.2", "docker-compose", []string{"COMPOSE_DOCKER_CLI_BUILD=0"}},
		{"v5", composeV5(t), nil},
	}
	for _, c := range composes {
		bin, env := c.bin, c.env
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			writeFiles(t, dir, map[string]string{
				"docker-compose.yml": composeBuildFile,
				"web/Dockerfile":     "FROM busybox\nARG GREETING=unset\nCOPY page.txt /page.txt\nRUN echo \"$GREETING\" > /greeting\n",
				"web/page.txt":       "page\n",
			})
			out, code := composeWithEnv(t, bin, a.sock, dir, env, "build")
			if code != 0 {
				t.Fatalf("compose build: exit %d\n%s", code, out)
			}
			if got, _, _ := docker(t, a.sock, "", "run", "--rm", "shop-web:dev", "cat", "/greeting"); got != "hello-compose\n" {
				t.Errorf("the built image's /greeting = %q\n%s", got, out)
			}
			writeFiles(t, dir, map[string]string{"web/page.txt": "page 2\n"})
			out, code = composeWithEnv(t, bin, a.sock, dir, env, "up", "-d", "--build")
			if code != 0 {
				t.Fatalf("compose up --build: exit %d\n%s", code, out)
			}
			defer composeWithEnv(t, bin, a.sock, dir, env, "down", "-t", "0")
			if got, _, _ := docker(t, a.sock, "", "run", "--rm", "shop-web:dev", "cat", "/page.txt"); got != "page 2\n" {
				t.Errorf("up --build did not rebuild: /page.txt = %q\n%s", got, out)
			}
			deadline := time.Now().Add(30 * time.Second)
			for {
				logs, _ := composeWithEnv(t, bin, a.sock, dir, env, "logs", "web")
				if strings.Contains(logs, "hello-compose") {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("the service did not run the built image:\n%s", logs)
				}
				time.Sleep(300 * time.Millisecond)
			}
		})
	}
}
