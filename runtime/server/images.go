package server

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/berthvm/berth/runtime/image"
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	mobyimage "github.com/moby/moby/api/types/image"
	"github.com/moby/moby/api/types/jsonstream"
	"github.com/moby/moby/api/types/registry"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// InsecureRegistriesFile, in the state folder, lists the registries
// (host[:port], one a line, # comments) the agent may reach over plain
// HTTP. It is read at every pull, so changing it needs no restart.
const InsecureRegistriesFile = "insecure-registries"

func (s *Server) imageRoutes() {
	s.handle("POST /images/create", s.pullImage)
	s.handle("GET /images/json", s.listImages)
	s.handle("POST /images/load", s.loadImages)
	s.handle("GET /images/get", s.saveImages)
	// Image names hold slashes (host:5000/x/y), so the name is the rest
	// of the path and the action its last element.
	s.handle("GET /images/{rest...}", s.imageByName)
	s.handle("DELETE /images/{rest...}", s.removeImage)
	s.handle("POST /images/{rest...}", s.imageAction)
}

// imageErr gives image store errors their API status.
func imageErr(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, image.ErrNotFound):
		return WithStatus(http.StatusNotFound, err)
	case errors.Is(err, image.ErrInvalid):
		return WithStatus(http.StatusBadRequest, err)
	case errors.Is(err, image.ErrConflict):
		return WithStatus(http.StatusConflict, err)
	case errors.Is(err, image.ErrUnauthorized):
		// Not 401: the docker CLI answers 401 by prompting for a login.
		return WithStatus(http.StatusForbidden, err)
	}
	return err
}

// lazyStream starts the JSON stream at the first message, so that a
// failure before any progress is answered with a proper status code, as
// Docker does.
type lazyStream struct {
	w      http.ResponseWriter
	stream *JSONStream
}

func (l *lazyStream) send(m Progress) {
	if l.stream == nil {
		l.stream = NewJSONStream(l.w)
	}
	_ = l.stream.Send(m)
}

func (l *lazyStream) progress(p image.Progress) {
	m := Progress{Message: jsonstream.Message{ID: p.ID, Status: p.Status}}
	if p.Total > 0 || p.Current > 0 {
		m.Progress = &jsonstream.Progress{Current: p.Current, Total: p.Total}
	}
	l.send(m)
}

// finish reports err: as the status when nothing was streamed yet, else
// in the stream.
func (l *lazyStream) finish(err error) error {
	if err == nil {
		if l.stream == nil {
			NewJSONStream(l.w)
		}
		return nil
	}
	if l.stream == nil {
		return imageErr(err)
	}
	_ = l.stream.Fail(err)
	return nil
}

// pullImage answers POST /images/create?fromImage=&tag=&platform=.
func (s *Server) pullImage(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	if q.Get("fromSrc") != "" {
		return Errorf(http.StatusNotImplemented, "importing a root file system (fromSrc) is not supported by berth; use docker load")
	}
	ref := q.Get("fromImage")
	if ref == "" {
		return Errorf(http.StatusBadRequest, "fromImage is required")
	}
	if tag := q.Get("tag"); tag != "" {
		if strings.HasPrefix(tag, "sha256:") {
			ref += "@" + tag
		} else {
			ref += ":" + tag
		}
	}
	if err := checkPlatform(q.Get("platform")); err != nil {
		return err
	}
	auth, err := decodeAuth(r.Header.Get(registry.AuthHeader))
	if err != nil {
		return err
	}
	store, err := s.imageStore()
	if err != nil {
		return err
	}
	ls := &lazyStream{w: w}
	res, err := store.Pull(r.Context(), ref, image.PullOptions{
		Auth:     auth,
		Insecure: s.insecureRegistries(),
		Platform: q.Get("platform"),
		Progress: ls.progress,
	})
	if err == nil {
		if pulled, perr := image.ParseName(res.Name); perr == nil {
			s.imageEvent("pull", image.FamiliarString(pulled), image.FamiliarRepository(pulled), imageLabels(store, res.ID))
		}
	}
	return ls.finish(s.explainDiskFull(err))
}

// decodeAuth reads X-Registry-Auth: base64url JSON credentials.
func decodeAuth(h string) (*image.Auth, error) {
	if h == "" {
		return nil, nil
	}
	b, err := base64.URLEncoding.DecodeString(h)
	if err != nil {
		if b, err = base64.StdEncoding.DecodeString(h); err != nil {
			if b, err = base64.RawURLEncoding.DecodeString(h); err != nil {
				return nil, Errorf(http.StatusBadRequest, "X-Registry-Auth is not base64: %v", err)
			}
		}
	}
	var ac registry.AuthConfig
	if err := json.Unmarshal(b, &ac); err != nil {
		return nil, Errorf(http.StatusBadRequest, "X-Registry-Auth is not JSON credentials: %v", err)
	}
	a := &image.Auth{Username: ac.Username, Password: ac.Password, IdentityToken: ac.IdentityToken, RegistryToken: ac.RegistryToken}
	if a.Username == "" && ac.Auth != "" {
		if up, err := base64.StdEncoding.DecodeString(ac.Auth); err == nil {
			a.Username, a.Password, _ = strings.Cut(string(up), ":")
		}
	}
	return a, nil
}

// insecureRegistries reads InsecureRegistriesFile; a missing file is an
// empty list.
func (s *Server) insecureRegistries() []string {
	f, err := os.Open(filepath.Join(s.opts.StateDir, InsecureRegistriesFile))
	if err != nil {
		return nil
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line, _, _ := strings.Cut(sc.Text(), "#")
		if line = strings.TrimSpace(line); line != "" {
			out = append(out, line)
		}
	}
	return out
}

func (s *Server) listImages(w http.ResponseWriter, r *http.Request) error {
	store, err := s.imageStore()
	if err != nil {
		return err
	}
	f, err := parseImageFilters(r.URL.Query().Get("filters"))
	if err != nil {
		return err
	}
	out := []mobyimage.Summary{}
	for _, im := range store.List() {
		if !f.match(&im) {
			continue
		}
		d, err := store.Inspect(im.ID)
		if err != nil {
			continue // removed meanwhile
		}
		labels := d.Config.Config.Labels
		if labels == nil {
			labels = map[string]string{}
		}
		tags, digests := im.RepoTags, im.RepoDigests
		if tags == nil {
			tags = []string{}
		}
		if digests == nil {
			digests = []string{}
		}
		out = append(out, mobyimage.Summary{
			Containers: int64(len(im.Users)), Created: im.Created.Unix(), ID: im.ID, Labels: labels,
			RepoDigests: digests, RepoTags: tags, SharedSize: -1, Size: im.Size,
		})
	}
	return writeJSON(w, http.StatusOK, out)
}

// imageFilters are the docker images filters berth understands.
type imageFilters struct {
	dangling  *bool
	reference []string
}

func parseImageFilters(raw string) (imageFilters, error) {
	var f imageFilters
	if raw == "" {
		return f, nil
	}
	var m map[string]map[string]bool
	if err := json.Unmarshal([]byte(raw), &m); err != nil {
		var legacy map[string][]string
		if err2 := json.Unmarshal([]byte(raw), &legacy); err2 != nil {
			return f, Errorf(http.StatusBadRequest, "bad filters: %v", err)
		}
		m = map[string]map[string]bool{}
		for k, vs := range legacy {
			m[k] = map[string]bool{}
			for _, v := range vs {
				m[k][v] = true
			}
		}
	}
	for k, vs := range m {
		switch k {
		case "dangling":
			for v := range vs {
				b := v == "true" || v == "1"
				f.dangling = &b
			}
		case "reference":
			for v := range vs {
				f.reference = append(f.reference, v)
			}
		default:
			return f, Errorf(http.StatusBadRequest, "invalid filter %q (berth knows dangling and reference)", k)
		}
	}
	return f, nil
}

// match reports whether im passes the filters and, for reference
// filters, keeps only the names that match (as docker does).
func (f imageFilters) match(im *image.Summary) bool {
	if f.dangling != nil && *f.dangling != (len(im.RepoTags) == 0) {
		return false
	}
	if len(f.reference) == 0 {
		return true
	}
	var kept []string
	for _, t := range im.RepoTags {
		repo := t[:strings.LastIndex(t, ":")]
		for _, want := range f.reference {
			okTag, _ := filepath.Match(want, t)
			okRepo, _ := filepath.Match(want, repo)
			if okTag || okRepo {
				kept = append(kept, t)
				break
			}
		}
	}
	im.RepoTags = kept
	return len(kept) > 0
}

// imageByName answers GET /images/{name}/json.
func (s *Server) imageByName(w http.ResponseWriter, r *http.Request) error {
	name, ok := strings.CutSuffix(r.PathValue("rest"), "/json")
	if h, isHistory := strings.CutSuffix(r.PathValue("rest"), "/history"); isHistory {
		return s.imageHistory(w, h)
	}
	if !ok {
		return unsupported(r)
	}
	store, err := s.imageStore()
	if err != nil {
		return err
	}
	d, err := store.Inspect(name)
	if err != nil {
		return imageErr(err)
	}
	resp := inspectResponse(d)
	if ext, err := store.DockerConfig(d.ID); err == nil {
		resp.Config.DockerOCIImageConfigExt = ext.DockerOCIImageConfigExt
	}
	return writeJSON(w, http.StatusOK, resp)
}

func inspectResponse(d image.Details) mobyimage.InspectResponse {
	tags, digests := d.RepoTags, d.RepoDigests
	if tags == nil {
		tags = []string{}
	}
	if digests == nil {
		digests = []string{}
	}
	created := ""
	if d.Config.Created != nil {
		created = d.Config.Created.UTC().Format(time.RFC3339Nano)
	}
	return mobyimage.InspectResponse{
		ID:           d.ID,
		RepoTags:     tags,
		RepoDigests:  digests,
		Created:      created,
		Author:       d.Config.Author,
		Config:       &dockerspec.DockerOCIImageConfig{ImageConfig: d.Config.Config},
		Architecture: d.Config.Architecture,
		Variant:      d.Config.Variant,
		Os:           d.Config.OS,
		Size:         d.Size,
		RootFS:       mobyimage.RootFS{Type: "layers", Layers: d.DiffIDs},
		Descriptor:   &ocispec.Descriptor{MediaType: d.MediaType, Digest: digest.Digest(d.Manifest)},
	}
}

// removeImage answers DELETE /images/{name}?force=.
func (s *Server) removeImage(w http.ResponseWriter, r *http.Request) error {
	store, err := s.imageStore()
	if err != nil {
		return err
	}
	force, _ := strconv.ParseBool(r.URL.Query().Get("force"))
	before, _ := store.Inspect(r.PathValue("rest"))
	del, err := store.Remove(r.PathValue("rest"), force)
	if err != nil && len(del) == 0 {
		return imageErr(err)
	}
	out := []mobyimage.DeleteResponse{}
	for _, d := range del {
		out = append(out, mobyimage.DeleteResponse{Untagged: d.Untagged, Deleted: d.Deleted})
		switch {
		case d.Untagged != "":
			s.imageEvent("untag", before.ID, d.Untagged, before.Config.Config.Labels)
		case d.Deleted != "" && d.Deleted == before.ID:
			s.imageEvent("delete", before.ID, before.ID, before.Config.Config.Labels)
		}
	}
	return writeJSON(w, http.StatusOK, out)
}

// imageAction answers POST /images/{name}/tag?repo=&tag=.
func (s *Server) imageAction(w http.ResponseWriter, r *http.Request) error {
	name, ok := strings.CutSuffix(r.PathValue("rest"), "/tag")
	if !ok {
		if strings.HasSuffix(r.PathValue("rest"), "/push") {
			return Errorf(http.StatusNotImplemented, "push is not supported by berth")
		}
		return unsupported(r)
	}
	q := r.URL.Query()
	target := q.Get("repo")
	if target == "" {
		return Errorf(http.StatusBadRequest, "repo is required")
	}
	if t := q.Get("tag"); t != "" {
		target += ":" + t
	}
	store, err := s.imageStore()
	if err != nil {
		return err
	}
	if err := store.Tag(name, target); err != nil {
		return imageErr(err)
	}
	if d, err := store.Inspect(target); err == nil {
		if tagged, err := image.ParseName(target); err == nil {
			s.imageEvent("tag", d.ID, image.FamiliarString(tagged), d.Config.Config.Labels)
		}
	}
	w.WriteHeader(http.StatusCreated)
	return nil
}

// loadImages answers POST /images/load with the tarball as the body.
func (s *Server) loadImages(w http.ResponseWriter, r *http.Request) error {
	store, err := s.imageStore()
	if err != nil {
		return err
	}
	quiet, _ := strconv.ParseBool(r.URL.Query().Get("quiet"))
	ls := &lazyStream{w: w}
	progress := ls.progress
	if quiet {
		progress = nil
	}
	loaded, err := store.Load(r.Context(), r.Body, progress)
	for _, l := range loaded {
		name := l.ID
		if len(l.Names) > 0 {
			name = l.Names[0]
		}
		s.imageEvent("load", l.ID, name, imageLabels(store, l.ID))
		if len(l.Names) == 0 {
			ls.send(Progress{Message: jsonstream.Message{Stream: fmt.Sprintf("Loaded image ID: %s\n", l.ID)}})
		}
		for _, n := range l.Names {
			ls.send(Progress{Message: jsonstream.Message{Stream: fmt.Sprintf("Loaded image: %s\n", n)}})
		}
	}
	return ls.finish(s.explainDiskFull(err))
}

// saveImages answers GET /images/get?names=... with a docker-save tarball.
func (s *Server) saveImages(w http.ResponseWriter, r *http.Request) error {
	store, err := s.imageStore()
	if err != nil {
		return err
	}
	names := r.URL.Query()["names"]
	if len(names) == 0 {
		return Errorf(http.StatusBadRequest, "names is required")
	}
	for _, n := range names {
		if _, err := store.Resolve(n); err != nil {
			return imageErr(err)
		}
	}
	w.Header().Set("Content-Type", "application/x-tar")
	return store.Save(r.Context(), w, names)
}
