package server

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/berthvm/berth/internal/testenv"
	"github.com/berthvm/berth/internal/testnetns"
)

// composeProjectFile has two services on compose's default project
// network (no network_mode): client reaches web by its service name,
// and by its link alias.
const composeProjectFile = `version: "2.4"
services:
  web:
    image: busybox
    command: ["sh", "-c", "mkdir -p /w && echo composed > /w/index.html && exec httpd -f -p 80 -h /w"]
  client:
    image: busybox
    links: ["web:webalias"]
    command: ["sleep", "300"]
`

// TestDockerComposeProjectNetwork runs Debian's docker-compose 1.29.2
// against the agent: up -d makes the project network and joins both
// services to it, ps lists them, down removes them and the network.
func TestDockerComposeProjectNetwork(t *testing.T) {
	if testnetns.Reexec(t) {
		return
	}
	testenv.NeedCommand(t, "docker-compose")
	a := startAgent(t, func(o *Options) { o.Bridge = true })
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "docker-compose.yml"), []byte(composeProjectFile), 0o644); err != nil {
		t.Fatal(err)
	}
	project := func(args ...string) string {
		t.Helper()
		out, code := compose(t, "docker-compose", a.sock, dir, append([]string{"-p", "cp"}, args...)...)
		if code != 0 {
			t.Fatalf("docker-compose %s: exit %d\n%s", strings.Join(args, " "), code, out)
		}
		return out
	}
	run := func(args ...string) (string, string, int) { return docker(t, a.sock, "", args...) }

	project("up", "-d")
	if out, _, _ := run("network", "ls", "--filter", "label=com.docker.compose.project=cp", "--format", "{{.Name}}"); out != "cp_default\n" {
		t.Errorf("project networks = %q, want cp_default", out)
	}
	for _, url := range []string{"http://web/", "http://webalias/", "http://cp_web_1/"} {
		if out, errOut, code := run("exec", "cp_client_1", "wget", "-qO-", url); code != 0 || out != "composed\n" {
			t.Errorf("client wget %s: exit %d, %q %q", url, code, out, errOut)
		}
	}
	ps := project("ps")
	for _, want := range []string{"cp_web_1", "cp_client_1", "Up"} {
		if !strings.Contains(ps, want) {
			t.Errorf("docker-compose ps lacks %q:\n%s", want, ps)
		}
	}
	project("up", "-d") // again: nothing to change
	project("down")
	if out, _, _ := run("ps", "-a", "--format", "{{.Names}}"); out != "" {
		t.Errorf("containers left after docker-compose down: %q", out)
	}
	if out, _, _ := run("network", "ls", "--format", "{{.Name}}"); out != "bridge\nhost\nnone\n" {
		t.Errorf("networks after docker-compose down = %q, want the predefined ones", out)
	}
}
