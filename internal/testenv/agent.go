package testenv

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"
)

// agentPkg is the agent's main package, relative to the repository.
const agentPkg = "./cmd/berth-agent"

// Agent returns a berth-agent built from this repository for Linux on this
// machine's architecture (static: CGO_ENABLED=0), reporting version as its
// version. It is for TestMain; tests call NeedAgent.
//
// The build is shared: it lives in os.TempDir()/berth-test-agent-<hash of
// the agent's source>, made under a file lock, so the test packages of one
// `go test ./...` build each version once between them, and later runs
// reuse it while the source is the same.
func Agent(version string) (string, error) {
	return AgentFor(version, runtime.GOARCH)
}

// AgentFor is Agent for the machine architecture goarch (amd64, arm64).
func AgentFor(version, goarch string) (string, error) {
	root, err := repoRoot()
	if err != nil {
		return "", err
	}
	dir, err := agentDir(root)
	if err != nil {
		return "", err
	}
	unlock, err := lockFile(filepath.Join(dir, ".lock"))
	if err != nil {
		return "", err
	}
	defer unlock()
	bin := filepath.Join(dir, "berth-agent-"+version)
	if goarch != runtime.GOARCH {
		bin += "-" + goarch
	}
	if _, err := os.Stat(bin); err == nil {
		return bin, nil
	}
	tmp := fmt.Sprintf("%s.%d.tmp", bin, os.Getpid())
	build := exec.Command("go", "build", "-trimpath",
		"-ldflags", "-s -w -X github.com/berthvm/berth/internal/version.Version="+version, "-o", tmp, agentPkg)
	build.Dir = root
	build.Env = append(agentEnv(), "GOARCH="+goarch)
	if out, err := build.CombinedOutput(); err != nil {
		os.Remove(tmp)
		return "", fmt.Errorf("build berth-agent %s: %w\n%s", version, err, out)
	}
	// The rename makes a whole binary appear at once, also where lockFile
	// cannot lock.
	if err := os.Rename(tmp, bin); err != nil {
		return "", fmt.Errorf("build berth-agent %s: %w", version, err)
	}
	return bin, nil
}

// NeedAgent is Agent for a test: it fails t when the agent does not build.
func NeedAgent(t testing.TB, version string) string {
	t.Helper()
	bin, err := Agent(version)
	if err != nil {
		t.Fatal(err)
	}
	return bin
}

// agentEnv is the environment the agent is listed and built in.
func agentEnv() []string {
	return append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+runtime.GOARCH)
}

var sourceHash struct {
	once sync.Once
	sum  string
	err  error
}

// agentDir returns the folder of the agent builds of the source in root
// (made when missing, marked used now) and removes those of other
// sources unused for a day.
func agentDir(root string) (string, error) {
	sourceHash.once.Do(func() { sourceHash.sum, sourceHash.err = agentSourceHash(root) })
	if sourceHash.err != nil {
		return "", sourceHash.err
	}
	const prefix = "berth-test-agent-"
	dir := filepath.Join(os.TempDir(), prefix+sourceHash.sum)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("agent build folder: %w", err)
	}
	now := time.Now()
	os.Chtimes(dir, now, now)
	old, _ := filepath.Glob(filepath.Join(os.TempDir(), prefix+"*"))
	for _, o := range old {
		if fi, err := os.Stat(o); err == nil && o != dir && now.Sub(fi.ModTime()) > 24*time.Hour {
			os.RemoveAll(o)
		}
	}
	return dir, nil
}

// agentSourceHash hashes what the agent is built from: the Go toolchain,
// the versions of the modules it uses and the files of this repository's
// packages it imports (go list -deps).
func agentSourceHash(root string) (string, error) {
	list := exec.Command("go", "list", "-deps", "-json=ImportPath,Dir,Standard,Module,GoFiles,SFiles,EmbedFiles", agentPkg)
	list.Dir = root
	list.Env = agentEnv()
	var stderr bytes.Buffer
	list.Stderr = &stderr
	out, err := list.Output()
	if err != nil {
		return "", fmt.Errorf("list the agent's packages: %w\n%s", err, stderr.Bytes())
	}
	h := sha256.New()
	fmt.Fprintln(h, runtime.Version(), runtime.GOARCH)
	gomod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		return "", err
	}
	h.Write(gomod)
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p struct {
			ImportPath, Dir string
			Standard        bool
			Module          *struct {
				Path, Version string
				Replace       *struct{ Path, Version string }
			}
			GoFiles, SFiles, EmbedFiles []string
		}
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return "", fmt.Errorf("list the agent's packages: %w", err)
		}
		if p.Standard {
			continue // part of the toolchain
		}
		fmt.Fprintln(h, p.ImportPath)
		if m := p.Module; m != nil && m.Version != "" && (m.Replace == nil || m.Replace.Version != "") {
			// From the module cache, which does not change.
			fmt.Fprintln(h, m.Path, m.Version)
			if m.Replace != nil {
				fmt.Fprintln(h, m.Replace.Path, m.Replace.Version)
			}
			continue
		}
		for _, f := range append(append(p.GoFiles, p.SFiles...), p.EmbedFiles...) {
			b, err := os.ReadFile(filepath.Join(p.Dir, f))
			if err != nil {
				return "", err
			}
			fmt.Fprintf(h, "%s %d\n", f, len(b))
			h.Write(b)
		}
	}
	return hex.EncodeToString(h.Sum(nil))[:16], nil
}

// repoRoot returns the repository's top folder (where go.mod is), above
// the current folder.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("go.mod not found above the test's folder")
		}
		dir = parent
	}
}
