package main

import (
	"bytes"
	"context"
	"testing"
)

// TestRunVolumes: berth run -v NAME:/path keeps data across containers,
// --read-only refuses writes, against the real agent.
func TestRunVolumes(t *testing.T) {
	api, reg := registryAgent(t)
	ctx := context.Background()
	tests := []struct {
		name     string
		opts     runOptions
		want     string
		wantCode int
	}{
		{"write", runOptions{Volumes: []string{"keep:/d"}, Args: []string{"sh", "-c", "echo kept > /d/f"}}, "", 0},
		{"read in a new container", runOptions{Volumes: []string{"keep:/d"}, Args: []string{"cat", "/d/f"}}, "kept\n", 0},
		{"read-only root", runOptions{ReadOnly: true, Tmpfs: []string{"/t"}, Args: []string{"sh", "-c", "touch /t/ok && ! touch /x 2>/dev/null && echo refused"}}, "refused\n", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			tc.opts.Image, tc.opts.Remove = reg+"/busybox", true
			err := runContainer(ctx, api, tc.opts, nil, &out, &errOut)
			if out.String() != tc.want || codeOf(err) != tc.wantCode {
				t.Errorf("got %q exit %d (%v), want %q exit %d; stderr %q", out.String(), codeOf(err), err, tc.want, tc.wantCode, errOut.String())
			}
		})
	}
}
