package container

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// ctlRequest is one request on a monitor's control socket (a JSON line).
// "attach" turns the connection into the container's stream.
type ctlRequest struct {
	Op      string `json:"op"` // start, attach, wait, kill, stop, resize
	Stdin   bool   `json:"stdin,omitempty"`
	Stdout  bool   `json:"stdout,omitempty"`
	Stderr  bool   `json:"stderr,omitempty"`
	Signal  int    `json:"signal,omitempty"`
	Timeout int    `json:"timeout,omitempty"` // seconds, for stop
	Height  int    `json:"h,omitempty"`
	Width   int    `json:"w,omitempty"`
}

// ctlReply answers a request. For wait it carries the state at each exit
// (State) and at each start (Started), in the order they happen.
type ctlReply struct {
	Error   string `json:"error,omitempty"`
	Code    int    `json:"code,omitempty"`
	State   *State `json:"state,omitempty"`
	Started *State `json:"started,omitempty"`
}

type attacher struct {
	conn           net.Conn
	stdout, stderr bool
}

// monitor supervises one container: it holds the process's stdio, writes
// the log and the state, serves the control socket and applies the
// restart policy. It runs as its own session, so the agent can restart.
type monitor struct {
	dir  string
	spec Spec

	mu        sync.Mutex
	state     State
	attachers []*attacher
	pty       *os.File

	inMu      sync.Mutex // guards stdin, inBuf, inEOF, inEnded
	inCond    *sync.Cond // on inMu: broadcast when stdin, inEOF or inEnded change
	stdin     io.WriteCloser
	inBuf     []byte // stdin sent before the process ran
	inEOF     bool
	inEnded   bool // the process ran and ended: input waits for no one
	proc      *os.Process
	waiters   []chan ctlReply
	logs      *logWriter
	startReq  chan chan ctlReply
	stopping  bool
	stopped   chan struct{} // closed by the first stop: ends a restart back-off
	unsaved   bool          // the last state save failed
	finished  bool
	started   bool
	handlers  sync.WaitGroup
	ports     *portProxy // the published ports of the current run
	exitedRun chan struct{}
	warm      *warmInit    // an init cloned while this monitor was a spare
	next      *preparedRun // the first run, prepared at the assignment
}

// runMonitor is the monitor's main: args are the container folder.
func runMonitor(args []string) int {
	if len(args) != 1 {
		fmt.Fprintln(os.Stderr, "usage: container-monitor DIR")
		return 2
	}
	dir := args[0]
	var warm *warmInit
	if dir == spareArg {
		warm = startWarmInit(initFlags)
		go warmJSON(&Spec{}, &State{}, &initConfig{}, &ctlRequest{}, &ctlReply{})
		idle := time.AfterFunc(warmIdle, warm.expire)
		var ok bool
		dir, ok = awaitAssignment()
		idle.Stop()
		if !ok {
			warm.expire()
			return 0
		}
	}
	m := &monitor{dir: dir, startReq: make(chan chan ctlReply, 1), stopped: make(chan struct{}), warm: warm}
	m.inCond = sync.NewCond(&m.inMu)
	defer m.dropWarmInit()
	if err := m.run(); err != nil {
		fmt.Fprintf(os.Stderr, "monitor: %v\n", err)
		return 1
	}
	return 0
}

func (m *monitor) run() error {
	if err := readJSON(filepath.Join(m.dir, specFile), &m.spec); err != nil {
		return fmt.Errorf("read container config: %w", err)
	}
	if err := readJSON(filepath.Join(m.dir, stateFile), &m.state); err != nil {
		return fmt.Errorf("read container state: %w", err)
	}
	logs, err := openLogWriter(filepath.Join(m.dir, logFile))
	if err != nil {
		return fmt.Errorf("open log: %w", err)
	}
	m.logs = logs
	defer logs.close()
	dirf, err := os.Open(m.dir)
	if err != nil {
		return fmt.Errorf("open container folder: %w", err)
	}
	defer dirf.Close()
	// Through the folder's descriptor: the full path can exceed the
	// 108 bytes a socket address holds.
	sock := fmt.Sprintf("/proc/self/fd/%d/%s", dirf.Fd(), ctlSocket)
	os.Remove(sock)
	ln, err := net.Listen("unix", sock)
	if err != nil {
		return fmt.Errorf("listen on control socket: %w", err)
	}
	ln.(*net.UnixListener).SetUnlinkOnClose(false)
	go m.serve(ln)

	// Tell the agent we are ready (fd 3), then wait for "start".
	ready := os.NewFile(3, "ready")
	ready.Write([]byte{'R'})
	ready.Close()

	// The first run is prepared (the init sets up the container, the
	// network is plugged) while the agent connects and asks for the
	// start; a failure is met again there.
	m.next, _ = m.prepare()
	var reply chan ctlReply
	select {
	case reply = <-m.startReq:
	case <-time.After(2 * time.Minute):
		if m.next != nil {
			m.drop(m.next)
		}
		return errors.New("no start request within 2 minutes")
	}
	for {
		st, startErr := m.runOnce(reply)
		reply = nil
		if startErr != nil || !m.shouldRestart(st) {
			break
		}
		delay := time.Duration(100<<min(st.RestartCount, 10)) * time.Millisecond
		if time.Since(st.StartedAt) > 10*time.Second {
			delay = 100 * time.Millisecond
		}
		if _, err := m.setState(func(s *State) { s.Status = StatusRestarting; s.RestartCount++ }); err != nil {
			// state.json says exited: restarting now would run a
			// container the agent does not know runs.
			m.setState(func(s *State) { s.Status = StatusExited; s.RestartCount-- })
			break
		}
		// The back-off (up to 102 s) ends early on a stop, which must not
		// wait for it.
		wait := time.NewTimer(delay)
		select {
		case <-wait.C:
		case <-m.stopped:
			wait.Stop()
		}
		m.mu.Lock()
		stop := m.stopping
		m.mu.Unlock()
		if stop {
			m.setState(func(s *State) { s.Status = StatusExited })
			break
		}
	}
	if m.next != nil {
		// The first run failed before it was launched (its ports).
		m.drop(m.next)
		m.next = nil
	}
	ln.Close()
	os.Remove(sock)
	m.mu.Lock()
	unsaved := m.unsaved
	m.mu.Unlock()
	if unsaved {
		// A last try to leave the agent the container's final state.
		m.setState(func(*State) {})
	}
	m.endAttaches()
	m.mu.Lock()
	m.finished = true
	for _, w := range m.waiters {
		close(w)
	}
	m.waiters = nil
	m.mu.Unlock()
	// Let the handlers send their last answers.
	flushed := make(chan struct{})
	go func() { m.handlers.Wait(); close(flushed) }()
	select {
	case <-flushed:
	case <-time.After(5 * time.Second):
	}
	return nil
}

func (m *monitor) shouldRestart(st State) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.stopping || st.ManualStop {
		return false
	}
	switch m.spec.RestartPolicy.Name {
	case "always", "unless-stopped":
		return true
	case "on-failure":
		max := m.spec.RestartPolicy.MaximumRetryCount
		return st.ExitCode != 0 && (max == 0 || st.RestartCount < max)
	}
	return false
}

// setState changes the container's state and saves it to state.json,
// which the agent reads (also after a restart of its own). A failed save
// is retried a few times, then written to the monitor's log (its stderr)
// and returned: the caller decides what the container can no longer do.
func (m *monitor) setState(fn func(*State)) (State, error) {
	st := m.changeState(fn)
	return st, m.saveState(st)
}

// changeState applies fn to the state the monitor holds, not yet saved.
func (m *monitor) changeState(fn func(*State)) State {
	m.mu.Lock()
	defer m.mu.Unlock()
	fn(&m.state)
	return m.state
}

// saveState writes st to state.json, trying again a few times.
func (m *monitor) saveState(st State) error {
	path := filepath.Join(m.dir, stateFile)
	var err error
	for try := 0; try < stateSaveTries; try++ {
		if try > 0 {
			time.Sleep(stateSaveRetry)
		}
		if err = writeState(path, st); err == nil {
			return nil
		}
	}
	err = fmt.Errorf("save container state to %s: %w", path, err)
	fmt.Fprintf(os.Stderr, "monitor: %v\n", err)
	return err
}

// How often and how far apart a failed state save is tried again (a full
// disk may get room back meanwhile).
const (
	stateSaveTries = 3
	stateSaveRetry = 100 * time.Millisecond
)

// runOnce starts the container's process, answers reply (when not nil)
// with the start result, and waits for the process to end.
func (m *monitor) runOnce(reply chan ctlReply) (State, error) {
	answer := func(r ctlReply) {
		if reply != nil {
			reply <- r
		}
	}
	px, err := listenPorts(m.spec.Ports)
	var cmd *exec.Cmd
	var done chan struct{}
	if err == nil {
		cmd, done, err = m.startProcess()
		var unsaved *unsavedError
		if errors.As(err, &unsaved) {
			cmd.Process.Kill()
			m.ports = px
			st := m.waitProcess(cmd, done)
			answer(ctlReply{Error: err.Error(), Code: exitSetupFailed})
			return st, err
		}
		if err != nil {
			px.close()
		}
	}
	if err != nil {
		code := exitSetupFailed
		var ie *initError
		if errors.As(err, &ie) {
			code = ie.Code
		}
		st, saveErr := m.setState(func(s *State) {
			s.Status = StatusCreated
			if s.RestartCount > 0 {
				s.Status = StatusExited
			}
			s.ExitCode = code
			s.Error = err.Error()
			s.Pid = 0
			s.Network, s.Networks = nil, nil
			s.FinishedAt = time.Now().UTC()
		})
		if saveErr != nil {
			err = errors.Join(err, saveErr)
		}
		answer(ctlReply{Error: err.Error(), Code: code})
		m.notify(ctlReply{State: &st})
		return st, err
	}
	var addr netip.Addr
	m.mu.Lock()
	if att := m.state.Network; att != nil {
		addr = att.IP
	}
	m.mu.Unlock()
	if err := px.serve(cmd.Process.Pid, addr); err != nil && !errors.Is(err, errProcessGone) {
		cmd.Process.Kill()
		m.ports = px
		st := m.waitProcess(cmd, done)
		answer(ctlReply{Error: err.Error(), Code: exitSetupFailed})
		return st, err
	}
	answer(ctlReply{})
	m.ports = px
	st := m.waitProcess(cmd, done)
	return st, nil
}

type stdioEnds struct {
	child       []*os.File // stdin, stdout, stderr for the child
	closeAfter  []*os.File // our copies of the child's ends
	outputs     []*os.File // what to read (stdout, stderr; or the pty)
	streamNames []string
	stdinW      *os.File // what feeds the process's stdin, once it runs
}

func (m *monitor) makeStdio() (*stdioEnds, error) {
	e := &stdioEnds{}
	if m.spec.Tty {
		// The init makes the terminal inside the container and sends it.
		null, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
		if err != nil {
			return nil, err
		}
		e.child = []*os.File{null, null, null}
		e.closeAfter = []*os.File{null}
		e.streamNames = []string{"stdout"}
		return e, nil
	}
	var stdin *os.File
	if m.spec.OpenStdin {
		r, w, err := os.Pipe()
		if err != nil {
			return nil, err
		}
		stdin = r
		e.closeAfter = append(e.closeAfter, r)
		e.stdinW = w
	} else {
		f, err := os.Open(os.DevNull)
		if err != nil {
			return nil, err
		}
		stdin = f
		e.closeAfter = append(e.closeAfter, f)
	}
	or, ow, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	er, ew, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	e.child = []*os.File{stdin, ow, ew}
	e.closeAfter = append(e.closeAfter, ow, ew)
	e.outputs = []*os.File{or, er}
	e.streamNames = []string{"stdout", "stderr"}
	return e, nil
}

// preparedRun is a run of the container made ready up to its command:
// its init, configured and setting up (or done setting up) the container,
// in its cgroup, with its stdio and its network plugged meanwhile.
type preparedRun struct {
	pl     *plugged
	cgroup string
	stdio  *stdioEnds
}

// prepare makes the container's next run ready up to its command; launch
// runs it, or drop undoes it.
func (m *monitor) prepare() (*preparedRun, error) {
	pl, err := m.plugInit()
	if err != nil {
		return nil, err
	}
	p := pl.p
	cgroup, err := createCgroup(m.spec.ID, m.spec.Resources)
	if err != nil {
		m.unplugInit(pl)
		return nil, err
	}
	fail := func(err error) (*preparedRun, error) {
		m.unplugInit(pl)
		removeCgroup(cgroup)
		return nil, err
	}
	if err := p.joinCgroup(cgroup); err != nil {
		return fail(err)
	}
	filter, err := seccompFilter(m.spec, filepath.Dir(m.dir))
	if err != nil {
		return fail(err)
	}
	stdio, err := m.makeStdio()
	if err != nil {
		return fail(fmt.Errorf("make stdio: %w", err))
	}
	cfg := initConfig{
		Seccomp:   filter,
		Rootfs:    filepath.Join(m.dir, "rootfs"),
		LowerDirs: m.spec.LowerDirs,
		UpperDir:  filepath.Join(m.dir, "upper"),
		WorkDir:   filepath.Join(m.dir, "work"),
		Binds: []bindMount{
			{Source: filepath.Join(m.dir, "hostname"), Target: "/etc/hostname"},
			{Source: filepath.Join(m.dir, "hosts"), Target: "/etc/hosts"},
			{Source: filepath.Join(m.dir, "resolv.conf"), Target: "/etc/resolv.conf"},
		},
		Args: m.spec.Args, Env: m.spec.Env, Cwd: m.spec.WorkingDir,
		User: m.spec.User, Hostname: m.spec.Hostname,
		NoNewPrivileges: m.spec.NoNewPrivileges,
		Tty:             m.spec.Tty,
		ConsoleSize:     m.spec.ConsoleSize,
		Mounts:          m.spec.Mounts,
		ReadOnly:        m.spec.ReadonlyRootfs,
		Caps:            capsOf(m.spec),
		Host:            m.spec.HostSettings,
	}
	err = p.configure(stdio.child, cfg)
	for _, f := range stdio.closeAfter {
		f.Close()
	}
	pr := &preparedRun{pl: pl, cgroup: cgroup, stdio: stdio}
	if err != nil {
		m.drop(pr)
		return nil, err
	}
	return pr, nil
}

// drop undoes a prepared run that will not be launched.
func (m *monitor) drop(pr *preparedRun) {
	pr.stdio.closeOutputs()
	m.unplugInit(pr.pl)
	removeCgroup(pr.cgroup)
}

// closeOutputs closes the monitor's ends of the stdio of a run that does
// not happen.
func (e *stdioEnds) closeOutputs() {
	for _, f := range e.outputs {
		f.Close()
	}
	if e.stdinW != nil {
		e.stdinW.Close()
	}
}

// startProcess starts the container init and waits until it has exec'd
// the container's command (or failed to). done is closed when the output
// has been drained.
func (m *monitor) startProcess() (*exec.Cmd, chan struct{}, error) {
	// The run is prepared since the container's assignment for its first
	// run.
	pr := m.next
	m.next = nil
	if pr == nil {
		var err error
		if pr, err = m.prepare(); err != nil {
			return nil, nil, err
		}
	}
	return m.launch(pr)
}

// launch runs the command of a prepared run, once its network is plugged.
func (m *monitor) launch(pr *preparedRun) (*exec.Cmd, chan struct{}, error) {
	p, cgroup, stdio := pr.pl.p, pr.cgroup, pr.stdio
	cmd := p.cmd
	att, err := pr.pl.wait()
	if err != nil {
		m.drop(pr)
		return nil, nil, err
	}
	// An init that failed its set-up has closed its end: its error is
	// read below.
	p.proceed()
	if m.spec.Tty {
		if master, err := receiveConsole(p.console); err == nil {
			stdio.outputs = []*os.File{master}
			stdio.stdinW = master
			m.mu.Lock()
			m.pty = master
			m.mu.Unlock()
		}
	}
	p.console.Close()
	msg, _ := io.ReadAll(p.errR)
	p.errR.Close()

	done := make(chan struct{})
	var wg sync.WaitGroup
	for i, f := range stdio.outputs {
		wg.Add(1)
		go func(f *os.File, stream string) {
			defer wg.Done()
			m.pump(f, stream)
		}(f, stdio.streamNames[i])
	}
	go func() { wg.Wait(); close(done) }()

	if len(msg) > 0 {
		var ie initError
		if json.Unmarshal(msg, &ie) != nil {
			ie = initError{Code: exitSetupFailed, Message: string(msg)}
		}
		cmd.Wait()
		<-done
		if stdio.stdinW != nil {
			stdio.stdinW.Close()
		}
		m.closeStdin()
		m.detachNetwork()
		m.unplugNetwork(att)
		removeCgroup(cgroup)
		return nil, nil, &ie
	}
	if stdio.stdinW != nil {
		m.setStdin(stdio.stdinW)
	}
	m.mu.Lock()
	m.proc = cmd.Process
	m.exitedRun = make(chan struct{})
	m.mu.Unlock()
	st, saveErr := m.setState(func(s *State) {
		s.Status = StatusRunning
		s.Pid = cmd.Process.Pid
		s.MonitorPid = os.Getpid()
		s.StartedAt = time.Now().UTC()
		s.ExitCode = 0
		s.OOMKilled = false
		s.Error = ""
		s.ManualStop = false
		s.Network, s.Networks = primary(att), att
	})
	if saveErr != nil {
		// The agent would not know the container runs: it must not run.
		return cmd, done, &unsavedError{saveErr}
	}
	m.notify(ctlReply{Started: &st})
	return cmd, done, nil
}

// unsavedError is startProcess's error for a process that started but
// whose running state could not be saved: the caller stops it again.
type unsavedError struct{ err error }

func (e *unsavedError) Error() string { return e.err.Error() }
func (e *unsavedError) Unwrap() error { return e.err }

func (e *initError) Error() string { return e.Message }

// setStdin connects the running process's stdin, first with what
// clients sent before it ran.
func (m *monitor) setStdin(w io.WriteCloser) {
	m.inMu.Lock()
	defer m.inMu.Unlock()
	defer m.inCond.Broadcast()
	m.stdin = w
	m.inEnded = false
	if len(m.inBuf) > 0 {
		w.Write(m.inBuf)
		m.inBuf = nil
	}
	if m.inEOF && !m.spec.Tty {
		w.Close()
		m.stdin = nil
	}
}

// maxEarlyStdin is how much input sent before the process runs is kept
// for it; a client that sends more waits until it runs.
const maxEarlyStdin = 1 << 20

// writeStdin feeds the process, or keeps p until it runs. Before the
// first run, a sender beyond maxEarlyStdin waits (as a full pipe makes it
// wait) rather than lose its input: docker run -i with a large stdin
// sends it while the container starts. Once the process ended, input
// beyond it is dropped.
func (m *monitor) writeStdin(p []byte) {
	m.inMu.Lock()
	defer m.inMu.Unlock()
	for m.spec.OpenStdin && m.stdin == nil && !m.inEOF && !m.inEnded && len(m.inBuf) > 0 && len(m.inBuf)+len(p) > maxEarlyStdin {
		m.inCond.Wait()
	}
	if m.stdin != nil {
		m.stdin.Write(p)
		return
	}
	if !m.inEOF && len(m.inBuf)+len(p) <= maxEarlyStdin {
		m.inBuf = append(m.inBuf, p...)
	}
}

// endStdin closes the process's stdin (now, or as soon as it runs).
func (m *monitor) endStdin() {
	m.inMu.Lock()
	defer m.inMu.Unlock()
	defer m.inCond.Broadcast()
	m.inEOF = true
	if m.stdin != nil {
		m.stdin.Close()
		m.stdin = nil
	}
}

func (m *monitor) closeStdin() {
	m.inMu.Lock()
	if m.stdin != nil {
		m.stdin.Close()
		m.stdin = nil
	}
	m.inEnded = true
	m.inCond.Broadcast()
	m.inMu.Unlock()
	m.mu.Lock()
	m.pty = nil
	m.mu.Unlock()
}

// pump copies one output stream to the log and the attached clients.
func (m *monitor) pump(f *os.File, stream string) {
	defer f.Close()
	id := byte(StreamStdout)
	if stream == "stderr" {
		id = StreamStderr
	}
	buf := make([]byte, 32<<10)
	for {
		n, err := f.Read(buf)
		if n > 0 {
			p := buf[:n]
			m.logs.write(stream, p)
			m.mu.Lock()
			for _, a := range m.attachers {
				if id == StreamStdout && !a.stdout || id == StreamStderr && !a.stderr {
					continue
				}
				var err error
				if m.spec.Tty {
					_, err = a.conn.Write(p)
				} else {
					err = WriteFrame(a.conn, id, p)
				}
				if err != nil {
					a.stdout, a.stderr = false, false
				}
			}
			m.mu.Unlock()
		}
		if err != nil {
			return
		}
	}
}

// waitProcess waits for the container's process and its output, then
// records how it ended.
func (m *monitor) waitProcess(cmd *exec.Cmd, done chan struct{}) State {
	werr := cmd.Wait()
	if m.ports != nil {
		// Free the machine ports before anyone hears of the exit.
		m.ports.close()
		m.ports = nil
	}
	m.mu.Lock()
	att := m.state.Networks
	m.mu.Unlock()
	code := 0
	if werr != nil {
		var ee *exec.ExitError
		if errors.As(werr, &ee) {
			ws := ee.Sys().(syscall.WaitStatus)
			if ws.Signaled() {
				code = 128 + int(ws.Signal())
			} else {
				code = ws.ExitStatus()
			}
		} else {
			code = 255
		}
	}
	cgroup := filepath.Join(mustCgroupRoot(), cgroupParent, m.spec.ID)
	oom := oomKilled(cgroup)
	killCgroup(cgroup)
	select {
	case <-done:
	case <-time.After(5 * time.Second):
	}
	m.logs.flush()
	m.closeStdin()
	removeCgroup(cgroup)
	m.mu.Lock()
	stopping := m.stopping
	close(m.exitedRun)
	m.proc = nil
	m.mu.Unlock()
	st := m.changeState(func(s *State) {
		s.Status = StatusExited
		s.Pid = 0
		s.ExitCode = code
		s.OOMKilled = oom
		s.FinishedAt = time.Now().UTC()
		s.ManualStop = stopping
		s.Network, s.Networks = nil, nil
	})
	// The exit is told first, then saved: until the file has it, the
	// runtime shows the exit it was told (see unsavedState), and a
	// monitor that dies meanwhile is the runtime's to settle.
	m.notify(ctlReply{State: &st})
	if saveErr := m.saveState(st); saveErr != nil {
		m.mu.Lock()
		m.unsaved = true
		m.mu.Unlock()
	}
	if !m.shouldRestart(st) {
		// The output is all sent: attached clients see the end now, not
		// after the network is released.
		m.endAttaches()
	}
	// The network is released after the exit is known (clients that
	// wait for it, such as a kill followed by a check of the published
	// ports, are not kept waiting), before a restart runs again.
	m.detachNetwork()
	m.unplugNetwork(att)
	return st
}

// endAttaches ends every attach stream.
func (m *monitor) endAttaches() {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, a := range m.attachers {
		a.conn.Close()
	}
	m.attachers = nil
}

func mustCgroupRoot() string {
	r, _ := CgroupRoot()
	return r
}

// notify sends rep (a start or an exit) to every wait subscriber.
func (m *monitor) notify(rep ctlReply) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, w := range m.waiters {
		select {
		case w <- rep:
		default:
		}
	}
}

func (m *monitor) serve(ln net.Listener) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		m.handlers.Add(1)
		go m.handle(c)
	}
}

func (m *monitor) handle(c net.Conn) {
	defer m.handlers.Done()
	br := bufio.NewReader(c)
	line, err := br.ReadBytes('\n')
	if err != nil {
		c.Close()
		return
	}
	var req ctlRequest
	if err := json.Unmarshal(line, &req); err != nil {
		writeReply(c, ctlReply{Error: "bad request: " + err.Error()})
		c.Close()
		return
	}
	switch req.Op {
	case "attach":
		m.attach(c, br, req)
		return
	case "start":
		m.mu.Lock()
		first := !m.started
		m.started = true
		m.mu.Unlock()
		if !first {
			writeReply(c, ctlReply{Error: "container already started"})
			break
		}
		reply := make(chan ctlReply, 1)
		m.startReq <- reply
		writeReply(c, <-reply)
	case "wait":
		// A subscription: one reply per start and per exit, closed when
		// the monitor ends.
		w := make(chan ctlReply, 64)
		m.mu.Lock()
		if m.finished {
			close(w)
		} else {
			m.waiters = append(m.waiters, w)
		}
		m.mu.Unlock()
		writeReply(c, ctlReply{})
		for rep := range w {
			writeReply(c, rep)
		}
	case "kill":
		writeReply(c, m.signal(syscall.Signal(req.Signal)))
	case "stop":
		writeReply(c, m.stop(syscall.Signal(req.Signal), time.Duration(req.Timeout)*time.Second))
	case "resize":
		writeReply(c, m.resize(req.Height, req.Width))
	default:
		writeReply(c, ctlReply{Error: "unknown request " + req.Op})
	}
	c.Close()
}

func writeReply(c net.Conn, r ctlReply) {
	b, _ := json.Marshal(r)
	c.Write(append(b, '\n'))
}

// attach makes c a stream of the container: output to it, input from it.
func (m *monitor) attach(c net.Conn, br *bufio.Reader, req ctlRequest) {
	a := &attacher{conn: c, stdout: req.Stdout, stderr: req.Stderr}
	m.mu.Lock()
	m.attachers = append(m.attachers, a)
	m.mu.Unlock()
	writeReply(c, ctlReply{})
	var rerr error
	if !req.Stdin {
		_, rerr = io.Copy(io.Discard, br)
		if rerr == nil {
			rerr = io.EOF
		}
	} else {
		buf := make([]byte, 32<<10)
		for {
			n, err := br.Read(buf)
			if n > 0 {
				m.writeStdin(buf[:n])
			}
			if err != nil {
				rerr = err
				break
			}
		}
		if m.spec.StdinOnce && !m.spec.Tty {
			m.endStdin()
		}
	}
	if errors.Is(rerr, io.EOF) {
		// Half-closed (or no stdin): the client still reads the output,
		// until the container ends and run closes the connection.
		return
	}
	m.mu.Lock()
	for i, x := range m.attachers {
		if x == a {
			m.attachers = append(m.attachers[:i], m.attachers[i+1:]...)
			break
		}
	}
	m.mu.Unlock()
}

func (m *monitor) signal(sig syscall.Signal) ctlReply {
	m.mu.Lock()
	p := m.proc
	m.mu.Unlock()
	if p == nil {
		return ctlReply{Error: "container is not running"}
	}
	if err := p.Signal(sig); err != nil {
		return ctlReply{Error: fmt.Sprintf("signal container: %v", err)}
	}
	return ctlReply{}
}

func (m *monitor) stop(sig syscall.Signal, grace time.Duration) ctlReply {
	m.mu.Lock()
	if !m.stopping {
		close(m.stopped)
	}
	m.stopping = true
	p, exited := m.proc, m.exitedRun
	m.mu.Unlock()
	if p == nil {
		return ctlReply{}
	}
	if sig == 0 {
		sig = syscall.SIGTERM
	}
	p.Signal(sig)
	select {
	case <-exited:
		return ctlReply{}
	case <-time.After(grace):
	}
	p.Signal(syscall.SIGKILL)
	<-exited
	return ctlReply{}
}

func (m *monitor) resize(h, w int) ctlReply {
	m.mu.Lock()
	pty := m.pty
	m.mu.Unlock()
	if pty == nil {
		return ctlReply{Error: "container has no terminal"}
	}
	ws := &unix.Winsize{Row: uint16(h), Col: uint16(w)}
	if err := unix.IoctlSetWinsize(int(pty.Fd()), unix.TIOCSWINSZ, ws); err != nil {
		return ctlReply{Error: fmt.Sprintf("resize terminal: %v", err)}
	}
	return ctlReply{}
}
