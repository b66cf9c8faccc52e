package qemu

import "runtime"

// installHint says how to install QEMU on the host OS.
func installHint(goos string) string {
	switch goos {
	case "linux":
		return "install QEMU: on Debian or Ubuntu `sudo apt-get install qemu-system-x86 qemu-utils`, on Fedora `sudo dnf install qemu-system-x86 qemu-img`, then retry"
	case "darwin":
		return "install QEMU with Homebrew: `brew install qemu`, then retry"
	case "windows":
		return "install QEMU with the installer from https://www.qemu.org/download/#windows and add its folder (C:\\Program Files\\qemu) to PATH, or pass --qemu-binary"
	default:
		return "install QEMU (qemu-system-x86_64 and qemu-img) from your system's packages, then retry"
	}
}

var hostHint = installHint(runtime.GOOS)
