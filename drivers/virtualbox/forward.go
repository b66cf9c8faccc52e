package virtualbox

import (
	"context"
	"fmt"
	"strings"

	"github.com/berthvm/berth/drivers"
)

// forwardRule names a forward's NAT rule after its host side, which
// VirtualBox keeps unique: "tcp-127.0.0.1-8080".
func forwardRule(f drivers.Forward) (name, rule string, err error) {
	proto := strings.ToLower(f.Proto)
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
	name = fmt.Sprintf("%s-%s-%d", proto, hostIP, f.HostPort)
	return name, natRule(name, proto, hostIP, f.HostPort, f.GuestPort), nil
}

// AddForward implements drivers.PortForwarder: controlvm natpf1 on a
// running VM, modifyvm --natpf1 on a stopped one.
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

// isLive reports whether a VM in vmState has a session that controlvm
// talks to (settings changes need controlvm, modifyvm is locked out).
func isLive(vmState string) bool {
	switch vmState {
	case "running", "paused", "starting", "stopping":
		return true
	}
	return false
}
