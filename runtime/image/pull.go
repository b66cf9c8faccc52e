package image

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	goruntime "runtime"
	"slices"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// Auth holds registry credentials passed with one request (docker's
// X-Registry-Auth fields).
type Auth struct {
	Username      string
	Password      string
	IdentityToken string
	RegistryToken string
}

// PullOptions tune a pull.
type PullOptions struct {
	// Auth, when set, authenticates to the registry; else anonymous.
	Auth *Auth
	// Insecure lists registries (host[:port]) that may be reached over
	// plain HTTP. Loopback registries always may, as with docker.
	Insecure []string
	// Platform is os/arch[/variant]; empty means this machine's.
	Platform string
	// Progress receives Docker-style progress messages.
	Progress ProgressFunc
	// Transport replaces the HTTP transport (tests); nil is the default.
	Transport http.RoundTripper
}

// PullResult says what a pull stored.
type PullResult struct {
	ID     string // image ID (config digest)
	Name   string // canonical name pulled
	Digest string // digest of what the registry served for the name
	New    bool   // false when the store had the image already
}

// ErrUnauthorized means the registry refused the credentials (or their
// absence).
var ErrUnauthorized = errors.New("unauthorized")

// DefaultPlatform is the platform of this machine, as a registry names it.
func DefaultPlatform() v1.Platform {
	p := v1.Platform{OS: "linux", Architecture: goruntime.GOARCH}
	if p.Architecture == "arm64" {
		p.Variant = "v8"
	}
	return p
}

// Pull fetches ref from its registry, resolving a manifest list to the
// platform, and stores it under its name. The layers of a failed pull are
// kept for the next try to resume, unless the disk is full.
func (s *Store) Pull(ctx context.Context, ref string, opts PullOptions) (PullResult, error) {
	res, err := s.pull(ctx, ref, opts)
	s.collectIfDiskFull(err)
	return res, err
}

func (s *Store) pull(ctx context.Context, ref string, opts PullOptions) (PullResult, error) {
	rep := &reporter{fn: opts.Progress}
	r, err := ParseName(ref)
	if err != nil {
		return PullResult{}, err
	}
	registry := r.Context().RegistryStr()
	if slices.Contains(opts.Insecure, registry) {
		if r, err = name.ParseReference(ref, name.WithDefaultRegistry("docker.io"), name.Insecure); err != nil {
			return PullResult{}, fmt.Errorf("%w: %q: %v", ErrInvalid, ref, err)
		}
	}
	platform := DefaultPlatform()
	if opts.Platform != "" {
		p, err := ParsePlatform(opts.Platform)
		if err != nil {
			return PullResult{}, err
		}
		platform = p
	}
	base := opts.Transport
	if base == nil {
		base = remote.DefaultTransport
	}
	auth := authn.Anonymous
	if a := opts.Auth; a != nil && *a != (Auth{}) {
		auth = authn.FromConfig(authn.AuthConfig{Username: a.Username, Password: a.Password, IdentityToken: a.IdentityToken, RegistryToken: a.RegistryToken})
	}
	ropts := []remote.Option{
		remote.WithContext(ctx),
		remote.WithAuth(auth),
		remote.WithPlatform(platform),
		remote.WithTransport(&httpGuard{base: base, insecure: opts.Insecure}),
		remote.WithUserAgent("berth"),
	}
	full := canonical(r)
	desc, err := remote.Get(r, ropts...)
	if err != nil {
		return PullResult{}, registryError(full, err)
	}
	rep.send(Progress{ID: r.Identifier(), Status: "Pulling from " + r.Context().RepositoryStr()})
	img, err := desc.Image()
	if err != nil {
		return PullResult{}, registryError(full, err)
	}
	src, err := remoteSource(img)
	if err != nil {
		return PullResult{}, registryError(full, err)
	}
	names := []string{full, repoOf(r) + "@" + desc.Digest.String()}
	if _, isDigest := r.(name.Digest); isDigest {
		names = names[1:]
	}
	id, isNew, err := s.put(ctx, src, names, rep)
	if err != nil {
		return PullResult{}, fmt.Errorf("pull %s: %w", Familiar(full), registryError(full, err))
	}
	rep.send(Progress{Status: "Digest: " + desc.Digest.String()})
	if isNew {
		rep.send(Progress{Status: "Status: Downloaded newer image for " + Familiar(full)})
	} else {
		rep.send(Progress{Status: "Status: Image is up to date for " + Familiar(full)})
	}
	return PullResult{ID: id, Name: full, Digest: desc.Digest.String(), New: isNew}, nil
}

// remoteSource reads an image's manifest and config from the registry and
// lists its layers, to be fetched by put.
func remoteSource(img v1.Image) (*source, error) {
	mf, err := img.RawManifest()
	if err != nil {
		return nil, err
	}
	mt, err := img.MediaType()
	if err != nil {
		return nil, err
	}
	cfgName, err := img.ConfigName()
	if err != nil {
		return nil, err
	}
	cfg, err := img.RawConfigFile()
	if err != nil {
		return nil, err
	}
	layers, err := img.Layers()
	if err != nil {
		return nil, err
	}
	src := &source{manifest: mf, mediaType: string(mt), config: cfg, configID: cfgName.String()}
	for _, l := range layers {
		d, err := l.Digest()
		if err != nil {
			return nil, err
		}
		size, err := l.Size()
		if err != nil {
			return nil, err
		}
		lmt, err := l.MediaType()
		if err != nil {
			return nil, err
		}
		src.layers = append(src.layers, srcLayer{
			digest: d.String(), mediaType: string(lmt), size: size,
			open: func(context.Context) (io.ReadCloser, error) { return l.Compressed() },
		})
	}
	return src, nil
}

// registryError turns registry answers into the store's sentinels with a
// message that says what to do.
func registryError(ref string, err error) error {
	var terr *transport.Error
	if errors.As(err, &terr) {
		switch terr.StatusCode {
		case http.StatusNotFound:
			return fmt.Errorf("%w: manifest for %s not found: %v", ErrNotFound, Familiar(ref), err)
		case http.StatusUnauthorized, http.StatusForbidden:
			return fmt.Errorf("%w: pull access denied for %s: the repository does not exist or needs credentials (log in on your host): %v", ErrUnauthorized, Familiar(ref), err)
		}
		for _, d := range terr.Errors {
			switch d.Code {
			case transport.ManifestUnknownErrorCode, transport.NameUnknownErrorCode:
				return fmt.Errorf("%w: manifest for %s not found: %v", ErrNotFound, Familiar(ref), err)
			case transport.UnauthorizedErrorCode, transport.DeniedErrorCode:
				return fmt.Errorf("%w: pull access denied for %s: %v", ErrUnauthorized, Familiar(ref), err)
			}
		}
	}
	if errors.Is(err, ErrNotFound) || errors.Is(err, ErrUnauthorized) {
		return err
	}
	if errors.Is(err, errNoMatch) {
		return err
	}
	return err
}

var errNoMatch = errors.New("no image for this platform")

// httpGuard refuses plain-HTTP requests to registries not named insecure:
// go-containerregistry falls back to HTTP for private addresses by itself.
type httpGuard struct {
	base     http.RoundTripper
	insecure []string
}

func (g *httpGuard) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Scheme == "http" && !g.allowed(req.URL.Host) {
		return nil, fmt.Errorf("registry %s is reachable only over plain HTTP, which berth refuses unless it is named as an insecure registry (berth create --insecure-registry %s)", req.URL.Host, req.URL.Host)
	}
	return g.base.RoundTrip(req)
}

func (g *httpGuard) allowed(hostport string) bool {
	if slices.Contains(g.insecure, hostport) {
		return true
	}
	host, _, err := net.SplitHostPort(hostport)
	if err != nil {
		host = hostport
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
