package container

import (
	"strconv"
	"strings"
)

// Exec event actions, as Docker names them: create and start carry the
// command ("exec_start: sh -c date").
const (
	ActionExecCreate = "exec_create"
	ActionExecStart  = "exec_start"
	ActionExecDie    = "exec_die"
)

// emitExec tells of an exec's step, with its id (and exit code for die).
func (r *Runtime) emitExec(action string, x ExecInfo, exitCode *int) {
	e, err := r.lookup(x.ContainerID)
	if err != nil {
		return
	}
	attrs := map[string]string{"execID": x.ID}
	if exitCode != nil {
		attrs["exitCode"] = strconv.Itoa(*exitCode)
	} else {
		action += ": " + strings.Join(x.Spec.Args, " ")
	}
	r.emit(action, e.spec(), attrs)
}
