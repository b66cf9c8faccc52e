// Package virtualbox is berth's VirtualBox driver: it makes, starts, stops
// and removes machines with VBoxManage, following the command sequence that
// docker-machine's virtualbox driver proved on millions of hosts. On arm64
// hosts (VirtualBox 7.1+) it makes VMs of VirtualBox's arm platform (see
// armPlatformArgs).
package virtualbox
