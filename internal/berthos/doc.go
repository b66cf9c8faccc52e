// Package berthos holds the boot tests of the berth-os guest ISO (built by
// `make iso` from scripts/iso): they boot it in QEMU and check the guest
// over SSH.
package berthos
