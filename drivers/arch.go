package drivers

import "runtime"

// The guest architectures drivers make machines for (GOARCH names).
const (
	ArchAMD64 = "amd64"
	ArchARM64 = "arm64"
)

// HostArch is the architecture a new machine gets by default: this
// computer's own, the one a hypervisor runs without emulation (amd64 on
// any host that is not arm64).
func HostArch() string {
	if runtime.GOARCH == ArchARM64 {
		return ArchARM64
	}
	return ArchAMD64
}
