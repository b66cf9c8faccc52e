package events

import (
	"slices"
	"strings"

	"github.com/moby/moby/api/types/events"
)

// Filter selects events as `docker events --filter KEY=VALUE` does: the
// values of one key are alternatives, every key must match. Labels are
// the exception, as in Docker: every label value must match. A nil or
// empty Filter takes every event.
type Filter map[string][]string

// FilterKeys are the filter keys Docker accepts for events.
var FilterKeys = []string{"config", "container", "daemon", "event", "image", "label", "network", "node", "plugin", "scope", "secret", "service", "type", "volume"}

// actorKeys are the keys that name the event's actor (by id prefix or
// name), whatever the event's type, as Docker matches them.
var actorKeys = []string{"config", "container", "daemon", "network", "node", "plugin", "secret", "service", "volume"}

// Match reports whether f takes m.
func (f Filter) Match(m events.Message) bool {
	if len(f) == 0 {
		return true
	}
	if !f.any("type", func(v string) bool { return v == string(m.Type) }) ||
		!f.any("event", func(v string) bool { return matchAction(v, string(m.Action)) }) ||
		!f.any("scope", func(v string) bool { return v == m.Scope }) ||
		!f.any("image", func(v string) bool { return matchImage(v, m) }) {
		return false
	}
	for _, k := range actorKeys {
		if !f.any(k, func(v string) bool { return matchActor(v, m.Actor) }) {
			return false
		}
	}
	for _, v := range f["label"] {
		k, want, hasValue := strings.Cut(v, "=")
		got, ok := m.Actor.Attributes[k]
		if !ok || hasValue && got != want {
			return false
		}
	}
	return true
}

// any reports whether key is not filtered on, or ok takes one of its
// values.
func (f Filter) any(key string, ok func(string) bool) bool {
	vals := f[key]
	return len(vals) == 0 || slices.ContainsFunc(vals, ok)
}

// matchAction: "exec_start" also takes "exec_start: sh -c ...", as Docker
// names exec and health actions.
func matchAction(want, action string) bool {
	return action == want || strings.HasPrefix(action, want+":")
}

// matchActor takes the actor's id, a prefix of it, or its name.
func matchActor(want string, a events.Actor) bool {
	return want != "" && strings.HasPrefix(a.ID, want) || want == a.Attributes["name"]
}

// matchImage takes an image event's image (its id or name) or a
// container event's image, with or without the tag.
func matchImage(want string, m events.Message) bool {
	name := m.Actor.Attributes["image"]
	if m.Type == events.ImageEventType {
		name = m.Actor.Attributes["name"]
	}
	for _, have := range []string{m.Actor.ID, name} {
		if have != "" && (want == have || want == withoutTag(have)) {
			return true
		}
	}
	return false
}

// withoutTag is an image reference without its tag or digest
// ("host:5000/app:1" is "host:5000/app"); an image id stays whole.
func withoutTag(ref string) string {
	if strings.HasPrefix(ref, "sha256:") {
		return ref
	}
	ref, _, _ = strings.Cut(ref, "@")
	if i := strings.LastIndexByte(ref, ':'); i > strings.LastIndexByte(ref, '/') {
		ref = ref[:i]
	}
	return ref
}
