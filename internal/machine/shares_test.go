package machine

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/berthvm/berth/drivers"
	"github.com/berthvm/berth/internal/fakedriver"
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

// sharingDriver is a fake driver with the SharedFolders role.
type sharingDriver struct{ *fakedriver.Driver }

func (sharingDriver) Shares() []drivers.Share { return nil }

// folder returns a function that returns dir, or fails the test when the
// lookup it stands for should not have been made (dir "").
func folder(t *testing.T, what, dir string) func() (string, error) {
	return func() (string, error) {
		if dir == "" {
			t.Errorf("ResolveShares looked up the %s folder, which it does not need", what)
		}
		return dir, nil
	}
}

func TestResolveShares(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "f")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	home := t.TempDir()
	sharing := sharingDriver{fakedriver.New(drivers.Base{})}
	plain := fakedriver.New(drivers.Base{})
	tests := []struct {
		name      string
		drv       drivers.Driver
		specs     []string
		noShare   bool
		cwd, home string // "": must not be looked up
		want      []drivers.Share
		wantNote  string
		wantIs    error
		wantErr   []string
	}{
		{name: "a folder", drv: sharing, specs: []string{dir}, cwd: dir,
			want: []drivers.Share{{HostPath: dir, GuestPath: GuestPathFor(dir)}}},
		{name: "relative to the current folder", drv: sharing, specs: []string{"sub:/src"}, cwd: dir,
			want: []drivers.Share{{HostPath: filepath.Join(dir, "sub"), GuestPath: "/src"}}},
		{name: "missing", drv: sharing, specs: []string{filepath.Join(dir, "missing")}, cwd: dir,
			wantIs: ErrBadShare, wantErr: []string{"bad --share", "does not exist"}},
		{name: "a file", drv: sharing, specs: []string{file}, cwd: dir,
			wantIs: ErrBadShare, wantErr: []string{"not a folder"}},
		{name: "relative guest folder", drv: sharing, specs: []string{dir + ":src"}, cwd: dir,
			wantIs: ErrBadShare, wantErr: []string{"must be an absolute path"}},
		{name: "berth-os's /root", drv: sharing, specs: []string{dir + ":/root"}, cwd: dir,
			wantIs: ErrBadShare, wantErr: []string{`"/root"`, "berth-os's own"}},
		{name: "twice", drv: sharing, specs: []string{dir + ":/a", dir + ":/a"}, cwd: dir,
			wantIs: ErrBadShare, wantErr: []string{"shared twice"}},
		{name: "every bad one at once", drv: sharing, specs: []string{filepath.Join(dir, "missing"), dir + ":/etc/x"}, cwd: dir,
			wantIs: ErrBadShare, wantErr: []string{"does not exist", "/etc"}},
		{name: "with --no-share", drv: sharing, specs: []string{dir}, noShare: true,
			wantIs: ErrShareConflict, wantErr: []string{"--share and --no-share contradict each other; give one"}},
		{name: "a driver that cannot share", drv: plain, specs: []string{dir},
			wantIs: ErrCannotShare, wantErr: []string{"the fake driver cannot share folders from this computer; drop --share"}},
		{name: "default: the home folder", drv: sharing, home: home,
			want: []drivers.Share{{HostPath: home, GuestPath: GuestPathFor(home)}}},
		{name: "default: root's home", drv: sharing, home: "/root",
			wantNote: `not sharing your home folder /root: guest folder "/root" lies in berth-os's own /root; name another, e.g. HOSTDIR:/host/root`},
		{name: "default: a home that is gone", drv: sharing, home: filepath.Join(dir, "gone"),
			wantNote: "not sharing your home folder share " + filepath.Join(dir, "gone") + ": the host folder does not exist"},
		{name: "--no-share", drv: sharing, noShare: true},
		{name: "no default for a driver that cannot share", drv: plain},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, note, err := ResolveShares(tt.drv, ShareRequest{Specs: tt.specs, NoShare: tt.noShare,
				Cwd: folder(t, "current", tt.cwd), Home: folder(t, "home", tt.home)})
			if tt.wantIs == nil {
				if err != nil || !reflect.DeepEqual(got, tt.want) || !strings.HasPrefix(note, tt.wantNote) || (note == "") != (tt.wantNote == "") {
					t.Errorf("ResolveShares = %+v, %q, %v; want %+v, note %q", got, note, err, tt.want, tt.wantNote)
				}
				return
			}
			if !errors.Is(err, tt.wantIs) || got != nil || note != "" {
				t.Fatalf("ResolveShares = %+v, %q, %v; want an error that is %q", got, note, err, tt.wantIs)
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("ResolveShares error %q, want it to hold %q", err, w)
				}
			}
		})
	}
}

// TestResolveSharesLookupErrors: a current folder that cannot be found
// fails --share; a home folder that cannot be found is a note.
func TestResolveSharesLookupErrors(t *testing.T) {
	lost := errors.New("lost")
	fail := func() (string, error) { return "", lost }
	sharing := sharingDriver{fakedriver.New(drivers.Base{})}
	_, _, err := ResolveShares(sharing, ShareRequest{Specs: []string{"src"}, Cwd: fail})
	if want := "--share: find the current folder: lost"; err == nil || err.Error() != want || !errors.Is(err, lost) {
		t.Errorf("ResolveShares with no current folder: %v, want %q", err, want)
	}
	shares, note, err := ResolveShares(sharing, ShareRequest{Home: fail})
	if want := "not sharing your home folder lost"; shares != nil || note != want || err != nil {
		t.Errorf("ResolveShares with no home folder = %v, %q, %v; want note %q", shares, note, err, want)
	}
}

func TestHiddenGuestPaths(t *testing.T) {
	home := t.TempDir()
	store := filepath.Join(home, ".berth")
	other := t.TempDir()
	tests := []struct {
		name   string
		shares []drivers.Share
		want   []string
	}{
		{"home at the same path", []drivers.Share{{HostPath: home, GuestPath: home}}, []string{home + "/.berth"}},
		{"home elsewhere", []drivers.Share{{HostPath: home, GuestPath: "/h"}}, []string{"/h/.berth"}},
		{"the store itself", []drivers.Share{{HostPath: store, GuestPath: "/s"}}, []string{"/s"}},
		{"a folder in the store", []drivers.Share{{HostPath: filepath.Join(store, "machines"), GuestPath: "/m"}}, []string{"/m"}},
		{"outside the store", []drivers.Share{{HostPath: other, GuestPath: "/o"}}, nil},
		{"a sibling with the store's name as prefix", []drivers.Share{{HostPath: store + "x", GuestPath: "/x"}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := HiddenGuestPaths(store, tt.shares); !slices.Equal(got, tt.want) {
				t.Errorf("HiddenGuestPaths = %q, want %q", got, tt.want)
			}
		})
	}
}
