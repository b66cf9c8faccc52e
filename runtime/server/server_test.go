package server

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/berthvm/berth/runtime/berthapi"
	"github.com/moby/moby/api/pkg/stdcopy"
	"github.com/moby/moby/client"
)

// startServer serves s on a socket in a temporary folder and returns the
// socket's path.
func startServer(t *testing.T, s *Server) string {
	t.Helper()
	sock := filepath.Join(t.TempDir(), "agent.sock")
	ln, err := Listen(sock)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return sock
}

func unixHTTP(sock string) *http.Client {
	return &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", sock)
		},
	}}
}

func TestListenSocketIsPrivate(t *testing.T) {
	sock := startServer(t, New(Options{StateDir: t.TempDir()}))
	fi, err := os.Stat(sock)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := fi.Mode().Perm(), os.FileMode(0o600); got != want {
		t.Errorf("socket mode = %v, want %v", got, want)
	}
	if _, err := Listen(sock); err == nil || !strings.Contains(err.Error(), "another agent") {
		t.Errorf("second Listen on a live socket: err = %v, want 'another agent'", err)
	}
}

func TestListenReplacesStaleSocket(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "agent.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	ln.(*net.UnixListener).SetUnlinkOnClose(false)
	ln.Close()
	ln2, err := Listen(sock)
	if err != nil {
		t.Fatalf("Listen over a stale socket: %v", err)
	}
	ln2.Close()
}

func TestRoutes(t *testing.T) {
	sock := startServer(t, New(Options{Version: "1.2.3", StateDir: t.TempDir()}))
	hc := unixHTTP(sock)
	tests := []struct {
		method, path string
		wantStatus   int
		wantBody     string // substring
	}{
		{"GET", "/_ping", 200, "OK"},
		{"HEAD", "/_ping", 200, ""},
		{"GET", "/v1.47/_ping", 200, "OK"},
		{"GET", "/v1.44/version", 200, `"Name":"Engine"`},
		{"GET", "/version", 200, `"ApiVersion":"1.47"`},
		{"GET", "/info", 200, `"LocalNodeState":"inactive"`},
		{"GET", "/v1.47/info", 200, `"Plugins":{"Volume":["local"]`},
		{"GET", "/berth/v1/version", 200, `"version":"1.2.3"`},
		{"GET", "/v1.47/berth/v1/health", 200, `"version":"1.2.3"`},
		{"GET", "/v1.99/version", 400, `{"message":"client version 1.99 is too new. Maximum supported API version is 1.47"}`},
		{"GET", "/v1.12/version", 400, "too old"},
		{"GET", "/nothing/here", 501, `{"message":"berth does not support GET /nothing/here"}`},
		{"POST", "/v1.47/swarm/init", 501, `{"message":"berth does not support POST /swarm/init"}`},
		{"DELETE", "/version", 501, `"message"`},
	}
	for _, tt := range tests {
		t.Run(tt.method+tt.path, func(t *testing.T) {
			req, _ := http.NewRequest(tt.method, "http://api.moby.localhost"+tt.path, nil)
			resp, err := hc.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tt.wantStatus {
				t.Errorf("status = %d, want %d (body %s)", resp.StatusCode, tt.wantStatus, body)
			}
			if !strings.Contains(string(body), tt.wantBody) {
				t.Errorf("body = %s, want it to contain %s", body, tt.wantBody)
			}
			for k, want := range map[string]string{"Api-Version": "1.47", "Ostype": "linux", "Server": "berth-agent/1.2.3 (linux)"} {
				if got := resp.Header.Get(k); got != want {
					t.Errorf("header %s = %q, want %q", k, got, want)
				}
			}
			if tt.wantStatus >= 400 {
				if got := resp.Header.Get("Content-Type"); got != "application/json" {
					t.Errorf("error Content-Type = %q, want application/json", got)
				}
			}
		})
	}
}

func TestMobyClient(t *testing.T) {
	stateDir := t.TempDir()
	sock := startServer(t, New(Options{Version: "1.2.3", StateDir: stateDir}))
	cli, err := client.New(client.WithHost("unix://" + sock))
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	ctx := context.Background()
	ping, err := cli.Ping(ctx, client.PingOptions{NegotiateAPIVersion: true})
	if err != nil {
		t.Fatal(err)
	}
	if ping.APIVersion != APIVersion || ping.OSType != "linux" {
		t.Errorf("ping = %+v, want api %s on linux", ping, APIVersion)
	}
	if got := cli.ClientVersion(); got != APIVersion {
		t.Errorf("negotiated version = %s, want %s", got, APIVersion)
	}
	v, err := cli.ServerVersion(ctx, client.ServerVersionOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(v.Components) != 1 || v.Components[0].Name != "Engine" || v.Components[0].Details["ApiVersion"] != APIVersion {
		t.Errorf("version components = %+v, want Engine with ApiVersion %s", v.Components, APIVersion)
	}
	info, err := cli.Info(ctx, client.InfoOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := info.Info.DockerRootDir, stateDir; got != want {
		t.Errorf("DockerRootDir = %q, want %q", got, want)
	}
}

func TestHealth(t *testing.T) {
	stateDir := t.TempDir()
	sock := startServer(t, New(Options{Version: "1.2.3", StateDir: stateDir}))
	resp, err := unixHTTP(sock).Get("http://agent" + berthapi.HealthPath)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var h berthapi.Health
	if err := json.NewDecoder(resp.Body).Decode(&h); err != nil {
		t.Fatal(err)
	}
	if h.Version != "1.2.3" || h.StateDir != stateDir {
		t.Errorf("health = %+v, want version 1.2.3 and state dir %s", h, stateDir)
	}
	if h.TotalBytes == 0 || h.FreeBytes > h.TotalBytes {
		t.Errorf("disk: free %d of %d bytes, want a non-zero total and free <= total", h.FreeBytes, h.TotalBytes)
	}
	if h.Kernel == "" || h.Arch == "" {
		t.Errorf("kernel %q arch %q, want both set", h.Kernel, h.Arch)
	}
	_, err = os.Stat("/sys/fs/cgroup/cgroup.controllers")
	if got, want := h.CgroupV2, err == nil; got != want {
		t.Errorf("CgroupV2 = %v, want %v", got, want)
	}
	if h.Problems == nil {
		t.Error("Problems is null, want a list")
	}
}

func TestHijackMultiplexed(t *testing.T) {
	s := New(Options{StateDir: t.TempDir()})
	// An echo stream: stdin comes back on stdout, then "bye" on stderr
	// once the client half-closes.
	s.handle("POST /test/echo", func(w http.ResponseWriter, r *http.Request) error {
		conn, stdin, err := Hijack(w, r, false)
		if err != nil {
			return err
		}
		defer conn.Close()
		mux := NewMux(conn)
		if _, err := io.Copy(mux.Stream(stdcopy.Stdout), stdin); err != nil {
			return err
		}
		if _, err := mux.Stream(stdcopy.Stderr).Write([]byte("bye")); err != nil {
			return err
		}
		return CloseWrite(conn)
	})
	sock := startServer(t, s)
	cli, err := client.New(client.WithHost("unix://" + sock))
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := cli.DialHijack(ctx, "/test/echo", "tcp", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	big := strings.Repeat("x", 100000)
	go func() {
		_, _ = io.WriteString(conn, "hello "+big)
		_ = conn.(interface{ CloseWrite() error }).CloseWrite()
	}()
	var out, errOut strings.Builder
	if _, err := stdcopy.StdCopy(&out, &errOut, bufio.NewReader(conn)); err != nil {
		t.Fatal(err)
	}
	if got, want := out.String(), "hello "+big; got != want {
		t.Errorf("stdout = %d bytes, want %d", len(got), len(want))
	}
	if got, want := errOut.String(), "bye"; got != want {
		t.Errorf("stderr = %q, want %q", got, want)
	}
}

func TestJSONStream(t *testing.T) {
	s := New(Options{StateDir: t.TempDir()})
	s.handle("POST /test/progress", func(w http.ResponseWriter, r *http.Request) error {
		st := NewJSONStream(w)
		if err := st.Status("layer1", "Downloading"); err != nil {
			return err
		}
		return st.Fail(errors.New("registry said no"))
	})
	s.handle("GET /test/conflict", func(w http.ResponseWriter, r *http.Request) error {
		return Errorf(http.StatusConflict, "name %q is in use", "web")
	})
	sock := startServer(t, s)
	hc := unixHTTP(sock)
	resp, err := hc.Post("http://agent/v1.44/test/progress", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	dec := json.NewDecoder(resp.Body)
	var msgs []Progress
	for {
		var m Progress
		if err := dec.Decode(&m); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		msgs = append(msgs, m)
	}
	if len(msgs) != 2 || msgs[0].ID != "layer1" || msgs[0].Status != "Downloading" ||
		msgs[1].Error == nil || msgs[1].Error.Message != "registry said no" || msgs[1].ErrorMessage != "registry said no" {
		t.Errorf("stream = %+v, want a status then the error", msgs)
	}

	resp, err = hc.Get("http://agent/test/conflict")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusConflict || string(body) != "{\"message\":\"name \\\"web\\\" is in use\"}\n" {
		t.Errorf("got %d %s, want 409 with the message", resp.StatusCode, body)
	}
}

func TestCompareVersions(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"1.47", "1.47", 0},
		{"1.9", "1.47", -1},
		{"1.100", "1.47", 1},
		{"2.0", "1.99", 1},
	}
	for _, tt := range tests {
		if got := compareVersions(tt.a, tt.b); got != tt.want {
			t.Errorf("compareVersions(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
}

func TestHasFilesystem(t *testing.T) {
	procfs := []byte("nodev\tsysfs\nnodev\tproc\n\text4\nnodev\toverlay\n")
	tests := []struct {
		name string
		want bool
	}{{"overlay", true}, {"ext4", true}, {"btrfs", false}, {"nodev", false}}
	for _, tt := range tests {
		if got := hasFilesystem(procfs, tt.name); got != tt.want {
			t.Errorf("hasFilesystem(%q) = %v, want %v", tt.name, got, tt.want)
		}
	}
}
