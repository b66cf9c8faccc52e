package isocache

import (
	"os"
	"strings"

	"github.com/berthvm/berth/internal/version"
)

// ReleaseBase is where berth's releases keep their files, by version.
const ReleaseBase = "https://github.com/berthvm/berth/releases/download/"

// ReleaseEnv names the environment variable that overrides the release
// location of this berth's version (a folder URL holding
// berth-os-ARCH.iso and berth-os-ARCH.iso.sha256, as `make release`'s
// dist/ does).
const ReleaseEnv = "BERTH_RELEASE_URL"

// ReleaseURL is the URL of the berth-os ISO of arch released with this
// berth's version.
func ReleaseURL(arch string) string {
	base := os.Getenv(ReleaseEnv)
	if base == "" {
		base = ReleaseBase + version.Version
	}
	return strings.TrimSuffix(base, "/") + "/berth-os-" + archOr(arch) + ".iso"
}
