package shimbin

import (
	"testing"
	"testing/fstest"
)

func TestBinaryIsOfTheAgentsBuild(t *testing.T) {
	shim := []byte("\x7fELF shim")
	fsys := fstest.MapFS{
		"files/linux-x/berth-shim": {Data: shim},
		"files/linux-x/version":    {Data: []byte("1.2.3\n")},
		"files/linux-y/README":     {Data: []byte("nothing built")},
		"files/linux-z/version":    {Data: []byte("1.2.3\n")},
	}
	for _, tc := range []struct {
		name, dir, version string
		want               []byte
	}{
		{"the same build", "files/linux-x", "1.2.3", shim},
		{"another build", "files/linux-x", "1.2.4", nil},
		{"none built (plain go build)", "files/linux-y", "1.2.3", nil},
		{"a version without its shim", "files/linux-z", "1.2.3", nil},
	} {
		if got := binary(fsys, tc.dir, tc.version); string(got) != string(tc.want) {
			t.Errorf("%s: binary = %q, want %q", tc.name, got, tc.want)
		}
	}
	if got := binary(nil, "", "1.2.3"); got != nil {
		t.Errorf("no files (an architecture without a shim): binary = %q, want nil", got)
	}
}
