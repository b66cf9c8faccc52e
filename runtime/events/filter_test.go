package events

import (
	"testing"

	"github.com/moby/moby/api/types/events"
)

func TestEventFilterMatch(t *testing.T) {
	die := events.Message{Type: events.ContainerEventType, Action: events.ActionDie, Scope: "local", Actor: events.Actor{
		ID:         "4f0e2a7c9d1b0123456789abcdef0123456789abcdef0123456789abcdef0123",
		Attributes: map[string]string{"name": "web", "image": "host:5000/app:1", "exitCode": "0", "com.docker.compose.project": "shop", "tier": "front"},
	}}
	untag := events.Message{Type: events.ImageEventType, Action: events.ActionUnTag, Scope: "local", Actor: events.Actor{
		ID: "sha256:aaaa", Attributes: map[string]string{"name": "busybox:latest"},
	}}
	execStart := events.Message{Type: events.ContainerEventType, Action: "exec_start: sh -c true", Actor: events.Actor{ID: "abc"}}
	tests := []struct {
		name   string
		filter Filter
		m      events.Message
		want   bool
	}{
		{"none", nil, die, true},
		{"type", Filter{"type": {"container"}}, die, true},
		{"other type", Filter{"type": {"image"}}, die, false},
		{"types ored", Filter{"type": {"image", "container"}}, die, true},
		{"event", Filter{"event": {"die"}}, die, true},
		{"other event", Filter{"event": {"start", "stop"}}, die, false},
		{"event prefix before colon", Filter{"event": {"exec_start"}}, execStart, true},
		{"event prefix without colon", Filter{"event": {"exec_st"}}, execStart, false},
		{"container by name", Filter{"container": {"web"}}, die, true},
		{"container by id prefix", Filter{"container": {"4f0e2a"}}, die, true},
		{"container by name prefix", Filter{"container": {"we"}}, die, false},
		{"other container", Filter{"container": {"db"}}, die, false},
		{"container key on image event", Filter{"container": {"web"}}, untag, false},
		{"image of container", Filter{"image": {"host:5000/app:1"}}, die, true},
		{"image without tag", Filter{"image": {"host:5000/app"}}, die, true},
		{"image name of image event", Filter{"image": {"busybox"}}, untag, true},
		{"image id of image event", Filter{"image": {"sha256:aaaa"}}, untag, true},
		{"image id not cut as a tag", Filter{"image": {"sha256"}}, untag, false},
		{"other image", Filter{"image": {"alpine"}}, die, false},
		{"label key", Filter{"label": {"tier"}}, die, true},
		{"label key=value", Filter{"label": {"com.docker.compose.project=shop"}}, die, true},
		{"labels all match", Filter{"label": {"com.docker.compose.project=shop", "tier=front"}}, die, true},
		{"labels anded", Filter{"label": {"com.docker.compose.project=shop", "tier=back"}}, die, false},
		{"label missing", Filter{"label": {"nope"}}, die, false},
		{"keys anded", Filter{"type": {"container"}, "event": {"start"}}, die, false},
		{"keys anded, all match", Filter{"type": {"container"}, "event": {"die"}, "container": {"web"}, "scope": {"local"}}, die, true},
		{"network key on container event", Filter{"network": {"bridge"}}, die, false},
		{"volume by name", Filter{"volume": {"data"}}, events.Message{Type: events.VolumeEventType, Action: events.ActionCreate, Actor: events.Actor{ID: "data"}}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.filter.Match(tc.m); got != tc.want {
				t.Errorf("%v.Match(%s %s) = %v, want %v", tc.filter, tc.m.Type, tc.m.Action, got, tc.want)
			}
		})
	}
}
