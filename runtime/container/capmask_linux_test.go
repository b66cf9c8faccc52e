package container

import "testing"

func TestCapMask(t *testing.T) {
	all := uint64(1)<<41 - 1
	def := DefaultCapMask()
	tests := []struct {
		name string
		h    HostSettings
		want uint64
	}{
		{"default", HostSettings{}, def},
		{"add", HostSettings{CapAdd: []string{"NET_ADMIN", "cap_sys_ptrace"}}, def | 1<<12 | 1<<19},
		{"drop", HostSettings{CapDrop: []string{"CHOWN"}}, def &^ 1},
		{"drop all, add one", HostSettings{CapDrop: []string{"ALL"}, CapAdd: []string{"KILL"}}, 1 << 5},
		{"add all, drop one", HostSettings{CapAdd: []string{"ALL"}, CapDrop: []string{"SYS_ADMIN"}}, all &^ (1 << 21)},
		{"privileged", HostSettings{Privileged: true, CapDrop: []string{"ALL"}}, all},
	}
	for _, tc := range tests {
		got, err := tc.h.CapMask()
		if err != nil || got != tc.want {
			t.Errorf("%s: CapMask = %#x, %v; want %#x", tc.name, got, err, tc.want)
		}
	}
	if _, err := (HostSettings{CapAdd: []string{"NOPE"}}).CapMask(); err == nil {
		t.Error("CapMask with an unknown capability: no error")
	}
}
