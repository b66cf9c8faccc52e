package server

import (
	"encoding/json"
	"path"
	"testing"
	"time"

	"github.com/berthvm/berth/runtime/image"
	ctypes "github.com/moby/moby/api/types/container"
)

// FuzzBindSpec feeds arbitrary -v values (HostConfig.Binds entries) to the
// parser: refused with a 400, or a mount whose target is a clean absolute
// path other than / and whose source is set.
func FuzzBindSpec(f *testing.F) {
	for _, s := range []string{"data:/data", "/srv:/srv:ro", "/srv:/srv:rw", "x:/", "x:y", ":/a", "a:/b:c:d", "/a:/b/../c", "vol:/a:RO"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, err := parseBind(s)
		if err != nil {
			if statusOf(err) != 400 {
				t.Errorf("-v %q: status %d, want 400", s, statusOf(err))
			}
			return
		}
		if m.Source == "" || !path.IsAbs(m.Target) || path.Clean(m.Target) != m.Target || m.Target == "/" {
			t.Errorf("-v %q accepted as %+v", s, m)
		}
	})
}

// FuzzCreateBody feeds arbitrary bodies of POST /containers/create to the
// checks and conversions that run before anything is made: they refuse or
// build a spec, never panic.
func FuzzCreateBody(f *testing.F) {
	for _, s := range []string{
		`{"Image":"busybox","Cmd":["true"]}`,
		`{"Image":"busybox","HostConfig":{"PortBindings":{"80/tcp":[{"HostIp":"127.0.0.1","HostPort":"8080"}]},"Binds":["v:/v:ro"],"RestartPolicy":{"Name":"on-failure","MaximumRetryCount":3}}}`,
		`{"Image":"busybox","ExposedPorts":{"53/udp":{}},"HostConfig":{"PublishAllPorts":true,"CpuShares":2,"Dns":["1.1.1.1"]}}`,
		`{"Image":"busybox","Tty":true,"HostConfig":{"ConsoleSize":[24,80],"Memory":-1,"PidsLimit":-5,"Ulimits":[{"Name":"nofile","Soft":1,"Hard":0}]}}`,
		`{"Image":"busybox","HostConfig":{"PortBindings":{"x/tcp":[{"HostPort":"99999"}]},"RestartPolicy":{"Name":"sometimes"}}}`,
		`{"HostConfig":null}`, `[]`, `{"Image":1}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var req ctypes.CreateRequest
		if json.Unmarshal(body, &req) != nil || req.Config == nil {
			return
		}
		hc := req.HostConfig
		if hc == nil {
			hc = &ctypes.HostConfig{}
		}
		if err := checkHostConfig(hc); err != nil {
			if statusOf(err) != 400 {
				t.Errorf("checkHostConfig: status %d (%v), want 400", statusOf(err), err)
			}
			return
		}
		for _, b := range hc.Binds {
			parseBind(b)
		}
		specFromRequest("0123456789ab", "fuzz", req.Config, hc, image.Image{ID: "sha256:00"})
	})
}

// FuzzQueryFilters feeds arbitrary filters= and since=/until= query values
// to their parsers: refused with a 400 or read, never a panic.
func FuzzQueryFilters(f *testing.F) {
	for _, s := range []string{``, `{"name":{"x":true}}`, `{"name":["x"]}`, `{"dangling":{"true":true}}`, `{"reference":["busy*"]}`, `{"label":{"a=b":true}}`, `{"x":1}`, `1700000000`, `1700000000.5`, `10m`, `2024-01-02T03:04:05Z`, `-1`} {
		f.Add(s)
	}
	now := time.Unix(1_800_000_000, 0)
	f.Fuzz(func(t *testing.T, s string) {
		for _, err := range []error{
			func() error { _, err := parseFilterJSON(s, "name", "label", "dangling"); return err }(),
			func() error { _, err := parseImageFilters(s); return err }(),
		} {
			if err != nil && statusOf(err) != 400 {
				t.Errorf("filters %q: status %d (%v), want 400", s, statusOf(err), err)
			}
		}
		parseTimeParam(s, now)
	})
}
