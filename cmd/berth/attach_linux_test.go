package main

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/api/pkg/stdcopy"
	"github.com/moby/moby/client"

	"github.com/berthvm/berth/internal/testwait"
)

// TestAttachLogsAndFollow: after berth run -d, berth attach --logs
// replays what the container wrote, then streams the rest and exits with
// its code; berth logs -f follows a running container to its end; attach
// refuses a stopped container.
func TestAttachLogsAndFollow(t *testing.T) {
	api, reg := registryAgent(t)
	ctx := context.Background()
	var out, errOut bytes.Buffer
	script := `echo one; echo err >&2; while [ ! -e /tmp/go ]; do sleep 0.05; done; echo two; exit 5`
	if err := runContainer(ctx, api, runOptions{Image: reg + "/busybox", Detach: true, Name: "att", Args: []string{"sh", "-c", script}}, nil, &out, &errOut); err != nil {
		t.Fatalf("run -d: %v %s", err, errOut.String())
	}
	// Both streams are in the log before the attach replays it: the
	// monitor logs each stream on its own.
	testwait.For(t, 20*time.Second, "the container's log to have one and err", func() error {
		out.Reset()
		errOut.Reset()
		containerLogs(ctx, api, logsOptions{Container: "att", Tail: "all"}, &out, &errOut)
		if !strings.Contains(out.String(), "one") || !strings.Contains(errOut.String(), "err") {
			return fmt.Errorf("its log is %q %q", out.String(), errOut.String())
		}
		return nil
	})

	var aout, aerr, fout, ferr syncBuffer
	attached, followed := make(chan error, 1), make(chan error, 1)
	go func() {
		attached <- attachContainer(ctx, api, attachOptions{Container: "att", Logs: true}, nil, &aout, &aerr)
	}()
	go func() {
		followed <- containerLogs(ctx, api, logsOptions{Container: "att", Follow: true, Tail: "all"}, &fout, &ferr)
	}()
	testwait.For(t, 20*time.Second, "attach --logs and logs -f to replay the output so far", func() error {
		if !strings.Contains(aout.String(), "one") || !strings.Contains(aerr.String(), "err") || !strings.Contains(fout.String(), "one") {
			return fmt.Errorf("attach --logs replayed %q %q, logs -f %q", aout.String(), aerr.String(), fout.String())
		}
		return nil
	})
	// Give the attach time to connect to the live stream before "two":
	// the agent connects it after the replay, and nothing in the API
	// tells when.
	time.Sleep(300 * time.Millisecond)
	if err := execInContainer(ctx, api, execOptions{Container: "att", Args: []string{"touch", "/tmp/go"}}, nil, &out, &errOut); err != nil {
		t.Fatal(err)
	}
	for name, ch := range map[string]chan error{"attach": attached, "logs -f": followed} {
		select {
		case err := <-ch:
			if name == "attach" && codeOf(err) != 5 {
				t.Errorf("attach: %v, want exit 5", err)
			}
			if name == "logs -f" && err != nil {
				t.Errorf("logs -f: %v", err)
			}
		case <-time.After(20 * time.Second):
			t.Fatalf("%s did not end with the container", name)
		}
	}
	if aout.String() != "one\ntwo\n" || aerr.String() != "err\n" {
		t.Errorf("attach --logs: stdout %q stderr %q, want \"one\\ntwo\\n\" and \"err\\n\"", aout.String(), aerr.String())
	}
	if fout.String() != "one\ntwo\n" {
		t.Errorf("logs -f: %q, want \"one\\ntwo\\n\"", fout.String())
	}
	if err := attachContainer(ctx, api, attachOptions{Container: "att"}, nil, &out, &errOut); err == nil || !strings.Contains(err.Error(), "start it first") {
		t.Errorf("attach to a stopped container: %v, want docker's refusal", err)
	}
	// The API's logs=1&stream=0 (docker compose's replay) answers the log
	// of a stopped container and ends.
	res, err := api.ContainerAttach(ctx, "att", client.ContainerAttachOptions{Logs: true, Stdout: true, Stderr: true})
	if err != nil {
		t.Fatal(err)
	}
	var rout, rerr bytes.Buffer
	_, err = stdcopy.StdCopy(&rout, &rerr, res.Reader)
	res.Close()
	if err != nil || rout.String() != "one\ntwo\n" || rerr.String() != "err\n" {
		t.Errorf("attach logs=1 stream=0: %q %q (%v), want the whole log", rout.String(), rerr.String(), err)
	}
}
