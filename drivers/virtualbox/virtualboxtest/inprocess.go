package virtualboxtest

import (
	"bytes"
	"context"
	"os"

	"github.com/berthvm/berth/drivers/virtualbox/vboxdouble"
	"github.com/berthvm/berth/drivers/virtualbox/vboxmanage"
)

// InProcess is a vboxmanage.Runner that runs the VBoxManage double in this
// process, for tests of command sequences that boot no VM.
type InProcess struct {
	// Env holds the double's settings (VBOXDOUBLE_HOME, ...); other
	// variables come from the process environment.
	Env map[string]string
}

// Run implements vboxmanage.Runner.
func (r *InProcess) Run(_ context.Context, args []string) (vboxmanage.Output, error) {
	var stdout, stderr bytes.Buffer
	code := vboxdouble.Main(args, &stdout, &stderr, func(k string) string {
		if v, ok := r.Env[k]; ok {
			return v
		}
		return os.Getenv(k)
	})
	return vboxmanage.Output{Stdout: stdout.String(), Stderr: stderr.String(), ExitCode: code}, nil
}
