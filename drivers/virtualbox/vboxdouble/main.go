package vboxdouble

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/gofrs/flock"
)

// defaultVersion is the VirtualBox release the double claims to be.
const defaultVersion = "7.1.12r169651"

// env is the double's view of one invocation.
type env struct {
	home    string
	ver     version
	verRaw  string
	stdout  io.Writer
	stderr  io.Writer
	getenv  func(string) string
	st      *state
	changed bool
}

// runtimeError is a failure VBoxManage reports from VirtualBox's API: error
// lines, then Details and Context lines, exit 1.
type runtimeError struct {
	lines []string
	exit  int
}

func (e *runtimeError) Error() string { return strings.Join(e.lines, "; ") }

// apiError makes the usual three-line COM error.
func apiError(text, code, component, iface, context string) error {
	return &runtimeError{lines: []string{
		text,
		fmt.Sprintf("Details: code %s, component %s, interface %s, callee nsISupports", code, component, iface),
		"Context: " + context,
	}, exit: 1}
}

func vmNotFound(name, file string) error {
	return apiError("Could not find a registered machine named '"+name+"'",
		"VBOX_E_OBJECT_NOT_FOUND (0x80bb0001)", "VirtualBoxWrap", "IVirtualBox",
		`"FindMachine(Bstr(a->argv[0]).raw(), machine.asOutParam())" at line 1150 of file `+file)
}

func lockedError(name, file string) error {
	return apiError("The machine '"+name+"' is already locked for a session (or being unlocked)",
		"VBOX_E_INVALID_OBJECT_STATE (0x80bb0007)", "MachineWrap", "IMachine",
		`"LockMachine(a->session, LockType_Write)" at line 531 of file `+file)
}

// crashError is a VBoxManage invocation that VirtualBox's own VBoxManage
// ends with a crash (SIGSEGV): no message, nothing saved. Main returns
// ExitCrash for it and the vboxmanage command kills itself with SIGSEGV;
// why goes to VBOXDOUBLE_HOME/crash.log for the test's author.
type crashError struct{ why string }

func (e *crashError) Error() string { return e.why }

// ExitCrash is what Main returns when VBoxManage would have crashed: the
// exit status a POSIX shell shows for a process killed by SIGSEGV.
const ExitCrash = 128 + 11

// notImplemented is the double's own refusal of valid VBoxManage syntax
// that it does not model. It never pretends success.
func notImplemented(what string) error {
	return &runtimeError{lines: []string{"the VBoxManage double does not implement " + what}, exit: 1}
}

// Main runs one VBoxManage invocation and returns its exit code.
func Main(args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	e := &env{stdout: stdout, stderr: stderr, getenv: getenv, verRaw: defaultVersion}
	if v := getenv("VBOXDOUBLE_VERSION"); v != "" {
		e.verRaw = v
	}
	var ok bool
	if e.ver, ok = parseVer(e.verRaw); !ok {
		fmt.Fprintf(stderr, "VBoxManage: error: VBOXDOUBLE_VERSION %q is not a version like 7.1.12r169651\n", e.verRaw)
		return 3
	}
	e.home = getenv("VBOXDOUBLE_HOME")
	if e.home == "" {
		fmt.Fprintln(stderr, "VBoxManage: error: VBOXDOUBLE_HOME is not set: the VBoxManage double needs a state folder")
		return 3
	}
	if err := os.MkdirAll(e.home, 0o700); err != nil {
		fmt.Fprintf(stderr, "VBoxManage: error: %v\n", err)
		return 3
	}
	logCall(e.home, args)
	// Global options before the command.
	for len(args) > 0 && (args[0] == "-q" || args[0] == "--nologo" || args[0] == "-nologo") {
		args = args[1:]
	}
	if len(args) == 0 {
		fmt.Fprintln(stdout, logo(e)[0])
		fmt.Fprintln(stdout, "Usage: VBoxManage [<general option>] <command>")
		return 0
	}
	switch args[0] {
	case "-V", "--version", "-v", "-version", "-Version":
		fmt.Fprintln(stdout, e.verRaw)
		return 0
	}
	cmd := args[0]
	switch cmd {
	case "createhd", "createvdi":
		cmd = "createmedium"
	}
	if _, known := spec.Commands[cmd]; !known && cmd != "createmedium" {
		return e.report(cmd, &usageError{"Invalid command '" + args[0] + "'", 2})
	}
	handler, ok := handlers[cmd]
	if !ok {
		return e.report(cmd, notImplemented("the command '"+cmd+"'"))
	}
	if len(args) == 1 {
		for _, l := range synopsis(cmd) {
			fmt.Fprintln(stdout, "Usage: "+l)
		}
		return 1
	}
	release, err := e.session()
	if err != nil {
		return e.report(cmd, err)
	}
	defer release()
	if d, err := time.ParseDuration(getenv("VBOXDOUBLE_DELAY")); err == nil && d > 0 {
		defer time.Sleep(d) // while holding the session
	}
	if err := e.injectNotReady(); err != nil {
		return e.report(cmd, err)
	}
	if e.st, err = loadState(e.home); err != nil {
		return e.report(cmd, &runtimeError{lines: []string{"the VBoxManage double cannot read its state: " + err.Error()}, exit: 1})
	}
	err = handler(e, args[1:])
	if e.changed {
		if serr := e.st.save(e.home); serr != nil && err == nil {
			err = &runtimeError{lines: []string{"the VBoxManage double cannot save its state: " + serr.Error()}, exit: 1}
		}
	}
	return e.report(cmd, err)
}

var handlers = map[string]func(*env, []string) error{}

// report prints err the way VBoxManage does and returns the exit code.
func (e *env) report(cmd string, err error) int {
	if err == nil {
		return 0
	}
	var ue *usageError
	var re *runtimeError
	var ce *crashError
	switch {
	case errors.As(err, &ce):
		if f, ferr := os.OpenFile(filepath.Join(e.home, "crash.log"), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600); ferr == nil {
			fmt.Fprintln(f, time.Now().UTC().Format(time.RFC3339)+" "+ce.why)
			f.Close()
		}
		return ExitCrash
	case errors.As(err, &ue):
		for _, l := range logo(e) {
			fmt.Fprintln(e.stderr, l)
		}
		fmt.Fprintln(e.stderr)
		fmt.Fprintln(e.stderr, "VBoxManage: error: "+ue.msg)
		if syn := synopsis(cmd); len(syn) > 0 {
			fmt.Fprintln(e.stderr, "Usage:")
			for _, l := range syn {
				fmt.Fprintln(e.stderr, l)
			}
		}
		return ue.exit
	case errors.As(err, &re):
		for _, l := range re.lines {
			fmt.Fprintln(e.stderr, "VBoxManage: error: "+l)
		}
		return re.exit
	default:
		fmt.Fprintln(e.stderr, "VBoxManage: error: "+err.Error())
		return 1
	}
}

// logo is the banner VBoxManage prints before usage errors.
func logo(e *env) []string {
	v := strings.SplitN(e.verRaw, "r", 2)[0]
	switch {
	case e.ver.less(version{7, 0, 0}):
		return []string{"Oracle VM VirtualBox Command Line Management Interface Version " + v, "(C) 2005-2022 Oracle Corporation", "All rights reserved."}
	case e.ver.less(version{7, 1, 0}):
		return []string{"Oracle VM VirtualBox Command Line Management Interface Version " + v, "Copyright (C) 2005-2024 Oracle and/or its affiliates"}
	}
	return []string{"Oracle VirtualBox Command Line Management Interface Version " + v, "Copyright (C) 2005-2025 Oracle and/or its affiliates"}
}

// session serialises invocations on the state. With
// VBOXDOUBLE_STRICT_SESSIONS=1 an invocation that overlaps another fails
// as VirtualBox does when two clients lock the same machine.
func (e *env) session() (func(), error) {
	lk := flock.New(filepath.Join(e.home, "session.lock"))
	if e.getenv("VBOXDOUBLE_STRICT_SESSIONS") == "1" {
		ok, err := lk.TryLock()
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, lockedError("(another VBoxManage call holds it)", "VBoxManageModifyVM.cpp")
		}
	} else if err := lk.Lock(); err != nil {
		return nil, err
	}
	return func() { lk.Unlock() }, nil
}

// injectNotReady fails the first VBOXDOUBLE_NOT_READY calls.
func (e *env) injectNotReady() error {
	var n int
	if _, err := fmt.Sscan(e.getenv("VBOXDOUBLE_NOT_READY"), &n); err != nil || n <= 0 {
		return nil
	}
	p := filepath.Join(e.home, "not-ready.count")
	var done int
	if b, err := os.ReadFile(p); err == nil {
		fmt.Sscan(string(b), &done)
	}
	if done >= n {
		return nil
	}
	os.WriteFile(p, []byte(fmt.Sprint(done+1)), 0o600)
	return apiError("The object is not ready", "E_ACCESSDENIED (0x80070005)", "SessionMachine", "IMachine",
		`"LockMachine(a->session, LockType_Shared)" at line 2900 of file VBoxManageInfo.cpp`)
}

// logCall appends args to calls.log.
func logCall(home string, args []string) {
	b, _ := json.Marshal(args)
	f, err := os.OpenFile(filepath.Join(home, "calls.log"), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		return
	}
	defer f.Close()
	f.Write(append(b, '\n'))
}
