package network

import (
	"bufio"
	"bytes"
	"context"
	"os"
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

// missingModules returns those of Modules that /proc/modules (the
// modules loaded now) lacks. A module built into the kernel is never
// there: it is reported, and modprobe skips it.
func missingModules(procModules []byte) []string {
	loaded := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(procModules))
	for sc.Scan() {
		if name, _, ok := bytes.Cut(sc.Bytes(), []byte(" ")); ok {
			loaded[string(name)] = true
		}
	}
	var missing []string
	for _, m := range Modules {
		if !loaded[m] {
			missing = append(missing, m)
		}
	}
	return missing
}

// ensureModules loads Modules when any of them is not loaded yet. The
// kernel would load nftables' on first use, but it answers the batch
// that needed them with one EAGAIN, which the nftables library waits on
// until its deadline (natTimeout): an agent that started in a machine's
// first boot, before berth-os loaded them, took 15.8 s to set up its
// bridge network. A kernel without /proc/modules has them built in.
func ensureModules(ctx context.Context) {
	b, err := os.ReadFile("/proc/modules")
	if err != nil || len(missingModules(b)) == 0 {
		return
	}
	_ = LoadModules(ctx) // what it cannot load, the kernel may have built in
}
