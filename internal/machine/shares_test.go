package machine

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/berthvm/berth/drivers"
)

func TestParseShare(t *testing.T) {
	tests := []struct {
		spec, cwd string
		want      drivers.Share
		wantErr   string
	}{
		{"/src", "/cwd", drivers.Share{HostPath: "/src", GuestPath: "/src"}, ""},
		{"/src/", "/cwd", drivers.Share{HostPath: "/src", GuestPath: "/src"}, ""},
		{"/src:/mnt/src", "/cwd", drivers.Share{HostPath: "/src", GuestPath: "/mnt/src"}, ""},
		{"app", "/home/me", drivers.Share{HostPath: "/home/me/app", GuestPath: "/home/me/app"}, ""},
		{"../app:/app", "/home/me/x", drivers.Share{HostPath: "/home/me/app", GuestPath: "/app"}, ""},
		{"/src:app", "/cwd", drivers.Share{}, "must be an absolute path"},
		{":/app", "/cwd", drivers.Share{}, "no host folder"},
	}
	for _, tt := range tests {
		got, err := ParseShare(tt.spec, tt.cwd)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ParseShare(%q) = %v, %v; want an error holding %q", tt.spec, got, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseShare(%q, %q) = %+v, %v; want %+v", tt.spec, tt.cwd, got, err, tt.want)
		}
	}
}

func TestSplitShareWindows(t *testing.T) {
	for _, tt := range []struct{ spec, host, guest string }{
		{`C:\Users\me`, `C:\Users\me`, ""},
		{`C:\src:/src`, `C:\src`, "/src"},
		{`c:/src`, `c:/src`, ""},
	} {
		if h, g := splitShare(tt.spec); h != tt.host || g != tt.guest {
			t.Errorf("splitShare(%q) = %q, %q; want %q, %q", tt.spec, h, g, tt.host, tt.guest)
		}
	}
}

func TestGuestPathFor(t *testing.T) {
	for host, want := range map[string]string{
		"/home/me":     "/home/me",
		"/Users/me":    "/Users/me",
		`C:\Users\me`:  "/c/Users/me",
		`D:\work\src\`: "/d/work/src",
	} {
		if got := GuestPathFor(host); got != want {
			t.Errorf("GuestPathFor(%q) = %q, want %q", host, got, want)
		}
	}
}

func TestDefaultShares(t *testing.T) {
	got, err := DefaultShares("/home/me")
	if err != nil || len(got) != 1 || got[0] != (drivers.Share{HostPath: "/home/me", GuestPath: "/home/me"}) {
		t.Errorf("DefaultShares(/home/me) = %v, %v", got, err)
	}
	// root's home is berth-os's own /root: no default share.
	if got, err := DefaultShares("/root"); err == nil || !strings.Contains(err.Error(), "/root") {
		t.Errorf("DefaultShares(/root) = %v, %v; want an error naming /root", got, err)
	}
}

func TestValidateShares(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "f")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		shares []drivers.Share
		want   []string
	}{
		{"good", []drivers.Share{{HostPath: dir, GuestPath: "/src"}, {HostPath: dir, GuestPath: "/home/me/x"}}, nil},
		{"none", nil, nil},
		{"missing host folder", []drivers.Share{{HostPath: filepath.Join(dir, "nope"), GuestPath: "/src"}}, []string{"does not exist"}},
		{"relative host folder", []drivers.Share{{HostPath: "src", GuestPath: "/src"}}, []string{"absolute"}},
		{"a file", []drivers.Share{{HostPath: file, GuestPath: "/src"}}, []string{"not a folder"}},
		{"relative guest folder", []drivers.Share{{HostPath: dir, GuestPath: "src"}}, []string{`guest folder "src"`}},
		{"guest root", []drivers.Share{{HostPath: dir, GuestPath: "/"}}, []string{"berth-os's own"}},
		{"guest /root", []drivers.Share{{HostPath: dir, GuestPath: "/root"}}, []string{"/root"}},
		{"guest data disk", []drivers.Share{{HostPath: dir, GuestPath: "/var/lib/berth/x"}}, []string{"/var"}},
		{"guest space", []drivers.Share{{HostPath: dir, GuestPath: "/my src"}}, []string{"letters, digits"}},
		{"twice", []drivers.Share{{HostPath: dir, GuestPath: "/src"}, {HostPath: dir, GuestPath: "/src"}}, []string{"shared twice"}},
		{"all named at once", []drivers.Share{{HostPath: "x", GuestPath: "/etc"}, {HostPath: file, GuestPath: "/src"}}, []string{"absolute", "/etc", "not a folder"}},
	}
	for _, tt := range tests {
		err := ValidateShares(tt.shares)
		if len(tt.want) == 0 {
			if err != nil {
				t.Errorf("%s: ValidateShares = %v, want nil", tt.name, err)
			}
			continue
		}
		if err == nil {
			t.Errorf("%s: ValidateShares = nil, want an error holding %q", tt.name, tt.want)
			continue
		}
		for _, w := range tt.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: ValidateShares = %q, want it to hold %q", tt.name, err, w)
			}
		}
	}
}
