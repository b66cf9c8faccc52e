package sshutil

import "testing"

func TestSessionLimit(t *testing.T) {
	tests := []struct {
		version string
		want    int
	}{
		{"SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u10", MaxSessions},
		{"SSH-2.0-dropbear_2022.83", 1},
		{"SSH-2.0-dropbear_2024.85", 1},
		{"SSH-2.0-dropbear_2024.86", MaxSessions},
		{"SSH-2.0-dropbear_2025.88", MaxSessions},
		{"SSH-2.0-dropbear", 1},
		{"SSH-2.0-dropbear_weird", 1},
	}
	for _, tt := range tests {
		if got := sessionLimit(tt.version); got != tt.want {
			t.Errorf("sessionLimit(%q) = %d, want %d", tt.version, got, tt.want)
		}
	}
}
