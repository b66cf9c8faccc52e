package server

import (
	"net/http"
	"strings"

	"github.com/moby/moby/api/types/network"

	"github.com/berthvm/berth/runtime/container"
	berthnet "github.com/berthvm/berth/runtime/network"
)

// containerNetworks reads a create request's network mode and
// NetworkingConfig: the mode (bridge, host, none or a user-defined
// network's name) and the networks the container joins at start, the
// mode's first, each with its aliases.
func (s *Server) containerNetworks(modeParam string, nc *network.NetworkingConfig) (string, []container.NetworkRef, error) {
	var primary apiNetwork
	switch modeParam {
	case "", "default", container.NetworkBridge, container.NetworkHost, container.NetworkNone:
		mode, err := s.networkMode(modeParam)
		if err != nil || mode != container.NetworkBridge {
			return mode, nil, err
		}
		primary = apiNetwork{dir: s.back.bridge.Dir()}
		primary.Name = mode
	default:
		n, err := s.findNetwork(modeParam)
		if err != nil {
			// 400, not 404: the docker CLI pulls the image again on 404.
			return "", nil, Errorf(http.StatusBadRequest, "network %s not found", modeParam)
		}
		if n.dir == "" {
			return "", nil, Errorf(http.StatusBadRequest, "network %s cannot be joined", modeParam)
		}
		primary = n
	}
	var eps map[string]*network.EndpointSettings
	if nc != nil {
		eps = nc.EndpointsConfig
	}
	ref := container.NetworkRef{Name: primary.Name, Dir: primary.dir}
	setEndpoint(&ref, endpointFor(eps, modeParam, primary))
	refs := []container.NetworkRef{ref}
	for key, ep := range eps {
		if key == modeParam || key == primary.Name || (primary.ID != "" && key == primary.ID) {
			continue
		}
		n, err := s.findNetwork(key)
		if err != nil {
			return "", nil, Errorf(http.StatusBadRequest, "network %s not found", key)
		}
		if n.dir == "" || n.Name == primary.Name {
			continue
		}
		r := container.NetworkRef{Name: n.Name, Dir: n.dir}
		setEndpoint(&r, ep)
		refs = append(refs, r)
	}
	return primary.Name, refs, nil
}

// setEndpoint takes the aliases and the address asked for from ep.
func setEndpoint(ref *container.NetworkRef, ep *network.EndpointSettings) {
	if ep == nil {
		return
	}
	ref.Aliases = ep.Aliases
	if ep.IPAMConfig != nil {
		ref.IP = ep.IPAMConfig.IPv4Address
	}
}

// endpointFor is the EndpointsConfig entry of the primary network, by
// the name the request gave, its name or its id.
func endpointFor(eps map[string]*network.EndpointSettings, given string, n apiNetwork) *network.EndpointSettings {
	for _, k := range []string{given, n.Name, n.ID} {
		if ep, ok := eps[k]; ok && k != "" {
			return ep
		}
	}
	return nil
}

// containerLinks reads HostConfig.Links ("NAME:ALIAS" or "NAME") with
// each NAME made the linked container's own name.
func containerLinks(rt containerRuntime, links []string) ([]berthnet.Link, error) {
	var out []berthnet.Link
	for _, l := range links {
		name, alias, ok := strings.Cut(l, ":")
		name = strings.TrimPrefix(name, "/")
		if !ok {
			alias = name
		}
		alias = alias[strings.LastIndex(alias, "/")+1:] // the old "/name/alias" form
		c, err := rt.Get(name)
		if err != nil {
			return nil, Errorf(http.StatusBadRequest, "could not get container for %s", name)
		}
		out = append(out, berthnet.Link{Name: c.Spec.Name, Alias: alias})
	}
	return out, nil
}
