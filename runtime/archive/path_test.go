package archive

import "testing"

func TestAbsPath(t *testing.T) {
	tests := []struct{ in, abs, dir, base, name string }{
		{"etc/hosts", "/etc/hosts", "/etc/", "hosts", "hosts"},
		{"/data/", "/data/", "/data/", "", "data"},
		{"/data/.", "/data/.", "/data/", ".", "."},
		{"/../../etc/passwd", "/etc/passwd", "/etc/", "passwd", "passwd"},
		{"/", "/", "/", "", "."},
		{"a/../../..", "/", "/", "", "."},
	}
	for _, tt := range tests {
		abs := absPath(tt.in)
		dir, base := splitPath(abs)
		if abs != tt.abs || dir != tt.dir || base != tt.base || baseName(abs) != tt.name {
			t.Errorf("absPath(%q) = %q (%q, %q, %q), want %q (%q, %q, %q)", tt.in, abs, dir, base, baseName(abs), tt.abs, tt.dir, tt.base, tt.name)
		}
	}
}

func TestEntryName(t *testing.T) {
	tests := []struct {
		in   string
		want string
		ok   bool
	}{
		{"file", "file", true},
		{"dir/", "dir", true},
		{"./dir/file", "dir/file", true},
		{"/abs/file", "abs/file", true},
		{"../evil", "", false},
		{"a/../../evil", "", false},
		{"a/../b", "b", true},
		{"nul\x00", "", false},
	}
	for _, tt := range tests {
		got, ok := entryName(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("entryName(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}
