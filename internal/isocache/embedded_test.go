package isocache

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/berthvm/berth/internal/isoembed"
	"github.com/berthvm/berth/internal/testenv"
)

// The tests of this package find no ISO embedded unless they put one.
func init() {
	embeddedISO = func() (*isoembed.ISO, error) { return nil, isoembed.ErrNotEmbedded }
	embeddedInfo = embeddedISO
}

func embedFake(t *testing.T, iso []byte, sum, id string) {
	t.Helper()
	var gz bytes.Buffer
	w := gzip.NewWriter(&gz)
	w.Write(iso)
	w.Close()
	fsys := fstest.MapFS{
		"files/amd64/berth-os.iso.gz":     {Data: gz.Bytes()},
		"files/amd64/berth-os.iso.sha256": {Data: []byte(sum + " " + id + "\n")},
	}
	old, oldInfo := embeddedISO, embeddedInfo
	embeddedISO = func() (*isoembed.ISO, error) { return isoembed.Load(fsys, "amd64") }
	embeddedInfo = func() (*isoembed.ISO, error) { return isoembed.LoadInfo(fsys, "amd64") }
	t.Cleanup(func() { embeddedISO, embeddedInfo = old, oldInfo })
}

func TestEmbeddedISO(t *testing.T) {
	t.Setenv("BERTH_ISO", "")
	iso := testenv.FakeISO("berth-os-v9.9.9", 40000)
	s := sha256.Sum256(iso)
	embedFake(t, iso, hex.EncodeToString(s[:]), "berth-os-v9.9.9")
	c := &Cache{Dir: t.TempDir(), SearchFrom: []string{t.TempDir()}}
	got, err := c.Default(t.Context())
	if err != nil || filepath.Base(got) != "berth-os-v9.9.9.iso" {
		t.Fatalf("Default = %s, %v; want the embedded ISO in the cache", got, err)
	}
	if b, _ := os.ReadFile(got); !bytes.Equal(b, iso) {
		t.Error("the cached copy differs from the embedded ISO")
	}
	// An arm64 machine does not get the amd64 ISO berth carries.
	t.Setenv(ReleaseEnv, "http://127.0.0.1:1")
	arm := &Cache{Dir: c.Dir, SearchFrom: c.SearchFrom, Arch: "arm64"}
	if got, err := arm.Default(t.Context()); err == nil {
		t.Errorf("Default for arm64 = %s, want an error (no arm64 ISO anywhere)", got)
	}
}

func TestEmbeddedISODamaged(t *testing.T) {
	iso := testenv.FakeISO("berth-os-v9.9.9", 40000)
	embedFake(t, iso, strings.Repeat("0", 64), "berth-os-v9.9.9")
	c := &Cache{Dir: t.TempDir(), SearchFrom: []string{t.TempDir()}}
	_, err := c.Default(t.Context())
	if err == nil || !strings.Contains(err.Error(), "checksum mismatch") {
		t.Fatalf("Default with a damaged embedded ISO = %v, want a checksum mismatch", err)
	}
	if left, _ := os.ReadDir(c.Dir); len(left) != 0 {
		t.Errorf("a damaged embedded ISO left %v in the cache", left)
	}
}

func TestReleaseURL(t *testing.T) {
	t.Setenv(ReleaseEnv, "")
	if got := ReleaseURL("arm64"); !strings.HasPrefix(got, ReleaseBase) || !strings.HasSuffix(got, "/berth-os-arm64.iso") {
		t.Errorf("ReleaseURL(arm64) = %s", got)
	}
	t.Setenv(ReleaseEnv, "http://127.0.0.1:8080/dist/")
	if got := ReleaseURL(""); got != "http://127.0.0.1:8080/dist/berth-os-amd64.iso" {
		t.Errorf("ReleaseURL() with %s set = %s", ReleaseEnv, got)
	}
}
