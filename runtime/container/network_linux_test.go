package container

import (
	"context"
	"fmt"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/berthvm/berth/internal/hostport"
	"github.com/berthvm/berth/internal/testenv"
	"github.com/berthvm/berth/internal/testhttp"
	"github.com/berthvm/berth/internal/testnetns"
	"github.com/berthvm/berth/internal/testwait"
	"github.com/berthvm/berth/runtime/network"
)

// newNetworkRuntime is a runtime whose bridge network lives in the
// test's private network namespace.
func newNetworkRuntime(t testing.TB) (*Runtime, *network.Network) {
	t.Helper()
	testenv.NeedRoot(t)
	dir := t.TempDir()
	n, err := network.Open(context.Background(), filepath.Join(dir, "network"), network.Config{})
	if err != nil {
		t.Fatal(err)
	}
	rt, err := New(context.Background(), filepath.Join(dir, "containers"), WithNetwork(n))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for _, c := range rt.List() {
			rt.Remove(context.Background(), c.Spec.ID, true)
		}
	})
	return rt, n
}

func withNetwork(mode string, more func(*Spec)) func(*Spec) {
	return func(s *Spec) {
		s.NetworkMode = mode
		if more != nil {
			more(s)
		}
	}
}

// TestBridgeContainers runs a web server in a bridge container, reaches
// it by name from another one and through a published port, checks the
// address shown while it runs and freed when it stops, and compares with
// --network none and host.
func TestBridgeContainers(t *testing.T) {
	if testnetns.Reexec(t) {
		return
	}
	rt, n := newNetworkRuntime(t)
	port, err := hostport.Pick()
	if err != nil {
		t.Fatal(err)
	}
	web := startDetached(t, rt, "mkdir -p /w && echo hello from web > /w/index.html && exec httpd -f -p 80 -h /w",
		withNetwork(NetworkBridge, func(s *Spec) {
			s.Name = "web"
			s.Ports = []PortBinding{{Proto: "tcp", HostPort: port, ContainerPort: 80}}
		}))
	info, err := rt.Get(web)
	if err != nil {
		t.Fatal(err)
	}
	att := info.State.Network
	if att == nil || att.IP.String() != "172.18.0.2" || att.Gateway.String() != "172.18.0.1" || att.Network != "bridge" || att.MAC != "02:42:ac:12:00:02" {
		t.Fatalf("web's network = %+v, want 172.18.0.2 on bridge via 172.18.0.1", att)
	}

	res := runContainer(t, rt, ImageConfig{}, sh("wget -qO- http://web/ && wget -qO- http://"+web[:12]+"/ && cat /sys/class/net/eth0/address && awk '$2==\"00000000\" {print $1, $3}' /proc/net/route && hostname -i"),
		withNetwork(NetworkBridge, nil))
	// The default route: eth0 via 172.18.0.1 (little-endian hex).
	want := "hello from web\nhello from web\n02:42:ac:12:00:03\neth0 010012AC\n172.18.0.3\n"
	if res.startErr != nil || res.stdout != want || res.state.ExitCode != 0 {
		t.Errorf("client: start %v, exit %d, stdout %q, stderr %q; want %q", res.startErr, res.state.ExitCode, res.stdout, res.stderr, want)
	}
	if res.state.Network != nil {
		t.Errorf("an exited container shows a network: %+v", res.state.Network)
	}

	url := fmt.Sprintf("http://127.0.0.1:%d/", port)
	body, err := testhttp.Get(url, 10*time.Second)
	if err != nil {
		t.Fatalf("GET %s through the published port: %v", url, err)
	}
	if body != "hello from web\n" {
		t.Errorf("GET %s = %q", url, body)
	}

	// A container that joins later appears in web's /etc/hosts (a bind
	// mount of a file rewritten in place).
	db := startDetached(t, rt, "exec sleep 60", withNetwork(NetworkBridge, func(s *Spec) { s.Name = "db" }))
	if out, code := execOutput(t, rt, web, ExecSpec{Args: []string{"sh", "-c", "grep -w db /etc/hosts"}}); code != 0 || !strings.HasPrefix(out, "172.18.0.3\t") {
		t.Errorf("web's /etc/hosts line for db = %q (exit %d), want 172.18.0.3", out, code)
	}

	// An agent restart: a new runtime on the same folders keeps the
	// addresses of running containers and gives the next one a new one.
	rt2, err := New(context.Background(), rt.dir, WithNetwork(n))
	if err != nil {
		t.Fatal(err)
	}
	if eps, _ := n.Endpoints(); len(eps) != 2 {
		t.Errorf("endpoints after a restart = %+v, want web's and db's", eps)
	}
	if info, _ := rt2.Get(db); info.State.Network == nil || info.State.Network.IP.String() != "172.18.0.3" {
		t.Errorf("db after a restart: network %+v", info.State.Network)
	}
	after := runContainer(t, rt2, ImageConfig{}, sh("hostname -i"), withNetwork(NetworkBridge, nil))
	if after.stdout != "172.18.0.4\n" {
		t.Errorf("a container started after the restart got %q, want 172.18.0.4", after.stdout)
	}
	if err := rt2.Remove(context.Background(), db, true); err != nil {
		t.Fatal(err)
	}

	none := runContainer(t, rt, ImageConfig{}, sh("ls /sys/class/net"), withNetwork(NetworkNone, nil))
	if none.stdout != "lo\n" {
		t.Errorf("--network none interfaces = %q, want lo only", none.stdout)
	}
	host := runContainer(t, rt, ImageConfig{}, sh("ls /sys/class/net"), withNetwork(NetworkHost, nil))
	if !strings.Contains(host.stdout, "berth0") {
		t.Errorf("--network host interfaces = %q, want the machine's (berth0 among them)", host.stdout)
	}

	if err := rt.Stop(context.Background(), web, 0, 2*time.Second); err != nil {
		t.Fatal(err)
	}
	if eps, err := n.Endpoints(); err != nil || len(eps) != 0 {
		t.Errorf("endpoints after stop = %+v, %v; want none (freed at stop)", eps, err)
	}
	if info, _ := rt.Get(web); info.State.Network != nil {
		t.Errorf("a stopped container shows a network: %+v", info.State.Network)
	}
}

// BenchmarkNetworkModes measures what the bridge adds to a container's
// start: start-to-exit of `true` with --network none, bridge and host,
// taking turns (see runRounds), in a private network namespace.
//
//	go test -run '^$' -bench '^BenchmarkNetworkModes$' -benchtime 8x ./runtime/container
func BenchmarkNetworkModes(b *testing.B) {
	if testnetns.Reexec(b) {
		return
	}
	rt, _ := newNetworkRuntime(b)
	rootfs := busyboxRootfs(b)
	ctx := context.Background()
	var runners []*benchRunner
	for _, mode := range []string{NetworkNone, NetworkBridge, NetworkHost} {
		runners = append(runners, &benchRunner{name: "--network " + mode, unit: mode, fn: func() (time.Duration, error) {
			return timeRun(ctx, rt, Spec{LowerDirs: []string{rootfs}, Args: []string{"true"}, NetworkMode: mode})
		}})
	}
	runRounds(b, runners)
}

// BenchmarkBridgeRequests times HTTP requests (busybox wget, a process and
// a connection each, 200 a round) from one bridge container to another by
// name, and the same inside the server's container over loopback, so the
// difference is what the bridge and the veth pairs cost. A round's time
// includes its exec into the container (a few ms of 200 requests).
//
//	go test -run '^$' -bench '^BenchmarkBridgeRequests$' -benchtime 5x ./runtime/container
func BenchmarkBridgeRequests(b *testing.B) {
	if testnetns.Reexec(b) {
		return
	}
	rt, _ := newNetworkRuntime(b)
	web := startDetached(b, rt, "mkdir -p /w && echo hello > /w/index.html && exec httpd -f -p 80 -h /w",
		withNetwork(NetworkBridge, func(s *Spec) { s.Name = "web" }))
	client := startDetached(b, rt, "exec sleep 1000", withNetwork(NetworkBridge, nil))
	const requests = 200
	const loop = "i=0; while [ $i -lt %d ]; do wget -qO- http://%s/ >/dev/null || exit 1; i=$((i+1)); done"
	requestsIn := func(id, host string) func() (time.Duration, error) {
		return func() (time.Duration, error) {
			start := time.Now()
			if out, code := execOutput(b, rt, id, ExecSpec{Args: []string{"sh", "-c", fmt.Sprintf(loop, requests, host)}}); code != 0 {
				return 0, fmt.Errorf("exit %d: %s", code, out)
			}
			return time.Since(start) / requests, nil
		}
	}
	runRounds(b, []*benchRunner{
		{name: "a request, container->container by name over the bridge", unit: "bridge", block: 1, fn: requestsIn(client, "web")},
		{name: "a request inside the container over loopback", unit: "loopback", block: 1, fn: requestsIn(web, "127.0.0.1")},
	})
}

// TestBridgeRestartPolicy: each run of an on-failure container is plugged
// in again (the pair of the run before is gone or removed first) and
// has an address and a route; the address is free once it has ended.
func TestBridgeRestartPolicy(t *testing.T) {
	if testnetns.Reexec(t) {
		return
	}
	rt, n := newNetworkRuntime(t)
	id := startDetached(t, rt, "hostname -i; wget -qO- http://172.18.0.1:9/ 2>&1 | grep -q refused && echo routed; exit 3",
		withNetwork(NetworkBridge, func(s *Spec) { s.RestartPolicy = RestartPolicy{Name: "on-failure", MaximumRetryCount: 2} }))
	st := waitState(t, rt, id, "exited after 2 restarts", func(st State) bool { return st.Status == StatusExited && st.RestartCount == 2 })
	rt.waitMonitorGone(rt.entries[id], 10*time.Second)
	if st.RestartCount != 2 || st.ExitCode != 3 {
		t.Fatalf("on-failure:2 ended as %+v", st)
	}
	var out strings.Builder
	rt.Logs(context.Background(), id, LogOptions{Stdout: true, Stderr: true, Tail: -1}, func(e LogEntry) error {
		out.WriteString(e.Log)
		return nil
	})
	if want := strings.Repeat("172.18.0.2\nrouted\n", 3); out.String() != want {
		t.Errorf("the three runs printed %q, want %q", out.String(), want)
	}
	if eps, err := n.Endpoints(); err != nil || len(eps) != 0 {
		t.Errorf("endpoints after the last run = %+v, %v; want none", eps, err)
	}
}

// TestPublishedPortBoundAddress: a published port reaches a server bound
// to the container's bridge address alone (as Docker's proxy does) and one
// bound to 127.0.0.1 alone (as berth's proxy also does).
func TestPublishedPortBoundAddress(t *testing.T) {
	if testnetns.Reexec(t) {
		return
	}
	rt, _ := newNetworkRuntime(t)
	for _, bind := range []string{"$(hostname -i)", "127.0.0.1"} {
		port, err := hostport.Pick()
		if err != nil {
			t.Fatal(err)
		}
		id := startDetached(t, rt, "mkdir -p /w && echo bound to "+bind+" > /w/index.html && exec httpd -f -p "+bind+":80 -h /w",
			withNetwork(NetworkBridge, func(s *Spec) {
				s.Ports = []PortBinding{{Proto: "tcp", HostPort: port, ContainerPort: 80}}
			}))
		url := fmt.Sprintf("http://127.0.0.1:%d/", port)
		body, err := testhttp.Get(url, 10*time.Second)
		if err != nil {
			t.Fatalf("server bound to %s: GET %s: %v", bind, url, err)
		}
		if !strings.HasPrefix(body, "bound to ") {
			t.Errorf("server bound to %s: GET %s = %q", bind, url, body)
		}
		if err := rt.Remove(context.Background(), id, true); err != nil {
			t.Fatal(err)
		}
	}
}

// TestBridgeAutoRemoveFreesAddress: once the removal of an AutoRemove
// container is answered (the wait of `run --rm`), a new container can take
// its fixed address at once, and the network forgets it.
func TestBridgeAutoRemoveFreesAddress(t *testing.T) {
	if testnetns.Reexec(t) {
		return
	}
	rt, n := newNetworkRuntime(t)
	ctx := context.Background()
	fixed := func(s *Spec) {
		s.Networks = []NetworkRef{{Name: NetworkBridge, Dir: n.Dir(), IP: netip.MustParseAddr("172.18.0.77")}}
	}
	for i := range 3 {
		id := startDetached(t, rt, "hostname -i", withNetwork(NetworkBridge, func(s *Spec) {
			fixed(s)
			s.AutoRemove = true
		}))
		wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		st, err := rt.Wait(wctx, id, WaitRemoved)
		cancel()
		if err != nil || st.ExitCode != 0 {
			t.Fatalf("run %d: wait for removed: %+v, %v", i, st, err)
		}
	}
	res := runContainer(t, rt, ImageConfig{}, sh("hostname -i"), withNetwork(NetworkBridge, fixed))
	if res.startErr != nil || res.stdout != "172.18.0.77\n" {
		t.Fatalf("the address of the removed containers: start %v, stdout %q, stderr %q", res.startErr, res.stdout, res.stderr)
	}
	testwait.Until(t, 10*time.Second, "the network forgets the removed containers", func() bool {
		eps, err := n.Endpoints()
		return err == nil && len(eps) == 0
	})
}
