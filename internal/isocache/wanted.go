package isocache

import (
	"errors"
	"os"
	"strings"

	"github.com/berthvm/berth/internal/isoembed"
)

// embeddedInfo tells the ISO this berth carries without reading it; tests
// replace it.
var embeddedInfo = isoembed.Info

// DefaultVolumeID tells the volume id of the ISO Default would return for
// c.Arch, cheaply: it copies, unpacks and downloads nothing (a stat and a
// read of one ISO sector at most), so that `ls` can ask it for every
// machine. It is "" when only a download would tell ($BERTH_ISO_URL or
// the release of this berth's version).
func (c *Cache) DefaultVolumeID() (string, error) {
	if p := os.Getenv("BERTH_ISO"); p != "" {
		if strings.HasPrefix(p, "http://") || strings.HasPrefix(p, "https://") {
			return "", nil
		}
		return VolumeID(p)
	}
	if built := c.findBuild(); built != "" {
		return VolumeID(built)
	}
	iso, err := embeddedInfo()
	switch {
	case errors.Is(err, isoembed.ErrNotEmbedded):
	case err != nil:
		return "", err
	case iso.Arch == archOr(c.Arch):
		return iso.VolumeID, nil
	}
	cached, err := c.newest()
	if err != nil || cached == "" {
		return "", err
	}
	return VolumeID(cached)
}
