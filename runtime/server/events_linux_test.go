package server

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/berthvm/berth/runtime/berthapi"
)

// eventLine is one line of /events with the legacy fields.
type eventLine struct {
	Status string
	ID     string
	From   string
	Type   string
	Action string
	Actor  struct {
		ID         string
		Attributes map[string]string
	}
	TimeNano int64 `json:"timeNano"`
}

// followEvents streams the agent's /events with filters; the returned
// channel is closed when the stream ends.
func followEvents(t *testing.T, sock, filters string) <-chan eventLine {
	t.Helper()
	return followEventsWith(t, sock, filters, nil)
}

// followEventsWith is followEvents with the request's extra headers.
func followEventsWith(t *testing.T, sock, filters string, header http.Header) <-chan eventLine {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	req, _ := http.NewRequestWithContext(ctx, "GET", "http://agent/v1.47/events?filters="+filters, nil)
	maps.Copy(req.Header, header)
	resp, err := unixHTTP(sock).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /events: %s", resp.Status)
	}
	out := make(chan eventLine, 100)
	go func() {
		defer close(out)
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			var e eventLine
			if json.Unmarshal(sc.Bytes(), &e) == nil {
				out <- e
			}
		}
	}()
	return out
}

// TestEventsOfContainerExitingByItself: a detached --rm container that
// exits on its own is seen created, started, dying with its exit code
// and destroyed, live on /events and afterwards through docker events
// --since --until.
func TestEventsOfContainerExitingByItself(t *testing.T) {
	a := startAgent(t)
	stream := followEvents(t, a.sock, `{"type":["container"]}`)
	berthStream := followEventsWith(t, a.sock, `{"type":["container"]}`, http.Header{berthapi.EventsHeader: {berthapi.PublishesAttr}})
	t0 := time.Now()
	out, errOut, code := docker(t, a.sock, "", "run", "-d", "--rm", "--name", "quick", "-l", "app=demo", "busybox", "sh", "-c", "sleep 0.3; exit 2")
	if code != 0 {
		t.Fatalf("docker run -d: exit %d: %s%s", code, out, errOut)
	}
	id := strings.TrimSpace(out)
	var got []string
	timeout := time.After(30 * time.Second)
	for len(got) == 0 || got[len(got)-1] != "destroy" {
		select {
		case e, ok := <-stream:
			if !ok {
				t.Fatalf("event stream ended; got %v", got)
			}
			if e.Actor.ID != id {
				continue
			}
			got = append(got, e.Action)
			attrs := e.Actor.Attributes
			if attrs["name"] != "quick" || attrs["image"] != "busybox" || attrs["app"] != "demo" || e.Status != e.Action || e.ID != id || e.From != "busybox" || e.TimeNano == 0 {
				t.Errorf("%s event: %+v; want name, image and label attributes and the legacy fields", e.Action, e)
			}
			if e.Action == "die" && attrs["exitCode"] != "2" {
				t.Errorf("die exitCode = %q, want 2", attrs["exitCode"])
			}
			if v, ok := attrs[berthapi.PublishesAttr]; ok {
				t.Errorf("%s event carries berth's %s=%q to a Docker client", e.Action, berthapi.PublishesAttr, v)
			}
		case <-timeout:
			t.Fatalf("no destroy within 30s; got %v", got)
		}
	}
	if strings.Join(got, " ") != "create start die destroy" {
		t.Errorf("events = %v, want create start die destroy", got)
	}
	// A client that asks (the host agent) learns at create whether the
	// container publishes ports.
	out, errOut, code = docker(t, a.sock, "", "create", "--name", "pub", "-p", "127.0.0.1::80", "-l", berthapi.PublishesAttr+"=mine", "busybox")
	if code != 0 {
		t.Fatalf("docker create -p: exit %d: %s%s", code, out, errOut)
	}
	pub := strings.TrimSpace(out)
	publishes := map[string]string{}
	for len(publishes) < 2 {
		select {
		case e := <-berthStream:
			if e.Action == "create" {
				publishes[e.Actor.ID] = e.Actor.Attributes[berthapi.PublishesAttr]
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("the create events with berth's attributes: %v", publishes)
		}
	}
	if publishes[id] != "false" || publishes[pub] != "true" {
		t.Errorf("%s on create: %q for the container without ports, %q for the one with -p; want false and true", berthapi.PublishesAttr, publishes[id], publishes[pub])
	}
	docker(t, a.sock, "", "rm", "-f", "pub")

	since := fmt.Sprintf("%d.%09d", t0.Unix(), t0.Nanosecond())
	until := fmt.Sprintf("%d", time.Now().Unix()+1)
	out, errOut, code = docker(t, a.sock, "", "events", "--since", since, "--until", until, "--filter", "event=die", "--format", "{{.Actor.Attributes.name}} {{.Action}} {{.Actor.Attributes.exitCode}}")
	if code != 0 || out != "quick die 2\n" {
		t.Errorf("docker events --filter event=die: exit %d, %q (%s), want %q", code, out, errOut, "quick die 2\n")
	}
	// (--until 0s would be now in whole seconds, before the events of
	// this second, with Docker too.)
	out, errOut, code = docker(t, a.sock, "", "events", "--since", "1m", "--until", until, "--filter", "container=quick", "--format", "{{.Type}} {{.Action}}")
	if want := "container create\ncontainer start\ncontainer die\ncontainer destroy\n"; code != 0 || out != want {
		t.Errorf("docker events --since 1m --filter container=quick: exit %d, %q (%s), want %q", code, out, errOut, want)
	}
	// The docker CLI sees the create events as Docker sends them: no
	// attribute of berth's, and a label of the same name as it is.
	out, errOut, code = docker(t, a.sock, "", "events", "--since", since, "--until", until, "--filter", "event=create",
		"--format", `{{.Actor.Attributes.name}} {{index .Actor.Attributes "`+berthapi.PublishesAttr+`"}}`)
	if want := "quick \npub mine\n"; code != 0 || out != want {
		t.Errorf("docker events --filter event=create, %s: exit %d, %q (%s), want %q", berthapi.PublishesAttr, code, out, errOut, want)
	}
}

// TestExtraHosts: host.docker.internal and host.berth.internal name the
// user's host in every container, --add-host adds names (host-gateway
// is that host), in each network mode.
func TestExtraHosts(t *testing.T) {
	a := startAgent(t, func(o *Options) { o.HostGateway = netip.MustParseAddr("10.0.2.2") })
	for _, mode := range []string{"none", "host"} {
		out, errOut, code := docker(t, a.sock, "", "run", "--rm", "--network", mode, "--add-host", "foo:1.2.3.4", "--add-host", "gw:host-gateway", "busybox", "cat", "/etc/hosts")
		if code != 0 {
			t.Fatalf("--network %s: exit %d: %s", mode, code, errOut)
		}
		for _, want := range []string{"127.0.0.1", "1.2.3.4\tfoo\n", "10.0.2.2\tgw\n", "10.0.2.2\thost.docker.internal\n", "10.0.2.2\thost.berth.internal\n"} {
			if !strings.Contains(out, want) {
				t.Errorf("--network %s: /etc/hosts lacks %q:\n%s", mode, want, out)
			}
		}
	}
	// A name the user gives wins over the agent's.
	out, errOut, _ := docker(t, a.sock, "", "run", "--rm", "--add-host", "host.docker.internal:192.0.2.9", "busybox", "cat", "/etc/hosts")
	if !strings.Contains(out, "192.0.2.9\thost.docker.internal\n") || strings.Contains(out, "10.0.2.2\thost.docker.internal") {
		t.Errorf("--add-host host.docker.internal:IP: /etc/hosts (%s)\n%s", errOut, out)
	}
}
