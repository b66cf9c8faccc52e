package virtualbox

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/berthvm/berth/drivers"
)

// forwardPrefix starts the names of the NAT rules berth adds for published
// ports, which tells them apart from the SSH rule and from rules a user
// made by hand.
const forwardPrefix = "berth-"

// forwardRule names a forward's NAT rule after its host side, which
// VirtualBox keeps unique: "berth-tcp-127.0.0.1-8080".
func forwardRule(f drivers.Forward) (name, rule string, err error) {
	proto := strings.ToLower(f.Proto)
	if proto == "" {
		proto = "tcp"
	}
	if proto != "tcp" && proto != "udp" {
		return "", "", fmt.Errorf("forward %s: protocol must be tcp or udp", proto)
	}
	if f.HostPort < 1 || f.HostPort > 65535 || f.GuestPort < 1 || f.GuestPort > 65535 {
		return "", "", fmt.Errorf("forward %d->%d: ports must be 1 to 65535", f.HostPort, f.GuestPort)
	}
	hostIP := f.HostIP
	if hostIP == "" {
		hostIP = "127.0.0.1"
	}
	if strings.Contains(hostIP, ",") {
		return "", "", fmt.Errorf("forward host IP %q: not an address", hostIP)
	}
	name = fmt.Sprintf("%s%s-%s-%d", forwardPrefix, proto, hostIP, f.HostPort)
	return name, natRule(name, proto, hostIP, f.HostPort, f.GuestPort), nil
}

// parseForward reads a NAT rule back into a forward; ok is false for a
// rule berth did not make.
func parseForward(name, rule string) (f drivers.Forward, ok bool) {
	if !strings.HasPrefix(name, forwardPrefix) {
		return f, false
	}
	fields := strings.Split(rule, ",")
	if len(fields) != 6 {
		return f, false
	}
	hp, err1 := strconv.Atoi(fields[3])
	gp, err2 := strconv.Atoi(fields[5])
	if err1 != nil || err2 != nil {
		return f, false
	}
	return drivers.Forward{Proto: strings.ToLower(fields[1]), HostIP: fields[2], HostPort: hp, GuestPort: gp}, true
}

// AddForward implements drivers.PortForwarder: controlvm natpf1 on a
// running VM, modifyvm --natpf1 on a stopped one. VirtualBox keeps the
// rule in the VM's settings, so it comes back when the VM starts again.
func (d *Driver) AddForward(ctx context.Context, f drivers.Forward) error {
	name, rule, err := forwardRule(f)
	if err != nil {
		return err
	}
	info, err := d.info(ctx)
	if err != nil {
		return fmt.Errorf("add forward %s: %w", name, err)
	}
	if have, ok := info.Forwards[name]; ok {
		if have == rule {
			return nil
		}
		return fmt.Errorf("add forward %s: the host port is already forwarded (%s); remove that forward first", name, have)
	}
	args := natAddArgs(d.VMName, rule)
	if isLive(info.VMState) {
		args = controlVMArgs(d.VMName, "natpf1", rule)
	}
	if _, err := d.vbox().Run(ctx, args...); err != nil {
		return fmt.Errorf("add forward %s: %w", name, err)
	}
	return nil
}

// RemoveForward implements drivers.PortForwarder.
func (d *Driver) RemoveForward(ctx context.Context, f drivers.Forward) error {
	name, _, err := forwardRule(f)
	if err != nil {
		return err
	}
	info, err := d.info(ctx)
	if err != nil {
		return fmt.Errorf("remove forward %s: %w", name, err)
	}
	if _, ok := info.Forwards[name]; !ok {
		return nil
	}
	args := natDeleteArgs(d.VMName, name)
	if isLive(info.VMState) {
		args = controlVMArgs(d.VMName, "natpf1", "delete", name)
	}
	if _, err := d.vbox().Run(ctx, args...); err != nil && !isMissingRule(err) {
		return fmt.Errorf("remove forward %s: %w", name, err)
	}
	return nil
}

// Forwards implements drivers.PortForwarder: NIC 1's NAT rules named
// berth-*, read from one showvminfo, on a running or a stopped VM.
func (d *Driver) Forwards(ctx context.Context) ([]drivers.Forward, error) {
	info, err := d.info(ctx)
	if err != nil {
		return nil, fmt.Errorf("list forwards: %w", err)
	}
	var fwds []drivers.Forward
	for name, rule := range info.Forwards {
		if f, ok := parseForward(name, rule); ok {
			fwds = append(fwds, f)
		}
	}
	sort.Slice(fwds, func(i, j int) bool { return fwds[i].HostPort < fwds[j].HostPort })
	return fwds, nil
}

// isLive reports whether a VM in vmState has a session that controlvm
// talks to (settings changes need controlvm, modifyvm is locked out).
func isLive(vmState string) bool {
	switch vmState {
	case "running", "paused", "starting", "stopping":
		return true
	}
	return false
}
