package main

import (
	"bytes"
	"context"
	"testing"
)

// TestRunSecurityOpt: berth run applies Docker's default seccomp profile
// (unshare(CLONE_NEWUSER) needs no capability: only the profile refuses
// it) and --security-opt seccomp=unconfined lifts it, as docker run does.
func TestRunSecurityOpt(t *testing.T) {
	api, reg := registryAgent(t)
	tests := []struct {
		name     string
		security []string
		want     string
		wantCode int
	}{
		{"default profile", nil, "", 1},
		{"unconfined", []string{"seccomp=unconfined"}, "65534\n", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			opts := runOptions{Image: reg + "/busybox", Remove: true, Security: tc.security, Args: []string{"unshare", "-U", "id", "-u"}}
			err := runContainer(context.Background(), api, opts, nil, &out, &errOut)
			if out.String() != tc.want || codeOf(err) != tc.wantCode {
				t.Errorf("got %q exit %d (%v), want %q exit %d; stderr %q", out.String(), codeOf(err), err, tc.want, tc.wantCode, errOut.String())
			}
		})
	}
}
