package runspec

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	ctypes "github.com/moby/moby/api/types/container"

	"github.com/berthvm/berth/drivers"
)

// noEnv is a getenv with no variables.
func noEnv(string) (string, bool) { return "", false }

func TestContainerConfigMounts(t *testing.T) {
	_, hc, err := ContainerConfig(Options{Image: "busybox", Volumes: []string{"data:/data", "/srv:/srv:ro"}, Tmpfs: []string{"/t", "/u:ro"}, ReadOnly: true}, noEnv)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"data:/data", "/srv:/srv:ro"}; !reflect.DeepEqual(hc.Binds, want) {
		t.Errorf("Binds = %v, want %v", hc.Binds, want)
	}
	if want := map[string]string{"/t": "", "/u": "ro"}; !reflect.DeepEqual(hc.Tmpfs, want) {
		t.Errorf("Tmpfs = %v, want %v", hc.Tmpfs, want)
	}
	if !hc.ReadonlyRootfs {
		t.Error("ReadonlyRootfs = false, want true")
	}
}

// TestContainerConfig: what each option sets in the create request.
func TestContainerConfig(t *testing.T) {
	ep := "/bin/sh"
	tests := []struct {
		name  string
		opts  Options
		check func(*ctypes.Config, *ctypes.HostConfig) string // "" when right
	}{
		{"attached", Options{Image: "busybox", Args: []string{"echo", "hi"}, Interact: true, TTY: true},
			func(c *ctypes.Config, hc *ctypes.HostConfig) string {
				if c.Image != "busybox" || !reflect.DeepEqual(c.Cmd, []string{"echo", "hi"}) || !c.Tty || !c.OpenStdin || !c.StdinOnce ||
					!c.AttachStdin || !c.AttachStdout || !c.AttachStderr || hc.NetworkMode != "default" {
					return "want busybox echo hi, a terminal, stdin and output attached, the default network"
				}
				return ""
			}},
		{"detached", Options{Image: "busybox", Detach: true, Interact: true, Remove: true},
			func(c *ctypes.Config, hc *ctypes.HostConfig) string {
				if !c.OpenStdin || c.StdinOnce || c.AttachStdin || c.AttachStdout || c.AttachStderr || !hc.AutoRemove {
					return "want stdin open, nothing attached, AutoRemove"
				}
				return ""
			}},
		{"process", Options{Image: "busybox", Env: []string{"A=1", "UNSET"}, Workdir: "/w", User: "nobody", Hostname: "box", Entrypoint: &ep},
			func(c *ctypes.Config, _ *ctypes.HostConfig) string {
				if !reflect.DeepEqual(c.Env, []string{"A=1"}) || c.WorkingDir != "/w" || c.User != "nobody" || c.Hostname != "box" ||
					!reflect.DeepEqual(c.Entrypoint, []string{"/bin/sh"}) {
					return "want env A=1, workdir /w, user nobody, hostname box, entrypoint /bin/sh"
				}
				return ""
			}},
		{"empty entrypoint", Options{Image: "busybox", Entrypoint: new(string)},
			func(c *ctypes.Config, _ *ctypes.HostConfig) string {
				if !reflect.DeepEqual(c.Entrypoint, []string{""}) {
					return `want entrypoint [""]`
				}
				return ""
			}},
		{"network", Options{Image: "busybox", Network: "host"},
			func(_ *ctypes.Config, hc *ctypes.HostConfig) string {
				if hc.NetworkMode != "host" {
					return "want network host"
				}
				return ""
			}},
		{"limits", Options{Image: "busybox", Memory: "64m", CPUs: 0.5, PidsLimit: 50, Restart: "on-failure:3"},
			func(_ *ctypes.Config, hc *ctypes.HostConfig) string {
				if hc.Memory != 64<<20 || hc.NanoCPUs != 5e8 || hc.PidsLimit == nil || *hc.PidsLimit != 50 ||
					hc.RestartPolicy != (ctypes.RestartPolicy{Name: "on-failure", MaximumRetryCount: 3}) {
					return "want 64 MiB, half a CPU, 50 processes, on-failure 3 times"
				}
				return ""
			}},
		{"no limits", Options{Image: "busybox", Restart: "no"},
			func(_ *ctypes.Config, hc *ctypes.HostConfig) string {
				if hc.Memory != 0 || hc.NanoCPUs != 0 || hc.PidsLimit != nil || hc.RestartPolicy.Name != "no" {
					return "want no limits and restart policy no"
				}
				return ""
			}},
		{"published", Options{Image: "busybox", Publish: []string{"8080:80", "10.0.0.1:53:53/udp"}, PublishAll: true},
			func(c *ctypes.Config, hc *ctypes.HostConfig) string {
				if got := bindings(hc); !reflect.DeepEqual(got, map[string]string{"80/tcp": "|8080", "53/udp": "10.0.0.1|53"}) || len(c.ExposedPorts) != 2 || !hc.PublishAllPorts {
					return "want 80/tcp on any address, 53/udp on 10.0.0.1, and -P"
				}
				return ""
			}},
		{"published through forwards", Options{Image: "busybox", Publish: []string{"8080:80", "10.0.0.1:53:53/udp"}, Forwarder: struct{ drivers.PortForwarder }{}},
			func(_ *ctypes.Config, hc *ctypes.HostConfig) string {
				if got := bindings(hc); !reflect.DeepEqual(got, map[string]string{"80/tcp": "127.0.0.1|8080", "53/udp": "10.0.0.1|53"}) {
					return "want 80/tcp on 127.0.0.1 (the forwards' default), 53/udp on 10.0.0.1"
				}
				return ""
			}},
		{"nothing published", Options{Image: "busybox", Forwarder: struct{ drivers.PortForwarder }{}},
			func(c *ctypes.Config, hc *ctypes.HostConfig) string {
				if c.ExposedPorts != nil || hc.PortBindings != nil {
					return "want no ports"
				}
				return ""
			}},
		{"security", Options{Image: "busybox", Security: []string{"no-new-privileges", "seccomp=unconfined"}},
			func(_ *ctypes.Config, hc *ctypes.HostConfig) string {
				if !reflect.DeepEqual(hc.SecurityOpt, []string{"no-new-privileges", "seccomp=unconfined"}) {
					return "want no-new-privileges and seccomp=unconfined as given"
				}
				return ""
			}},
	}
	for _, tt := range tests {
		cfg, hc, err := ContainerConfig(tt.opts, noEnv)
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if msg := tt.check(cfg, hc); msg != "" {
			t.Errorf("%s: got %+v %+v; %s", tt.name, cfg, hc, msg)
		}
	}
}

// bindings renders hc's port bindings as PORT/PROTO: HOSTIP|HOSTPORT.
func bindings(hc *ctypes.HostConfig) map[string]string {
	got := map[string]string{}
	for p, bs := range hc.PortBindings {
		for _, b := range bs {
			ip := ""
			if b.HostIP.IsValid() {
				ip = b.HostIP.String()
			}
			got[p.String()] += ip + "|" + b.HostPort
		}
	}
	return got
}

// TestContainerConfigInvalid: each invalid option is refused with a
// message naming it, and the error matches ErrInvalid.
func TestContainerConfigInvalid(t *testing.T) {
	dir := t.TempDir()
	notJSON := filepath.Join(dir, "profile")
	if err := os.WriteFile(notJSON, []byte("{"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		opts Options
		want string
	}{
		{Options{Network: "overlay"}, `--network "overlay": use bridge, host or none`},
		{Options{Publish: []string{"x:80"}}, `invalid -p "x:80": host port`},
		{Options{Memory: "lots"}, `invalid --memory "lots": give bytes like 64m or 1g`},
		{Options{Memory: "0"}, `invalid --memory "0"`},
		{Options{CPUs: -1}, "invalid --cpus -1: must be positive"},
		{Options{Restart: "sometimes"}, `invalid --restart "sometimes": use no, on-failure[:N] or always`},
		{Options{Restart: "always:3"}, `invalid --restart "always:3": only on-failure takes a count`},
		{Options{Restart: "on-failure:x"}, `invalid --restart "on-failure:x": only on-failure takes a count`},
		{Options{Restart: "always", Remove: true}, "--rm and --restart always conflict"},
		{Options{Security: []string{"seccomp=" + filepath.Join(dir, "missing")}}, "--security-opt seccomp: read the profile: "},
		{Options{Security: []string{"seccomp=" + notJSON}}, "--security-opt seccomp: " + notJSON + " is not JSON"},
	}
	for _, tt := range tests {
		tt.opts.Image = "busybox"
		_, _, err := ContainerConfig(tt.opts, noEnv)
		if err == nil || !strings.Contains(err.Error(), tt.want) || !errors.Is(err, ErrInvalid) {
			t.Errorf("ContainerConfig(%+v) = %v, want an ErrInvalid containing %q", tt.opts, err, tt.want)
		}
	}
	// A file that cannot be read is not a usage error.
	_, _, err := ContainerConfig(Options{Image: "busybox", EnvFiles: []string{filepath.Join(dir, "missing")}}, noEnv)
	if err == nil || errors.Is(err, ErrInvalid) {
		t.Errorf("a missing --env-file: %v, want an error that is not ErrInvalid", err)
	}
}

// TestSeccompProfile: seccomp=FILE sends the profile compacted, like the
// docker CLI.
func TestSeccompProfile(t *testing.T) {
	file := filepath.Join(t.TempDir(), "profile.json")
	if err := os.WriteFile(file, []byte("{\n  \"defaultAction\": \"SCMP_ACT_ALLOW\"\n}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, hc, err := ContainerConfig(Options{Image: "busybox", Security: []string{"seccomp=" + file}}, noEnv)
	if want := []string{`seccomp={"defaultAction":"SCMP_ACT_ALLOW"}`}; err != nil || !reflect.DeepEqual(hc.SecurityOpt, want) {
		t.Errorf("SecurityOpt = %v, %v; want %v", hc.SecurityOpt, err, want)
	}
}
