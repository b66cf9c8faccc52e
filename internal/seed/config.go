// Package seed writes NoCloud seed ISOs (volume label "cidata" holding
// meta-data and a #cloud-config user-data) that give a machine its
// identity, SSH keys and shared folders at boot.
package seed

import (
	"errors"
	"fmt"
	"path"
	"strings"
)

// VolumeLabel is the ISO volume id that berth-os and cloud-init look for.
const VolumeLabel = "cidata"

// Config is what a seed tells the guest.
type Config struct {
	// InstanceID identifies this boot configuration (meta-data
	// instance-id). Cloud-init reruns its first-boot steps when it changes.
	InstanceID string
	// Hostname is the machine's host name (meta-data local-hostname and
	// user-data hostname): letters, digits, '-' and '.', at most 63
	// characters per label.
	Hostname string
	// SSHAuthorizedKeys are authorized_keys lines for the login user (root
	// on berth-os). At least one is required: berth-os has no passwords.
	SSHAuthorizedKeys []string
	// Mounts are shared folders the guest mounts at boot (cloud-config
	// "mounts"). Optional.
	Mounts []Mount
}

// Mount is one shared folder, written as a cloud-config mounts entry
// [source, target, type, options].
type Mount struct {
	// Source is the share's tag or name: the 9p mount_tag or the
	// VirtualBox shared folder name.
	Source string
	// Target is the absolute path in the guest.
	Target string
	// Type is the file system: "9p", "virtiofs" or "vboxsf"; "tmpfs"
	// hides what lies under Target (see Hide).
	Type string
	// Options are mount options, comma separated ("" for the defaults).
	Options string
}

// NinePOptions are the mount options of a virtio-9p share: the 9P2000.L
// protocol, the largest message size Linux's virtio transport takes
// (512000 bytes: fewer round trips for big reads and writes), and
// cache=mmap, which caches nothing but mmap'd pages, so that a file the
// host changes is seen by the next read in the guest.
const NinePOptions = "trans=virtio,version=9p2000.L,msize=512000,cache=mmap"

// mountTypes are the file systems berth-os knows how to mount.
var mountTypes = map[string]bool{"9p": true, "virtiofs": true, "vboxsf": true, "tmpfs": true}

// HideOptions make a hiding mount: an empty tmpfs that nobody may write
// or enter but root, read-only.
const HideOptions = "ro,size=4k,mode=0"

// Hide are the mounts that cover each of paths (inside shares, listed
// after them) with an empty read-only tmpfs, so that the guest does not
// see what the host keeps there.
func Hide(paths []string) []Mount {
	var out []Mount
	for _, p := range paths {
		out = append(out, Mount{Source: "berth-hidden", Target: p, Type: "tmpfs", Options: HideOptions})
	}
	return out
}

// Validate reports every invalid field of c at once.
func (c Config) Validate() error {
	var errs []error
	if err := checkWord("instance id", c.InstanceID); err != nil {
		errs = append(errs, err)
	}
	if err := checkHostname(c.Hostname); err != nil {
		errs = append(errs, err)
	}
	if len(c.SSHAuthorizedKeys) == 0 {
		errs = append(errs, errors.New("ssh authorized keys: at least one key is required (berth-os allows no password logins)"))
	}
	for i, k := range c.SSHAuthorizedKeys {
		if err := checkKey(k); err != nil {
			errs = append(errs, fmt.Errorf("ssh authorized key %d: %w", i, err))
		}
	}
	for i, m := range c.Mounts {
		if err := m.validate(); err != nil {
			errs = append(errs, fmt.Errorf("mount %d: %w", i, err))
		}
	}
	return errors.Join(errs...)
}

func (m Mount) validate() error {
	var errs []error
	if err := checkWord("source", m.Source); err != nil {
		errs = append(errs, err)
	}
	if !path.IsAbs(m.Target) || path.Clean(m.Target) != m.Target || m.Target == "/" || !plain(m.Target, "/._-") {
		errs = append(errs, fmt.Errorf("target %q: want a clean absolute path other than / made of letters, digits and /._-", m.Target))
	}
	if !mountTypes[m.Type] {
		errs = append(errs, fmt.Errorf("type %q: want 9p, virtiofs, vboxsf or tmpfs", m.Type))
	}
	if m.Options != "" && !plain(m.Options, ",=._-") {
		errs = append(errs, fmt.Errorf("options %q: want letters, digits and ,=._-", m.Options))
	}
	return errors.Join(errs...)
}

// checkWord accepts a non-empty word of letters, digits and ._- so that it
// needs no quoting in YAML or in the guest's shell.
func checkWord(field, s string) error {
	if s == "" {
		return fmt.Errorf("%s is empty", field)
	}
	if len(s) > 128 || !plain(s, "._-") {
		return fmt.Errorf("%s %q: want at most 128 letters, digits and ._-", field, s)
	}
	return nil
}

func checkHostname(h string) error {
	if h == "" {
		return errors.New("hostname is empty")
	}
	if len(h) > 253 {
		return fmt.Errorf("hostname %q: longer than 253 characters", h)
	}
	for _, label := range strings.Split(h, ".") {
		if label == "" || len(label) > 63 || !plain(label, "-") || label[0] == '-' || label[len(label)-1] == '-' {
			return fmt.Errorf("hostname %q: want dot-separated labels of 1 to 63 letters, digits and inner '-'", h)
		}
	}
	return nil
}

func checkKey(k string) error {
	if strings.TrimSpace(k) == "" {
		return errors.New("empty")
	}
	for _, r := range k {
		if r < 0x20 || r == 0x7f {
			return errors.New("holds a control character (one key per entry, no newlines)")
		}
		if r == '"' || r == '\\' {
			return errors.New(`holds '"' or '\'`)
		}
	}
	if len(strings.Fields(k)) < 2 {
		return fmt.Errorf("%q: want an authorized_keys line (type and base64 key)", k)
	}
	return nil
}

// plain reports whether s holds only ASCII letters, digits and the runes in
// extra.
func plain(s, extra string) bool {
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		case strings.ContainsRune(extra, r):
		default:
			return false
		}
	}
	return true
}
