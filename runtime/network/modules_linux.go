package network

import (
	"context"
	"os/exec"
	"time"
)

// Modules are the kernel modules container networks need: veth pairs, the
// bridge, and nftables with NAT and conntrack.
var Modules = []string{"veth", "bridge", "br_netfilter", "nf_tables", "nft_chain_nat", "nft_nat", "nft_masq", "nft_ct", "nft_fib_inet", "nf_nat", "nf_conntrack"}

// LoadModules loads Modules with modprobe, quietly skipping those the
// kernel has built in or lacks. berth-os loads them in the background
// once sshd runs, and the kernel on first use only where its modprobe
// resolves the alias it asks for: an agent that starts early in a boot
// (a restart, an upgrade) would otherwise find no bridge. A host without
// modprobe is fine: its kernel has what it has.
func LoadModules(ctx context.Context) error {
	path, err := exec.LookPath("modprobe")
	if err != nil {
		path = "/sbin/modprobe"
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	return exec.CommandContext(ctx, path, append([]string{"-a", "-q"}, Modules...)...).Run()
}
