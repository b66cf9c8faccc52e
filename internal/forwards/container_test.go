package forwards

import (
	"context"
	"errors"
	"net/netip"
	"slices"
	"testing"

	ctypes "github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"

	"github.com/berthvm/berth/drivers"
)

// inspectAgent answers every inspect with hc.
type inspectAgent struct {
	fakeAgent
	hc *ctypes.HostConfig
}

func (a *inspectAgent) ContainerInspect(ctx context.Context, id string, opts client.ContainerInspectOptions) (client.ContainerInspectResult, error) {
	var res client.ContainerInspectResult
	res.Container.HostConfig = a.hc
	return res, nil
}

func TestOfContainer(t *testing.T) {
	tests := []struct {
		name string
		hc   *ctypes.HostConfig
		want []drivers.Forward
	}{
		{"no host config", nil, nil},
		{"no bindings", &ctypes.HostConfig{}, nil},
		{"by host port, 127.0.0.1 unless named", &ctypes.HostConfig{PortBindings: network.PortMap{
			network.MustParsePort("80/tcp"):   {{HostPort: "8080"}, {HostIP: netip.MustParseAddr("0.0.0.0"), HostPort: "8081"}},
			network.MustParsePort("53/udp"):   {{HostIP: netip.MustParseAddr("127.0.0.2"), HostPort: "5353"}},
			network.MustParsePort("9000/tcp"): {{HostPort: ""}}, // not published on the host
		}}, []drivers.Forward{
			{Proto: "udp", HostIP: "127.0.0.2", HostPort: 5353, GuestPort: 5353},
			{Proto: "tcp", HostIP: "127.0.0.1", HostPort: 8080, GuestPort: 8080},
			{Proto: "tcp", HostIP: "0.0.0.0", HostPort: 8081, GuestPort: 8081},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := OfContainer(context.Background(), &inspectAgent{hc: tt.hc}, "web")
			if err != nil || !slices.Equal(got, tt.want) {
				t.Errorf("OfContainer = %v, %v; want %v", got, err, tt.want)
			}
		})
	}
	boom := errors.New("no such container: web")
	if _, err := OfContainer(context.Background(), &fakeAgent{inspectErr: boom}, "web"); !errors.Is(err, boom) {
		t.Errorf("OfContainer of a failed inspect: err = %v, want %v", err, boom)
	}
}
