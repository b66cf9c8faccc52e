// Package vboxmanage runs VirtualBox's VBoxManage program: it is the one
// seam through which berth drives VirtualBox, and it applies VBoxManage's
// rules (install hint, "error:" on stderr, transient retries, version check
// and a host-wide lock) to every call.
package vboxmanage
