package server

import (
	"reflect"
	"testing"

	ctypes "github.com/moby/moby/api/types/container"
)

func TestParseIOStat(t *testing.T) {
	got := parseIOStat("259:0 rbytes=4096 wbytes=8192 rios=1 wios=2 dbytes=0 dios=0\n")
	want := ctypes.BlkioStats{
		IoServiceBytesRecursive: []ctypes.BlkioStatEntry{{Major: 259, Op: "read", Value: 4096}, {Major: 259, Op: "write", Value: 8192}},
		IoServicedRecursive:     []ctypes.BlkioStatEntry{{Major: 259, Op: "read", Value: 1}, {Major: 259, Op: "write", Value: 2}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("parseIOStat = %+v, want %+v", got, want)
	}
}

func TestParseNetDev(t *testing.T) {
	in := `Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo:     100       1    0    0    0     0          0         0      100       1    0    0    0     0       0          0
  eth0:    1234      10    1    2    0     0          0         0     5678      20    3    4    0     0       0          0
`
	got := parseNetDev(in)
	want := map[string]ctypes.NetworkStats{"eth0": {RxBytes: 1234, RxPackets: 10, RxErrors: 1, RxDropped: 2, TxBytes: 5678, TxPackets: 20, TxErrors: 3, TxDropped: 4}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("parseNetDev = %+v, want %+v", got, want)
	}
}

func TestParseSmallFiles(t *testing.T) {
	tests := []struct {
		name string
		got  uint64
		want uint64
	}{
		{"limit max", parseLimit("max\n"), 0},
		{"limit", parseLimit("1048576\n"), 1 << 20},
		{"system cpu", first(parseSystemCPU("cpu  10 0 5 85 0 0 0 0 0 0\ncpu0 5 0 0 45 0 0 0 0 0 0\ncpu1 5 0 5 40 0 0 0 0 0 0\n")), 100 * 1e7},
		{"online cpus", uint64(second(parseSystemCPU("cpu  10 0 5 85 0 0 0 0 0 0\ncpu0 5 0 0 45 0 0 0 0 0 0\ncpu1 5 0 5 40 0 0 0 0 0 0\n"))), 2},
		{"flat keyed", parseFlatKeyed("usage_usec 1500\nuser_usec 1000\n")["usage_usec"], 1500},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s = %d, want %d", tt.name, tt.got, tt.want)
		}
	}
}

func first(a uint64, _ uint32) uint64  { return a }
func second(_ uint64, b uint32) uint32 { return b }
