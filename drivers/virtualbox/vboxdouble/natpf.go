package vboxdouble

import (
	"fmt"

	"github.com/berthvm/berth/internal/hostport"
)

// hostPortBusy reports whether r's host port is taken on this computer,
// so that QEMU could not listen on it.
func hostPortBusy(r *rule) bool { return hostport.Listen(r.Proto, r.HostIP, r.HostPort) != nil }

// busyRules are the VBox.log lines for n's NAT rules whose host port is
// taken at power-up. VirtualBox starts the VM anyway and only logs that
// the redirection failed; the rule stays in the settings (and in
// showvminfo) without listening. The wording follows VirtualBox's NAT
// driver as remembered, not a captured log.
func busyRules(slot int, n *nic) (lines []string, skip map[*rule]bool) {
	skip = map[*rule]bool{}
	for _, r := range n.Rules {
		if hostPortBusy(r) {
			skip[r] = true
			lines = append(lines, fmt.Sprintf("NAT#%d: configuration error: failed to set up redirection of %d to %d. Probably a conflict with existing services or other rules.", slot-1, r.HostPort, r.GuestPort))
		}
	}
	return lines, skip
}

// busyForwards are the VBox.log lines of every NAT NIC's busy rules.
func (v *vm) busyForwards() []string {
	var lines []string
	for i := 1; i <= maxNICs; i++ {
		if n, ok := v.NICs[i]; ok && n.Attachment == "nat" {
			l, _ := busyRules(i, n)
			lines = append(lines, l...)
		}
	}
	return lines
}
