package main

import (
	"bytes"
	"context"
	"net"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/moby/moby/client"
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

	var out, errOut bytes.Buffer
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
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(sout.String(), "ready") {
		if time.Now().After(deadline) {
			t.Fatalf("the container did not start: %q %q", sout.String(), errOut.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
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
	for !strings.Contains(dout.String(), "ready") {
		if time.Now().After(deadline.Add(20 * time.Second)) {
			t.Fatalf("the container did not start: %q %q", dout.String(), errOut.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	mu.Lock()
	for _, c := range conns {
		c.Close()
	}
	mu.Unlock()
	<-done
	for l := left(); len(l) != 0; l = left() {
		if time.Now().After(deadline.Add(30 * time.Second)) {
			t.Fatalf("containers left after their berth run --rm died: %v", l)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
