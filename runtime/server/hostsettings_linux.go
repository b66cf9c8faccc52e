package server

import (
	"fmt"
	"io/fs"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/berthvm/berth/runtime/container"
	"github.com/berthvm/berth/runtime/image"
	ctypes "github.com/moby/moby/api/types/container"
	"golang.org/x/sys/unix"
)

// applyHostSettings copies the health check and HostConfig's
// capabilities, init, sysctls, ulimits, /dev/shm size, devices, stop
// signal and timeout, groups and OOM score into spec, refusing what
// Docker refuses, by field name.
func applyHostSettings(spec *container.Spec, images *image.Store, img image.Image, cfg *ctypes.Config, hc *ctypes.HostConfig) error {
	h, shell, err := healthFromRequest(images, img.ID, cfg)
	if err != nil {
		return err
	}
	spec.Healthcheck = h
	bad := func(format string, a ...any) error {
		return Errorf(http.StatusBadRequest, format, a...)
	}
	hs := container.HostSettings{
		CapAdd: hc.CapAdd, CapDrop: hc.CapDrop, Privileged: hc.Privileged,
		Init: hc.Init != nil && *hc.Init, Sysctls: hc.Sysctls, ShmSize: hc.ShmSize,
		StopSignal: cfg.StopSignal, StopTimeout: cfg.StopTimeout,
		GroupAdd: hc.GroupAdd, OomScoreAdj: hc.OomScoreAdj, Shell: shell,
	}
	if hs.StopSignal == "" {
		hs.StopSignal = img.Config.Config.StopSignal
	}
	if hs.StopSignal != "" {
		if _, err := ParseSignal(hs.StopSignal); err != nil {
			return bad("invalid StopSignal: %v", err)
		}
	}
	if _, err := hs.CapMask(); err != nil {
		return bad("invalid CapAdd/CapDrop: %v", err)
	}
	if hs.ShmSize < 0 {
		return bad("invalid ShmSize: SHM size can not be less than 0")
	}
	if hs.OomScoreAdj < -1000 || hs.OomScoreAdj > 1000 {
		return bad("invalid OomScoreAdj: %d is outside the range [-1000, 1000]", hs.OomScoreAdj)
	}
	for k := range hs.Sysctls {
		if err := checkSysctl(k, string(hc.NetworkMode)); err != nil {
			return bad("invalid Sysctls: %v", err)
		}
	}
	for _, u := range hc.Ulimits {
		l := container.Ulimit{Name: u.Name, Soft: u.Soft, Hard: u.Hard}
		if err := container.CheckUlimit(l); err != nil {
			return bad("invalid Ulimits: %v", err)
		}
		hs.Ulimits = append(hs.Ulimits, l)
	}
	for _, d := range hc.Devices {
		dev, err := deviceOf(d)
		if err != nil {
			return bad("invalid Devices: %v", err)
		}
		hs.Devices = append(hs.Devices, dev)
	}
	if hs.Privileged {
		spec.SeccompUnconfined = true
		hs.Devices = append(machineDevices(), hs.Devices...)
	}
	spec.HostSettings = hs
	return nil
}

// namespacedSysctls are the kernel parameters of the IPC namespace that
// Docker lets a container set; fs.mqueue.* and (with its own network
// namespace) net.* are allowed too.
var namespacedSysctls = []string{
	"kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem",
	"kernel.shmall", "kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced",
	"kernel.domainname",
}

func checkSysctl(k, networkMode string) error {
	switch {
	case slices.Contains(namespacedSysctls, k), strings.HasPrefix(k, "fs.mqueue."):
		return nil
	case strings.HasPrefix(k, "net."):
		if networkMode == container.NetworkHost {
			return fmt.Errorf("sysctl %q not allowed in host network namespace", k)
		}
		return nil
	}
	return fmt.Errorf("sysctl %q is not in a separate kernel namespace", k)
}

// deviceOf reads a --device mapping's node on the machine.
func deviceOf(d ctypes.DeviceMapping) (container.Device, error) {
	var st unix.Stat_t
	if err := unix.Stat(d.PathOnHost, &st); err != nil {
		return container.Device{}, fmt.Errorf("error gathering device information while adding custom device %q: %w", d.PathOnHost, err)
	}
	dev := container.Device{
		PathOnHost: d.PathOnHost, PathInContainer: d.PathInContainer, CgroupPermissions: d.CgroupPermissions,
		Major: unix.Major(st.Rdev), Minor: unix.Minor(st.Rdev), Mode: st.Mode & 0o7777,
	}
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFCHR:
		dev.Type = 'c'
	case unix.S_IFBLK:
		dev.Type = 'b'
	default:
		return dev, fmt.Errorf("%s is not a device node", d.PathOnHost)
	}
	if dev.PathInContainer == "" {
		dev.PathInContainer = d.PathOnHost
	}
	if dev.CgroupPermissions == "" {
		dev.CgroupPermissions = "rwm"
	}
	return dev, nil
}

// machineDevices are the machine's device nodes, which a privileged
// container gets, as in Docker.
func machineDevices() []container.Device {
	var out []container.Device
	filepath.WalkDir("/dev", func(p string, de fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if de.IsDir() {
			switch p {
			case "/dev/pts", "/dev/shm", "/dev/mqueue":
				return filepath.SkipDir
			}
			return nil
		}
		if de.Type()&(fs.ModeDevice|fs.ModeCharDevice) == 0 || p == "/dev/console" || p == "/dev/ptmx" {
			return nil
		}
		if d, err := deviceOf(ctypes.DeviceMapping{PathOnHost: p}); err == nil {
			out = append(out, d)
		}
		return nil
	})
	return out
}

// stopGrace is the grace period of docker stop and restart: the
// container's StopTimeout when the client gives none (the runtime sends
// the container's StopSignal).
func stopGrace(r *http.Request, spec container.Spec, grace time.Duration) time.Duration {
	if r.URL.Query().Get("t") == "" && spec.StopTimeout != nil {
		grace = time.Duration(*spec.StopTimeout) * time.Second
		if *spec.StopTimeout < 0 {
			grace = 24 * time.Hour
		}
	}
	return grace
}

// inspectHostSettings fills what docker inspect shows of the health
// check and the host settings.
func inspectHostSettings(resp *ctypes.InspectResponse, spec container.Spec, health *container.Health) {
	resp.State.Health = inspectHealth(health)
	resp.Config.Healthcheck = inspectHealthConfig(spec.Healthcheck)
	resp.Config.StopSignal = spec.StopSignal
	resp.Config.StopTimeout = spec.StopTimeout
	resp.Config.Shell = spec.Shell
	hc := resp.HostConfig
	hc.CapAdd, hc.CapDrop, hc.Privileged = spec.CapAdd, spec.CapDrop, spec.Privileged
	hc.Init = &spec.Init
	hc.Sysctls, hc.GroupAdd, hc.OomScoreAdj = spec.Sysctls, spec.GroupAdd, spec.OomScoreAdj
	hc.ShmSize = spec.ShmSize
	if hc.ShmSize == 0 {
		hc.ShmSize = 64 << 20
	}
	for _, u := range spec.Ulimits {
		hc.Ulimits = append(hc.Ulimits, &ctypes.Ulimit{Name: u.Name, Soft: u.Soft, Hard: u.Hard})
	}
	if !spec.Privileged {
		for _, d := range spec.Devices {
			hc.Devices = append(hc.Devices, ctypes.DeviceMapping{PathOnHost: d.PathOnHost, PathInContainer: d.PathInContainer, CgroupPermissions: d.CgroupPermissions})
		}
	}
}
