//go:build linux

package sshutil_test

import (
	"context"
	"os/exec"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/berthvm/berth/internal/testenv"
	"github.com/berthvm/berth/sshutil"
)

// BenchmarkConnectExecTrue compares a fresh sshutil connection running
// `true` (what `berth ssh NAME true` does, without the CLI's start-up)
// with OpenSSH's ssh binary doing the same against the same server, with
// the same key and the same pinned host key file. The two alternate, so
// that load on a shared machine hits both alike; it reports the medians
// and their ratio (sshutil / ssh).
//
//	go test ./sshutil -run '^$' -bench ConnectExecTrue -benchtime 30x
func BenchmarkConnectExecTrue(b *testing.B) {
	testenv.NeedCommand(b, "ssh")
	for _, kind := range []string{"openssh", "dropbear"} {
		b.Run(kind, func(b *testing.B) {
			srv, target := setupB(b, kind)
			ctx := context.Background()
			viaSSHUtil := func() error {
				c, err := sshutil.Dial(ctx, target)
				if err != nil {
					return err
				}
				defer c.Close()
				return c.Run(ctx, "true", sshutil.IO{})
			}
			viaOpenSSH := func() error {
				return exec.Command("ssh", "-F", "none", "-p", strconv.Itoa(srv.Port), "-i", target.Key.Path,
					"-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes",
					"-o", "UserKnownHostsFile="+target.HostKeys.Path, "-o", "GlobalKnownHostsFile=/dev/null",
					"root@127.0.0.1", "true").Run()
			}
			if err := viaSSHUtil(); err != nil { // pins the host key
				b.Fatal(err)
			}
			compare(b, "sshutil", viaSSHUtil, "openssh", viaOpenSSH)
		})
	}
}

// compare runs a and o alternately b.N times each and reports their median
// times in ms and the ratio of the medians.
func compare(b *testing.B, aName string, a func() error, oName string, o func() error) {
	var as, os []time.Duration
	b.ResetTimer()
	for range b.N {
		for _, f := range []struct {
			run func() error
			to  *[]time.Duration
		}{{a, &as}, {o, &os}} {
			start := time.Now()
			if err := f.run(); err != nil {
				b.Fatal(err)
			}
			*f.to = append(*f.to, time.Since(start))
		}
	}
	b.StopTimer()
	ma, mo := median(as), median(os)
	b.ReportMetric(float64(ma.Microseconds())/1000, aName+"-ms")
	b.ReportMetric(float64(mo.Microseconds())/1000, oName+"-ms")
	b.ReportMetric(float64(ma)/float64(mo), "ratio")
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}
