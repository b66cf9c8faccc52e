package network

import (
	"slices"
	"testing"
)

// TestMissingModules: the modules of Modules that /proc/modules does not
// list are missing, those it lists (whatever their state) are not.
func TestMissingModules(t *testing.T) {
	all := missingModules(nil)
	if !slices.Equal(all, Modules) {
		t.Errorf("with nothing loaded, missing = %q, want every module %q", all, Modules)
	}
	proc := "nf_tables 339968 0 - Live 0x0000000000000000\n"
	for _, m := range Modules {
		if m != "nft_masq" {
			proc += m + " 16384 1 nf_tables, Live 0x0000000000000000\n"
		}
	}
	proc += "ext4 1024000 1 - Live 0x0000000000000000\n"
	if got := missingModules([]byte(proc)); !slices.Equal(got, []string{"nft_masq"}) {
		t.Errorf("missing = %q, want [nft_masq]", got)
	}
	// A name that only starts like a module's is not that module.
	if got := missingModules([]byte("nft_masq_ipv4 16384 0 - Live 0x0\n")); !slices.Contains(got, "nft_masq") {
		t.Errorf("missing = %q: nft_masq_ipv4 was taken for nft_masq", got)
	}
}
