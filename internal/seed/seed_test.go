package seed

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/diskfs/go-diskfs/backend/file"
	"github.com/diskfs/go-diskfs/filesystem/iso9660"

	"github.com/berthvm/berth/internal/testenv"
)

const testKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGx7 berth@host"

func validConfig() Config {
	return Config{
		InstanceID:        "dev-1",
		Hostname:          "dev",
		SSHAuthorizedKeys: []string{testKey},
		Mounts:            []Mount{{Source: "hostshare", Target: "/Users", Type: "9p", Options: "trans=virtio,version=9p2000.L"}},
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		change func(*Config)
		want   []string // substrings of the error; none means valid
	}{
		{"valid", func(*Config) {}, nil},
		{"no mounts", func(c *Config) { c.Mounts = nil }, nil},
		{"dotted hostname", func(c *Config) { c.Hostname = "dev.example.org" }, nil},
		{"empty instance id", func(c *Config) { c.InstanceID = "" }, []string{"instance id is empty"}},
		{"instance id with space", func(c *Config) { c.InstanceID = "a b" }, []string{`instance id "a b"`}},
		{"bad hostname", func(c *Config) { c.Hostname = "-dev" }, []string{`hostname "-dev"`}},
		{"hostname with underscore", func(c *Config) { c.Hostname = "my_dev" }, []string{`hostname "my_dev"`}},
		{"no keys", func(c *Config) { c.SSHAuthorizedKeys = nil }, []string{"at least one key"}},
		{"key with newline", func(c *Config) { c.SSHAuthorizedKeys = []string{testKey + "\n" + testKey} }, []string{"key 0", "control character"}},
		{"key with quote", func(c *Config) { c.SSHAuthorizedKeys = []string{testKey + `"`} }, []string{"key 0", `'"'`}},
		{"key without body", func(c *Config) { c.SSHAuthorizedKeys = []string{testKey, "ssh-ed25519"} }, []string{"key 1", "authorized_keys line"}},
		{"relative mount target", func(c *Config) { c.Mounts[0].Target = "Users" }, []string{"mount 0", `target "Users"`}},
		{"bad mount type", func(c *Config) { c.Mounts[0].Type = "nfs" }, []string{"mount 0", `type "nfs"`}},
		{"every field bad at once", func(c *Config) {
			*c = Config{Mounts: []Mount{{}}}
		}, []string{"instance id is empty", "hostname is empty", "at least one key", "mount 0: source is empty"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := validConfig()
			tt.change(&c)
			err := c.Validate()
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate() = nil, want an error holding %q", tt.want)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Validate() = %q, want it to hold %q", err, w)
				}
			}
		})
	}
}

func TestFiles(t *testing.T) {
	c := validConfig()
	c.SSHAuthorizedKeys = append(c.SSHAuthorizedKeys, "  ssh-rsa AAAAB3 other  ")
	for _, tt := range []struct {
		name   string
		got    []byte
		golden string
	}{
		{"meta-data", c.MetaData(), "meta-data"},
		{"user-data", c.UserData(), "user-data"},
	} {
		want, err := os.ReadFile(filepath.Join("testdata", tt.golden))
		if err != nil {
			t.Fatal(err)
		}
		if string(tt.got) != string(want) {
			t.Errorf("%s:\ngot:\n%s\nwant:\n%s", tt.name, tt.got, want)
		}
	}
}

func TestWriteReadsBack(t *testing.T) {
	c := validConfig()
	path := filepath.Join(t.TempDir(), "seed.iso")
	if err := Write(path, c); err != nil {
		t.Fatalf("Write: %v", err)
	}

	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fs, err := iso9660.Read(file.New(f, true), 0, 0, 2048)
	if err != nil {
		t.Fatalf("read back the seed ISO: %v", err)
	}
	// go-diskfs pads the volume id with NULs; blkid and busybox stop at them.
	if got := strings.TrimRight(fs.Label(), "\x00 "); got != VolumeLabel {
		t.Errorf("volume label = %q, want %q", got, VolumeLabel)
	}
	for name, want := range map[string][]byte{"meta-data": c.MetaData(), "user-data": c.UserData()} {
		got, err := fs.ReadFile(name)
		if err != nil {
			t.Errorf("read %s from the seed ISO: %v", name, err)
			continue
		}
		if string(got) != string(want) {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
}

// TestWriteXorriso reads the seed with an independent ISO9660 reader, which
// shows the names Linux sees (Rock Ridge) and the volume id.
func TestWriteXorriso(t *testing.T) {
	testenv.NeedCommand(t, "xorriso")
	c := validConfig()
	dir := t.TempDir()
	path := filepath.Join(dir, "seed.iso")
	if err := Write(path, c); err != nil {
		t.Fatalf("Write: %v", err)
	}
	out, err := exec.Command("xorriso", "-indev", path, "-pvd_info", "-ls", "/", "--",
		"-osirrox", "on", "-extract", "/user-data", filepath.Join(dir, "user-data")).CombinedOutput()
	if err != nil {
		t.Fatalf("xorriso: %v\n%s", err, out)
	}
	for _, want := range []string{"Volume Id    : cidata", "'meta-data'", "'user-data'"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("xorriso output lacks %q:\n%s", want, out)
		}
	}
	got, err := os.ReadFile(filepath.Join(dir, "user-data"))
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(c.UserData()) {
		t.Errorf("user-data extracted by xorriso = %q, want %q", got, c.UserData())
	}
}

func TestWriteRefuses(t *testing.T) {
	dir := t.TempDir()
	existing := filepath.Join(dir, "exists.iso")
	if err := os.WriteFile(existing, []byte("keep"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		path string
		cfg  Config
		want string
	}{
		{"invalid config", filepath.Join(dir, "bad.iso"), Config{}, "invalid config"},
		{"existing file", existing, validConfig(), "file exists"},
		{"missing folder", filepath.Join(dir, "nope", "seed.iso"), validConfig(), "no such file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Write(tt.path, tt.cfg)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Write() = %v, want an error holding %q", err, tt.want)
			}
		})
	}
	if got, _ := os.ReadFile(existing); string(got) != "keep" {
		t.Errorf("existing file changed to %q", got)
	}
	if _, err := os.Stat(filepath.Join(dir, "bad.iso")); !os.IsNotExist(err) {
		t.Errorf("a failed Write left a file behind (stat: %v)", err)
	}
}
