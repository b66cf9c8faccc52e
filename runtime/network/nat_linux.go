package network

import (
	"fmt"

	"github.com/google/nftables"
	"github.com/google/nftables/expr"
	"golang.org/x/sys/unix"
)

// natTable is berth's own nftables table; no other table is touched
// (a machine may run Docker's or a firewall's rules beside it).
const natTable = "berth"

// setupNAT replaces the table "ip berth" in one transaction with a
// postrouting chain that masquerades what leaves the subnet through any
// interface but the bridge. Running it again gives the same table.
func setupNAT(cfg Config) error {
	c, err := nftables.New()
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
	c.AddRule(&nftables.Rule{Table: t, Chain: ch, Exprs: masqueradeRule(cfg)})
	if err := c.Flush(); err != nil {
		return fmt.Errorf("write nftables table ip %s (needs the nf_tables, nft_chain_nat and nft_masq kernel modules): %w", natTable, err)
	}
	return nil
}

// masqueradeRule is: ip saddr SUBNET oifname != BRIDGE masquerade.
func masqueradeRule(cfg Config) []expr.Any {
	net4 := cfg.Subnet.Masked().Addr().As4()
	mask := ipNet(cfg.Subnet.Addr(), cfg.Subnet.Bits()).Mask
	ifname := make([]byte, unix.IFNAMSIZ)
	copy(ifname, cfg.Bridge)
	return []expr.Any{
		// ip saddr (network header, offset 12, 4 bytes) & mask == subnet
		&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseNetworkHeader, Offset: 12, Len: 4},
		&expr.Bitwise{SourceRegister: 1, DestRegister: 1, Len: 4, Mask: []byte(mask), Xor: []byte{0, 0, 0, 0}},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: net4[:]},
		&expr.Meta{Key: expr.MetaKeyOIFNAME, Register: 1},
		&expr.Cmp{Op: expr.CmpOpNeq, Register: 1, Data: ifname},
		&expr.Masq{},
	}
}
