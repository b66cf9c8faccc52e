// Package driverstest is the conformance suite that every berth driver's
// tests run: it drives one machine through its life and checks each MUST
// of the drivers contract that its Capabilities promise.
package driverstest

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"testing"
	"time"

	"github.com/berthvm/berth/drivers"
	"github.com/berthvm/berth/internal/machine"
)

// SSHPublicKey is the key the suite's machines are made with.
const SSHPublicKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIN+yw8Yz+b1zBYfnp4yAVej3m+xHPGpk9Ga/Snohmp49 berth-conformance"

// Options configure a suite run.
type Options struct {
	// New makes the driver under test for the machine in base, configured
	// as a user's create flags would (small VMs, TCG, free ports). The
	// driver MUST be registered under its DriverName. Required.
	New func(t testing.TB, base drivers.Base) drivers.Driver
	// Timeout bounds each driver call. Default: 3 minutes, enough for a
	// QEMU boot under TCG on a busy host.
	Timeout time.Duration
	// CacheDir is the base's cache folder (holding the guest ISO, say).
	// Default: a fresh temporary folder.
	CacheDir string
}

// Run runs the suite: one machine is created, started, stopped, killed and
// removed, and every step is checked against the contract in package
// drivers. Steps that later ones need stop the run when they fail.
func Run(t *testing.T, o Options) {
	if o.New == nil {
		t.Fatal("driverstest: Options.New is required")
	}
	if o.Timeout == 0 {
		o.Timeout = 3 * time.Minute
	}
	if o.CacheDir == "" {
		o.CacheDir = t.TempDir()
	}
	dir := filepath.Join(t.TempDir(), "machines", "conformance")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	// Every machine gets a shared folder: drivers with the SharedFolders
	// role must create and start it with the share, the others ignore it.
	base := drivers.Base{MachineName: "conformance", Dir: dir, CacheDir: o.CacheDir, SSHPublicKey: SSHPublicKey,
		Shares: []drivers.Share{{HostPath: t.TempDir(), GuestPath: "/conformance-share"}}}
	d := o.New(t, base)
	s := &suite{o: o, d: d, base: base}
	lc, hasLifecycle := d.(drivers.Lifecycle)
	// Whatever happens, leave no VM running.
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), o.Timeout)
		defer cancel()
		if err := d.Remove(ctx); err != nil {
			t.Errorf("cleanup: Remove: %v", err)
		}
	})

	t.Run("Capabilities", s.capabilities)
	t.Run("RemoveBeforeCreate", func(t *testing.T) { s.must(t, "Remove before Create", d.Remove) })
	t.Run("PreCreateCheckChangesNothing", s.preCreateCheck)
	if !t.Run("Create", func(t *testing.T) {
		s.must(t, "Create", d.Create)
		s.checkFiles(t)
	}) {
		return
	}
	want := drivers.StateRunning
	if hasLifecycle {
		want = drivers.StateStopped
	}
	t.Run("StateAfterCreate", func(t *testing.T) { s.wantState(t, want) })
	t.Run("SettingsRoundTrip", s.roundTrip)
	t.Run("StateHonoursContext", s.stateHonoursContext)
	if bi, ok := d.(drivers.BootISO); ok {
		t.Run("BootISO", func(t *testing.T) { s.bootISO(t, bi) })
	}
	if hasLifecycle {
		if !t.Run("Lifecycle", func(t *testing.T) { s.lifecycle(t, lc) }) {
			return
		}
	}
	if pf, ok := d.(drivers.PortForwarder); ok {
		t.Run("PortForwarding", func(t *testing.T) { s.portForwarding(t, pf) })
	}
	if hasLifecycle {
		t.Run("RemoveWhileRunning", func(t *testing.T) {
			s.must(t, "Start", lc.Start)
			s.must(t, "Remove", d.Remove)
			s.wantGone(t)
		})
	} else {
		t.Run("Remove", func(t *testing.T) {
			s.must(t, "Remove", d.Remove)
			s.wantGone(t)
		})
	}
	t.Run("RemoveIdempotent", func(t *testing.T) { s.must(t, "Remove of a removed machine", d.Remove) })
}

type suite struct {
	o    Options
	d    drivers.Driver
	base drivers.Base
}

func (s *suite) ctx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), s.o.Timeout)
	t.Cleanup(cancel)
	return ctx
}

// must calls f and fails t when it errs.
func (s *suite) must(t *testing.T, what string, f func(context.Context) error) {
	t.Helper()
	start := time.Now()
	if err := f(s.ctx(t)); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	t.Logf("%s took %v", what, time.Since(start).Round(time.Millisecond))
}

func (s *suite) wantState(t *testing.T, want drivers.State) {
	t.Helper()
	got, err := s.d.State(s.ctx(t))
	if err != nil || got != want {
		t.Fatalf("State = %v, %v, want %v", got, err, want)
	}
}

func (s *suite) capabilities(t *testing.T) {
	c := s.d.Capabilities()
	_, lc := s.d.(drivers.Lifecycle)
	_, pf := s.d.(drivers.PortForwarder)
	folders, sf := s.d.(drivers.SharedFolders)
	if sf && !reflect.DeepEqual(folders.Shares(), s.base.Shares) {
		t.Errorf("Shares() = %v, want the base's %v", folders.Shares(), s.base.Shares)
	}
	for _, r := range []struct {
		role       string
		says, does bool
	}{{"Lifecycle", c.Lifecycle, lc}, {"PortForwarding", c.PortForwarding, pf}, {"SharedFolders", c.SharedFolders, sf}} {
		if r.says != r.does {
			t.Errorf("Capabilities().%s = %v, but implementing the role is %v", r.role, r.says, r.does)
		}
	}
	if _, err := drivers.Lookup(s.d.DriverName()); err != nil {
		t.Errorf("DriverName %q is not registered: %v", s.d.DriverName(), err)
	}
}

// preCreateCheck checks that PreCreateCheck changes nothing in the
// machine's folder.
func (s *suite) preCreateCheck(t *testing.T) {
	before := tree(t, s.base.Dir)
	if err := s.d.PreCreateCheck(s.ctx(t)); err != nil {
		t.Fatalf("PreCreateCheck on a host that should be able to create: %v", err)
	}
	if after := tree(t, s.base.Dir); !reflect.DeepEqual(before, after) {
		t.Errorf("PreCreateCheck changed the machine folder: %v -> %v", before, after)
	}
}

// bootISO swaps the stopped machine's boot ISO: replace then restore,
// replace then commit. The ISO at BootISOPath is the new one or the old
// one as the contract says, every file stays one machine.Files knows, and
// a committed swap leaves as many files as there were.
func (s *suite) bootISO(t *testing.T, bi drivers.BootISO) {
	path := bi.BootISOPath()
	if filepath.Dir(path) != s.base.Dir {
		t.Fatalf("BootISOPath %s is not in the machine folder %s", path, s.base.Dir)
	}
	old, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("BootISOPath after Create: %v", err)
	}
	// The same ISO with a different tail: another file, valid as before.
	next := append(append([]byte{}, old...), make([]byte, 2048)...)
	iso := filepath.Join(t.TempDir(), "next.iso")
	if err := os.WriteFile(iso, next, 0o644); err != nil {
		t.Fatal(err)
	}
	files := len(tree(t, s.base.Dir))
	boots := func(what string, want []byte) {
		t.Helper()
		got, err := os.ReadFile(bi.BootISOPath())
		if err != nil || string(got) != string(want) {
			t.Errorf("%s: BootISOPath %s holds %d bytes (%v), want %d", what, bi.BootISOPath(), len(got), err, len(want))
		}
		s.checkFiles(t)
	}
	s.must(t, "ReplaceBootISO", func(ctx context.Context) error { return bi.ReplaceBootISO(ctx, iso) })
	boots("after ReplaceBootISO", next)
	s.must(t, "RestoreBootISO", bi.RestoreBootISO)
	boots("after RestoreBootISO", old)
	if got := len(tree(t, s.base.Dir)); got != files {
		t.Errorf("RestoreBootISO left %d files in the machine folder, want %d: %v", got, files, tree(t, s.base.Dir))
	}
	s.must(t, "ReplaceBootISO", func(ctx context.Context) error { return bi.ReplaceBootISO(ctx, iso) })
	s.must(t, "CommitBootISO", bi.CommitBootISO)
	boots("after CommitBootISO", next)
	if got := len(tree(t, s.base.Dir)); got != files {
		t.Errorf("CommitBootISO left %d files in the machine folder, want %d: %v", got, files, tree(t, s.base.Dir))
	}
	s.must(t, "RestoreBootISO after a commit (a no-op)", bi.RestoreBootISO)
	boots("after a late RestoreBootISO", next)
}

// checkFiles checks that every file in the machine folder is in
// machine.Files.
func (s *suite) checkFiles(t *testing.T) {
	t.Helper()
	for _, f := range tree(t, s.base.Dir) {
		if !machine.IsKnownFile(f) {
			t.Errorf("the driver made %q in the machine folder; add it to machine.Files", f)
		}
	}
}

// roundTrip checks that a driver loaded from the stored JSON sees the
// same machine.
func (s *suite) roundTrip(t *testing.T) {
	raw, err := json.Marshal(s.d)
	if err != nil {
		t.Fatalf("marshal driver settings: %v", err)
	}
	loaded, err := drivers.Load(s.d.DriverName(), s.base, raw)
	if err != nil {
		t.Fatalf("load driver settings %s: %v", raw, err)
	}
	again, err := json.Marshal(loaded)
	if err != nil || string(again) != string(raw) {
		t.Errorf("settings after a round trip = %s, %v, want %s", again, err, raw)
	}
	want, err1 := s.d.State(s.ctx(t))
	got, err2 := loaded.State(s.ctx(t))
	if got != want || (err1 == nil) != (err2 == nil) {
		t.Errorf("loaded driver's State = %v, %v, want %v, %v", got, err2, want, err1)
	}
}

func (s *suite) stateHonoursContext(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	done := make(chan struct{})
	go func() {
		s.d.State(ctx)
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Errorf("State with a cancelled context did not return within 5s")
	}
}

func (s *suite) lifecycle(t *testing.T, lc drivers.Lifecycle) {
	s.must(t, "Start", lc.Start)
	s.wantState(t, drivers.StateRunning)
	s.must(t, "Start of a running machine", lc.Start)
	s.wantState(t, drivers.StateRunning)
	ep, err := s.d.SSHEndpoint(s.ctx(t))
	if err != nil || ep.Host == "" || ep.Port < 1 || ep.Port > 65535 {
		t.Errorf("SSHEndpoint of a running machine = %+v, %v", ep, err)
	}
	s.checkFiles(t)
	s.must(t, "Stop", lc.Stop)
	s.wantState(t, drivers.StateStopped)
	s.must(t, "Stop of a stopped machine", lc.Stop)
	s.wantState(t, drivers.StateStopped)
	s.must(t, "Start after Stop", lc.Start)
	s.wantState(t, drivers.StateRunning)
	s.must(t, "Kill", lc.Kill)
	s.wantState(t, drivers.StateStopped)
	s.must(t, "Kill of a stopped machine", lc.Kill)
	s.wantState(t, drivers.StateStopped)
}

func (s *suite) portForwarding(t *testing.T, pf drivers.PortForwarder) {
	if lc, ok := s.d.(drivers.Lifecycle); ok {
		s.must(t, "Start", lc.Start)
	}
	tcp := drivers.Forward{Proto: "tcp", HostIP: "127.0.0.1", HostPort: freePort(t, "tcp"), GuestPort: 8080}
	udp := drivers.Forward{Proto: "udp", HostIP: "127.0.0.1", HostPort: freePort(t, "udp"), GuestPort: 5353}
	for _, f := range []drivers.Forward{tcp, udp} {
		add := func(ctx context.Context) error { return pf.AddForward(ctx, f) }
		s.must(t, "AddForward "+f.Proto, add)
		if !held(f) {
			t.Errorf("after AddForward(%+v) the host port is free; the forward MUST listen on it", f)
		}
		s.must(t, "AddForward of an existing forward", add)
	}
	s.wantForwards(t, pf, tcp, udp)
	for _, f := range []drivers.Forward{tcp, udp} {
		remove := func(ctx context.Context) error { return pf.RemoveForward(ctx, f) }
		s.must(t, "RemoveForward "+f.Proto, remove)
		if held(f) {
			t.Errorf("after RemoveForward(%+v) the host port is still held", f)
		}
		s.must(t, "RemoveForward of a missing forward", remove)
	}
	s.wantForwards(t, pf)
}

// wantForwards checks that Forwards lists exactly want.
func (s *suite) wantForwards(t *testing.T, pf drivers.PortForwarder, want ...drivers.Forward) {
	t.Helper()
	got, err := pf.Forwards(s.ctx(t))
	if err != nil {
		t.Errorf("Forwards: %v", err)
		return
	}
	sort.Slice(got, func(i, j int) bool { return got[i].HostPort < got[j].HostPort })
	sort.Slice(want, func(i, j int) bool { return want[i].HostPort < want[j].HostPort })
	if len(got) != len(want) || (len(want) > 0 && !reflect.DeepEqual(got, want)) {
		t.Errorf("Forwards = %+v, want %+v", got, want)
	}
}

// wantGone checks State after Remove: not running, and an error only
// when it wraps drivers.ErrMachineNotExist.
func (s *suite) wantGone(t *testing.T) {
	st, err := s.d.State(s.ctx(t))
	if err != nil && !errors.Is(err, drivers.ErrMachineNotExist) {
		t.Errorf("State after Remove = %v, %v, want an error wrapping drivers.ErrMachineNotExist", st, err)
	}
	if st == drivers.StateRunning {
		t.Errorf("State after Remove = Running")
	}
}

// tree lists the files under dir, relative and sorted.
func tree(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, e os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p != dir {
			rel, _ := filepath.Rel(dir, p)
			out = append(out, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	sort.Strings(out)
	return out
}
