package image

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/berthvm/berth/internal/atomicfile"
	"github.com/berthvm/berth/runtime/layer"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"golang.org/x/sync/errgroup"
)

// source is an image on its way into the store, from a registry or a
// tarball.
type source struct {
	manifest  []byte
	mediaType string
	config    []byte
	configID  string // digest the manifest gives the config
	layers    []srcLayer
	loading   bool // from a tarball: progress says "Loading layer"
}

type srcLayer struct {
	digest    string
	diffID    string
	mediaType string
	size      int64
	// open returns the layer blob as stored (compressed or not).
	open func(context.Context) (io.ReadCloser, error)
	// spooled, when set, is a file already holding the verified blob; it
	// is moved into the store instead of copied.
	spooled string
}

// maxParallelLayers matches docker's default max-concurrent-downloads.
const maxParallelLayers = 3

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// put stores src's blobs and layers and then, in one index write, the
// image and its names. It returns the image ID and whether it was new.
func (s *Store) put(ctx context.Context, src *source, names []string, rep *reporter) (string, bool, error) {
	if got := sha256Hex(src.config); got != src.configID {
		return "", false, fmt.Errorf("image config digest is %s, the manifest says %s", got, src.configID)
	}
	var cfg ocispec.Image
	if err := json.Unmarshal(src.config, &cfg); err != nil {
		return "", false, fmt.Errorf("parse image config %s: %w", src.configID, err)
	}
	if len(cfg.RootFS.DiffIDs) != len(src.layers) {
		return "", false, fmt.Errorf("image config %s lists %d layers, the manifest %d", src.configID, len(cfg.RootFS.DiffIDs), len(src.layers))
	}
	manifestDigest := sha256Hex(src.manifest)
	var pins []string
	for i := range src.layers {
		src.layers[i].diffID = cfg.RootFS.DiffIDs[i].String()
		pins = append(pins, src.layers[i].digest, src.layers[i].diffID)
	}
	pins = append(pins, manifestDigest, src.configID)
	s.pin(pins...)
	defer s.unpin(pins...)

	unpacked := make([]int64, len(src.layers))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(maxParallelLayers)
	if !src.loading {
		for i := range src.layers {
			rep.send(Progress{ID: ShortID(src.layers[i].digest), Status: "Pulling fs layer"})
		}
	}
	first := map[string]int{} // a layer repeated in one image is fetched once
	for i := range src.layers {
		l := &src.layers[i]
		if _, dup := first[l.digest]; dup {
			continue
		}
		first[l.digest] = i
		g.Go(func() error {
			n, err := s.putLayer(gctx, l, rep)
			if err != nil {
				return fmt.Errorf("layer %s: %w", l.digest, err)
			}
			unpacked[i] = n
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return "", false, err
	}
	for i, l := range src.layers {
		unpacked[i] = unpacked[first[l.digest]]
	}
	if err := s.putBlob(src.manifest, manifestDigest); err != nil {
		return "", false, err
	}
	if err := s.putBlob(src.config, src.configID); err != nil {
		return "", false, err
	}
	// Flush blobs and layers before the index names them, so that even a
	// power cut cannot leave a named image with empty files.
	if err := syncFS(s.root); err != nil {
		return "", false, fmt.Errorf("flush image store: %w", err)
	}

	rec := &record{ID: src.configID, Manifest: manifestDigest, MediaType: src.mediaType, Added: time.Now().UTC()}
	if cfg.Created != nil {
		rec.Created = *cfg.Created
	}
	for i, l := range src.layers {
		rec.Layers = append(rec.Layers, layerEntry{Digest: l.digest, DiffID: l.diffID, MediaType: l.mediaType, Size: l.size, Unpacked: unpacked[i]})
		rec.Size += unpacked[i]
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, l := range rec.Layers {
		if _, err := os.Stat(s.layerPath(l.DiffID)); err != nil {
			return "", false, fmt.Errorf("layer %s vanished before the image was recorded: %w", l.DiffID, err)
		}
	}
	old, existed := s.idx.Images[rec.ID]
	if existed {
		rec.Users = old.Users
		rec.RepoDigests = old.RepoDigests
		rec.Added = old.Added
	}
	for _, n := range names {
		if ref, err := ParseName(n); err == nil {
			if _, isDigest := ref.(interface{ DigestStr() string }); isDigest {
				rec.RepoDigests = appendUnique(rec.RepoDigests, canonical(ref))
				continue
			}
		}
		s.idx.Tags[n] = rec.ID
	}
	s.idx.Images[rec.ID] = rec
	if err := s.saveLocked(); err != nil {
		return "", false, err
	}
	return rec.ID, !existed, nil
}

func appendUnique(list []string, v string) []string {
	for _, x := range list {
		if x == v {
			return list
		}
	}
	return append(list, v)
}

// putBlob stores b under digest (verified), unless it is there already.
func (s *Store) putBlob(b []byte, digest string) error {
	if got := sha256Hex(b); got != digest {
		return fmt.Errorf("blob digest is %s, want %s", got, digest)
	}
	p := s.blobPath(digest)
	if _, err := os.Stat(p); err == nil {
		return nil
	}
	if err := atomicfile.Write(p, b, atomicfile.Sync()); err != nil {
		return fmt.Errorf("store blob %s: %w", digest, err)
	}
	return nil
}

// putLayer brings one layer's blob and unpacked folder into the store,
// verifying both digests, and returns its unpacked size.
func (s *Store) putLayer(ctx context.Context, l *srcLayer, rep *reporter) (int64, error) {
	id := ShortID(l.digest)
	_, errBlob := os.Stat(s.blobPath(l.digest))
	_, errLayer := os.Stat(s.layerPath(l.diffID))
	if errBlob == nil && errLayer == nil {
		rep.send(Progress{ID: id, Status: "Already exists"})
		return s.unpackedSize(l.diffID), nil
	}
	stage, err := s.staging("layer-")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(stage)
	dir := filepath.Join(stage, "diff")
	if err := os.Mkdir(dir, 0o755); err != nil {
		return 0, err
	}
	rc, err := l.open(ctx)
	if err != nil {
		return 0, fmt.Errorf("fetch: %w", err)
	}
	defer rc.Close()

	blobTmp := l.spooled
	var r io.Reader = rc
	h := sha256.New()
	var blobFile *os.File
	if blobTmp == "" {
		blobTmp = filepath.Join(stage, "blob")
		if blobFile, err = os.OpenFile(blobTmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600); err != nil {
			return 0, err
		}
		defer blobFile.Close()
		r = io.TeeReader(r, io.MultiWriter(blobFile, h))
	} else {
		r = io.TeeReader(r, h)
	}
	status := "Downloading"
	if l.spooled != "" {
		status = "Loading layer"
	}
	pr := &progressReader{r: r, rep: rep, id: id, status: status, total: l.size}
	res, err := layer.Unpack(ctx, dir, pr, s.limits)
	if err != nil {
		return 0, err
	}
	// Read what the decompressor left so the blob digest covers it all.
	if _, err := io.Copy(io.Discard, pr); err != nil {
		return 0, fmt.Errorf("fetch: %w", err)
	}
	if got := "sha256:" + hex.EncodeToString(h.Sum(nil)); got != l.digest {
		return 0, fmt.Errorf("blob digest is %s, want %s", got, l.digest)
	}
	if res.DiffID != l.diffID {
		return 0, fmt.Errorf("uncompressed digest is %s, the image config says %s", res.DiffID, l.diffID)
	}
	if l.spooled == "" {
		rep.send(Progress{ID: id, Status: "Verifying Checksum"})
		rep.send(Progress{ID: id, Status: "Download complete"})
	}
	if err := publish(blobTmp, s.blobPath(l.digest)); err != nil {
		return 0, fmt.Errorf("store blob: %w", err)
	}
	if err := publish(dir, s.layerPath(l.diffID)); err != nil {
		return 0, fmt.Errorf("store unpacked layer: %w", err)
	}
	if l.spooled == "" {
		rep.send(Progress{ID: id, Status: "Pull complete"})
	} else {
		rep.send(Progress{ID: id, Status: "Loading layer", Current: l.size, Total: l.size})
	}
	return res.Size, nil
}

// publish renames a staged file or folder into place; when the target
// already exists (another pull won the race) the staged copy is dropped.
func publish(staged, target string) error {
	if _, err := os.Lstat(target); err == nil {
		return nil
	}
	err := os.Rename(staged, target)
	if err != nil {
		if _, serr := os.Lstat(target); serr == nil {
			return nil
		}
		return err
	}
	return nil
}

// unpackedSize returns the size an image record gives a layer, or walks
// its folder when none does.
func (s *Store) unpackedSize(diffID string) int64 {
	s.mu.Lock()
	for _, im := range s.idx.Images {
		for _, l := range im.Layers {
			if l.DiffID == diffID {
				s.mu.Unlock()
				return l.Unpacked
			}
		}
	}
	s.mu.Unlock()
	var n int64
	filepath.WalkDir(s.layerPath(diffID), func(p string, d os.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if fi, err := d.Info(); err == nil {
				n += fi.Size()
			}
		}
		return nil
	})
	return n
}
