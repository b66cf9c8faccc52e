package hostagent

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
)

// The host agent's files in a machine folder.
const (
	PidFile    = "hostagent.pid"  // its process id
	LogFile    = "hostagent.log"  // what it logs
	StatusFile = "hostagent.json" // its Status
	LockFile   = "hostagent.lock" // held while it runs
	SocketFile = "docker.sock"    // the Docker API socket, or a link to it
)

// maxSocketPath is the longest unix socket path every host takes: macOS
// allows 104 bytes with the final NUL, Linux 108.
const maxSocketPath = 103

// SocketPath is where the host agent of the machine in dir listens: the
// socket in the machine folder, or, when that path is too long for a unix
// socket, a short one in the temporary folder, named by a hash of dir (the
// folder's docker.sock is then a link to it). On Windows it is a named
// pipe.
func SocketPath(dir string) string {
	if runtime.GOOS == "windows" {
		return `\\.\pipe\berth-` + shortName(dir)
	}
	p := filepath.Join(dir, SocketFile)
	if len(p) <= maxSocketPath {
		return p
	}
	return filepath.Join(shortDir(), shortName(dir)+".sock")
}

// Endpoint is the DOCKER_HOST value of the host agent of the machine in
// dir.
func Endpoint(dir string) string {
	if runtime.GOOS == "windows" {
		return "npipe:////./pipe/berth-" + shortName(dir)
	}
	return "unix://" + SocketPath(dir)
}

// shortDir is a folder only this user can enter, for sockets whose paths
// in the machine folder are too long.
func shortDir() string {
	base := "/tmp"
	if d := os.Getenv("TMPDIR"); d != "" && len(d) < 60 {
		base = d
	}
	return filepath.Join(base, fmt.Sprintf("berth-%d", os.Getuid()))
}

func shortName(dir string) string {
	abs, err := filepath.Abs(dir)
	if err != nil {
		abs = dir
	}
	sum := sha256.Sum256([]byte(abs))
	return hex.EncodeToString(sum[:6])
}
