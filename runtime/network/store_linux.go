package network

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"

	"github.com/berthvm/berth/internal/atomicfile"
)

// Files in a network's folder.
const (
	configFile    = "network.json"
	endpointsFile = "endpoints.json"
	lockFile      = "lock"
)

// endpoints is endpoints.json: the addresses in use, by container id.
type endpoints struct {
	Endpoints map[string]Endpoint `json:"Endpoints"`
}

// locked runs fn holding the network folder's lock: the agent and every
// container monitor change the network, each in its own process.
func locked(dir string, fn func() error) error {
	f, err := os.OpenFile(filepath.Join(dir, lockFile), os.O_RDWR|os.O_CREATE|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return fmt.Errorf("open network lock: %w", err)
	}
	defer f.Close()
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX); err != nil {
		return fmt.Errorf("lock network folder: %w", err)
	}
	defer unix.Flock(int(f.Fd()), unix.LOCK_UN)
	return fn()
}

func readStore(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("parse %s (remove it to start over): %w", path, err)
	}
	return nil
}

// writeStore replaces path atomically: temp file, rename. There is no
// fsync: after a power loss no container runs any more and the agent's
// Prune at start forgets their addresses anyway; it would cost every
// container start and stop milliseconds.
func writeStore(path string, v any) error { return atomicfile.WriteJSON(path, v) }

func (n *Network) loadEndpoints() (endpoints, error) {
	eps := endpoints{Endpoints: map[string]Endpoint{}}
	err := readStore(filepath.Join(n.dir, endpointsFile), &eps)
	if errors.Is(err, os.ErrNotExist) {
		err = nil
	}
	if eps.Endpoints == nil {
		eps.Endpoints = map[string]Endpoint{}
	}
	return eps, err
}

func (n *Network) saveEndpoints(eps endpoints) error {
	return writeStore(filepath.Join(n.dir, endpointsFile), eps)
}
