package container

import "testing"

func TestMountAt(t *testing.T) {
	mounts := []Mount{
		{Type: "bind", Source: "/v/data", Target: "/data"},
		{Type: "bind", Source: "/v/deep", Target: "/data/deep/"},
		{Type: "tmpfs", Target: "/scratch"},
	}
	tests := []struct {
		p, source, rel string
		ok             bool
	}{
		{"/data", "/v/data", "/", true},
		{"/data/", "/v/data", "/", true},
		{"/data/.", "/v/data", "/.", true},
		{"/data/a/b", "/v/data", "/a/b", true},
		{"/data/a/", "/v/data", "/a/", true},
		{"/data/a/.", "/v/data", "/a/.", true},
		{"/data/deep/x", "/v/deep", "/x", true},
		{"data/../data/x", "/v/data", "/x", true},
		{"/database", "", "", false},
		{"/scratch/x", "", "", false},
		{"/", "", "", false},
	}
	for _, tt := range tests {
		m, rel, ok := MountAt(mounts, tt.p)
		if m.Source != tt.source || rel != tt.rel || ok != tt.ok {
			t.Errorf("MountAt(%q) = %q, %q, %v; want %q, %q, %v", tt.p, m.Source, rel, ok, tt.source, tt.rel, tt.ok)
		}
	}
}
