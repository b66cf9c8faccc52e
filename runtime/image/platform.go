package image

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// ErrPlatform marks a platform this machine cannot run.
var ErrPlatform = errors.New("a platform this machine cannot run")

// ParsePlatform reads OS[/ARCH[/VARIANT]] as docker's --platform takes it:
// architecture names as uname and Debian spell them are accepted
// (x86_64, aarch64, i686, armhf); a missing ARCH is this machine's.
func ParsePlatform(s string) (v1.Platform, error) {
	parts := strings.Split(strings.ToLower(strings.TrimSpace(s)), "/")
	if len(parts) > 3 || parts[0] == "" || slices.Contains(parts, "") {
		return v1.Platform{}, fmt.Errorf("%w: platform %q: want OS[/ARCH[/VARIANT]], like linux/arm64", ErrInvalid, s)
	}
	p := v1.Platform{OS: parts[0]}
	if len(parts) == 1 {
		own := DefaultPlatform()
		p.Architecture, p.Variant = own.Architecture, own.Variant
		return p, nil
	}
	p.Architecture = parts[1]
	if len(parts) == 3 {
		p.Variant = parts[2]
	}
	return normalizePlatform(p), nil
}

// normalizePlatform spells architectures and variants as registries do.
func normalizePlatform(p v1.Platform) v1.Platform {
	switch p.Architecture {
	case "x86_64", "x86-64":
		p.Architecture, p.Variant = "amd64", ""
	case "i386", "i486", "i586", "i686":
		p.Architecture = "386"
	case "aarch64":
		p.Architecture = "arm64"
	case "armhf":
		p.Architecture, p.Variant = "arm", "v7"
	case "armel":
		p.Architecture, p.Variant = "arm", "v6"
	}
	if p.Architecture == "arm64" && (p.Variant == "8" || p.Variant == "") {
		p.Variant = "v8"
	}
	if p.Architecture == "arm" && len(p.Variant) == 1 {
		p.Variant = "v" + p.Variant
	}
	return p
}

// PlatformString is p as docker prints it: os/arch[/variant].
func PlatformString(p v1.Platform) string {
	s := p.OS + "/" + p.Architecture
	if p.Variant != "" {
		s += "/" + p.Variant
	}
	return s
}

// Platforms lists the platforms this machine runs, its own first: the
// 32-bit one its kernel runs too (linux/386 on amd64; linux/arm on an
// arm64 CPU that has AArch32), and those whose programs the kernel hands
// to an emulator (binfmt_misc entries of qemu-user, as a generic host may
// have).
func Platforms() []v1.Platform {
	out := []v1.Platform{DefaultPlatform()}
	for _, arch := range append(compatArchs(), emulatedArchs()...) {
		if !slices.ContainsFunc(out, func(p v1.Platform) bool { return p.Architecture == arch }) {
			out = append(out, v1.Platform{OS: "linux", Architecture: arch})
		}
	}
	return out
}

// CheckPlatform returns nil when this machine runs p (of which only OS and
// architecture count), else an error wrapping ErrPlatform that names the
// platforms it runs.
func CheckPlatform(p v1.Platform) error {
	return checkPlatform(p, Platforms())
}

func checkPlatform(p v1.Platform, runs []v1.Platform) error {
	p = normalizePlatform(p)
	for _, r := range runs {
		if p.OS == r.OS && p.Architecture == r.Architecture {
			return nil
		}
	}
	var names []string
	for _, r := range runs {
		names = append(names, r.OS+"/"+r.Architecture)
	}
	next := "berth-os machines are amd64 or arm64"
	if p.OS == "linux" && (p.Architecture == "amd64" || p.Architecture == "arm64") {
		next = "use a machine of that architecture (berth create --arch " + p.Architecture + ")"
	}
	return fmt.Errorf("%w: %s: this machine runs %s only; %s",
		ErrPlatform, PlatformString(p), strings.Join(names, ", "), next)
}

// ConfigPlatform is the platform an image's config names; ok is false
// when it names none.
func ConfigPlatform(os, arch, variant string) (v1.Platform, bool) {
	if os == "" && arch == "" {
		return v1.Platform{}, false
	}
	if os == "" {
		os = "linux"
	}
	return normalizePlatform(v1.Platform{OS: os, Architecture: arch, Variant: variant}), true
}

// PlatformMatches reports whether an image of platform have serves a
// request for want: same OS and architecture, and the same variant when
// both name one.
func PlatformMatches(have, want v1.Platform) bool {
	have, want = normalizePlatform(have), normalizePlatform(want)
	if have.OS != want.OS || have.Architecture != want.Architecture {
		return false
	}
	return have.Variant == "" || want.Variant == "" || have.Variant == want.Variant
}
