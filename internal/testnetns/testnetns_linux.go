// Package testnetns runs a test in a network namespace of its own, so
// that tests which make bridges, veth pairs and nftables tables never
// touch the machine's own network.
package testnetns

import (
	"flag"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"testing"

	"github.com/vishvananda/netlink"

	"github.com/berthvm/berth/internal/testenv"
)

const envMarker = "BERTH_TEST_PRIVATE_NETNS"

// Reexec runs the calling top-level test or benchmark again, alone, in a
// child process of the test binary that has a new network namespace (with
// lo up), and reports true: the caller returns and the child's result is
// the test's (a benchmark's figures are in its log). In that child it
// reports false and the test goes on. It needs root.
//
//	func TestBridge(t *testing.T) {
//		if testnetns.Reexec(t) {
//			return
//		}
//		... // in a private network namespace
//	}
//
// A benchmark calls it before b.Loop; the child runs b.Loop as many times
// as -benchtime says.
func Reexec(t testing.TB) bool {
	t.Helper()
	testenv.NeedRoot(t)
	if os.Getenv(envMarker) == "1" {
		lo, err := netlink.LinkByName("lo")
		if err == nil {
			err = netlink.LinkSetUp(lo)
		}
		if err != nil {
			t.Fatalf("bring lo up in the private network namespace: %v", err)
		}
		return false
	}
	name := strings.SplitN(t.Name(), "/", 2)[0]
	args := []string{"-test.run=^" + regexp.QuoteMeta(name) + "$", "-test.count=1"}
	ran := func(out []byte) bool { return !strings.Contains(string(out), "testing: warning: no tests to run") }
	b, isBench := t.(*testing.B)
	if isBench {
		args = []string{"-test.run=^$", "-test.bench=^" + regexp.QuoteMeta(name) + "$", "-test.count=1"}
		if f := flag.Lookup("test.benchtime"); f != nil {
			args = append(args, "-test.benchtime="+f.Value.String())
		}
		result := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(name) + `(-\d+)?\s`)
		ran = result.Match
	}
	if testing.Verbose() {
		args = append(args, "-test.v")
	}
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), envMarker+"=1")
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWNET}
	out, err := cmd.CombinedOutput()
	t.Logf("in a private network namespace:\n%s", out)
	if err != nil {
		t.Fatalf("%s in a private network namespace: %v", name, err)
	}
	if strings.Contains(string(out), "--- SKIP: "+name) {
		t.Skip("skipped in the private network namespace")
	}
	if !ran(out) {
		t.Fatalf("%s did not run in the private network namespace", name)
	}
	if isBench {
		// b.Loop makes the framework call the benchmark once; the child's
		// figures are the benchmark's, this process's would time nothing.
		for b.Loop() {
		}
		b.ReportMetric(0, "ns/op")
	}
	return true
}
