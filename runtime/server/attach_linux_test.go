package server

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/moby/moby/api/pkg/stdcopy"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
)

// TestAttachThenStartSeesAllOutput: a client that starts a container as
// soon as its attach is answered gets all of the output, as docker run
// does, also for containers that end at once and with several clients at
// a time (the attach is registered before it is answered).
func TestAttachThenStartSeesAllOutput(t *testing.T) {
	a := startAgent(t)
	cli, err := client.New(client.WithHost("unix://" + a.sock))
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	ctx := context.Background()
	const clients, runs = 4, 8
	var wg sync.WaitGroup
	errs := make(chan error, clients*runs)
	for c := 0; c < clients; c++ {
		wg.Add(1)
		go func(c int) {
			defer wg.Done()
			for i := 0; i < runs; i++ {
				want := fmt.Sprintf("out %d.%d\n", c, i)
				created, err := cli.ContainerCreate(ctx, client.ContainerCreateOptions{
					Config:     &container.Config{Image: "busybox", Cmd: []string{"echo", "out", fmt.Sprintf("%d.%d", c, i)}},
					HostConfig: &container.HostConfig{AutoRemove: true},
				})
				if err != nil {
					errs <- err
					return
				}
				att, err := cli.ContainerAttach(ctx, created.ID, client.ContainerAttachOptions{Stream: true, Stdout: true, Stderr: true})
				if err != nil {
					errs <- err
					return
				}
				if _, err := cli.ContainerStart(ctx, created.ID, client.ContainerStartOptions{}); err != nil {
					errs <- err
					return
				}
				var out, errOut bytes.Buffer
				_, err = stdcopy.StdCopy(&out, &errOut, att.Reader)
				att.Close()
				if err != nil || out.String() != want {
					errs <- fmt.Errorf("run %d.%d: output %q (%v), want %q; stderr %q", c, i, out.String(), err, want, errOut.String())
				}
			}
		}(c)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
