package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
)

// TestRunSecurityOpt: berth run applies Docker's default seccomp profile
// (unshare(CLONE_NEWUSER) needs no capability: only the profile refuses
// it); --security-opt seccomp=unconfined lifts it and seccomp=FILE
// replaces it, as with docker run.
func TestRunSecurityOpt(t *testing.T) {
	api, reg := registryAgent(t)
	profile := filepath.Join(t.TempDir(), "allow.json")
	if err := os.WriteFile(profile, []byte("{\n  \"defaultAction\": \"SCMP_ACT_ALLOW\"\n}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		security []string
		want     string
		wantCode int
	}{
		{"default profile", nil, "", 1},
		{"unconfined", []string{"seccomp=unconfined"}, "65534\n", 0},
		{"own profile", []string{"seccomp=" + profile}, "65534\n", 0},
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
