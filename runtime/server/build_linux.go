package server

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"github.com/berthvm/berth/runtime/build"
	"github.com/berthvm/berth/runtime/image"
	buildtypes "github.com/moby/moby/api/types/build"
	eventtypes "github.com/moby/moby/api/types/events"
	"github.com/moby/moby/api/types/jsonstream"
	"github.com/moby/moby/api/types/registry"
)

// BuildDir, in the state folder, holds builds in progress (contexts,
// step overlays); it is emptied when the agent starts.
const BuildDir = "build"

// buildBackend is the image builder, or why there is none.
type buildBackend struct {
	b   *build.Builder
	err error
}

// openBuilder makes the builder; it removes what a killed build left
// (its folder, its containers).
func (s *Server) openBuilder() {
	s.builder = &buildBackend{}
	images, err := s.imageStore()
	if err != nil {
		s.builder.err = err
		return
	}
	rt, err := s.containerRuntime()
	if err != nil {
		s.builder.err = err
		return
	}
	s.builder.b, s.builder.err = build.New(context.Background(), images, rt, filepath.Join(s.opts.StateDir, BuildDir))
	if s.builder.err != nil {
		s.log.Error("image builds unavailable", "err", s.builder.err)
	}
}

func (s *Server) buildRoutes() {
	s.handle("POST /build", s.buildImage)
	s.handle("POST /build/prune", s.pruneBuildCache)
	s.handle("POST /build/cancel", s.cancelBuild)
}

// buildImage answers POST /build (docker build's classic builder): the
// body is the context tar, the answer Docker's JSON message stream.
func (s *Server) buildImage(w http.ResponseWriter, r *http.Request) error {
	if s.builder.err != nil {
		return Errorf(http.StatusServiceUnavailable, "image builds unavailable: %v", s.builder.err)
	}
	q := r.URL.Query()
	if v := q.Get("version"); v == string(buildtypes.BuilderBuildKit) {
		return Errorf(http.StatusBadRequest, "berth builds with the classic builder only: build without BuildKit (DOCKER_BUILDKIT=0)")
	}
	if q.Get("remote") != "" {
		return Errorf(http.StatusBadRequest, "berth builds from a context sent with the request only: a remote context (git or URL) is not supported")
	}
	req := build.Request{
		Context:    r.Body,
		Dockerfile: q.Get("dockerfile"),
		Tags:       q["t"],
		Target:     q.Get("target"),
		NoCache:    queryBool(q.Get("nocache")),
		Pull:       queryBool(q.Get("pull")),
		Quiet:      queryBool(q.Get("q")),
		Platform:   q.Get("platform"),
		Insecure:   s.insecureRegistries(),
	}
	if err := queryJSON(q.Get("buildargs"), &req.BuildArgs); err != nil {
		return Errorf(http.StatusBadRequest, "buildargs: %v", err)
	}
	if err := queryJSON(q.Get("labels"), &req.Labels); err != nil {
		return Errorf(http.StatusBadRequest, "labels: %v", err)
	}
	var cacheFrom []string
	if err := queryJSON(q.Get("cachefrom"), &cacheFrom); err != nil {
		return Errorf(http.StatusBadRequest, "cachefrom: %v", err)
	}
	if v := q.Get("shmsize"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return Errorf(http.StatusBadRequest, "shmsize: %q is not a size in bytes", v)
		}
		req.ShmSize = n
	}
	mode, err := s.networkMode(q.Get("networkmode"))
	if err != nil {
		return err
	}
	req.NetworkMode = mode
	hosts := q["extrahosts"]
	if len(hosts) == 1 && strings.HasPrefix(hosts[0], "[") {
		hosts = nil
		if err := json.Unmarshal([]byte(q.Get("extrahosts")), &hosts); err != nil {
			return Errorf(http.StatusBadRequest, "extrahosts: %v", err)
		}
	}
	if req.ExtraHosts, err = s.extraHosts(hosts); err != nil {
		return err
	}
	if req.Auth, err = registryConfig(r.Header.Get("X-Registry-Config")); err != nil {
		return err
	}
	// The stream starts while the context is still being read.
	_ = http.NewResponseController(w).EnableFullDuplex()
	out := newBuildStream(w, req.Quiet)
	// A step's output copier may still be sending when the build ends
	// (the client gone): nothing reaches w once the handler returns.
	defer out.close()
	id, err := s.builder.b.Build(r.Context(), req, out)
	// Read what the client sent after the context, so that the
	// connection is left clean.
	_, _ = io.Copy(io.Discard, io.LimitReader(r.Body, 1<<20))
	if err != nil {
		if errors.Is(err, context.Canceled) && r.Context().Err() != nil {
			return nil // the client is gone
		}
		out.fail(s.explainDiskFull(err))
		return nil
	}
	if req.Quiet {
		out.send(Progress{Message: jsonstream.Message{Stream: id + "\n"}})
	}
	store, _ := s.imageStore()
	for _, t := range req.Tags {
		if n, err := image.CanonicalName(t); err == nil {
			s.imageEvent("tag", id, image.Familiar(n), imageLabels(store, id))
		}
	}
	return nil
}

// cancelBuild answers POST /build/cancel: a build ends when its client
// goes, so there is nothing to do.
func (s *Server) cancelBuild(w http.ResponseWriter, r *http.Request) error {
	w.WriteHeader(http.StatusOK)
	return nil
}

// pruneBuildCache answers POST /build/prune: the build steps' images
// without a name go, with the layers nothing else uses.
func (s *Server) pruneBuildCache(w http.ResponseWriter, r *http.Request) error {
	store, err := s.imageStore()
	if err != nil {
		return err
	}
	items, freed, err := store.PruneCache()
	report := buildtypes.CachePruneReport{CachesDeleted: []string{}, SpaceReclaimed: uint64(freed)}
	for _, it := range items {
		report.CachesDeleted = append(report.CachesDeleted, strings.TrimPrefix(it.ID, "sha256:"))
	}
	if err != nil && len(items) == 0 {
		return err
	}
	s.publish(eventtypes.BuilderEventType, "prune", "", map[string]string{"reclaimed": strconv.FormatUint(report.SpaceReclaimed, 10)})
	return writeJSON(w, http.StatusOK, report)
}

// buildCacheUsage is system df's build cache: the build steps' images,
// sized by the layers only they keep.
func (s *Server) buildCacheUsage() []buildtypes.CacheRecord {
	out := []buildtypes.CacheRecord{}
	store, err := s.imageStore()
	if err != nil {
		return out
	}
	for _, it := range store.CacheUsage() {
		created := it.Created
		out = append(out, buildtypes.CacheRecord{
			ID: strings.TrimPrefix(it.ID, "sha256:"), Type: "regular", Description: "build step",
			Size: it.Size, Shared: it.Shared, CreatedAt: created, LastUsedAt: &created, UsageCount: 1,
		})
	}
	return out
}

func queryBool(v string) bool {
	b, _ := strconv.ParseBool(v)
	return b
}

func queryJSON(v string, into any) error {
	if v == "" {
		return nil
	}
	return json.Unmarshal([]byte(v), into)
}

// registryConfig reads X-Registry-Config: base64 JSON credentials by
// registry.
func registryConfig(h string) (map[string]image.Auth, error) {
	if h == "" {
		return nil, nil
	}
	b, err := base64.URLEncoding.DecodeString(h)
	if err != nil {
		if b, err = base64.StdEncoding.DecodeString(h); err != nil {
			return nil, Errorf(http.StatusBadRequest, "X-Registry-Config is not base64: %v", err)
		}
	}
	var m map[string]registry.AuthConfig
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, Errorf(http.StatusBadRequest, "X-Registry-Config is not JSON credentials: %v", err)
	}
	out := map[string]image.Auth{}
	for host, ac := range m {
		a := image.Auth{Username: ac.Username, Password: ac.Password, IdentityToken: ac.IdentityToken, RegistryToken: ac.RegistryToken}
		if a.Username == "" && ac.Auth != "" {
			if up, err := base64.StdEncoding.DecodeString(ac.Auth); err == nil {
				a.Username, a.Password, _ = strings.Cut(string(up), ":")
			}
		}
		host = strings.TrimPrefix(strings.TrimPrefix(host, "https://"), "http://")
		host, _, _ = strings.Cut(host, "/")
		if host == "index.docker.io" {
			host = "index.docker.io"
		}
		out[host] = a
	}
	return out, nil
}

// buildStream writes a build's messages as Docker's JSON stream.
type buildStream struct {
	mu     sync.Mutex
	stream *JSONStream
	quiet  bool
	closed bool // the handler has returned: w is no longer ours
}

func newBuildStream(w http.ResponseWriter, quiet bool) *buildStream {
	return &buildStream{stream: NewJSONStream(w), quiet: quiet}
}

func (b *buildStream) send(m Progress) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.closed {
		_ = b.stream.Send(m)
	}
}

// close drops whatever is sent after it.
func (b *buildStream) close() {
	b.mu.Lock()
	b.closed = true
	b.mu.Unlock()
}

func (b *buildStream) Stream(text string) {
	if b.quiet {
		return
	}
	b.send(Progress{Message: jsonstream.Message{Stream: text}})
}

func (b *buildStream) Progress(p image.Progress) {
	if b.quiet {
		return
	}
	m := Progress{Message: jsonstream.Message{ID: p.ID, Status: p.Status}}
	if p.Total > 0 || p.Current > 0 {
		m.Progress = &jsonstream.Progress{Current: p.Current, Total: p.Total}
	}
	b.send(m)
}

func (b *buildStream) Aux(id string) {
	raw := json.RawMessage(fmt.Sprintf(`{"ID":%q}`, id))
	b.send(Progress{Message: jsonstream.Message{Aux: &raw}})
}

func (b *buildStream) fail(err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return
	}
	msg := err.Error()
	e := &jsonstream.Error{Message: msg}
	if code := build.ExitCode(err); code != 0 {
		e.Code = code
	}
	_ = b.stream.Send(Progress{Message: jsonstream.Message{Error: e}, ErrorMessage: msg})
}
