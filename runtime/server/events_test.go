package server

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	eventtypes "github.com/moby/moby/api/types/events"
	"github.com/moby/moby/client"
)

func TestEventsTimeParam(t *testing.T) {
	now := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Time
	}{
		{"", time.Time{}},
		{"1700000000", time.Unix(1700000000, 0)},
		{"1700000000.5", time.Unix(1700000000, 500_000_000)},
		{"1700000000.000000001", time.Unix(1700000000, 1)},
		{"0", time.Unix(0, 0)},
		{"10m", now.Add(-10 * time.Minute)},
		{"1h30m", now.Add(-90 * time.Minute)},
		{"0s", now},
		{"2024-04-30T10:00:00Z", time.Date(2024, 4, 30, 10, 0, 0, 0, time.UTC)},
		{"2024-04-30T10:00:00.25+02:00", time.Date(2024, 4, 30, 8, 0, 0, 250_000_000, time.UTC)},
		{"2024-04-30T10:00Z", time.Date(2024, 4, 30, 10, 0, 0, 0, time.UTC)},
		{"2024-04-30T10:00:05", time.Date(2024, 4, 30, 10, 0, 5, 0, time.UTC)},
		{"2024-04-30T10:00", time.Date(2024, 4, 30, 10, 0, 0, 0, time.UTC)},
		{"2024-04-30", time.Date(2024, 4, 30, 0, 0, 0, 0, time.UTC)},
	}
	for _, tc := range tests {
		got, err := parseTimeParam(tc.in, now)
		if err != nil || !got.Equal(tc.want) {
			t.Errorf("parseTimeParam(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{"yesterday", "12abc", "2024-13-01", "2024-04-30T25:00:00Z", "1.2.3"} {
		if got, err := parseTimeParam(bad, now); err == nil {
			t.Errorf("parseTimeParam(%q) = %v, want an error", bad, got)
		}
	}
}

func TestEventsContentType(t *testing.T) {
	tests := []struct {
		accept []string
		want   string
	}{
		{nil, "application/json"},
		{[]string{"application/jsonl", "application/x-ndjson;q=0.9", "application/json-seq;q=0.5"}, "application/jsonl"},
		{[]string{"application/json-seq, application/x-ndjson"}, "application/x-ndjson"},
		{[]string{"*/*"}, "application/json"},
	}
	for _, tc := range tests {
		if got := eventsContentType(tc.accept); got != tc.want {
			t.Errorf("eventsContentType(%q) = %q, want %q", tc.accept, got, tc.want)
		}
	}
}

// at is an event of type typ stamped at second sec.
func at(sec int64, typ eventtypes.Type, action, id string, attrs map[string]string) eventtypes.Message {
	return eventtypes.Message{Type: typ, Action: eventtypes.Action(action), Actor: eventtypes.Actor{ID: id, Attributes: attrs}, Time: sec, TimeNano: sec * 1e9}
}

// getEvents asks the agent's /events with query q and returns each
// line of the answer, or the status and body when it is not 200.
func getEvents(t *testing.T, sock string, q url.Values) ([]string, int, string) {
	t.Helper()
	resp, err := unixHTTP(sock).Get("http://agent/v1.47/events?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var lines []string
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	if resp.StatusCode != http.StatusOK {
		return nil, resp.StatusCode, strings.Join(lines, "\n")
	}
	return lines, resp.StatusCode, ""
}

// TestEventsReplay: since, until and filters select the kept events, in
// Docker's JSON with the legacy fields docker-compose 1.x reads.
func TestEventsReplay(t *testing.T) {
	s := New(Options{StateDir: t.TempDir()})
	sock := startServer(t, s)
	ctr := func(sec int64, action string, extra map[string]string) eventtypes.Message {
		attrs := map[string]string{"name": "web", "image": "busybox", "com.docker.compose.project": "shop"}
		for k, v := range extra {
			attrs[k] = v
		}
		return at(sec, eventtypes.ContainerEventType, action, "c0ffee", attrs)
	}
	s.events.Publish(ctr(100, "create", nil))
	s.events.Publish(ctr(101, "start", nil))
	s.events.Publish(at(101, eventtypes.NetworkEventType, "connect", "n1", map[string]string{"container": "c0ffee", "name": "bridge", "type": "bridge"}))
	s.events.Publish(ctr(102, "die", map[string]string{"exitCode": "3"}))
	s.events.Publish(at(103, eventtypes.ImageEventType, "untag", "sha256:abc", map[string]string{"name": "busybox:latest"}))

	lines, code, body := getEvents(t, sock, url.Values{"since": {"102"}, "until": {"103"}})
	want := []string{
		`{"status":"die","id":"c0ffee","from":"busybox","Type":"container","Action":"die","Actor":{"ID":"c0ffee","Attributes":{"com.docker.compose.project":"shop","exitCode":"3","image":"busybox","name":"web"}},"scope":"local","time":102,"timeNano":102000000000}`,
		`{"status":"untag","id":"sha256:abc","Type":"image","Action":"untag","Actor":{"ID":"sha256:abc","Attributes":{"name":"busybox:latest"}},"scope":"local","time":103,"timeNano":103000000000}`,
	}
	if code != http.StatusOK || strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Errorf("since 102 until 103: %d %s\n%s\nwant\n%s", code, body, strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}

	actions := func(q url.Values) string {
		lines, code, body := getEvents(t, sock, q)
		if code != http.StatusOK {
			return fmt.Sprintf("status %d: %s", code, body)
		}
		var got []string
		for _, l := range lines {
			var m eventtypes.Message
			if err := json.Unmarshal([]byte(l), &m); err != nil {
				t.Fatalf("line %q: %v", l, err)
			}
			got = append(got, string(m.Type)+":"+string(m.Action))
		}
		return strings.Join(got, " ")
	}
	tests := []struct {
		name string
		q    url.Values
		want string
	}{
		{"all", url.Values{"since": {"0"}, "until": {"200"}}, "container:create container:start network:connect container:die image:untag"},
		{"fractional", url.Values{"since": {"100.5"}, "until": {"101.000000001"}}, "container:start network:connect"},
		{"rfc3339", url.Values{"since": {time.Unix(101, 0).UTC().Format(time.RFC3339)}, "until": {"1970-01-01T00:01:42Z"}}, "container:start network:connect container:die"},
		{"type", url.Values{"since": {"0"}, "until": {"200"}, "filters": {`{"type":{"container":true}}`}}, "container:create container:start container:die"},
		{"events ored", url.Values{"since": {"0"}, "until": {"200"}, "filters": {`{"event":["start","die"]}`}}, "container:start container:die"},
		{"keys anded", url.Values{"since": {"0"}, "until": {"200"}, "filters": {`{"event":["start","die"],"container":["web"]}`}}, "container:start container:die"},
		{"label", url.Values{"since": {"0"}, "until": {"200"}, "filters": {`{"label":["com.docker.compose.project=shop"]}`}}, "container:create container:start container:die"},
		{"image", url.Values{"since": {"0"}, "until": {"200"}, "filters": {`{"image":["busybox"]}`}}, "container:create container:start container:die image:untag"},
		{"network", url.Values{"since": {"0"}, "until": {"200"}, "filters": {`{"network":["bridge"]}`}}, "network:connect"},
		{"until in the past without since", url.Values{"until": {"101"}}, "container:create container:start network:connect"},
		{"until before since", url.Values{"since": {"102"}, "until": {"101"}}, "status 400: " + `{"message":"` + "`since` time (102) cannot be after `until` time (101)" + `"}`},
		{"bad since", url.Values{"since": {"soon"}}, "status 400: " + `{"message":"invalid since \"soon\": strconv.ParseInt: parsing \"soon\": invalid syntax"}`},
		{"bad filter", url.Values{"filters": {`{"colour":["red"]}`}}, "status 400: " + `{"message":"invalid filter \"colour\""}`},
	}
	for _, tc := range tests {
		if got := actions(tc.q); got != tc.want {
			t.Errorf("%s: got %s, want %s", tc.name, got, tc.want)
		}
	}
}

// TestEventsLive: a stream without until gets each event as it is
// published, through the moby client the host agent uses too, and ends
// when the client goes.
func TestEventsLive(t *testing.T) {
	s := New(Options{StateDir: t.TempDir()})
	sock := startServer(t, s)
	cli, err := client.New(client.WithHost("unix://"+sock), client.WithAPIVersion(APIVersion))
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	res := cli.Events(ctx, client.EventsListOptions{Filters: make(client.Filters).Add("type", "container")})
	deadline := time.Now().Add(10 * time.Second)
	for s.events.Subscribers() == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	s.events.Publish(at(0, eventtypes.ImageEventType, "pull", "busybox:latest", nil))
	s.events.Publish(at(0, eventtypes.ContainerEventType, "die", "c0ffee", map[string]string{"exitCode": "0"}))
	select {
	case m := <-res.Messages:
		if m.Action != "die" || m.Actor.ID != "c0ffee" || m.Actor.Attributes["exitCode"] != "0" || m.Scope != "local" || m.TimeNano == 0 {
			t.Errorf("got %+v, want the container's die", m)
		}
	case err := <-res.Err:
		t.Fatalf("events: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("no event within 10s")
	}
	cancel()
	for s.events.Subscribers() != 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if n := s.events.Subscribers(); n != 0 {
		t.Errorf("%d subscribers left after the client went", n)
	}
}
