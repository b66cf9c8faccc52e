//go:build !windows

package qemu

import (
	"context"
	"errors"
	"net"
	"path/filepath"
	"testing"
	"time"
)

// TestQMPInterrupted: a QMP exchange cut short by the end of its context
// (Ctrl-C during a create) reports that end, which berth maps to exit
// code 130, not only the closed connection under it.
func TestQMPInterrupted(t *testing.T) {
	path := filepath.Join(t.TempDir(), "qmp.sock")
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		// The greeting, then no answer to qmp_capabilities.
		c.Write([]byte(`{"QMP": {"version": {}, "capabilities": []}}` + "\n"))
		time.Sleep(10 * time.Second)
	}()
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(200*time.Millisecond, cancel)
	q, err := dialQMP(ctx, path)
	if err == nil {
		q.Close()
		t.Fatal("dialQMP answered without a reply to qmp_capabilities")
	}
	if !errors.Is(err, context.Canceled) {
		t.Errorf("dialQMP = %v, want an error that is context.Canceled", err)
	}
}
