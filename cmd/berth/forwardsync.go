package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/berthvm/berth/drivers"
	"github.com/berthvm/berth/internal/forwards"
	"github.com/berthvm/berth/internal/machine"
)

// restoreForwards brings the forwards of machine m, which just started, in
// line with its containers once its agent answers (see forwards.Restore);
// booted says the VM was not running before. Tests of machines without an
// agent (no AgentHealthy step) leave them alone.
func (d *deps) restoreForwards(ctx context.Context, m *machine.Machine, booted bool) (added, removed []drivers.Forward, err error) {
	if d.steps.AgentHealthy == nil {
		return nil, nil, nil
	}
	return forwards.Restore(ctx, m, booted)
}

// reportForwards tells what restoreForwards changed, in one line each.
func reportForwards(w io.Writer, name string, added, removed []drivers.Forward) {
	if len(added) > 0 {
		fmt.Fprintf(w, "Forwarded to %s again: %s\n", name, forwardList(added))
	}
	if len(removed) > 0 {
		fmt.Fprintf(w, "Removed forwards to %s of stopped containers: %s\n", name, forwardList(removed))
	}
}

// forwardList is "127.0.0.1:8080/tcp, 127.0.0.1:5353/udp".
func forwardList(fwds []drivers.Forward) string {
	s := make([]string, len(fwds))
	for i, f := range fwds {
		s[i] = f.HostIP + ":" + strconv.Itoa(f.HostPort) + "/" + f.Proto
	}
	return strings.Join(s, ", ")
}
