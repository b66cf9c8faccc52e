// Package virtualbox is berth's VirtualBox driver: it makes, starts, stops
// and removes machines with VBoxManage, following the command sequence that
// docker-machine's virtualbox driver proved on millions of hosts.
package virtualbox
