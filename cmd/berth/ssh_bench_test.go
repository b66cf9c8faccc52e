//go:build linux

package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/berthvm/berth/internal/testenv"
	"github.com/berthvm/berth/sshutil/sshtest"
)

// BenchmarkSSHTrue compares `berth ssh dev -- true`, a whole berth process
// (this test binary run as berth, see TestMain: same code as the berth
// binary plus the fake driver), with plain OpenSSH `ssh dev true` through
// the block `berth ssh-config dev` prints: same server, key and pinned
// host key. The two alternate so that load hits both alike; it reports
// the medians in ms and their ratio (berth / ssh).
//
//	go test ./cmd/berth -run '^$' -bench SSHTrue -benchtime 30x
func BenchmarkSSHTrue(b *testing.B) {
	testenv.NeedCommand(b, "ssh")
	for _, kind := range sshtest.Kinds {
		b.Run(kind, func(b *testing.B) {
			srv := sshtest.Start(b, kind, "")
			root := b.TempDir()
			sshMachine(b, root, "dev", srv)
			cfg := filepath.Join(b.TempDir(), "config")
			if err := os.WriteFile(cfg, []byte(mustBerth(b, root, "ssh-config", "dev")), 0o600); err != nil {
				b.Fatal(err)
			}
			viaBerth := func() error {
				cmd := exec.Command(os.Args[0], "-s", root, "ssh", "dev", "--", "true")
				cmd.Env = append(os.Environ(), "BERTH_TEST_AS_MAIN=1")
				return cmd.Run()
			}
			viaOpenSSH := func() error {
				return exec.Command("ssh", "-F", cfg, "-o", "BatchMode=yes", "dev", "true").Run()
			}
			var bs, os []time.Duration
			b.ResetTimer()
			for range b.N {
				for _, f := range []struct {
					run func() error
					to  *[]time.Duration
				}{{viaBerth, &bs}, {viaOpenSSH, &os}} {
					start := time.Now()
					if err := f.run(); err != nil {
						b.Fatal(err)
					}
					*f.to = append(*f.to, time.Since(start))
				}
			}
			b.StopTimer()
			mb, mo := medianDuration(bs), medianDuration(os)
			b.ReportMetric(float64(mb.Microseconds())/1000, "berth-ms")
			b.ReportMetric(float64(mo.Microseconds())/1000, "openssh-ms")
			b.ReportMetric(float64(mb)/float64(mo), "ratio")
		})
	}
}

func medianDuration(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}
