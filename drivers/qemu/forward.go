package qemu

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/berthvm/berth/drivers"
)

// AddForward adds a host forward to the running VM's user-mode network.
// A forward that exists already is left as it is.
func (d *Driver) AddForward(ctx context.Context, f drivers.Forward) error {
	f, err := normalize(f)
	if err != nil {
		return fmt.Errorf("add forward: %w", err)
	}
	fwds, err := d.forwards(ctx)
	if err != nil {
		return fmt.Errorf("add forward %s: %w", rule(f), err)
	}
	for _, have := range fwds {
		if have == f {
			return nil
		}
	}
	out, err := d.hmp(ctx, fmt.Sprintf("hostfwd_add %s %s-:%d", NetdevID, rule(f), f.GuestPort))
	if err != nil {
		return fmt.Errorf("add forward %s: %w", rule(f), err)
	}
	if out = strings.TrimSpace(out); out != "" {
		return fmt.Errorf("add forward %s: %s", rule(f), out)
	}
	return nil
}

// RemoveForward removes a host forward; a missing one is no error.
func (d *Driver) RemoveForward(ctx context.Context, f drivers.Forward) error {
	f, err := normalize(f)
	if err != nil {
		return fmt.Errorf("remove forward: %w", err)
	}
	out, err := d.hmp(ctx, fmt.Sprintf("hostfwd_remove %s %s", NetdevID, rule(f)))
	if err != nil {
		return fmt.Errorf("remove forward %s: %w", rule(f), err)
	}
	if out = strings.TrimSpace(out); out != "" && !strings.HasSuffix(out, "removed") && !strings.HasSuffix(out, "not found") {
		return fmt.Errorf("remove forward %s: %s", rule(f), out)
	}
	return nil
}

// normalize fills in the defaults of f and checks it.
func normalize(f drivers.Forward) (drivers.Forward, error) {
	if f.Proto == "" {
		f.Proto = "tcp"
	}
	if f.HostIP == "" {
		f.HostIP = "127.0.0.1"
	}
	var errs []error
	if f.Proto != "tcp" && f.Proto != "udp" {
		errs = append(errs, fmt.Errorf("protocol %q: want tcp or udp", f.Proto))
	}
	if f.HostPort < 1 || f.HostPort > 65535 {
		errs = append(errs, fmt.Errorf("host port %d: want 1 to 65535", f.HostPort))
	}
	if f.GuestPort < 1 || f.GuestPort > 65535 {
		errs = append(errs, fmt.Errorf("guest port %d: want 1 to 65535", f.GuestPort))
	}
	return f, errors.Join(errs...)
}

// rule is the host side of a forward as hostfwd_add and hostfwd_remove
// name it: "tcp:127.0.0.1:8080".
func rule(f drivers.Forward) string {
	return f.Proto + ":" + f.HostIP + ":" + strconv.Itoa(f.HostPort)
}

// hmp runs one human monitor command on the running VM.
func (d *Driver) hmp(ctx context.Context, cmd string) (string, error) {
	if d.runningPID() == 0 {
		return "", fmt.Errorf("machine %q is not running", d.base.MachineName)
	}
	q, err := dialQMP(ctx, d.path(QMPFile))
	if err != nil {
		return "", err
	}
	defer q.Close()
	return q.hmp(cmd)
}

// forwards lists the host forwards of the running VM.
func (d *Driver) forwards(ctx context.Context) ([]drivers.Forward, error) {
	out, err := d.hmp(ctx, "info usernet")
	if err != nil {
		return nil, err
	}
	return parseUsernet(out), nil
}

// parseUsernet reads the host forwards out of `info usernet`:
//
//	Protocol[State]    FD  Source Address  Port   Dest. Address  Port RecvQ SendQ
//	TCP[HOST_FORWARD]  13       127.0.0.1 38745       10.0.2.15    22     0     0
func parseUsernet(out string) []drivers.Forward {
	var fwds []drivers.Forward
	for _, line := range strings.Split(out, "\n") {
		fields := strings.Fields(line)
		if len(fields) < 6 || !strings.HasSuffix(fields[0], "[HOST_FORWARD]") {
			continue
		}
		hostPort, err1 := strconv.Atoi(fields[3])
		guestPort, err2 := strconv.Atoi(fields[5])
		if err1 != nil || err2 != nil {
			continue
		}
		hostIP := fields[2]
		if hostIP == "*" { // how QEMU shows a forward on 0.0.0.0
			hostIP = "0.0.0.0"
		}
		fwds = append(fwds, drivers.Forward{
			Proto:     strings.ToLower(strings.TrimSuffix(fields[0], "[HOST_FORWARD]")),
			HostIP:    hostIP,
			HostPort:  hostPort,
			GuestPort: guestPort,
		})
	}
	return fwds
}

// Forwards lists the host forwards AddForward made on the running VM: all
// but the SSH forward of the command line. A stopped VM has none (QEMU
// keeps no forward across a restart).
func (d *Driver) Forwards(ctx context.Context) ([]drivers.Forward, error) {
	if d.runningPID() == 0 {
		return nil, nil
	}
	all, err := d.forwards(ctx)
	if err != nil {
		return nil, fmt.Errorf("list forwards: %w", err)
	}
	var fwds []drivers.Forward
	for _, f := range all {
		if f.Proto == "tcp" && f.HostPort == d.SSHPort && f.GuestPort == 22 {
			continue
		}
		fwds = append(fwds, f)
	}
	return fwds, nil
}
