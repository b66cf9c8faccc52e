// Package testagent runs the agent's API server inside the test process, on
// a unix socket in a temporary folder with test images loaded, for tests
// that talk to it as the docker CLI, compose or a Docker API client do.
//
// A test binary that starts containers must let them re-execute it as
// their init, in its TestMain:
//
//	func TestMain(m *testing.M) {
//		container.RunHidden(os.Args)
//		os.Exit(m.Run())
//	}
package testagent

import (
	"bytes"
	"context"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/moby/moby/client"

	"github.com/berthvm/berth/internal/testenv"
	"github.com/berthvm/berth/internal/testimages"
	"github.com/berthvm/berth/internal/testregistry"
)

// Server is the agent's API server (runtime/server's *Server): testagent
// takes it as an interface so that runtime/server's own tests can use it.
type Server interface {
	Serve(ctx context.Context, ln net.Listener) error
}

// Agent is a running in-process agent.
type Agent struct {
	// Dir is the agent's temporary folder, removed when the test ends.
	Dir string
	// StateDir is Dir/state, the state folder offered to the server.
	StateDir string
	// Sock is the unix socket the agent serves the Docker API on.
	Sock string
	// Registry is the host:port of the test registry its images came from.
	Registry string
}

// Host is the agent's address for DOCKER_HOST and docker -H.
func (a *Agent) Host() string { return "unix://" + a.Sock }

// Client returns a Docker API client for the agent, closed when t ends.
func (a *Agent) Client(t testing.TB) *client.Client {
	t.Helper()
	c, err := client.New(client.WithHost(a.Host()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// BaseImages are busybox and hello (testimages) for this architecture.
func BaseImages(t testing.TB) map[string]v1.Image {
	t.Helper()
	bb, err := testimages.Busybox()
	if err != nil {
		t.Fatal(err)
	}
	hello, err := testimages.Hello(runtime.GOARCH)
	if err != nil {
		t.Fatal(err)
	}
	return map[string]v1.Image{"busybox": bb, "hello": hello}
}

// Start serves the server newServer makes (given the state folder to use)
// on a socket in a new temporary folder, then pulls images through its
// API from a test registry on 127.0.0.1 and tags each as NAME:latest
// (the registry's name for it stays too). When t ends it removes every
// container through the API, stops serving and removes the folder. It
// needs root.
func Start(t testing.TB, images map[string]v1.Image, newServer func(stateDir string) Server) *Agent {
	t.Helper()
	testenv.NeedRoot(t)
	reg := testregistry.Start(t, testregistry.Options{})
	ctx := context.Background()
	for name, img := range images {
		if err := testimages.Push(ctx, reg.Host+"/"+name+":latest", img, "", ""); err != nil {
			t.Fatal(err)
		}
	}
	// Not t.TempDir: a unix socket path must stay short.
	dir, err := os.MkdirTemp("", "berth-agent-")
	if err != nil {
		t.Fatal(err)
	}
	a := &Agent{Dir: dir, StateDir: filepath.Join(dir, "state"), Sock: filepath.Join(dir, "agent.sock"), Registry: reg.Host}
	srv := newServer(a.StateDir)
	ln, err := net.Listen("unix", a.Sock)
	if err != nil {
		os.RemoveAll(dir)
		t.Fatal(err)
	}
	sctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { srv.Serve(sctx, ln); close(done) }()
	t.Cleanup(func() {
		removeContainers(a.Host())
		cancel()
		<-done
		os.RemoveAll(dir)
	})
	c := a.Client(t)
	for name := range images {
		src := reg.Host + "/" + name + ":latest"
		if err := pull(ctx, c, src); err != nil {
			t.Fatalf("pull %s: %v", src, err)
		}
		if _, err := c.ImageTag(ctx, client.ImageTagOptions{Source: src, Target: name + ":latest"}); err != nil {
			t.Fatalf("tag %s: %v", src, err)
		}
	}
	return a
}

// pull pulls ref and returns the error the progress stream ends with.
func pull(ctx context.Context, c client.APIClient, ref string) error {
	resp, err := c.ImagePull(ctx, ref, client.ImagePullOptions{})
	if err != nil {
		return err
	}
	defer resp.Close()
	for msg, err := range resp.JSONMessages(ctx) {
		if err != nil {
			return err
		}
		if msg.Error != nil {
			return errors.New(msg.Error.Message)
		}
	}
	return nil
}

// removeContainers force-removes every container of the agent at host.
func removeContainers(host string) {
	c, err := client.New(client.WithHost(host))
	if err != nil {
		return
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	list, err := c.ContainerList(ctx, client.ContainerListOptions{All: true})
	if err != nil {
		return
	}
	for _, ct := range list.Items {
		c.ContainerRemove(ctx, ct.ID, client.ContainerRemoveOptions{Force: true})
	}
}

// ComposeV5 is the docker compose v5 binary scripts/compose-v5.sh builds
// into $BERTH_TEST_CACHE (default: the user cache folder's berth-test);
// it skips t when it is not built.
func ComposeV5(t testing.TB) string {
	t.Helper()
	cache := os.Getenv("BERTH_TEST_CACHE")
	if cache == "" {
		dir, err := os.UserCacheDir()
		if err != nil {
			testenv.Skip(t, "no cache folder for docker compose v5: run scripts/compose-v5.sh")
		}
		cache = filepath.Join(dir, "berth-test")
	}
	bin := filepath.Join(cache, "compose-v5.6.0", "docker-compose")
	if _, err := os.Stat(bin); err != nil {
		testenv.Skip(t, "docker compose v5 is not built: run scripts/compose-v5.sh")
	}
	return bin
}

// Compose runs a compose binary in dir against the agent at sock, as
// project "shop" unless args name another (-p), for at most 3 minutes,
// and returns its combined output and exit code.
func Compose(t testing.TB, bin, sock, dir string, args ...string) (string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "DOCKER_HOST=unix://"+sock, "COMPOSE_PROJECT_NAME=shop")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return out.String(), 0
	case errors.As(err, &ee):
		return out.String(), ee.ExitCode()
	}
	t.Fatalf("%s %s: %v", bin, strings.Join(args, " "), err)
	return "", 0
}
