package server

import (
	"encoding/json"
	"maps"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/berthvm/berth/runtime/berthapi"
	"github.com/berthvm/berth/runtime/events"
	"github.com/berthvm/berth/runtime/image"
	"github.com/moby/moby/api/types"
	eventtypes "github.com/moby/moby/api/types/events"
)

func (s *Server) eventRoutes() {
	s.handle("GET /events", s.streamEvents)
}

// streamEvents answers GET /events?since=&until=&filters= with Docker's
// event stream: one JSON message per line, each flushed. The kept events
// from since come first; with until the stream ends there (at once when
// it has passed), else when the client goes. A client too slow to read
// has its stream ended; it may ask again from the last time it read.
func (s *Server) streamEvents(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	now := time.Now()
	since, err := parseTimeParam(q.Get("since"), now)
	if err != nil {
		return Errorf(http.StatusBadRequest, "invalid since %q: %v", q.Get("since"), err)
	}
	until, err := parseTimeParam(q.Get("until"), now)
	if err != nil {
		return Errorf(http.StatusBadRequest, "invalid until %q: %v", q.Get("until"), err)
	}
	if !until.IsZero() && until.Before(since) {
		return Errorf(http.StatusBadRequest, "`since` time (%s) cannot be after `until` time (%s)", q.Get("since"), q.Get("until"))
	}
	filter, err := parseFilterJSON(q.Get("filters"), events.FilterKeys...)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", eventsContentType(r.Header.Values("Accept")))
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	_ = rc.Flush()
	sub := s.events.Subscribe(r.Context(), since, until, events.Filter(filter))
	enc := json.NewEncoder(w)
	berthAttrs := r.Header.Get(berthapi.EventsHeader) != ""
	for m := range sub.Events() {
		if berthAttrs {
			m = s.withBerthAttrs(m)
		}
		if err := enc.Encode(withLegacyFields(m)); err != nil {
			return err
		}
		// Flush once the replay is out and after each live event.
		if len(sub.Events()) == 0 {
			if err := rc.Flush(); err != nil {
				return err
			}
		}
	}
	if err := sub.Err(); err != nil {
		s.log.Debug("events stream ended", "err", err)
	}
	return nil
}

// withBerthAttrs is m with berth's own attributes, for its own clients
// (see berthapi.EventsHeader): a container's create event says whether
// the container publishes ports, while the agent knows (until its
// destroy). They are added as the event is sent, so Docker clients, the
// kept events and the filters never see them.
func (s *Server) withBerthAttrs(m eventtypes.Message) eventtypes.Message {
	if m.Type != eventtypes.ContainerEventType || m.Action != eventtypes.ActionCreate {
		return m
	}
	if v, ok := s.publishes.Load(m.Actor.ID); ok {
		m.Actor.Attributes = maps.Clone(m.Actor.Attributes)
		if m.Actor.Attributes == nil {
			m.Actor.Attributes = map[string]string{}
		}
		m.Actor.Attributes[berthapi.PublishesAttr] = strconv.FormatBool(v.(bool))
	}
	return m
}

// legacyMessage is an event with the fields API versions before 1.52
// carry (deprecated since 1.22, but the docker CLI before 25 and
// docker-compose 1.x read them): status, id and from.
type legacyMessage struct {
	Status string `json:"status,omitempty"`
	ID     string `json:"id,omitempty"`
	From   string `json:"from,omitempty"`
	eventtypes.Message
}

func withLegacyFields(m eventtypes.Message) legacyMessage {
	switch m.Type {
	case eventtypes.ContainerEventType:
		return legacyMessage{Status: string(m.Action), ID: m.Actor.ID, From: m.Actor.Attributes["image"], Message: m}
	case eventtypes.ImageEventType:
		return legacyMessage{Status: string(m.Action), ID: m.Actor.ID, Message: m}
	}
	return legacyMessage{Message: m}
}

// publish sends an event of type typ about actor id to the event stream.
func (s *Server) publish(typ eventtypes.Type, action string, id string, attrs map[string]string) {
	if attrs == nil {
		attrs = map[string]string{}
	}
	s.events.Publish(eventtypes.Message{Type: typ, Action: eventtypes.Action(action), Actor: eventtypes.Actor{ID: id, Attributes: attrs}})
}

// volumeEvent tells of a volume made or removed.
func (s *Server) volumeEvent(action, name string) {
	s.publish(eventtypes.VolumeEventType, action, name, map[string]string{"driver": "local"})
}

// imageEvent tells of action on an image: actor is what Docker names the
// image by for that action (the name pulled, else the image id), name
// its name attribute, labels the image's (attributes too).
func (s *Server) imageEvent(action, actor, name string, labels map[string]string) {
	attrs := maps.Clone(labels)
	if attrs == nil {
		attrs = map[string]string{}
	}
	attrs["name"] = name
	s.publish(eventtypes.ImageEventType, action, actor, attrs)
}

// imageLabels are the labels of image ref (none when it cannot be read).
func imageLabels(store *image.Store, ref string) map[string]string {
	d, err := store.Inspect(ref)
	if err != nil {
		return nil
	}
	return d.Config.Config.Labels
}

// eventsContentType is the media type of the event stream: JSON lines
// or NDJSON when the client takes them (the same bytes), else the
// application/json older clients expect.
func eventsContentType(accept []string) string {
	all := strings.Join(accept, ",")
	for _, t := range []string{types.MediaTypeJSONLines, types.MediaTypeNDJSON} {
		for _, a := range strings.Split(all, ",") {
			if mt, _, _ := strings.Cut(a, ";"); strings.TrimSpace(mt) == t {
				return t
			}
		}
	}
	return types.MediaTypeJSON
}
