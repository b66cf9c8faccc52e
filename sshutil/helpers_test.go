//go:build linux

package sshutil_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/berthvm/berth/sshutil"
	"github.com/berthvm/berth/sshutil/sshtest"
)

// setup starts a server of kind that accepts a fresh client key and
// returns a Target for it whose host key file is in a temporary folder.
func setup(t *testing.T, kind string) (*sshtest.Server, sshutil.Target) {
	return setupB(t, kind)
}

func setupB(t testing.TB, kind string) (*sshtest.Server, sshutil.Target) {
	t.Helper()
	dir := t.TempDir()
	key, err := sshutil.GenerateKey(filepath.Join(dir, "id_ed25519"), "berth-test")
	if err != nil {
		t.Fatal(err)
	}
	srv := sshtest.Start(t, kind, key.PublicKey)
	return srv, sshutil.Target{
		Addr:     srv.Addr(),
		User:     srv.User,
		Key:      key,
		HostKeys: &sshutil.HostKeys{Machine: "dev", Path: filepath.Join(dir, "known_hosts")},
	}
}

// connect starts a server and dials it; both end with the test.
func connect(t *testing.T, kind string) (*sshtest.Server, *sshutil.Client) {
	t.Helper()
	srv, target := setup(t, kind)
	c, err := sshutil.Dial(testContext(t), target)
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return srv, c
}

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// eachServer runs f as a subtest against every kind of server.
func eachServer(t *testing.T, f func(t *testing.T, kind string)) {
	for _, kind := range sshtest.Kinds {
		t.Run(kind, func(t *testing.T) { f(t, kind) })
	}
}
