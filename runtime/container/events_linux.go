package container

import (
	"strconv"
	"syscall"
)

// WithEvents has fn called with each container event, in order for each
// container: create, attach, start (also when the restart policy starts
// the container again), kill, oom, die (also when the process exits by
// itself), stop, restart and destroy. fn runs on the runtime's
// goroutines and must not block or call the Runtime.
func WithEvents(fn func(Event)) Option {
	return func(r *Runtime) { r.events = fn }
}

func (r *Runtime) emit(action string, spec Spec, attrs map[string]string) {
	r.healthEvent(action, spec)
	if r.events != nil {
		r.events(Event{Action: action, Spec: spec, Attributes: attrs})
	}
}

// emitKill tells of a signal sent to the container's process.
func (r *Runtime) emitKill(spec Spec, sig syscall.Signal) {
	r.emit(ActionKill, spec, map[string]string{"signal": strconv.Itoa(int(sig))})
}

// emitExit tells of an exit the monitor reported: oom when the kernel
// killed the process for memory, then die with the exit code and how
// many seconds the process ran.
func (r *Runtime) emitExit(spec Spec, st State) {
	if st.OOMKilled {
		r.emit(ActionOOM, spec, nil)
	}
	ran := 0
	if st.Status != StatusCreated && st.FinishedAt.After(st.StartedAt) {
		ran = int(st.FinishedAt.Sub(st.StartedAt).Seconds())
	}
	r.emit(ActionDie, spec, map[string]string{"exitCode": strconv.Itoa(st.ExitCode), "execDuration": strconv.Itoa(ran)})
}
