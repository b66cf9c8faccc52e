//go:build unix

package sshutil

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

// watchResize signals on every SIGWINCH until ctx ends.
func watchResize(ctx context.Context) <-chan struct{} {
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGWINCH)
	out := make(chan struct{}, 1)
	go func() {
		defer signal.Stop(sig)
		for {
			select {
			case <-ctx.Done():
				return
			case <-sig:
				select {
				case out <- struct{}{}:
				default: // one pending signal is enough
				}
			}
		}
	}()
	return out
}
