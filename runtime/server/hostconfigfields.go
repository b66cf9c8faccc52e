package server

import (
	"fmt"
	"net/http"
	"strings"

	ctypes "github.com/moby/moby/api/types/container"
)

// appliedHostConfig are the HostConfig fields (by their JSON names) that
// berth applies; hostConfigRefusals are the others, each with the check
// that refuses a value berth would otherwise ignore. Every field of the
// API's HostConfig is in one of the two (a test walks them), so that a
// setting is applied or refused by name, never silently dropped.
var appliedHostConfig = []string{
	"Binds", "NetworkMode", "PortBindings", "RestartPolicy", "AutoRemove",
	"ConsoleSize", "CapAdd", "CapDrop", "ExtraHosts", "GroupAdd", "Links",
	"OomScoreAdj", "Privileged", "PublishAllPorts", "ReadonlyRootfs",
	"SecurityOpt", "Tmpfs", "ShmSize", "Sysctls", "Mounts", "Init",
	"Memory", "NanoCpus", "Devices", "PidsLimit", "Ulimits",
	// The docker CLI writes the container ID file itself.
	"ContainerIDFile",
}

// refusal says whether hc sets a field berth does not apply, and what to
// do instead.
type refusal struct {
	field string
	set   func(hc *ctypes.HostConfig) bool
	hint  string
}

var hostConfigRefusals = []refusal{
	{"LogConfig", func(hc *ctypes.HostConfig) bool {
		switch hc.LogConfig.Type {
		case "", "json-file", "local":
			return len(hc.LogConfig.Config) > 0
		}
		return true
	}, "berth keeps each container's log itself: drop --log-driver/--log-opt"},
	{"VolumeDriver", func(hc *ctypes.HostConfig) bool { return hc.VolumeDriver != "" && hc.VolumeDriver != "local" }, "use the local volume driver"},
	{"VolumesFrom", func(hc *ctypes.HostConfig) bool { return len(hc.VolumesFrom) > 0 }, "name the volumes with -v instead of --volumes-from"},
	{"Annotations", func(hc *ctypes.HostConfig) bool { return len(hc.Annotations) > 0 }, "drop --annotation"},
	{"CgroupnsMode", func(hc *ctypes.HostConfig) bool { return hc.CgroupnsMode != "" && hc.CgroupnsMode != "private" }, "containers get a private cgroup namespace: drop --cgroupns"},
	{"Dns", func(hc *ctypes.HostConfig) bool { return len(hc.DNS) > 0 }, "containers use the machine's DNS: drop --dns"},
	{"DnsOptions", func(hc *ctypes.HostConfig) bool { return len(hc.DNSOptions) > 0 }, "drop --dns-option"},
	{"DnsSearch", func(hc *ctypes.HostConfig) bool { return len(hc.DNSSearch) > 0 }, "drop --dns-search"},
	{"IpcMode", func(hc *ctypes.HostConfig) bool {
		return hc.IpcMode != "" && hc.IpcMode != "private" && hc.IpcMode != "shareable"
	}, "containers get a private IPC namespace: drop --ipc"},
	{"Cgroup", func(hc *ctypes.HostConfig) bool { return hc.Cgroup != "" }, "drop --cgroup"},
	{"PidMode", func(hc *ctypes.HostConfig) bool { return hc.PidMode != "" && hc.PidMode != "private" }, "containers get their own PID namespace: drop --pid"},
	{"StorageOpt", func(hc *ctypes.HostConfig) bool { return len(hc.StorageOpt) > 0 }, "drop --storage-opt"},
	{"UTSMode", func(hc *ctypes.HostConfig) bool { return hc.UTSMode != "" && hc.UTSMode != "private" }, "containers get their own UTS namespace: drop --uts"},
	{"UsernsMode", func(hc *ctypes.HostConfig) bool { return hc.UsernsMode != "" && hc.UsernsMode != "private" }, "drop --userns"},
	{"Runtime", func(hc *ctypes.HostConfig) bool {
		return hc.Runtime != "" && hc.Runtime != "runc" && hc.Runtime != "berth"
	}, "berth is the only runtime: drop --runtime"},
	{"Umask", func(hc *ctypes.HostConfig) bool { return hc.Umask != nil }, "drop the umask"},
	{"Isolation", func(hc *ctypes.HostConfig) bool { return hc.Isolation != "" && hc.Isolation != "default" }, "drop --isolation"},
	{"MaskedPaths", func(hc *ctypes.HostConfig) bool { return hc.MaskedPaths != nil }, "berth masks Docker's default paths: drop --security-opt systempaths=unconfined"},
	{"ReadonlyPaths", func(hc *ctypes.HostConfig) bool { return hc.ReadonlyPaths != nil }, "berth keeps Docker's default read-only paths: drop --security-opt systempaths=unconfined"},
	{"CpuShares", func(hc *ctypes.HostConfig) bool { return hc.CPUShares != 0 }, "use --cpus"},
	{"CgroupParent", func(hc *ctypes.HostConfig) bool { return hc.CgroupParent != "" }, "drop --cgroup-parent"},
	{"BlkioWeight", func(hc *ctypes.HostConfig) bool { return hc.BlkioWeight != 0 }, "drop --blkio-weight"},
	{"BlkioWeightDevice", func(hc *ctypes.HostConfig) bool { return len(hc.BlkioWeightDevice) > 0 }, "drop --blkio-weight-device"},
	{"BlkioDeviceReadBps", func(hc *ctypes.HostConfig) bool { return len(hc.BlkioDeviceReadBps) > 0 }, "drop --device-read-bps"},
	{"BlkioDeviceWriteBps", func(hc *ctypes.HostConfig) bool { return len(hc.BlkioDeviceWriteBps) > 0 }, "drop --device-write-bps"},
	{"BlkioDeviceReadIOps", func(hc *ctypes.HostConfig) bool { return len(hc.BlkioDeviceReadIOps) > 0 }, "drop --device-read-iops"},
	{"BlkioDeviceWriteIOps", func(hc *ctypes.HostConfig) bool { return len(hc.BlkioDeviceWriteIOps) > 0 }, "drop --device-write-iops"},
	{"CpuPeriod", func(hc *ctypes.HostConfig) bool { return hc.CPUPeriod != 0 }, "use --cpus"},
	{"CpuQuota", func(hc *ctypes.HostConfig) bool { return hc.CPUQuota != 0 }, "use --cpus"},
	{"CpuRealtimePeriod", func(hc *ctypes.HostConfig) bool { return hc.CPURealtimePeriod != 0 }, "drop --cpu-rt-period"},
	{"CpuRealtimeRuntime", func(hc *ctypes.HostConfig) bool { return hc.CPURealtimeRuntime != 0 }, "drop --cpu-rt-runtime"},
	{"CpusetCpus", func(hc *ctypes.HostConfig) bool { return hc.CpusetCpus != "" }, "use --cpus"},
	{"CpusetMems", func(hc *ctypes.HostConfig) bool { return hc.CpusetMems != "" }, "drop --cpuset-mems"},
	{"DeviceCgroupRules", func(hc *ctypes.HostConfig) bool { return len(hc.DeviceCgroupRules) > 0 }, "use --device"},
	{"DeviceRequests", func(hc *ctypes.HostConfig) bool { return len(hc.DeviceRequests) > 0 }, "machines have no GPUs to hand out: drop --gpus"},
	{"MemoryReservation", func(hc *ctypes.HostConfig) bool { return hc.MemoryReservation != 0 }, "use --memory"},
	// 0 and -1 both leave swap as the machine has it.
	{"MemorySwap", func(hc *ctypes.HostConfig) bool { return hc.MemorySwap != 0 && hc.MemorySwap != -1 }, "drop --memory-swap"},
	{"MemorySwappiness", func(hc *ctypes.HostConfig) bool { return hc.MemorySwappiness != nil && *hc.MemorySwappiness != -1 }, "drop --memory-swappiness"},
	{"OomKillDisable", func(hc *ctypes.HostConfig) bool { return hc.OomKillDisable != nil && *hc.OomKillDisable }, "drop --oom-kill-disable"},
	{"CpuCount", func(hc *ctypes.HostConfig) bool { return hc.CPUCount != 0 }, "a Windows setting: use --cpus"},
	{"CpuPercent", func(hc *ctypes.HostConfig) bool { return hc.CPUPercent != 0 }, "a Windows setting: use --cpus"},
	{"IOMaximumIOps", func(hc *ctypes.HostConfig) bool { return hc.IOMaximumIOps != 0 }, "a Windows setting: drop --io-maxiops"},
	{"IOMaximumBandwidth", func(hc *ctypes.HostConfig) bool { return hc.IOMaximumBandwidth != 0 }, "a Windows setting: drop --io-maxbandwidth"},
}

// refuseUnapplied names, all at once, the HostConfig fields hc sets that
// berth would not apply.
func refuseUnapplied(hc *ctypes.HostConfig) error {
	var bad []string
	for _, r := range hostConfigRefusals {
		if r.set(hc) {
			bad = append(bad, fmt.Sprintf("HostConfig.%s (%s)", r.field, r.hint))
		}
	}
	if len(bad) == 0 {
		return nil
	}
	return Errorf(http.StatusBadRequest, "not supported by berth yet: %s", strings.Join(bad, "; "))
}
