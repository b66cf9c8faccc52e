package server

import (
	"maps"
	"strconv"

	"github.com/berthvm/berth/runtime/container"
	eventtypes "github.com/moby/moby/api/types/events"
)

// containerEvent publishes a container event as Docker does: the
// container's labels, image and name as attributes. Around a start and a
// die come the network connect and disconnect and the volume mount and
// unmount Docker tells of then.
func (s *Server) containerEvent(ev container.Event) {
	spec := ev.Spec
	if ev.Action == container.ActionStart {
		s.networkEvent("connect", spec)
		s.mountEvents("mount", spec)
	}
	attrs := maps.Clone(spec.Labels)
	if attrs == nil {
		attrs = map[string]string{}
	}
	maps.Copy(attrs, ev.Attributes)
	attrs["image"] = spec.Image
	attrs["name"] = spec.Name
	if ev.Action == container.ActionCreate {
		s.publishes.Store(spec.ID, len(spec.Ports) > 0)
	}
	s.publish(eventtypes.ContainerEventType, ev.Action, spec.ID, attrs)
	if ev.Action == container.ActionDestroy {
		s.publishes.Delete(spec.ID)
	}
	if ev.Action == container.ActionDie {
		s.mountEvents("unmount", spec)
		s.networkEvent("disconnect", spec)
	}
}

// networkEvent tells of the container joining or leaving its networks.
func (s *Server) networkEvent(action string, spec container.Spec) {
	for _, ref := range spec.Joined() {
		s.publish(eventtypes.NetworkEventType, action, refNetworkID(ref), map[string]string{"container": spec.ID, "name": ref.Name, "type": "bridge"})
	}
	mode := networkModeOf(spec)
	if len(spec.Joined()) > 0 || (mode != container.NetworkHost && mode != container.NetworkNone) {
		return
	}
	typ := mode
	if mode == container.NetworkNone {
		typ = "null"
	}
	s.publish(eventtypes.NetworkEventType, action, networkID(mode), map[string]string{"container": spec.ID, "name": mode, "type": typ})
}

// mountEvents tells of the container's volumes mounted or unmounted.
func (s *Server) mountEvents(action string, spec container.Spec) {
	for _, m := range spec.Mounts {
		if m.Name == "" {
			continue
		}
		attrs := map[string]string{"container": spec.ID, "driver": "local"}
		if action == "mount" {
			attrs["destination"] = m.Target
			attrs["propagation"] = ""
			attrs["read/write"] = strconv.FormatBool(!m.ReadOnly)
		}
		s.publish(eventtypes.VolumeEventType, action, m.Name, attrs)
	}
}
