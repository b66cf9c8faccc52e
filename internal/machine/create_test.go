package machine

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/berthvm/berth/drivers"
	"github.com/berthvm/berth/internal/fakedriver"
)

// fakeSpec is a create of name with a fake driver set up by tune.
func fakeSpec(name string, tune func(*fakedriver.Driver)) CreateSpec {
	return CreateSpec{
		Name: name,
		NewDriver: func(b drivers.Base) (drivers.Driver, error) {
			d := fakedriver.New(b)
			if tune != nil {
				tune(d)
			}
			return d, nil
		},
	}
}

// recorder records the steps the sequence runs.
type recorder struct {
	mu    sync.Mutex
	steps []string
}

func (r *recorder) add(s string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.steps = append(r.steps, s)
}

func (r *recorder) hooks(failAt string, err error) Steps {
	hook := func(name string) func(context.Context, *Machine) error {
		return func(ctx context.Context, m *Machine) error {
			r.add(name)
			if name == "ssh" || name == "provision" || name == "agent" {
				if st, _ := m.Driver.State(ctx); st != drivers.StateRunning {
					return errors.New(name + " ran on a machine that is not running")
				}
			}
			if name == failAt {
				return err
			}
			return nil
		}
	}
	return Steps{
		MakeKey: func(ctx context.Context, dir string) (string, error) {
			r.add("key")
			return "ssh-ed25519 AAAA test", os.WriteFile(filepath.Join(dir, "id_ed25519.pub"), []byte("ssh-ed25519 AAAA test\n"), 0o600)
		},
		WaitSSH:      hook("ssh"),
		Provision:    hook("provision"),
		AgentHealthy: hook("agent"),
		Progress:     func(step string) { r.add("> " + step) },
	}
}

func TestCreate(t *testing.T) {
	s := NewStore(t.TempDir())
	var r recorder
	spec := fakeSpec("dev", nil)
	spec.Labels = map[string]string{"team": "web"}
	m, err := s.Create(t.Context(), spec, r.hooks("", nil))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"> making the SSH key", "key", "> checking the host", "> creating the VM", "> starting the VM",
		"> waiting for SSH", "ssh", "> provisioning", "provision", "> waiting for the agent", "agent"}
	if !reflect.DeepEqual(r.steps, want) {
		t.Errorf("steps = %q\nwant %q", r.steps, want)
	}
	got, err := s.Load("dev")
	if err != nil {
		t.Fatal(err)
	}
	if got.Error != "" || got.Labels["team"] != "web" || got.DriverName != "fake" || got.Created.IsZero() {
		t.Errorf("stored %+v", got.Config)
	}
	if st, err := got.Driver.State(t.Context()); st != drivers.StateRunning || err != nil {
		t.Errorf("state after create = %v, %v, want Running", st, err)
	}
	if m.Name != "dev" {
		t.Errorf("returned machine %q", m.Name)
	}
	if b := s.Base("dev"); b.SSHPublicKey != "ssh-ed25519 AAAA test" {
		t.Errorf("Base().SSHPublicKey = %q", b.SSHPublicKey)
	}
	if _, err := s.Create(t.Context(), fakeSpec("dev", nil), Steps{}); !errors.Is(err, ErrExists) {
		t.Errorf("second create = %v, want ErrExists", err)
	}
}

func TestCreateInvalidNameTouchesNothing(t *testing.T) {
	root := filepath.Join(t.TempDir(), "store")
	s := NewStore(root)
	for _, name := range []string{"../x", "a b", "", "-x", strings.Repeat("a", 64)} {
		if _, err := s.Create(t.Context(), fakeSpec(name, nil), Steps{}); !errors.Is(err, ErrInvalidName) {
			t.Errorf("Create(%q) = %v, want ErrInvalidName", name, err)
		}
	}
	if _, err := os.Stat(root); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the store was touched: %v", err)
	}
}

// TestCreateFailureRollsBack: a failure at any step leaves nothing, and
// the driver's Remove ran.
func TestCreateFailureRollsBack(t *testing.T) {
	boom := errors.New("boom")
	tests := []struct {
		name     string
		fakeFail string
		hookFail string
		wantIs   error
		want     string
	}{
		{"precreate", fakedriver.FailPreCreate, "", drivers.ErrPreCreate, "checking the host: "},
		{"create", fakedriver.FailCreate, "", nil, "creating the VM: fake create failure"},
		{"start", fakedriver.FailStart, "", nil, "starting the VM: fake start failure"},
		{"ssh", "", "ssh", boom, "waiting for SSH: boom"},
		{"provision", "", "provision", boom, "provisioning: boom"},
		{"agent", "", "agent", boom, "waiting for the agent: boom"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := NewStore(t.TempDir())
			var r recorder
			_, err := s.Create(t.Context(), fakeSpec("dev", func(d *fakedriver.Driver) { d.Fail = tt.fakeFail }), r.hooks(tt.hookFail, boom))
			if err == nil || !strings.Contains(err.Error(), `create machine "dev": `+tt.want) {
				t.Fatalf("Create = %v, want %q", err, tt.want)
			}
			if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Errorf("Create = %v, want it to wrap %v", err, tt.wantIs)
			}
			if s.Exists("dev") {
				t.Errorf("machine folder left after a failed create")
			}
			if names, _ := s.Names(); len(names) != 0 {
				t.Errorf("Names() = %v after a failed create", names)
			}
		})
	}
}

func TestCreateKeepOnError(t *testing.T) {
	s := NewStore(t.TempDir())
	var r recorder
	spec := fakeSpec("dev", nil)
	spec.KeepOnError = true
	_, err := s.Create(t.Context(), spec, r.hooks("provision", errors.New("no agent binary")))
	if err == nil || !strings.Contains(err.Error(), "berth rm dev") {
		t.Fatalf("Create = %v, want an error that says how to remove it", err)
	}
	m, err := s.Load("dev")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(m.Error, "provisioning: no agent binary") {
		t.Errorf("stored Error = %q, want the provisioning failure", m.Error)
	}
	if err := s.Remove(t.Context(), "dev", false); err != nil {
		t.Fatalf("Remove of the kept machine: %v", err)
	}
	if s.Exists("dev") {
		t.Error("kept machine still exists after Remove")
	}
}

// TestCreateFailedRollbackLeavesRemovable: when the driver cannot remove
// the VM, the machine stays with its error, and rm -f removes it.
func TestCreateFailedRollbackLeavesRemovable(t *testing.T) {
	s := NewStore(t.TempDir())
	var r recorder
	_, err := s.Create(t.Context(), fakeSpec("dev", func(d *fakedriver.Driver) { d.Fail = fakedriver.FailRemove }), r.hooks("ssh", errors.New("no ssh")))
	if err == nil || !strings.Contains(err.Error(), "roll back") {
		t.Fatalf("Create = %v, want a roll back error", err)
	}
	m, err := s.Load("dev")
	if err != nil {
		t.Fatal(err)
	}
	if m.Error == "" {
		t.Error("the machine left behind carries no error")
	}
	if err := s.Remove(t.Context(), "dev", false); err == nil {
		t.Error("Remove without force succeeded though the driver fails")
	}
	if err := s.Remove(t.Context(), "dev", true); err != nil || s.Exists("dev") {
		t.Errorf("Remove with force = %v, exists %v", err, s.Exists("dev"))
	}
}

// TestCreateInterrupted cancels the create at each step: nothing is left,
// even with KeepOnError.
func TestCreateInterrupted(t *testing.T) {
	for _, at := range []string{"key", "create", "ssh", "provision", "agent"} {
		t.Run(at, func(t *testing.T) {
			s := NewStore(t.TempDir())
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			wait := func(ctx context.Context) error { cancel(); <-ctx.Done(); return ctx.Err() }
			steps := Steps{
				MakeKey: func(ctx context.Context, dir string) (string, error) {
					if at == "key" {
						return "", wait(ctx)
					}
					return "", nil
				},
				WaitSSH:      func(ctx context.Context, m *Machine) error { return stepWait(at, "ssh", wait, ctx) },
				Provision:    func(ctx context.Context, m *Machine) error { return stepWait(at, "provision", wait, ctx) },
				AgentHealthy: func(ctx context.Context, m *Machine) error { return stepWait(at, "agent", wait, ctx) },
			}
			spec := fakeSpec("dev", func(d *fakedriver.Driver) {
				if at == "create" {
					d.Delay = time.Hour
					time.AfterFunc(50*time.Millisecond, cancel)
				}
			})
			spec.KeepOnError = true
			start := time.Now()
			_, err := s.Create(ctx, spec, steps)
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("Create = %v, want context.Canceled", err)
			}
			if time.Since(start) > 10*time.Second {
				t.Errorf("Create took %v after the cancel", time.Since(start))
			}
			if s.Exists("dev") {
				t.Error("an interrupted create left the machine folder")
			}
		})
	}
}

func stepWait(at, step string, wait func(context.Context) error, ctx context.Context) error {
	if at == step {
		return wait(ctx)
	}
	return nil
}

// TestCreateRace: 8 goroutines create the same name; exactly one wins and
// the others get ErrBusy or ErrExists.
func TestCreateRace(t *testing.T) {
	s := NewStore(t.TempDir())
	var wg sync.WaitGroup
	errs := make([]error, 8)
	start := make(chan struct{})
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			_, errs[i] = s.Create(t.Context(), fakeSpec("dev", func(d *fakedriver.Driver) { d.Delay = 100 * time.Millisecond }), Steps{})
		}()
	}
	close(start)
	wg.Wait()
	wins := 0
	for _, err := range errs {
		switch {
		case err == nil:
			wins++
		case errors.Is(err, ErrBusy), errors.Is(err, ErrExists):
		default:
			t.Errorf("loser's error = %v, want busy or exists", err)
		}
	}
	if wins != 1 {
		t.Errorf("%d creates won, want exactly 1: %v", wins, errs)
	}
	if _, err := s.Load("dev"); err != nil {
		t.Errorf("the winner's machine: %v", err)
	}
}
