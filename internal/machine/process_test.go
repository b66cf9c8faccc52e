package machine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/berthvm/berth/internal/fakedriver"
)

// TestCreateTwoProcesses runs two processes that create the same machine
// at the same moment: exactly one wins, the other is told the machine is
// busy or exists.
func TestCreateTwoProcesses(t *testing.T) {
	root := t.TempDir()
	var cmds []*exec.Cmd
	var gos []io.WriteCloser
	for range 2 {
		cmd := exec.Command(os.Args[0])
		cmd.Env = append(os.Environ(), "BERTH_HELPER_STORE="+root)
		cmd.Stderr = os.Stderr
		goPipe, err := cmd.StdinPipe()
		if err != nil {
			t.Fatal(err)
		}
		ready, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// The helper says it is ready once it waits for the go.
		if _, err := io.ReadFull(ready, make([]byte, len("ready\n"))); err != nil {
			t.Fatalf("helper process: %v", err)
		}
		cmds, gos = append(cmds, cmd), append(gos, goPipe)
	}
	for _, g := range gos {
		g.Close()
	}
	wins, losses := 0, 0
	for _, cmd := range cmds {
		err := cmd.Wait()
		var exit *exec.ExitError
		switch {
		case err == nil:
			wins++
		case errors.As(err, &exit) && exit.ExitCode() == 3:
			losses++
		default:
			t.Errorf("helper process: %v", err)
		}
	}
	if wins != 1 || losses != 1 {
		t.Errorf("wins, losses = %d, %d, want 1, 1", wins, losses)
	}
	if _, err := NewStore(root).Load("dev"); err != nil {
		t.Errorf("the winner's machine: %v", err)
	}
}

func TestMain(m *testing.M) {
	if root := os.Getenv("BERTH_HELPER_STORE"); root != "" {
		os.Exit(helperCreate(root))
	}
	os.Exit(m.Run())
}

// helperCreate is one of TestCreateTwoProcesses's processes: it says
// ready and creates the machine once its stdin closes (the go). It returns
// 0 when it created the machine, 3 when it lost the race.
func helperCreate(root string) int {
	os.Stdout.WriteString("ready\n")
	io.Copy(io.Discard, os.Stdin)
	_, err := NewStore(root).Create(context.Background(), fakeSpec("dev", func(d *fakedriver.Driver) { d.Delay = 500 * time.Millisecond }), Steps{})
	switch {
	case err == nil:
		return 0
	case errors.Is(err, ErrBusy), errors.Is(err, ErrExists):
		return 3
	}
	fmt.Fprintln(os.Stderr, err)
	return 1
}
