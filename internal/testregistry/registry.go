// Package testregistry starts a real image registry (Debian's
// docker-registry, the CNCF distribution) on 127.0.0.1 for tests.
package testregistry

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/berthvm/berth/internal/testenv"
	"golang.org/x/crypto/bcrypt"
)

// Registry is a running registry.
type Registry struct {
	// Host is 127.0.0.1:PORT.
	Host string
	// User and Password are set when the registry requires basic auth.
	User, Password string

	stop func()
}

// Options choose how the registry runs.
type Options struct {
	// User and Password, when set, turn on htpasswd basic auth.
	User, Password string
}

// Start runs a registry with its storage in a temp folder and stops it
// when t ends. It skips t (fails under BERTH_TEST_NOSKIP=1) when
// docker-registry is not installed.
func Start(t testing.TB, opts Options) *Registry {
	t.Helper()
	testenv.NeedCommand(t, "docker-registry")
	r, err := Run(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.Stop)
	return r
}

// Run starts a registry with its storage in a fresh temp folder; Stop
// ends it and removes the folder.
func Run(opts Options) (*Registry, error) {
	dir, err := os.MkdirTemp("", "berth-registry-")
	if err != nil {
		return nil, err
	}
	host, err := freeAddr()
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	cfg, err := WriteConfig(dir, host, opts.User, opts.Password)
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, "docker-registry", "serve", cfg)
	logf, err := os.Create(filepath.Join(dir, "registry.log"))
	if err != nil {
		cancel()
		os.RemoveAll(dir)
		return nil, err
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	dieWithParent(cmd)
	if err := cmd.Start(); err != nil {
		cancel()
		os.RemoveAll(dir)
		return nil, fmt.Errorf("start docker-registry: %w", err)
	}
	r := &Registry{Host: host, User: opts.User, Password: opts.Password}
	r.stop = func() {
		cancel()
		cmd.Wait()
		logf.Close()
		os.RemoveAll(dir)
	}
	if err := WaitReady(ctx, host, 15*time.Second); err != nil {
		b, _ := os.ReadFile(logf.Name())
		r.Stop()
		return nil, fmt.Errorf("%w\nregistry log:\n%s", err, b)
	}
	return r, nil
}

// Stop ends the registry and removes its storage.
func (r *Registry) Stop() {
	if r.stop != nil {
		r.stop()
		r.stop = nil
	}
}

// WriteConfig writes a registry config (storage under dir, listening on
// host, htpasswd auth when user is set) and returns its path.
func WriteConfig(dir, host, user, password string) (string, error) {
	auth := ""
	if user != "" {
		hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.MinCost)
		if err != nil {
			return "", err
		}
		pw := filepath.Join(dir, "htpasswd")
		if err := os.WriteFile(pw, []byte(user+":"+string(hash)+"\n"), 0o600); err != nil {
			return "", err
		}
		auth = fmt.Sprintf("auth:\n  htpasswd:\n    realm: berth-test\n    path: %s\n", pw)
	}
	cfg := fmt.Sprintf(`version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: %s
  delete:
    enabled: true
http:
  addr: %s
  secret: berth-test-registry
%s`, filepath.Join(dir, "data"), host, auth)
	p := filepath.Join(dir, "config.yml")
	if err := os.WriteFile(p, []byte(cfg), 0o600); err != nil {
		return "", err
	}
	return p, nil
}

// WaitReady waits until the registry at host answers /v2/.
func WaitReady(ctx context.Context, host string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+host+"/v2/", nil)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK || resp.StatusCode == http.StatusUnauthorized {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("registry on %s did not answer /v2/ within %s (last error: %v)", host, timeout, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}
