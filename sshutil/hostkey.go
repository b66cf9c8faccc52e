package sshutil

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"slices"
	"strings"
	"sync"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/berthvm/berth/internal/atomicfile"
)

// ErrHostKeyChanged matches (errors.Is) every *HostKeyChangedError.
var ErrHostKeyChanged = errors.New("host key changed")

// HostKeyChangedError says that a machine offered a host key other than
// the one pinned at first contact. Connecting is refused.
type HostKeyChangedError struct {
	Machine string        // machine name, for the message
	Path    string        // the pinned known_hosts file
	Address string        // host:port that was dialled
	Pinned  ssh.PublicKey // first pinned key
	Offered ssh.PublicKey // what the server offered
}

func (e *HostKeyChangedError) Error() string {
	return fmt.Sprintf("host key of machine %q changed: %s was pinned in %s at first contact but %s offered %s %s; "+
		"if you re-created the VM run \"berth regenerate-host-key %s\", otherwise someone may be intercepting the connection",
		e.Machine, ssh.FingerprintSHA256(e.Pinned), e.Path, e.Address, e.Offered.Type(), ssh.FingerprintSHA256(e.Offered), e.Machine)
}

// Is makes errors.Is(err, ErrHostKeyChanged) true.
func (e *HostKeyChangedError) Is(target error) bool { return target == ErrHostKeyChanged }

// maxPinnedAddresses bounds how many host:port names one pinned line keeps
// (a machine's forwarded port can change across restarts).
const maxPinnedAddresses = 4

// HostKeys pins a machine's SSH host key in a file in known_hosts format,
// so that plain OpenSSH can use the same file (UserKnownHostsFile). The
// first key a machine offers is written there; later connections must
// offer the same key, whatever address the machine is reached at.
type HostKeys struct {
	Machine string // machine name, for messages
	Path    string // the known_hosts file, usually in the machine folder

	mu sync.Mutex
}

type pinnedEntry struct {
	hosts []string
	key   ssh.PublicKey
}

// Pinned returns the pinned keys, or none when nothing is pinned yet.
func (h *HostKeys) Pinned() ([]ssh.PublicKey, error) {
	entries, err := h.read()
	if err != nil {
		return nil, err
	}
	keys := make([]ssh.PublicKey, len(entries))
	for i, e := range entries {
		keys[i] = e.key
	}
	return keys, nil
}

// Forget removes the pinned key, so that the next connection pins the key
// the machine offers then. Forgetting an unpinned machine is not an error.
func (h *HostKeys) Forget() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if err := os.Remove(h.Path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("forget host key of machine %q: %w", h.Machine, err)
	}
	return nil
}

// Algorithms returns the host key algorithms a client should ask for: the
// pinned key's when there is one (so the server presents that key), else
// ed25519 first.
func (h *HostKeys) Algorithms() []string {
	entries, err := h.read()
	if err != nil || len(entries) == 0 {
		return []string{ssh.KeyAlgoED25519, ssh.KeyAlgoECDSA256, ssh.KeyAlgoECDSA384, ssh.KeyAlgoECDSA521,
			ssh.KeyAlgoRSASHA512, ssh.KeyAlgoRSASHA256}
	}
	var algos []string
	for _, e := range entries {
		for _, a := range algorithmsFor(e.key.Type()) {
			if !slices.Contains(algos, a) {
				algos = append(algos, a)
			}
		}
	}
	return algos
}

func algorithmsFor(keyType string) []string {
	if keyType == ssh.KeyAlgoRSA {
		return []string{ssh.KeyAlgoRSASHA512, ssh.KeyAlgoRSASHA256}
	}
	return []string{keyType}
}

// Callback is the ssh.HostKeyCallback that pins at first contact and
// refuses a changed key with *HostKeyChangedError.
func (h *HostKeys) Callback() ssh.HostKeyCallback {
	return func(hostname string, _ net.Addr, key ssh.PublicKey) error {
		h.mu.Lock()
		defer h.mu.Unlock()
		entries, err := h.read()
		if err != nil {
			return err
		}
		addr := knownhosts.Normalize(hostname)
		if len(entries) == 0 {
			return h.write([]pinnedEntry{{hosts: []string{addr}, key: key}})
		}
		for i, e := range entries {
			if !keysEqual(e.key, key) {
				continue
			}
			if slices.Contains(e.hosts, addr) {
				return nil
			}
			// Same machine, new address (its forwarded port moved): add
			// the address so that OpenSSH finds the key too.
			hosts := append([]string{addr}, e.hosts...)
			if len(hosts) > maxPinnedAddresses {
				hosts = hosts[:maxPinnedAddresses]
			}
			entries[i].hosts = hosts
			return h.write(entries)
		}
		return &HostKeyChangedError{Machine: h.Machine, Path: h.Path, Address: hostname, Pinned: entries[0].key, Offered: key}
	}
}

func (h *HostKeys) read() ([]pinnedEntry, error) {
	data, err := os.ReadFile(h.Path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read pinned host key of machine %q: %w", h.Machine, err)
	}
	var entries []pinnedEntry
	rest := data
	for len(bytes.TrimSpace(rest)) > 0 {
		var hosts []string
		var key ssh.PublicKey
		var marker string
		marker, hosts, key, _, rest, err = ssh.ParseKnownHosts(rest)
		if err != nil {
			if errors.Is(err, io.EOF) { // only comments left
				break
			}
			return nil, fmt.Errorf("read pinned host key of machine %q from %s: %w (run \"berth regenerate-host-key %s\" to pin the key anew)",
				h.Machine, h.Path, err, h.Machine)
		}
		if marker != "" {
			continue
		}
		entries = append(entries, pinnedEntry{hosts: hosts, key: key})
	}
	return entries, nil
}

func (h *HostKeys) write(entries []pinnedEntry) error {
	var b strings.Builder
	for _, e := range entries {
		b.WriteString(knownhosts.Line(e.hosts, e.key))
		b.WriteByte('\n')
	}
	if err := atomicfile.Write(h.Path, []byte(b.String()), atomicfile.Sync()); err != nil {
		return fmt.Errorf("pin host key of machine %q: %w", h.Machine, err)
	}
	return nil
}
