package network

import (
	"fmt"
	"time"

	"github.com/google/nftables"
	"github.com/google/nftables/expr"
	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

// natTable is berth's own nftables table; no other table is touched
// (a machine may run Docker's or a firewall's rules beside it).
const natTable = "berth"

// setupNAT replaces the table "ip berth" in one transaction: a
// postrouting chain that masquerades what leaves each network's subnet
// through any interface but its bridge (internal networks do not go
// out), and with several networks or an internal one a forward chain
// that keeps them apart as Docker does: nothing is forwarded from one
// network's bridge to another's, nor between an internal network and
// anything else. Running it again gives the same table.
func setupNAT(cfgs ...Config) error {
	var err error
	for attempt := 1; ; attempt++ {
		if err = writeNAT(cfgs); err == nil || attempt == natAttempts {
			return err
		}
		time.Sleep(natRetry)
	}
}

// The kernel answers a batch that made it load nf_tables (an agent that
// starts early in a boot, before berth-os loaded the module) with one
// EAGAIN for the whole batch and expects it sent again; the nftables
// library waits for an answer to every message, so without a deadline it
// would wait forever. ensureModules loads the modules first so that this
// does not happen; the deadline is for what it could not foresee (a
// batch is answered within milliseconds otherwise).
const (
	natAttempts = 4
	natRetry    = 500 * time.Millisecond
	natTimeout  = 5 * time.Second
)

// natDeadline bounds the wait for the kernel's answers to one batch.
func natDeadline(c *netlink.Conn) error {
	return c.SetReadDeadline(time.Now().Add(natTimeout))
}

// writeNAT writes the table in one batch.
func writeNAT(cfgs []Config) error {
	c, err := nftables.New(nftables.WithSockOptions(natDeadline))
	if err != nil {
		return fmt.Errorf("open nftables: %w", err)
	}
	t := &nftables.Table{Family: nftables.TableFamilyIPv4, Name: natTable}
	// add + delete + add: the table is new and empty whether or not an
	// earlier agent made it.
	c.AddTable(t)
	c.DelTable(t)
	c.AddTable(t)
	ch := c.AddChain(&nftables.Chain{
		Name:     "postrouting",
		Table:    t,
		Type:     nftables.ChainTypeNAT,
		Hooknum:  nftables.ChainHookPostrouting,
		Priority: nftables.ChainPriorityNATSource,
	})
	isolate := len(cfgs) > 1
	for _, cfg := range cfgs {
		isolate = isolate || cfg.Internal
		if !cfg.Internal {
			c.AddRule(&nftables.Rule{Table: t, Chain: ch, Exprs: masqueradeRule(cfg)})
		}
	}
	if isolate {
		fw := c.AddChain(&nftables.Chain{
			Name:     "forward",
			Table:    t,
			Type:     nftables.ChainTypeFilter,
			Hooknum:  nftables.ChainHookForward,
			Priority: nftables.ChainPriorityFilter,
		})
		for _, r := range isolationRules(cfgs) {
			c.AddRule(&nftables.Rule{Table: t, Chain: fw, Exprs: r})
		}
	}
	if err := c.Flush(); err != nil {
		return fmt.Errorf("write nftables table ip %s (needs the nf_tables, nft_chain_nat and nft_masq kernel modules): %w", natTable, err)
	}
	return nil
}

// ApplyRules writes the NAT and isolation rules of all the machine's
// networks (the agent after opening them, and after a create or remove).
func ApplyRules(cfgs []Config) error { return setupNAT(cfgs...) }

// isolationRules are: iifname A oifname B drop for every two networks,
// and for an internal network A: iifname A oifname != A drop, oifname A
// iifname != A drop.
func isolationRules(cfgs []Config) [][]expr.Any {
	var out [][]expr.Any
	for _, a := range cfgs {
		if a.Internal {
			out = append(out,
				ifRule(expr.MetaKeyIIFNAME, expr.CmpOpEq, a.Bridge, expr.MetaKeyOIFNAME, expr.CmpOpNeq, a.Bridge),
				ifRule(expr.MetaKeyOIFNAME, expr.CmpOpEq, a.Bridge, expr.MetaKeyIIFNAME, expr.CmpOpNeq, a.Bridge))
		}
		for _, b := range cfgs {
			if a.Bridge != b.Bridge {
				out = append(out, ifRule(expr.MetaKeyIIFNAME, expr.CmpOpEq, a.Bridge, expr.MetaKeyOIFNAME, expr.CmpOpEq, b.Bridge))
			}
		}
	}
	return out
}

// ifRule is: K1 OP1 NAME1 K2 OP2 NAME2 drop.
func ifRule(k1 expr.MetaKey, op1 expr.CmpOp, name1 string, k2 expr.MetaKey, op2 expr.CmpOp, name2 string) []expr.Any {
	return []expr.Any{
		&expr.Meta{Key: k1, Register: 1},
		&expr.Cmp{Op: op1, Register: 1, Data: ifname(name1)},
		&expr.Meta{Key: k2, Register: 1},
		&expr.Cmp{Op: op2, Register: 1, Data: ifname(name2)},
		&expr.Verdict{Kind: expr.VerdictDrop},
	}
}

func ifname(s string) []byte {
	b := make([]byte, unix.IFNAMSIZ)
	copy(b, s)
	return b
}

// masqueradeRule is: ip saddr SUBNET oifname != BRIDGE masquerade.
func masqueradeRule(cfg Config) []expr.Any {
	net4 := cfg.Subnet.Masked().Addr().As4()
	mask := ipNet(cfg.Subnet.Addr(), cfg.Subnet.Bits()).Mask
	return []expr.Any{
		// ip saddr (network header, offset 12, 4 bytes) & mask == subnet
		&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseNetworkHeader, Offset: 12, Len: 4},
		&expr.Bitwise{SourceRegister: 1, DestRegister: 1, Len: 4, Mask: []byte(mask), Xor: []byte{0, 0, 0, 0}},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: net4[:]},
		&expr.Meta{Key: expr.MetaKeyOIFNAME, Register: 1},
		&expr.Cmp{Op: expr.CmpOpNeq, Register: 1, Data: ifname(cfg.Bridge)},
		&expr.Masq{},
	}
}
