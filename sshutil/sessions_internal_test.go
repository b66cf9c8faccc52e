package sshutil

import "testing"

func TestOneSessionPerConn(t *testing.T) {
	tests := []struct {
		version string
		want    bool
	}{
		{"SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u10", false},
		{"SSH-2.0-dropbear_2022.83", true},
		{"SSH-2.0-dropbear_2024.85", true},
		{"SSH-2.0-dropbear_2024.86", false},
		{"SSH-2.0-dropbear_2025.88 extra", false},
		{"SSH-2.0-dropbear", true},
		{"SSH-2.0-dropbear_weird", true},
	}
	for _, tt := range tests {
		if got := oneSessionPerConn(tt.version); got != tt.want {
			t.Errorf("oneSessionPerConn(%q) = %v, want %v", tt.version, got, tt.want)
		}
	}
}
