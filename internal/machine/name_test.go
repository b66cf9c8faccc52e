package machine

import (
	"errors"
	"strings"
	"testing"
)

func TestValidateName(t *testing.T) {
	tests := []struct {
		name string
		ok   bool
	}{
		{"dev", true},
		{"default", true},
		{"a", true},
		{"9", true},
		{"web-1.example", true},
		{"Dev2", true},
		{strings.Repeat("a", 63), true},
		{"", false},
		{strings.Repeat("a", 64), false},
		{"-x", false},
		{".x", false},
		{"../x", false},
		{"a/b", false},
		{"a b", false},
		{"a_b", false},
		{"a\\b", false},
		{"a\x00", false},
		{"dév", false},
		{"a\n", false},
	}
	for _, tt := range tests {
		err := ValidateName(tt.name)
		if got := err == nil; got != tt.ok {
			t.Errorf("ValidateName(%q) = %v, want ok=%v", tt.name, err, tt.ok)
		}
		if err != nil {
			if !errors.Is(err, ErrInvalidName) {
				t.Errorf("ValidateName(%q) = %v, want it to wrap ErrInvalidName", tt.name, err)
			}
			if !strings.Contains(err.Error(), "at most 63 characters") {
				t.Errorf("ValidateName(%q) = %q, want the rule in the message", tt.name, err)
			}
		}
	}
}

func FuzzMachineName(f *testing.F) {
	for _, s := range []string{"dev", "../x", "a b", "", "-x", strings.Repeat("z", 64), "a.b-c", "..", "a/../b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		if ValidateName(name) != nil {
			return
		}
		// An accepted name is a plain folder name and a hostname label.
		if len(name) == 0 || len(name) > 63 {
			t.Fatalf("accepted %q of length %d", name, len(name))
		}
		if strings.ContainsAny(name, "/\\: \t\n\x00") || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "-") {
			t.Fatalf("accepted %q", name)
		}
		for _, r := range name {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '-') {
				t.Fatalf("accepted %q with %q", name, r)
			}
		}
		s := NewStore(t.TempDir())
		if got := s.Dir(name); !strings.HasPrefix(got, s.Root+"/machines/") {
			t.Fatalf("Dir(%q) = %q escapes the store", name, got)
		}
	})
}
