package isocache

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"

	"github.com/berthvm/berth/internal/testenv"
)

// TestDefaultVolumeID follows Default's order ($BERTH_ISO, a build, the
// embedded ISO, the cache) and touches nothing: the cache stays empty.
func TestDefaultVolumeID(t *testing.T) {
	t.Setenv("BERTH_ISO", "")
	t.Setenv("BERTH_ISO_URL", "")
	cacheDir := filepath.Join(t.TempDir(), "cache")
	c := &Cache{Dir: cacheDir, SearchFrom: []string{t.TempDir()}}
	check := func(what, want string) {
		t.Helper()
		got, err := c.DefaultVolumeID()
		if err != nil || got != want {
			t.Errorf("%s: DefaultVolumeID = %q, %v; want %q", what, got, err, want)
		}
	}
	check("nothing anywhere", "")

	os.MkdirAll(cacheDir, 0o700)
	os.WriteFile(filepath.Join(cacheDir, "berth-os-v0.1.0.iso"), testenv.FakeISO("berth-os-v0.1.0", 40000), 0o644)
	os.WriteFile(filepath.Join(cacheDir, "berth-os-v0.1.2.iso"), testenv.FakeISO("berth-os-v0.1.2", 40000), 0o644)
	os.WriteFile(filepath.Join(cacheDir, "berth-os-v0.9.0-arm64.iso"), testenv.FakeISO("berth-os-v0.9.0-arm64", 40000), 0o644)
	check("the newest cached", "berth-os-v0.1.2")
	arm := &Cache{Dir: cacheDir, SearchFrom: c.SearchFrom, Arch: "arm64"}
	if got, _ := arm.DefaultVolumeID(); got != "berth-os-v0.9.0-arm64" {
		t.Errorf("arm64: DefaultVolumeID = %q", got)
	}

	iso := testenv.FakeISO("berth-os-v0.2.0", 40000)
	s := sha256.Sum256(iso)
	embedFake(t, iso, hex.EncodeToString(s[:]), "berth-os-v0.2.0")
	check("embedded", "berth-os-v0.2.0")
	if got, _ := arm.DefaultVolumeID(); got != "berth-os-v0.9.0-arm64" {
		t.Errorf("arm64 with an amd64 ISO embedded: DefaultVolumeID = %q", got)
	}

	repo := t.TempDir()
	os.MkdirAll(filepath.Join(repo, "build"), 0o755)
	os.WriteFile(filepath.Join(repo, BuildPathOf("amd64")), testenv.FakeISO("berth-os-v0.3.0", 40000), 0o644)
	c.SearchFrom = []string{repo}
	check("a build", "berth-os-v0.3.0")

	env := filepath.Join(t.TempDir(), "x.iso")
	os.WriteFile(env, testenv.FakeISO("berth-os-v0.4.0", 40000), 0o644)
	t.Setenv("BERTH_ISO", env)
	check("$BERTH_ISO", "berth-os-v0.4.0")
	t.Setenv("BERTH_ISO", "https://example.com/berth-os.iso")
	check("$BERTH_ISO as a URL", "")

	entries, _ := os.ReadDir(cacheDir)
	if len(entries) != 3 {
		t.Errorf("the cache holds %d files, want the 3 the test put there", len(entries))
	}
}

func TestVersionOf(t *testing.T) {
	for id, want := range map[string]string{
		"berth-os-v0.1.0":       "v0.1.0",
		"berth-os-v0.1.0-arm64": "v0.1.0",
		"cidata":                "",
		"berth-os-":             "",
	} {
		if got := VersionOf(id); got != want {
			t.Errorf("VersionOf(%q) = %q, want %q", id, got, want)
		}
	}
}
