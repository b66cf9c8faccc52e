package server

import (
	"net/http"

	"github.com/moby/moby/api/types/build"
	ctypes "github.com/moby/moby/api/types/container"
	mobyimage "github.com/moby/moby/api/types/image"
	vtypes "github.com/moby/moby/api/types/volume"
)

// diskUsageResponse is GET /system/df's answer in the shape of API
// versions before 1.52, which the docker CLI 28 reads.
type diskUsageResponse struct {
	LayersSize int64
	Images     []mobyimage.Summary
	Containers []ctypes.Summary
	Volumes    []vtypes.Volume
	BuildCache []build.CacheRecord
}

// systemDF answers GET /system/df: images with their sizes and how many
// containers use them, containers with the size of their changes,
// volumes with their size and users, and the build cache's layers.
func (s *Server) systemDF(w http.ResponseWriter, r *http.Request) error {
	out := diskUsageResponse{Images: []mobyimage.Summary{}, Containers: []ctypes.Summary{}, Volumes: []vtypes.Volume{}, BuildCache: []build.CacheRecord{}}
	if store, err := s.imageStore(); err == nil {
		for _, im := range store.List() {
			tags := im.RepoTags
			if tags == nil {
				tags = []string{}
			}
			digests := im.RepoDigests
			if digests == nil {
				digests = []string{}
			}
			out.Images = append(out.Images, mobyimage.Summary{
				ID: im.ID, RepoTags: tags, RepoDigests: digests, Created: im.Created.Unix(),
				Size: im.Size, SharedSize: 0, Containers: int64(len(im.Users)), Labels: map[string]string{},
			})
			out.LayersSize += im.Size
		}
	}
	if rt, err := s.containerRuntime(); err == nil {
		for _, c := range rt.List() {
			sum := summaryOf(c, rt.Health(c.Spec.ID))
			if dir, err := rt.ChangesDir(c.Spec.ID); err == nil {
				sum.SizeRw = diskUsage(dir)
			}
			out.Containers = append(out.Containers, sum)
		}
	}
	if vols, err := s.volumeStore(); err == nil {
		list, _ := vols.List()
		for _, v := range list {
			av := apiVolume(v)
			av.UsageData = &vtypes.UsageData{Size: diskUsage(v.Mountpoint), RefCount: int64(len(s.back.volumeUsers(v.Name)))}
			out.Volumes = append(out.Volumes, av)
		}
	}
	out.BuildCache = s.buildCacheUsage()
	return writeJSON(w, http.StatusOK, out)
}
