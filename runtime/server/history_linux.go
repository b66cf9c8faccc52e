package server

import (
	"net/http"

	mobyimage "github.com/moby/moby/api/types/image"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// imageHistory answers GET /images/{name}/history: the image's history
// entries, newest first, the newest with the image's ID and tags, the
// others "<missing>" (as Docker shows images it pulled), each non-empty
// one with the size of its layer. An image without history shows one
// row per layer.
func (s *Server) imageHistory(w http.ResponseWriter, name string) error {
	store, err := s.imageStore()
	if err != nil {
		return err
	}
	d, err := store.Inspect(name)
	if err != nil {
		return imageErr(err)
	}
	img, err := store.Resolve(d.ID)
	if err != nil {
		return imageErr(err)
	}
	hist := d.Config.History
	if len(hist) == 0 {
		for range img.LayerDirs {
			hist = append(hist, ocispec.History{Created: d.Config.Created})
		}
	}
	out := make([]mobyimage.HistoryResponseItem, 0, len(hist))
	layer := 0
	for _, h := range hist {
		item := mobyimage.HistoryResponseItem{ID: "<missing>", CreatedBy: h.CreatedBy, Comment: h.Comment, Tags: nil}
		if h.Created != nil {
			item.Created = h.Created.Unix()
		}
		if !h.EmptyLayer && layer < len(img.LayerDirs) {
			item.Size = diskUsage(img.LayerDirs[layer])
			layer++
		}
		out = append(out, item)
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	if len(out) > 0 {
		out[0].ID = d.ID
		out[0].Tags = d.RepoTags
	}
	return writeJSON(w, http.StatusOK, out)
}
