package seed

import (
	"strings"
	"testing"
)

// FuzzSeedConfig: any config that Validate accepts renders a user-data
// and meta-data whose lines berth-os's shell init reads back as given: no
// value breaks out of its line or its quotes.
func FuzzSeedConfig(f *testing.F) {
	f.Add("dev-1", "dev", testKey, "berth0", "/Users", "9p", NinePOptions)
	f.Add("x", "a.b-c", testKey, "berth-hidden", "/Users/me/.berth", "tmpfs", HideOptions)
	f.Add("x\ny", "dev\n", testKey+"\n", "s\"", "/a b", "9p", "a\"b")
	f.Fuzz(func(t *testing.T, id, host, key, src, target, typ, opts string) {
		c := Config{InstanceID: id, Hostname: host, SSHAuthorizedKeys: []string{key},
			Mounts: []Mount{{Source: src, Target: target, Type: typ, Options: opts}}}
		if c.Validate() != nil {
			return
		}
		user, meta := string(c.UserData()), string(c.MetaData())
		if got := strings.Count(meta, "\n"); got != 2 {
			t.Errorf("meta-data has %d lines, want 2: %q", got, meta)
		}
		if got, want := strings.Count(user, "\n"), 6; got != want {
			t.Errorf("user-data has %d lines, want %d: %q", got, want, user)
		}
		line := `  - [ "` + src + `", "` + target + `", "` + typ + `", "` + opts + `" ]` + "\n"
		if !strings.Contains(user, line) {
			t.Errorf("user-data does not hold the mount as given (%q): %q", line, user)
		}
	})
}
