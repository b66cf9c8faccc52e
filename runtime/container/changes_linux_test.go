package container

import (
	"reflect"
	"testing"
)

func TestWithoutSetup(t *testing.T) {
	tests := []struct {
		name    string
		in, out []Change
	}{
		{"mount points only", []Change{{"/dev", 1}, {"/etc", 0}, {"/etc/hosts", 1}, {"/proc", 1}}, nil},
		{"a real change under /etc", []Change{{"/etc", 0}, {"/etc/hosts", 1}, {"/etc/motd", 1}, {"/tmp", 0}},
			[]Change{{"/etc", 0}, {"/etc/motd", 1}, {"/tmp", 0}}},
	}
	for _, tt := range tests {
		if got := withoutSetup(tt.in); !reflect.DeepEqual(got, tt.out) {
			t.Errorf("%s: withoutSetup = %v, want %v", tt.name, got, tt.out)
		}
	}
}
