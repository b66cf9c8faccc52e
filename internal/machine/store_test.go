package machine

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/berthvm/berth/drivers"
	"github.com/berthvm/berth/internal/fakedriver"
)

// saved stores a machine with the fake driver without the create sequence.
func saved(t *testing.T, s *Store, name string) *Machine {
	t.Helper()
	d := fakedriver.New(s.Base(name))
	d.SSHPort = 2200
	m := &Machine{Config: Config{Name: name, Labels: map[string]string{"env": "test"}, Created: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}, Driver: d}
	if err := s.Save(m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestStoreRoundTrip(t *testing.T) {
	s := NewStore(t.TempDir())
	want := saved(t, s, "dev")
	got, err := s.Load("dev")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got.Config, want.Config) {
		t.Errorf("Load config = %+v, want %+v", got.Config, want.Config)
	}
	if got.ConfigVersion != ConfigVersion || got.DriverName != "fake" {
		t.Errorf("ConfigVersion, DriverName = %d, %q, want %d, fake", got.ConfigVersion, got.DriverName, ConfigVersion)
	}
	if d := got.Driver.(*fakedriver.Driver); d.SSHPort != 2200 {
		t.Errorf("driver SSHPort = %d after load, want 2200", d.SSHPort)
	}
	names, err := s.Names()
	if err != nil || !reflect.DeepEqual(names, []string{"dev"}) {
		t.Errorf("Names() = %v, %v, want [dev]", names, err)
	}
}

func TestStoreKeepsShares(t *testing.T) {
	s := NewStore(t.TempDir())
	m := saved(t, s, "dev")
	m.Shares = []drivers.Share{{HostPath: "/home/me", GuestPath: "/home/me"}, {HostPath: "/data", GuestPath: "/mnt/data"}}
	if err := s.Save(m); err != nil {
		t.Fatal(err)
	}
	got, err := s.Load("dev")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got.Shares, m.Shares) {
		t.Errorf("Load Shares = %v, want %v", got.Shares, m.Shares)
	}
}

func TestStorePermissions(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no Unix modes on Windows")
	}
	s := NewStore(t.TempDir())
	saved(t, s, "dev")
	unlock, err := s.Lock("dev")
	if err != nil {
		t.Fatal(err)
	}
	unlock()
	for path, want := range map[string]os.FileMode{
		filepath.Join(s.Root, "machines"):          0o700 | os.ModeDir,
		s.Dir("dev"):                               0o700 | os.ModeDir,
		filepath.Join(s.Dir("dev"), ConfigFile):    0o600,
		filepath.Join(s.Root, "locks"):             0o700 | os.ModeDir,
		filepath.Join(s.Root, "locks", "dev.lock"): 0o600,
	} {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode(); got != want {
			t.Errorf("mode of %s = %v, want %v", path, got, want)
		}
	}
}

// TestStoreAtomicWrite saves while readers load: every load sees a whole
// config, and no temporary file is left.
func TestStoreAtomicWrite(t *testing.T) {
	s := NewStore(t.TempDir())
	m := saved(t, s, "dev")
	stop := make(chan struct{})
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := s.Load("dev"); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	for i := range 50 {
		m.Labels = map[string]string{"i": strings.Repeat("x", i*50)}
		if err := s.Save(m); err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("load during save: %v", err)
	}
	entries, _ := os.ReadDir(s.Dir("dev"))
	for _, e := range entries {
		if e.Name() != ConfigFile {
			t.Errorf("left in the machine folder: %s", e.Name())
		}
	}
}

func TestStoreCorruptConfig(t *testing.T) {
	tests := []struct {
		name, content, want string
	}{
		{"truncated", `{"ConfigVersion": 1, "Name": "dev", "Driv`, "broken config.json"},
		{"empty", ``, "broken config.json"},
		{"future", `{"ConfigVersion": 2, "Name": "dev", "DriverName": "fake"}`, "ConfigVersion 2"},
		{"unknown driver", `{"ConfigVersion": 1, "Name": "dev", "DriverName": "hyperv"}`, `unknown driver "hyperv"`},
		{"bad driver json", `{"ConfigVersion": 1, "Name": "dev", "DriverName": "fake", "Driver": {"SSHPort": "x"}}`, "read fake driver settings"},
		{"other name", `{"ConfigVersion": 1, "Name": "prod", "DriverName": "fake"}`, `names machine "prod"`},
		{"bad share", `{"ConfigVersion": 1, "Name": "dev", "DriverName": "fake", "Shares": [{"HostPath": "/src", "GuestPath": "/root"}]}`, `guest folder "/root"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := NewStore(t.TempDir())
			saved(t, s, "dev")
			if err := os.WriteFile(filepath.Join(s.Dir("dev"), ConfigFile), []byte(tt.content), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := s.Load("dev")
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Load = %v, want an error containing %q", err, tt.want)
			}
			if errors.Is(err, ErrNotFound) {
				t.Errorf("Load = %v, must not be ErrNotFound", err)
			}
			if names, _ := s.Names(); !reflect.DeepEqual(names, []string{"dev"}) {
				t.Errorf("Names() = %v, want [dev]", names)
			}
			force := false
			if tt.name == "unknown driver" {
				if err := s.Remove(t.Context(), "dev", false); !errors.Is(err, drivers.ErrUnknownDriver) || !s.Exists("dev") {
					t.Errorf("Remove of a machine with an unknown driver = %v, want refused without force", err)
				}
				force = true
			}
			if err := s.Remove(t.Context(), "dev", force); err != nil {
				t.Fatalf("Remove of a broken machine: %v", err)
			}
			if s.Exists("dev") {
				t.Error("broken machine still exists after Remove")
			}
		})
	}
}

func TestStoreNotFound(t *testing.T) {
	s := NewStore(t.TempDir())
	if _, err := s.Load("nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Load(nope) = %v, want ErrNotFound", err)
	}
	if err := s.Remove(t.Context(), "nope", false); !errors.Is(err, ErrNotFound) {
		t.Errorf("Remove(nope) = %v, want ErrNotFound", err)
	}
	if _, err := s.Load("../x"); !errors.Is(err, ErrInvalidName) {
		t.Errorf("Load(../x) = %v, want ErrInvalidName", err)
	}
	if names, err := s.Names(); err != nil || names != nil {
		t.Errorf("Names() of an empty store = %v, %v", names, err)
	}
}

func TestStoreIgnoresStrayFolders(t *testing.T) {
	s := NewStore(t.TempDir())
	saved(t, s, "dev")
	for _, n := range []string{"-bad", ".hidden"} {
		os.MkdirAll(filepath.Join(s.Root, "machines", n), 0o700)
	}
	os.WriteFile(filepath.Join(s.Root, "machines", "file"), nil, 0o600)
	names, err := s.Names()
	if err != nil || !reflect.DeepEqual(names, []string{"dev"}) {
		t.Errorf("Names() = %v, %v, want [dev]", names, err)
	}
}

func TestLockBusy(t *testing.T) {
	s := NewStore(t.TempDir())
	unlock, err := s.Lock("dev")
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.Lock("dev")
	if !errors.Is(err, ErrBusy) || !strings.HasPrefix(err.Error(), `machine "dev" is busy: `) {
		t.Errorf("second Lock = %v, want `machine \"dev\" is busy: ...`", err)
	}
	other, err := s.Lock("prod")
	if err != nil {
		t.Errorf("Lock of another machine: %v", err)
	} else {
		other()
	}
	unlock()
	again, err := s.Lock("dev")
	if err != nil {
		t.Fatalf("Lock after unlock: %v", err)
	}
	again()
}

func TestActiveName(t *testing.T) {
	s := NewStore(t.TempDir())
	tests := []struct {
		explicit, env, want string
		err                 error
	}{
		{"dev", "prod", "dev", nil},
		{"", "prod", "prod", nil},
		{"", "", "", ErrNoActive},
		{"", "../x", "", ErrInvalidName},
	}
	for _, tt := range tests {
		got, err := s.ActiveName(tt.explicit, tt.env)
		if got != tt.want || !errors.Is(err, tt.err) {
			t.Errorf("ActiveName(%q, %q) = %q, %v, want %q, %v", tt.explicit, tt.env, got, err, tt.want, tt.err)
		}
	}
	saved(t, s, DefaultName)
	if got, err := s.ActiveName("", ""); got != DefaultName || err != nil {
		t.Errorf("ActiveName with a default machine = %q, %v, want default", got, err)
	}
}

func TestConfigJSONFields(t *testing.T) {
	s := NewStore(t.TempDir())
	saved(t, s, "dev")
	data, err := os.ReadFile(filepath.Join(s.Dir("dev"), ConfigFile))
	if err != nil {
		t.Fatal(err)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"ConfigVersion", "Name", "DriverName", "Driver", "Labels", "Created"} {
		if _, ok := raw[k]; !ok {
			t.Errorf("config.json lacks %s:\n%s", k, data)
		}
	}
	if string(raw["ConfigVersion"]) != "1" {
		t.Errorf("ConfigVersion = %s, want 1", raw["ConfigVersion"])
	}
}
