package forwards

import (
	"context"
	"sort"
	"strconv"

	ctypes "github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"

	"github.com/berthvm/berth/drivers"
)

// OfContainer are the host forwards the published ports of container id
// need: host HostIP:HostPort to the same port of the machine, by host
// port.
func OfContainer(ctx context.Context, a Agent, id string) ([]drivers.Forward, error) {
	res, err := a.ContainerInspect(ctx, id, client.ContainerInspectOptions{})
	if err != nil {
		return nil, err
	}
	if res.Container.HostConfig == nil {
		return nil, nil
	}
	var fwds []drivers.Forward
	for p, bs := range res.Container.HostConfig.PortBindings {
		for _, b := range bs {
			n, err := strconv.Atoi(b.HostPort)
			if err != nil {
				continue
			}
			f := drivers.Forward{Proto: string(p.Proto()), HostIP: "127.0.0.1", HostPort: n, GuestPort: n}
			if b.HostIP.IsValid() {
				f.HostIP = b.HostIP.String()
			}
			fwds = append(fwds, f)
		}
	}
	sort.Slice(fwds, func(i, j int) bool { return fwds[i].HostPort < fwds[j].HostPort })
	return fwds, nil
}

// publishing reports whether a container in state st needs its forwards:
// it runs, or will again by itself.
func publishing(st ctypes.ContainerState) bool {
	switch st {
	case ctypes.StateRunning, ctypes.StateRestarting, ctypes.StatePaused:
		return true
	}
	return false
}
