package build

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/berthvm/berth/runtime/container"
	"github.com/berthvm/berth/runtime/image"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/shell"
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
)

// Builder builds images into an image store, running RUN steps on a
// container runtime. Builds may run at once: each has its own folder and
// states.
type Builder struct {
	images *image.Store
	rt     *container.Runtime
	dir    string
}

// New makes a Builder that keeps its work in dir (emptied now: what a
// killed build left) and removes the build containers a killed agent
// left on rt.
func New(ctx context.Context, images *image.Store, rt *container.Runtime, dir string) (*Builder, error) {
	if err := os.RemoveAll(dir); err != nil {
		return nil, fmt.Errorf("clean build folder: %w", err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("make build folder: %w", err)
	}
	b := &Builder{images: images, rt: rt, dir: dir}
	if rt != nil {
		for _, c := range rt.List() {
			if _, ok := c.Spec.Labels[BuildLabel]; ok {
				rt.Remove(ctx, c.Spec.ID, true)
			}
		}
	}
	return b, nil
}

// state is where a stage stands: an image in the store (a base image or
// a step's result), or scratch before its first step.
type state struct {
	id  string // "" for scratch
	raw []byte
	img dockerspec.DockerOCIImage
	// args are the stage's ARGs with their values, in declaration order.
	args []arg
	// cmdSet: CMD was given in this stage (ENTRYPOINT then keeps it).
	cmdSet bool
}

type arg struct {
	name  string
	value *string
}

func (st *state) key() string {
	if st.id == "" {
		return "scratch"
	}
	return st.id
}

// copyImage returns a deep copy of the state's config to change.
func (st *state) copyImage() dockerspec.DockerOCIImage {
	var img dockerspec.DockerOCIImage
	b, _ := json.Marshal(st.img)
	json.Unmarshal(b, &img)
	return img
}

// run is one build in progress.
type run struct {
	b       *Builder
	ctx     context.Context
	req     Request
	out     Output
	id      string
	work    string
	bc      *buildContext
	df      *dockerfile
	lex     *shell.Lex
	globals map[string]*string // global ARGs (before the first FROM)
	used    map[string]bool    // build args consumed
	built   []*state           // final state of each stage built
	step    int
	total   int
	holds   []func()
}

// Build runs the build req, telling out what happens, and returns the
// image ID. On failure nothing is named and no build container stays.
func (b *Builder) Build(ctx context.Context, req Request, out Output) (string, error) {
	r := &run{b: b, ctx: ctx, req: req, out: out, used: map[string]bool{}}
	r.id = randomID()
	r.work = filepath.Join(b.dir, r.id)
	if err := os.MkdirAll(r.work, 0o700); err != nil {
		return "", fmt.Errorf("make build folder: %w", err)
	}
	defer os.RemoveAll(r.work)
	defer func() {
		for _, h := range r.holds {
			h()
		}
	}()
	name := req.Dockerfile
	if name == "" {
		name = "Dockerfile"
	}
	bc, err := receiveContext(ctx, req.Context, filepath.Join(r.work, "context"), name)
	if err != nil {
		return "", err
	}
	defer bc.close()
	r.bc = bc
	src, err := bc.readFile(name, maxDockerfile)
	if errors.Is(err, os.ErrNotExist) && req.Dockerfile == "" {
		name = "dockerfile"
		src, err = bc.readFile(name, maxDockerfile)
	}
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return "", badRequest("cannot find %s in the build context: give its path with -f (relative to the context)", name)
		}
		return "", badRequest("read %s: %v", name, err)
	}
	if r.df, err = parseDockerfile(name, src); err != nil {
		return "", err
	}
	r.lex = shell.NewLex(r.df.escape)
	last, err := r.df.target(req.Target)
	if err != nil {
		return "", err
	}
	for i := 0; i <= last; i++ {
		r.total += 1 + len(r.df.stages[i].Commands)
	}
	if len(req.Labels) > 0 {
		r.total++
	}
	if err := r.globalArgs(); err != nil {
		return "", err
	}
	var st *state
	for i := 0; i <= last; i++ {
		if st, err = r.buildStage(i); err != nil {
			return "", err
		}
		r.built = append(r.built, st)
	}
	if len(req.Labels) > 0 {
		if err := r.requestLabels(st); err != nil {
			return "", err
		}
	}
	if st.id == "" {
		return "", badRequest("no image was generated: is the Dockerfile empty? (a stage FROM scratch needs a step that adds files)")
	}
	var unused []string
	for k := range req.BuildArgs {
		if !r.used[k] && !proxyArgs[k] {
			unused = append(unused, k)
		}
	}
	if len(unused) > 0 {
		sort.Strings(unused)
		out.Stream(fmt.Sprintf("[Warning] One or more build-args [%s] were not consumed\n", strings.Join(unused, " ")))
	}
	var names []string
	for _, t := range req.Tags {
		n, err := image.CanonicalName(t)
		if err != nil {
			return "", badRequest("invalid tag %q: %v", t, err)
		}
		names = append(names, n)
	}
	if err := b.images.Publish(st.id, names); err != nil {
		return "", err
	}
	out.Aux(st.id)
	out.Stream("Successfully built " + image.ShortID(st.id) + "\n")
	for _, n := range names {
		out.Stream("Successfully tagged " + image.Familiar(n) + "\n")
	}
	return st.id, nil
}

func randomID() string {
	b := make([]byte, 16)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// proxyArgs are Docker's predefined ARGs: usable without an ARG line,
// left out of the image's history and of the cache key.
var proxyArgs = map[string]bool{
	"HTTP_PROXY": true, "http_proxy": true, "HTTPS_PROXY": true, "https_proxy": true,
	"FTP_PROXY": true, "ftp_proxy": true, "NO_PROXY": true, "no_proxy": true,
	"ALL_PROXY": true, "all_proxy": true,
}

// platformArgs are BuildKit's automatic platform ARGs, in the global
// scope.
func platformArgs() map[string]string {
	p := "linux/" + runtime.GOARCH
	return map[string]string{
		"TARGETPLATFORM": p, "TARGETOS": "linux", "TARGETARCH": runtime.GOARCH, "TARGETVARIANT": "",
		"BUILDPLATFORM": p, "BUILDOS": "linux", "BUILDARCH": runtime.GOARCH, "BUILDVARIANT": "",
	}
}

// globalArgs evaluates the ARGs before the first FROM.
func (r *run) globalArgs() error {
	r.globals = map[string]*string{}
	for k, v := range platformArgs() {
		v := v
		r.globals[k] = &v
	}
	for _, a := range r.df.metaArgs {
		for _, kv := range a.Args {
			var val *string
			if kv.Value != nil {
				v, err := r.expand(*kv.Value, r.metaEnv())
				if err != nil {
					return badRequest("%s:%d: %v", r.df.name, lineOf(&a), err)
				}
				val = &v
			}
			if bv, ok := r.req.BuildArgs[kv.Key]; ok && bv != nil {
				val = bv
				r.used[kv.Key] = true
			}
			r.globals[kv.Key] = val
		}
	}
	return nil
}

func (r *run) metaEnv() envMap {
	m := envMap{}
	for k, v := range r.globals {
		if v != nil {
			m[k] = *v
		}
	}
	return m
}

// envMap is a shell.EnvGetter.
type envMap map[string]string

func (e envMap) Get(k string) (string, bool) { v, ok := e[k]; return v, ok }
func (e envMap) Keys() []string {
	var ks []string
	for k := range e {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

func (r *run) expand(word string, env envMap) (string, error) {
	res, err := r.lex.ProcessWordWithMatches(word, env)
	if err != nil {
		return "", err
	}
	return res.Result, nil
}

// stageEnv is what words of a stage's instructions expand with: its
// ARGs, then its ENV over them.
func stageEnv(st *state) envMap {
	m := envMap{}
	for _, a := range st.args {
		if a.value != nil {
			m[a.name] = *a.value
		}
	}
	for _, kv := range st.img.Config.Env {
		k, v, _ := strings.Cut(kv, "=")
		m[k] = v
	}
	return m
}

func (r *run) header(t string) {
	r.step++
	r.out.Stream(fmt.Sprintf("Step %d/%d : %s\n", r.step, r.total, t))
}

// buildStage builds stage i and returns its final state.
func (r *run) buildStage(i int) (*state, error) {
	s := r.df.stages[i]
	r.header(s.SourceCode)
	st, err := r.from(i, s)
	if err != nil {
		return nil, err
	}
	if err := r.onBuild(st); err != nil {
		return nil, err
	}
	for _, c := range s.Commands {
		if err := r.ctx.Err(); err != nil {
			return nil, err
		}
		r.header(text(c))
		if err := r.dispatch(st, c); err != nil {
			if _, ok := err.(*stepError); ok || errors.Is(err, ErrBadRequest) || errors.Is(err, context.Canceled) {
				return nil, err
			}
			return nil, fmt.Errorf("%s:%d: %s: %w", r.df.name, lineOf(c), strings.ToUpper(c.Name()), err)
		}
	}
	return st, nil
}

// from makes the state a stage starts from.
func (r *run) from(i int, s instructions.Stage) (*state, error) {
	base, err := r.expand(s.BaseName, r.metaEnv())
	if err != nil {
		return nil, badRequest("%s:%d: FROM: %v", r.df.name, s.Location[0].Start.Line, err)
	}
	if base == "" {
		return nil, badRequest("%s:%d: FROM names no image (an ARG without a value?)", r.df.name, s.Location[0].Start.Line)
	}
	if j, ok := r.df.stageIndex(base); ok && j < i {
		prev := r.built[j]
		st := &state{id: prev.id, raw: prev.raw, img: prev.img}
		r.out.Stream(" ---> " + shortOr(st.id) + "\n")
		return st, nil
	}
	if strings.EqualFold(base, "scratch") {
		st := &state{}
		st.img.OS, st.img.Architecture = "linux", runtime.GOARCH
		st.img.RootFS.Type = "layers"
		r.out.Stream(" ---> scratch\n")
		return st, nil
	}
	st, err := r.baseImage(base)
	if err != nil {
		return nil, err
	}
	r.out.Stream(" ---> " + image.ShortID(st.id) + "\n")
	return st, nil
}

func shortOr(id string) string {
	if id == "" {
		return "scratch"
	}
	return image.ShortID(id)
}

// baseImage finds ref in the store, pulling it when missing (or always
// with Pull), and holds it for the build.
func (r *run) baseImage(ref string) (*state, error) {
	_, err := r.b.images.Resolve(ref)
	if err != nil && !errors.Is(err, image.ErrNotFound) {
		return nil, badRequest("base image %q: %v", ref, err)
	}
	if err != nil || r.req.Pull {
		opts := image.PullOptions{Insecure: r.req.Insecure, Progress: r.out.Progress}
		if n, perr := image.ParseName(ref); perr == nil {
			if a, ok := r.req.Auth[n.Context().RegistryStr()]; ok {
				opts.Auth = &a
			}
		}
		if _, perr := r.b.images.Pull(r.ctx, ref, opts); perr != nil {
			if err == nil {
				// Pull asked, the store has it: keep going with it.
				r.out.Stream(fmt.Sprintf("could not pull %s (%v): using the image the machine has\n", ref, perr))
			} else {
				return nil, fmt.Errorf("pull base image %s: %w", ref, perr)
			}
		}
	}
	img, err := r.b.images.Resolve(ref)
	if err != nil {
		return nil, fmt.Errorf("base image %s: %w", ref, err)
	}
	return r.load(img.ID)
}

// load makes a state of the stored image id, held for the build.
func (r *run) load(id string) (*state, error) {
	r.holds = append(r.holds, r.b.images.Hold(id))
	raw, err := r.b.images.ConfigBlob(id)
	if err != nil {
		return nil, err
	}
	st := &state{id: id, raw: raw}
	if err := json.Unmarshal(raw, &st.img); err != nil {
		return nil, fmt.Errorf("parse image config %s: %w", id, err)
	}
	return st, nil
}

// cached moves st to the cached result of key when there is one.
func (r *run) cached(st *state, key string) (bool, error) {
	if r.req.NoCache {
		return false, nil
	}
	id, ok := r.b.images.CacheGet(key)
	if !ok {
		return false, nil
	}
	next, err := r.load(id)
	if err != nil {
		return false, nil
	}
	st.id, st.raw, st.img = next.id, next.raw, next.img
	r.out.Stream(" ---> Using cache\n ---> " + image.ShortID(st.id) + "\n")
	return true, nil
}

// commit records img (with one more history entry and, when l is set,
// one more layer) as the state after a step, keyed in the cache.
func (r *run) commit(st *state, key string, img dockerspec.DockerOCIImage, createdBy string, l *image.Layer) error {
	now := time.Now().UTC()
	img.Created = &now
	if img.OS == "" {
		img.OS, img.Architecture = "linux", runtime.GOARCH
	}
	img.RootFS.Type = "layers"
	h := dockerHistory(now, createdBy, l == nil)
	img.History = append(img.History, h)
	if l != nil {
		img.RootFS.DiffIDs = append(img.RootFS.DiffIDs, digestOf(l.DiffID))
	}
	raw, err := json.Marshal(img)
	if err != nil {
		return err
	}
	id, err := r.b.images.PutBuilt(raw, true, nil)
	if err != nil {
		return err
	}
	r.holds = append(r.holds, r.b.images.Hold(id))
	if err := r.b.images.CachePut(key, id); err != nil {
		return err
	}
	st.id, st.raw, st.img = id, raw, img
	r.out.Stream(" ---> " + image.ShortID(id) + "\n")
	return nil
}

// shellOf is the state's SHELL, or /bin/sh -c.
func shellOf(st *state) []string {
	if len(st.img.Config.Shell) > 0 {
		return st.img.Config.Shell
	}
	return []string{"/bin/sh", "-c"}
}

// nop is Docker's created_by of a step that changes only the config.
func nop(st *state, comment string) string {
	return strings.Join(append(slices.Clone(shellOf(st)), "#(nop) ", comment), " ")
}

// meta runs a step that changes only the image config: mutate edits a
// copy of it.
func (r *run) meta(st *state, comment string, mutate func(img *dockerspec.DockerOCIImage)) error {
	key := image.CacheKey(st.key(), "meta", comment)
	if ok, err := r.cached(st, key); ok || err != nil {
		return err
	}
	img := st.copyImage()
	mutate(&img)
	return r.commit(st, key, img, nop(st, comment), nil)
}

// onBuild runs the base image's ONBUILD triggers, then clears them.
func (r *run) onBuild(st *state) error {
	triggers := st.img.Config.OnBuild
	if len(triggers) == 0 {
		return nil
	}
	r.out.Stream(fmt.Sprintf("# Executing %d build trigger", len(triggers)))
	if len(triggers) > 1 {
		r.out.Stream("s")
	}
	r.out.Stream("\n")
	if err := r.meta(st, "ONBUILD (triggers run)", func(img *dockerspec.DockerOCIImage) { img.Config.OnBuild = nil }); err != nil {
		return err
	}
	for _, t := range triggers {
		df, err := parseDockerfile("ONBUILD", []byte("FROM scratch\n"+t+"\n"))
		if err != nil {
			return badRequest("the base image's ONBUILD trigger %q does not parse: %v", t, err)
		}
		for _, c := range df.stages[0].Commands {
			switch c.(type) {
			case *instructions.OnbuildCommand:
				return badRequest("ONBUILD %s: chaining ONBUILD via ONBUILD ONBUILD isn't allowed", t)
			case *instructions.MaintainerCommand:
				return badRequest("ONBUILD %s: MAINTAINER isn't allowed as an ONBUILD trigger", t)
			}
			r.out.Stream(" ---> Running trigger: " + text(c) + "\n")
			if err := r.dispatch(st, c); err != nil {
				return err
			}
		}
	}
	return nil
}

// requestLabels adds the build request's labels in a last step.
func (r *run) requestLabels(st *state) error {
	var keys []string
	for k := range r.req.Labels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%q=%q", k, r.req.Labels[k]))
	}
	t := "LABEL " + strings.Join(parts, " ")
	r.header(t)
	return r.meta(st, t, func(img *dockerspec.DockerOCIImage) {
		if img.Config.Labels == nil {
			img.Config.Labels = map[string]string{}
		}
		for k, v := range r.req.Labels {
			img.Config.Labels[k] = v
		}
	})
}
