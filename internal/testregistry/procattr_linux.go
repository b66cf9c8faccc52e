package testregistry

import (
	"os/exec"
	"syscall"
)

// dieWithParent makes the registry end when the test process dies, even
// when it is killed before its cleanup runs.
func dieWithParent(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
