//go:build !unix

package sshutil

import (
	"context"
	"time"
)

// watchResize signals every 250 ms until ctx ends: Windows consoles have
// no resize signal, so the size is checked periodically and the PTY is
// only changed when the size differs.
func watchResize(ctx context.Context) <-chan struct{} {
	out := make(chan struct{}, 1)
	go func() {
		t := time.NewTicker(250 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				select {
				case out <- struct{}{}:
				default:
				}
			}
		}
	}()
	return out
}
