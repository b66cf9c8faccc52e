package image

import (
	"fmt"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
)

// ParseName parses an image name the way docker does: "busybox" is
// docker.io/library/busybox:latest, a first component with a dot, a colon
// or equal to localhost is a registry host.
func ParseName(s string) (name.Reference, error) {
	ref, err := name.ParseReference(s, name.WithDefaultRegistry("docker.io"), name.WithDefaultTag("latest"))
	if err != nil {
		return nil, fmt.Errorf("%w: %q: %v", ErrInvalid, s, err)
	}
	return ref, nil
}

// repoOf returns the canonical repository (docker.io/library/busybox).
func repoOf(ref name.Reference) string {
	reg := ref.Context().RegistryStr()
	if reg == name.DefaultRegistry {
		reg = "docker.io"
	}
	return reg + "/" + ref.Context().RepositoryStr()
}

// canonical returns the full name of a reference
// (docker.io/library/busybox:latest or ...@sha256:...).
func canonical(ref name.Reference) string {
	switch r := ref.(type) {
	case name.Digest:
		return repoOf(ref) + "@" + r.DigestStr()
	default:
		return repoOf(ref) + ":" + ref.Identifier()
	}
}

// Familiar shortens a canonical name the way docker shows it:
// docker.io/library/busybox:latest is busybox:latest.
func Familiar(s string) string {
	if rest, ok := strings.CutPrefix(s, "docker.io/"); ok {
		if r, ok := strings.CutPrefix(rest, "library/"); ok && !strings.Contains(strings.SplitN(r, ":", 2)[0], "/") {
			return r
		}
		return rest
	}
	return s
}

// FamiliarString is ref the way docker shows it: busybox:latest.
func FamiliarString(ref name.Reference) string { return Familiar(canonical(ref)) }

// FamiliarRepository is ref's repository the way docker shows it:
// busybox for docker.io/library/busybox:latest.
func FamiliarRepository(ref name.Reference) string { return Familiar(repoOf(ref)) }
