package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/moby/moby/client"

	"github.com/berthvm/berth/internal/testwait"
)

// TestRunRemove: berth run --rm returns with the container's exit code and
// the container already gone, also when berth is interrupted (Ctrl-C goes
// to the container, which exits on it).
func TestRunRemove(t *testing.T) {
	api, reg := registryAgent(t)
	ctx := context.Background()
	left := func() []string {
		t.Helper()
		res, err := api.ContainerList(ctx, client.ContainerListOptions{All: true})
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, c := range res.Items {
			ids = append(ids, c.ID[:12]+" "+string(c.State))
		}
		return ids
	}

	var out bytes.Buffer
	var errOut syncBuffer // the runs below write it while the test reads it
	err := runContainer(ctx, api, runOptions{Image: reg + "/busybox", Remove: true, Volumes: []string{"/anon"}, Args: []string{"sh", "-c", "echo bye; exit 42"}}, nil, &out, &errOut)
	if codeOf(err) != 42 || out.String() != "bye\n" {
		t.Errorf("run --rm: %q exit %d (%v), want \"bye\" exit 42; stderr %q", out.String(), codeOf(err), err, errOut.String())
	}
	if l := left(); len(l) != 0 {
		t.Errorf("containers left after run --rm returned: %v", l)
	}
	if res, err := api.VolumeList(ctx, client.VolumeListOptions{}); err != nil || len(res.Items) != 0 {
		t.Errorf("volumes left after run --rm: %v, %v", res.Items, err)
	}

	var sout syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- runContainer(ctx, api, runOptions{Image: reg + "/busybox", Remove: true,
			Args: []string{"sh", "-c", `trap 'echo interrupted; exit 130' INT; echo ready; while :; do sleep 0.1; done`}}, nil, &sout, &errOut)
	}()
	waitReady(t, &sout, &errOut)
	if err := syscall.Kill(syscall.Getpid(), syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case err = <-done:
	case <-time.After(20 * time.Second):
		t.Fatalf("run --rm did not end after SIGINT: %q", sout.String())
	}
	if codeOf(err) != 130 || sout.String() != "ready\ninterrupted\n" {
		t.Errorf("interrupted run --rm: %q exit %d (%v), want exit 130 after \"interrupted\"", sout.String(), codeOf(err), err)
	}
	if l := left(); len(l) != 0 {
		t.Errorf("containers left after an interrupted run --rm: %v", l)
	}

	// A berth that dies (its connections cut) leaves the removal to the
	// agent.
	var mu sync.Mutex
	var conns []net.Conn
	sock := strings.TrimPrefix(api.DaemonHost(), "unix://")
	dying, err := client.New(client.WithHost(api.DaemonHost()), client.WithDialContext(func(ctx context.Context, _, _ string) (net.Conn, error) {
		c, err := (&net.Dialer{}).DialContext(ctx, "unix", sock)
		if err == nil {
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
		return c, err
	}))
	if err != nil {
		t.Fatal(err)
	}
	defer dying.Close()
	var dout syncBuffer
	go func() {
		done <- runContainer(ctx, dying, runOptions{Image: reg + "/busybox", Remove: true,
			Args: []string{"sh", "-c", "echo ready; sleep 1; exit 3"}}, nil, &dout, &errOut)
	}()
	waitReady(t, &dout, &errOut)
	mu.Lock()
	for _, c := range conns {
		c.Close()
	}
	mu.Unlock()
	<-done
	testwait.For(t, 30*time.Second, "the agent to remove the container of a berth run --rm that died", func() error {
		if l := left(); len(l) != 0 {
			return fmt.Errorf("containers left: %v", l)
		}
		return nil
	})
}

// waitReady waits until a container's output, out, has "ready".
func waitReady(t *testing.T, out, errOut fmt.Stringer) {
	t.Helper()
	testwait.For(t, 20*time.Second, "the container to start", func() error {
		if !strings.Contains(out.String(), "ready") {
			return fmt.Errorf("output %q %q", out.String(), errOut.String())
		}
		return nil
	})
}
