package main

import (
	"testing"

	"github.com/berthvm/berth/internal/testenv"
)

// TestNetworksOnVirtualBox checks the bridge through the VirtualBox
// double (the real VirtualBox with BERTH_VBOX_REAL=1): containers reach
// each other by name and this computer through VirtualBox NAT.
func TestNetworksOnVirtualBox(t *testing.T) {
	vboxEnv(t)
	iso := testenv.ISO(t)
	treeAgent(t)
	root := t.TempDir()
	t.Cleanup(func() { berth(t, root, "", "rm", "-y", "-f", "vnet") })
	mustBerth(t, root, "create", "-d", "virtualbox", "--virtualbox-iso", iso,
		"--virtualbox-memory", "768", "--virtualbox-disk-size", "1000", "--no-share", "vnet")
	loadPublishImages(t, root, "vnet")
	checkBridge(t, root, "vnet")
}
