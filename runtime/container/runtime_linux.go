package container

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/berthvm/berth/internal/atomicfile"
	"github.com/berthvm/berth/runtime/network"
)

// Runtime manages the containers kept in one folder. The agent holds one;
// containers keep running when it exits, and a new Runtime on the same
// folder finds them again.
type Runtime struct {
	dir string

	mu       sync.Mutex
	entries  map[string]*entry
	execs    map[string]*execInstance
	onRemove func(Spec)
	// spare is a monitor started ahead of the next Start (see spareArg).
	spare     *spareMonitor
	refilling bool
	kick      chan struct{}    // closed and replaced by kickRefill
	net       *network.Network // the bridge network; nil when not set up
	events    func(Event)      // see WithEvents; nil: none
	health    healthChecks     // see health_linux.go

	unsavedMu sync.Mutex              // guards unsaved; never held while taking mu
	unsaved   map[string]unsavedState // see unsaved_linux.go
}

// Option configures a Runtime.
type Option func(*Runtime)

// WithNetwork gives bridge containers (NetworkMode "bridge") the network n.
func WithNetwork(n *network.Network) Option {
	return func(r *Runtime) { r.net = n }
}

// OnRemove sets fn to be called after each container is removed, also by
// --rm (the agent releases the container's image with it).
func (r *Runtime) OnRemove(fn func(Spec)) {
	r.mu.Lock()
	r.onRemove = fn
	r.mu.Unlock()
}

// entry is the in-memory side of one container.
type entry struct {
	// cur is the container's spec. A Spec stored here is never changed:
	// Rename and the network changes store a changed copy (under r.mu),
	// so spec needs no lock.
	cur       atomic.Pointer[Spec]
	exited    chan struct{} // closed at the next exit, then replaced
	removed   chan struct{} // closed when removed
	watchDone chan struct{} // closed when the monitor's watcher ends; nil when none
	pending   []*pendingAttach
	starting  bool
	lastState *State // set when removed
}

// spec is the container's spec as it is now.
func (e *entry) spec() Spec { return *e.cur.Load() }

// newEntry is the entry of a container with spec.
func newEntry(spec Spec) *entry {
	e := &entry{exited: make(chan struct{}), removed: make(chan struct{})}
	e.cur.Store(&spec)
	return e
}

type pendingAttach struct {
	req  ctlRequest
	conn chan net.Conn
}

// Info is a container's configuration and state.
type Info struct {
	Spec  Spec
	State State
}

// New opens (and creates) the container folder dir, finds the containers
// that survived an agent restart, reattaches to their monitors and applies
// restart policies to those whose monitor is gone (a reboot).
func New(ctx context.Context, dir string, opts ...Option) (*Runtime, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create container folder: %w", err)
	}
	if _, err := sealedSelf(); err != nil {
		return nil, err
	}
	r := &Runtime{dir: dir, entries: map[string]*entry{}, unsaved: map[string]unsavedState{}, kick: make(chan struct{})}
	for _, o := range opts {
		o(r)
	}
	saveDefaultFilter(dir)
	des, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("read container folder: %w", err)
	}
	var restart []string
	for _, de := range des {
		if !de.IsDir() {
			continue
		}
		if strings.HasPrefix(de.Name(), removingPrefix) {
			os.RemoveAll(filepath.Join(dir, de.Name())) // a removal cut short
			continue
		}
		var spec Spec
		if err := readJSON(filepath.Join(dir, de.Name(), specFile), &spec); err != nil {
			if specLost(filepath.Join(dir, de.Name())) {
				// An AutoRemove container's create, cut short by a
				// crash (its spec is not synced): nothing to keep.
				os.RemoveAll(filepath.Join(dir, de.Name()))
			}
			continue
		}
		e := newEntry(spec)
		r.entries[spec.ID] = e
		st, _ := r.state(spec.ID)
		if !st.Running() {
			// Created or exited: its run is over (an AutoRemove
			// container's create is not synced, nor is its image's
			// holder, so it is not kept either way).
			if spec.AutoRemove && (st.Status == StatusExited || st.Status == StatusCreated) {
				defer r.Remove(ctx, spec.ID, true)
			}
			continue
		}
		if err := r.watch(e, nil); err != nil {
			// The monitor is gone (the machine rebooted or it crashed).
			r.monitorGone(spec.ID, "the container's monitor is gone")
			if p := spec.RestartPolicy.Name; p == "always" || p == "unless-stopped" {
				restart = append(restart, spec.ID)
			}
		}
	}
	r.pruneNetwork()
	r.resumeHealth()
	for _, id := range restart {
		r.Start(ctx, id)
	}
	return r, nil
}

func (r *Runtime) cdir(id string) string { return filepath.Join(r.dir, id) }

// removingPrefix names a container folder being deleted (removeDir).
const removingPrefix = ".removing-"

// removeDir deletes the folder of container id. In the background, when
// later is set: the folder is renamed first, so the container is gone at
// once (the deletion costs a `run --rm` 15-20 ms under TCG); New deletes
// what a crash left.
func (r *Runtime) removeDir(id string, later bool) error {
	dir := r.cdir(id)
	if later {
		trash := filepath.Join(r.dir, removingPrefix+id)
		if err := os.Rename(dir, trash); err == nil {
			removeQuietly(trash)
			return nil
		}
	}
	return os.RemoveAll(dir)
}

// removeQuietly deletes path in the background, from a thread of the
// lowest priority: the deletion (15 ms of CPU time in a TCG machine) then
// takes none from the containers that start and stop meanwhile.
func removeQuietly(path string) {
	go func() {
		runtime.LockOSThread()
		tid := unix.Gettid()
		unix.Setpriority(unix.PRIO_PROCESS, tid, 19)
		os.RemoveAll(path)
		// The thread goes back to work at its priority. One that cannot
		// ends with this goroutine, but a thread must not end needlessly:
		// the children it started with a parent-death signal get it.
		if unix.Setpriority(unix.PRIO_PROCESS, tid, 0) == nil {
			runtime.UnlockOSThread()
		}
	}()
}

// specLost reports whether the container folder dir has no spec, or an
// empty one, and nothing written in its file system: what a crash leaves
// of a create whose files were not synced (AutoRemove containers').
func specLost(dir string) bool {
	if fi, err := os.Stat(filepath.Join(dir, specFile)); err == nil && fi.Size() > 0 {
		return false
	}
	upper, err := os.ReadDir(filepath.Join(dir, "upper"))
	return (err == nil || errors.Is(err, os.ErrNotExist)) && len(upper) == 0
}

// lookup finds a container by full id, name, or unique id prefix.
func (r *Runtime) lookup(ref string) (*entry, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	ref = strings.TrimPrefix(ref, "/")
	if e, ok := r.entries[ref]; ok {
		return e, nil
	}
	for _, e := range r.entries {
		if e.spec().Name == ref {
			return e, nil
		}
	}
	var found *entry
	if ref != "" {
		for id, e := range r.entries {
			if strings.HasPrefix(id, ref) {
				if found != nil {
					return nil, fmt.Errorf("multiple containers match %q: give more of the id", ref)
				}
				found = e
			}
		}
	}
	if found == nil {
		return nil, notFound(ref)
	}
	return found, nil
}

// Create stores a new container (not started). spec.ID and spec.Name are
// made when empty; spec.Args must be set (see ApplyConfig).
func (r *Runtime) Create(ctx context.Context, spec Spec) (Info, error) {
	if spec.ID == "" {
		spec.ID = NewID()
	}
	if err := r.prepareNetwork(&spec); err != nil {
		return Info{}, fmt.Errorf("create container: %w", err)
	}
	if spec.Hostname == "" {
		spec.Hostname = spec.ID[:12]
	}
	if len(spec.Args) == 0 {
		return Info{}, ErrNoCommand
	}
	if len(spec.LowerDirs) == 0 {
		return Info{}, errors.New("create container: the image has no layers")
	}
	if err := CheckPorts(spec.Ports); err != nil {
		return Info{}, fmt.Errorf("create container: %w", err)
	}
	spec.Name = strings.TrimPrefix(spec.Name, "/")
	if spec.Name != "" && !ValidName(spec.Name) {
		return Info{}, fmt.Errorf("invalid container name %q, only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed", spec.Name)
	}
	if spec.Created.IsZero() {
		spec.Created = time.Now().UTC()
	}
	r.mu.Lock()
	taken := map[string]bool{}
	for _, e := range r.entries {
		taken[e.spec().Name] = true
	}
	if spec.Name == "" {
		for i := 0; i < 100; i++ {
			spec.Name = GenerateName()
			if i > 50 {
				spec.Name += fmt.Sprint(i)
			}
			if !taken[spec.Name] {
				break
			}
		}
	} else if taken[spec.Name] {
		r.mu.Unlock()
		return Info{}, fmt.Errorf("%w: the container name \"/%s\" is already in use", ErrNameInUse, spec.Name)
	}
	e := newEntry(spec)
	r.entries[spec.ID] = e
	r.mu.Unlock()

	if err := r.writeContainer(spec); err != nil {
		r.mu.Lock()
		delete(r.entries, spec.ID)
		r.mu.Unlock()
		os.RemoveAll(r.cdir(spec.ID))
		return Info{}, fmt.Errorf("create container %s: %w", spec.Name, err)
	}
	st, _ := r.state(spec.ID)
	r.emit(ActionCreate, spec, nil)
	r.kickRefill() // a start is likely to follow
	return Info{Spec: spec, State: st}, nil
}

func (r *Runtime) writeContainer(spec Spec) error {
	dir := r.cdir(spec.ID)
	for _, d := range []string{dir, filepath.Join(dir, "upper"), filepath.Join(dir, "work"), filepath.Join(dir, "rootfs")} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return err
		}
	}
	os.Chmod(filepath.Join(dir, "upper"), 0o755)
	hosts, resolv := networkFiles(spec.NetworkMode, spec.ExtraHosts)
	files := map[string]string{
		"hostname":    spec.Hostname + "\n",
		"hosts":       string(hosts),
		"resolv.conf": string(resolv),
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			return err
		}
	}
	// A container whose create returned survives a power loss, as
	// Docker's do: its spec and state reach the disk, and so does its
	// folder's entry among the containers. An AutoRemove container does
	// not outlive the machine's start (New removes it when it does not
	// run), so it goes without the fsyncs, which cost every `run --rm`
	// tens of milliseconds; a folder left without its spec is removed
	// by New too.
	var sync []atomicfile.Option
	if !spec.AutoRemove {
		sync = append(sync, atomicfile.Sync())
	}
	if err := atomicfile.WriteJSON(filepath.Join(dir, specFile), spec, sync...); err != nil {
		return err
	}
	if err := atomicfile.WriteJSON(filepath.Join(dir, stateFile), State{Status: StatusCreated}, sync...); err != nil {
		return err
	}
	if spec.AutoRemove {
		return nil
	}
	return atomicfile.SyncDir(filepath.Dir(dir))
}

// Get returns a container's configuration and state.
func (r *Runtime) Get(ref string) (Info, error) {
	e, err := r.lookup(ref)
	if err != nil {
		return Info{}, err
	}
	st, err := r.state(e.spec().ID)
	if err != nil {
		return Info{}, fmt.Errorf("read state of %s: %w", e.spec().Name, err)
	}
	return Info{Spec: e.spec(), State: withPause(e.spec().ID, st)}, nil
}

// List returns every container, newest first.
func (r *Runtime) List() []Info {
	r.mu.Lock()
	ids := make([]string, 0, len(r.entries))
	for id := range r.entries {
		ids = append(ids, id)
	}
	r.mu.Unlock()
	var out []Info
	for _, id := range ids {
		if info, err := r.Get(id); err == nil {
			out = append(out, info)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Spec.Created.After(out[j].Spec.Created) })
	return out
}

// dialMonitor connects to the container's monitor and sends req. The
// connection is returned after the monitor's first reply.
func (r *Runtime) dialMonitor(ctx context.Context, id string, req ctlRequest) (net.Conn, *bufio.Reader, ctlReply, error) {
	dirf, err := os.Open(r.cdir(id))
	if err != nil {
		return nil, nil, ctlReply{}, err
	}
	defer dirf.Close()
	var d net.Dialer
	c, err := d.DialContext(ctx, "unix", fmt.Sprintf("/proc/self/fd/%d/%s", dirf.Fd(), ctlSocket))
	if err != nil {
		return nil, nil, ctlReply{}, fmt.Errorf("%w (no monitor: %v)", ErrNotRunning, err)
	}
	b, _ := json.Marshal(req)
	if _, err := c.Write(append(b, '\n')); err != nil {
		c.Close()
		return nil, nil, ctlReply{}, fmt.Errorf("send %s to monitor: %w", req.Op, err)
	}
	br := bufio.NewReader(c)
	rep, err := readReply(br)
	if err != nil {
		c.Close()
		return nil, nil, ctlReply{}, fmt.Errorf("read monitor's answer to %s: %w", req.Op, err)
	}
	return c, br, rep, nil
}

func readReply(br *bufio.Reader) (ctlReply, error) {
	line, err := br.ReadBytes('\n')
	if err != nil {
		return ctlReply{}, err
	}
	var rep ctlReply
	if err := json.Unmarshal(line, &rep); err != nil {
		return ctlReply{}, err
	}
	return rep, nil
}

// call sends a one-shot request to the monitor.
func (r *Runtime) call(ctx context.Context, id string, req ctlRequest) error {
	c, _, rep, err := r.dialMonitor(ctx, id, req)
	if err != nil {
		return err
	}
	c.Close()
	if rep.Error != "" {
		if rep.Error == "container is not running" {
			return ErrNotRunning
		}
		return errors.New(rep.Error)
	}
	return nil
}

// watch follows the monitor's starts and exits: it tells of each one
// (start, die) and broadcasts the exits and, when the monitor ends,
// applies auto-remove. started, when not nil, is closed at the first
// start told of, or when the monitor ends.
func (r *Runtime) watch(e *entry, started chan struct{}) error {
	id := e.spec().ID
	c, br, _, err := r.dialMonitor(context.Background(), id, ctlRequest{Op: "wait"})
	if err != nil {
		return err
	}
	done := make(chan struct{})
	r.mu.Lock()
	e.watchDone = done
	r.mu.Unlock()
	var once sync.Once
	seen := func() {
		if started != nil {
			once.Do(func() { close(started) })
		}
	}
	go func() {
		defer c.Close()
		forgotten := false
		for {
			rep, err := readReply(br)
			if err != nil {
				break
			}
			switch {
			case rep.Started != nil:
				r.emit(ActionStart, e.spec(), nil)
				seen()
			case rep.State != nil:
				r.exitSeen(id, *rep.State)
				r.emitExit(e.spec(), *rep.State)
				r.broadcastExit(e)
				if e.spec().AutoRemove {
					// Its run is over for good (AutoRemove has no restart
					// policy): it is removed now, its folder once the
					// monitor is gone. The monitor releases the addresses
					// itself, now that it has told of the exit: waiting
					// for it here would hold up the removal's answer
					// (the wait of `run --rm`).
					forgotten = r.forget(context.Background(), e, false)
				}
			}
		}
		seen()
		if !r.monitorListens(id) {
			r.monitorGone(id, "the container's monitor ended without saving its state")
		}
		r.mu.Lock()
		close(done)
		e.watchDone = nil
		r.mu.Unlock()
		switch {
		case forgotten:
			// In case the monitor ended before it could release them.
			r.releaseNetwork(context.Background(), e.spec())
			r.dispose(e)
		case e.spec().AutoRemove:
			r.Remove(context.Background(), id, true)
		}
	}()
	return nil
}

func (r *Runtime) broadcastExit(e *entry) {
	r.mu.Lock()
	close(e.exited)
	e.exited = make(chan struct{})
	r.mu.Unlock()
}

// Start starts a created or exited container. Pending attaches are
// connected before the command runs, so they see all of its output.
func (r *Runtime) Start(ctx context.Context, ref string) error {
	e, err := r.lookup(ref)
	if err != nil {
		return err
	}
	id := e.spec().ID
	r.mu.Lock()
	if e.starting {
		r.mu.Unlock()
		return ErrAlreadyStarted
	}
	e.starting = true
	prev := e.watchDone
	r.mu.Unlock()
	defer func() {
		r.mu.Lock()
		e.starting = false
		r.mu.Unlock()
	}()
	if st, _ := r.state(id); st.Running() {
		return ErrAlreadyStarted
	}
	if prev != nil {
		// The previous monitor is finishing (restart after stop).
		select {
		case <-prev:
		case <-time.After(10 * time.Second):
		}
	}
	// The next spare is made after this start, not during it: starting a
	// monitor and its warm init (two runs of this program) while this
	// container starts doubled the time its monitor took to get ready in
	// a loaded TCG machine. Nor while it runs its first moments (see
	// refillAfter).
	defer func() { go r.refillAfter(e) }()
	if err := r.spawnMonitor(ctx, id); err != nil {
		return fmt.Errorf("start container %s: %w", e.spec().Name, err)
	}
	r.mu.Lock()
	pending := e.pending
	e.pending = nil
	r.mu.Unlock()
	// The pending attaches and the watcher connect side by side.
	var wg sync.WaitGroup
	for _, p := range pending {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, _, rep, err := r.dialMonitor(ctx, id, p.req)
			if err == nil && rep.Error != "" {
				c.Close()
				err = errors.New(rep.Error)
			}
			if err != nil {
				close(p.conn)
				return
			}
			p.conn <- c
		}()
	}
	started := make(chan struct{})
	err = r.watch(e, started)
	wg.Wait()
	if err != nil {
		return fmt.Errorf("start container %s: follow its monitor: %w", e.spec().Name, err)
	}
	c, _, rep, err := r.dialMonitor(ctx, id, ctlRequest{Op: "start"})
	if err != nil {
		return fmt.Errorf("start container %s: %w", e.spec().Name, err)
	}
	c.Close()
	if rep.Error != "" {
		return &StartError{Code: rep.Code, Message: rep.Error}
	}
	// The watcher tells of the start, in order with a die that may follow
	// at once; it has done so before Start returns, as with Docker.
	select {
	case <-started:
	case <-time.After(5 * time.Second):
	}
	return nil
}

// spawnMonitor hands the container to a spare monitor and waits until it
// listens. A spare that died while it waited is replaced once.
func (r *Runtime) spawnMonitor(ctx context.Context, id string) error {
	s, fresh, err := r.takeSpare()
	if err != nil {
		return err
	}
	err = r.assign(ctx, s, id)
	if errors.Is(err, errSpareGone) && !fresh {
		if s, err = startSpare(); err != nil {
			return err
		}
		err = r.assign(ctx, s, id)
	}
	return err
}

func (r *Runtime) assign(ctx context.Context, s *spareMonitor, id string) error {
	done := make(chan error, 1)
	go func() { done <- s.assign(r.cdir(id), 30*time.Second) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		s.cmd.Process.Kill()
		return ctx.Err()
	}
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}

// AttachOptions say which streams an attach carries.
type AttachOptions struct {
	Stdin, Stdout, Stderr bool
}

// Attach returns a stream of the container: reading it gives the output
// (Docker's multiplexed framing, or raw with a TTY), writing it feeds
// stdin, CloseWrite ends stdin. On a container that is not running it
// waits until the next Start.
func (r *Runtime) Attach(ctx context.Context, ref string, opts AttachOptions) (net.Conn, error) {
	a, err := r.RequestAttach(ref, opts)
	if err != nil {
		return nil, err
	}
	return a.Conn(ctx)
}

// AttachRequest is an attach registered with the runtime: a Start from
// then on connects it before the container's command runs. A server
// registers it before it answers the client, which may start the
// container as soon as it has the answer.
type AttachRequest struct {
	r       *Runtime
	e       *entry
	req     ctlRequest
	pending *pendingAttach // nil: the container was running; dial it
}

// RequestAttach registers an attach to the container (see Attach).
func (r *Runtime) RequestAttach(ref string, opts AttachOptions) (*AttachRequest, error) {
	e, err := r.lookup(ref)
	if err != nil {
		return nil, err
	}
	a := &AttachRequest{r: r, e: e, req: ctlRequest{Op: "attach", Stdin: opts.Stdin, Stdout: opts.Stdout, Stderr: opts.Stderr}}
	r.emit(ActionAttach, e.spec(), nil)
	r.mu.Lock()
	defer r.mu.Unlock()
	if st, _ := r.state(e.spec().ID); st.Running() && !e.starting {
		return a, nil
	}
	a.pending = &pendingAttach{req: a.req, conn: make(chan net.Conn, 1)}
	e.pending = append(e.pending, a.pending)
	return a, nil
}

// Conn waits for the stream: at once for a running container, else at
// its next Start. Cancelling ctx withdraws the request.
func (a *AttachRequest) Conn(ctx context.Context) (net.Conn, error) {
	if a.pending == nil {
		c, _, rep, err := a.r.dialMonitor(ctx, a.e.spec().ID, a.req)
		if err != nil {
			return nil, err
		}
		if rep.Error != "" {
			c.Close()
			return nil, errors.New(rep.Error)
		}
		return c, nil
	}
	select {
	case c, ok := <-a.pending.conn:
		if !ok {
			return nil, fmt.Errorf("attach to %s: the container did not start", a.e.spec().Name)
		}
		return c, nil
	case <-ctx.Done():
		a.Cancel()
		return nil, ctx.Err()
	}
}

// Cancel withdraws a request whose stream is not wanted any more.
func (a *AttachRequest) Cancel() {
	if a.pending == nil {
		return
	}
	a.r.mu.Lock()
	for i, x := range a.e.pending {
		if x == a.pending {
			a.e.pending = append(a.e.pending[:i], a.e.pending[i+1:]...)
			break
		}
	}
	a.r.mu.Unlock()
	select {
	case c, ok := <-a.pending.conn:
		if ok {
			c.Close()
		}
	default:
	}
}

// WaitCondition is what Wait waits for (Docker's names).
type WaitCondition string

// Wait conditions.
const (
	WaitNotRunning WaitCondition = "not-running"
	WaitNextExit   WaitCondition = "next-exit"
	WaitRemoved    WaitCondition = "removed"
)

// Wait blocks until the condition holds and returns the container's state
// at that moment (for "removed": the last state before removal).
func (r *Runtime) Wait(ctx context.Context, ref string, cond WaitCondition) (State, error) {
	e, err := r.lookup(ref)
	if err != nil {
		return State{}, err
	}
	id := e.spec().ID
	r.mu.Lock()
	exited, removed := e.exited, e.removed
	r.mu.Unlock()
	st, _ := r.state(id)
	switch cond {
	case WaitRemoved:
		for {
			select {
			case <-removed:
				return r.lastState(e, st), nil
			case <-exited:
				st, _ = r.state(id)
				r.mu.Lock()
				exited = e.exited
				r.mu.Unlock()
			case <-ctx.Done():
				return State{}, ctx.Err()
			}
		}
	case WaitNotRunning, "":
		if !st.Running() && !e.startingNow(r) {
			return st, nil
		}
	}
	select {
	case <-exited:
	case <-removed:
	case <-ctx.Done():
		return State{}, ctx.Err()
	}
	st, err = r.state(id)
	if err != nil {
		return r.lastState(e, st), nil
	}
	return st, nil
}

func (e *entry) startingNow(r *Runtime) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return e.starting
}

func (r *Runtime) lastState(e *entry, fallback State) State {
	r.mu.Lock()
	defer r.mu.Unlock()
	if e.lastState != nil {
		return *e.lastState
	}
	return fallback
}

// Kill sends sig to the container's process.
func (r *Runtime) Kill(ctx context.Context, ref string, sig syscall.Signal) error {
	e, err := r.lookup(ref)
	if err != nil {
		return err
	}
	if sig == 0 {
		sig = syscall.SIGKILL
	}
	// Told before the signal goes, so that it comes before the die.
	if st, _ := r.state(e.spec().ID); !st.Running() {
		return fmt.Errorf("kill container %s: %w", e.spec().Name, ErrNotRunning)
	}
	r.emitKill(e.spec(), sig)
	r.thaw(e.spec().ID)
	if err := r.call(ctx, e.spec().ID, ctlRequest{Op: "kill", Signal: int(sig)}); err != nil {
		return fmt.Errorf("kill container %s: %w", e.spec().Name, err)
	}
	return nil
}

// Stop sends sig (when 0 the container's StopSignal, else SIGTERM),
// waits up to grace, then kills; the
// restart policy does not apply to a stopped container. ErrNotRunning
// when it was not running.
func (r *Runtime) Stop(ctx context.Context, ref string, sig syscall.Signal, grace time.Duration) error {
	e, err := r.lookup(ref)
	if err != nil {
		return err
	}
	if st, _ := r.state(e.spec().ID); !st.Running() {
		return ErrNotRunning
	}
	if grace < 0 {
		grace = 0
	}
	if sig == 0 {
		sig = stopSignal(e.spec())
	}
	r.emitKill(e.spec(), sig)
	r.thaw(e.spec().ID)
	err = r.call(ctx, e.spec().ID, ctlRequest{Op: "stop", Signal: int(sig), Timeout: int(grace / time.Second)})
	if errors.Is(err, ErrNotRunning) {
		return ErrNotRunning
	}
	if err != nil {
		return fmt.Errorf("stop container %s: %w", e.spec().Name, err)
	}
	// The watcher has told of the die when the monitor is gone.
	r.waitMonitorGone(e, 10*time.Second)
	r.emit(ActionStop, e.spec(), nil)
	return nil
}

func (r *Runtime) waitMonitorGone(e *entry, limit time.Duration) {
	r.mu.Lock()
	done := e.watchDone
	r.mu.Unlock()
	if done == nil {
		return
	}
	select {
	case <-done:
	case <-time.After(limit):
	}
}

// Restart stops the container when it runs, then starts it.
func (r *Runtime) Restart(ctx context.Context, ref string, grace time.Duration) error {
	if err := r.Stop(ctx, ref, 0, grace); err != nil && !errors.Is(err, ErrNotRunning) {
		return err
	}
	if err := r.Start(ctx, ref); err != nil {
		return err
	}
	if e, err := r.lookup(ref); err == nil {
		r.emit(ActionRestart, e.spec(), nil)
	}
	return nil
}

// Resize sets the size of the container's terminal.
func (r *Runtime) Resize(ctx context.Context, ref string, height, width int) error {
	e, err := r.lookup(ref)
	if err != nil {
		return err
	}
	return r.call(ctx, e.spec().ID, ctlRequest{Op: "resize", Height: height, Width: width})
}

// Remove deletes a container and everything it holds. A running container
// is refused (ErrRunning) unless force, which kills it first.
func (r *Runtime) Remove(ctx context.Context, ref string, force bool) error {
	e, err := r.lookup(ref)
	if err != nil {
		return err
	}
	id := e.spec().ID
	st, _ := r.state(id)
	if st.Running() {
		if !force {
			return fmt.Errorf("%w: cannot remove container %s: stop the container before removing it, or force remove (-f)", ErrRunning, e.spec().Name)
		}
		r.emitKill(e.spec(), syscall.SIGKILL)
		r.thaw(id)
		r.call(ctx, id, ctlRequest{Op: "stop", Signal: int(syscall.SIGKILL)})
		r.waitMonitorGone(e, 10*time.Second)
	} else {
		// A monitor whose container just exited may still be finishing.
		r.waitMonitorGone(e, 5*time.Second)
	}
	if !r.forget(ctx, e, true) {
		return nil // removed meanwhile (auto-remove)
	}
	if err := r.dispose(e); err != nil {
		return fmt.Errorf("remove container %s: %w", e.spec().Name, err)
	}
	return nil
}

// forget is the first half of removing container e: its name and ID are
// free, its addresses released (with release; else its monitor MUST
// release them), the remove hook has run (the image's release, anonymous
// volumes), "destroy" is told and waits for "removed" answer. It reports
// false when e was removed already. Its monitor may still be ending:
// dispose deletes the rest once it has.
func (r *Runtime) forget(ctx context.Context, e *entry, release bool) bool {
	id := e.spec().ID
	r.mu.Lock()
	if _, ok := r.entries[id]; !ok {
		r.mu.Unlock()
		return false
	}
	delete(r.entries, id)
	final, _ := r.state(id)
	e.lastState = &final
	hook := r.onRemove
	r.mu.Unlock()
	// The two touch different files: they run side by side.
	var wg sync.WaitGroup
	if release {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.releaseNetwork(ctx, e.spec())
		}()
	}
	if hook != nil {
		hook(e.spec())
	}
	wg.Wait()
	r.emit(ActionDestroy, e.spec(), nil)
	close(e.removed)
	return true
}

// dispose deletes what is left of forgotten container e, whose monitor
// MUST be gone: its cgroup and its folder.
func (r *Runtime) dispose(e *entry) error {
	id := e.spec().ID
	r.forgetUnsaved(id)
	var errs []error
	if root, err := CgroupRoot(); err == nil {
		if err := removeCgroup(filepath.Join(root, cgroupParent, id)); err != nil {
			errs = append(errs, err)
		}
	}
	if err := r.removeDir(id, e.spec().AutoRemove); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// Logs calls fn for each log entry opts selects, oldest first. With
// opts.Follow it keeps calling fn for new entries until the container is
// no longer running and everything is read, or ctx ends.
func (r *Runtime) Logs(ctx context.Context, ref string, opts LogOptions, fn func(LogEntry) error) error {
	e, err := r.lookup(ref)
	if err != nil {
		return err
	}
	f, err := os.Open(filepath.Join(r.cdir(e.spec().ID), logFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("open log of %s: %w", e.spec().Name, err)
	}
	defer f.Close()
	entries, consumed, err := readLogEntries(f, opts)
	if err != nil {
		return fmt.Errorf("read log of %s: %w", e.spec().Name, err)
	}
	for _, le := range entries {
		if err := fn(le); err != nil {
			return err
		}
	}
	if !opts.Follow {
		return nil
	}
	follow := opts
	follow.Tail = -1
	offset := consumed
	for {
		st, _ := r.state(e.spec().ID)
		running := st.Running()
		if _, err := f.Seek(offset, io.SeekStart); err != nil {
			return err
		}
		entries, n, err := readLogEntries(f, follow)
		if err != nil {
			return err
		}
		offset += n
		for _, le := range entries {
			if err := fn(le); err != nil {
				return err
			}
		}
		if !running {
			return nil
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(100 * time.Millisecond):
		}
	}
}
