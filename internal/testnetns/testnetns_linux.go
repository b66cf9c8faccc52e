// Package testnetns runs a test in a network namespace of its own, so
// that tests which make bridges, veth pairs and nftables tables never
// touch the machine's own network.
package testnetns

import (
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

// Reexec runs the calling top-level test again, alone, in a child process
// of the test binary that has a new network namespace (with lo up), and
// reports true: the caller returns and the child's result is the test's.
// In that child it reports false and the test goes on. It needs root.
//
//	func TestBridge(t *testing.T) {
//		if testnetns.Reexec(t) {
//			return
//		}
//		... // in a private network namespace
//	}
func Reexec(t *testing.T) bool {
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
	if strings.Contains(string(out), "testing: warning: no tests to run") {
		t.Fatalf("%s did not run in the private network namespace", name)
	}
	return true
}
