package isocache

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/berthvm/berth/internal/testenv"
)

func sum(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func TestVolumeID(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.iso")
	os.WriteFile(good, testenv.FakeISO("berth-os-v0.1.0", 40000), 0o644)
	short := filepath.Join(dir, "short.iso")
	os.WriteFile(short, []byte("hello"), 0o644)
	plain := filepath.Join(dir, "plain.iso")
	os.WriteFile(plain, make([]byte, 40000), 0o644)

	tests := []struct {
		path    string
		want    string
		wantErr string
	}{
		{good, "berth-os-v0.1.0", ""},
		{short, "", "too short"},
		{plain, "", "not an ISO 9660 image"},
		{filepath.Join(dir, "missing.iso"), "", "no such file"},
	}
	for _, tt := range tests {
		got, err := VolumeID(tt.path)
		if got != tt.want || (tt.wantErr == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tt.wantErr)) {
			t.Errorf("VolumeID(%s) = %q, %v; want %q, error containing %q", filepath.Base(tt.path), got, err, tt.want, tt.wantErr)
		}
	}
}

func TestVersionLess(t *testing.T) {
	tests := []struct {
		a, b string
		want bool
	}{
		{"v0.2.9", "v0.2.10", true},
		{"v0.2.10", "v0.2.9", false},
		{"v1.0.0", "v1.0.0", false},
		{"v1.0", "v1.0.1", true},
		{"v0.1.0-rc1", "v0.1.0-rc2", true},
	}
	for _, tt := range tests {
		if got := versionLess(tt.a, tt.b); got != tt.want {
			t.Errorf("versionLess(%q, %q) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
}

// server serves an ISO and, when withSum, its .sha256 file, counting the
// ISO requests.
func server(t *testing.T, iso []byte, sumFile string) (*httptest.Server, *atomic.Int32) {
	var hits atomic.Int32
	mux := http.NewServeMux()
	mux.HandleFunc("/berth-os.iso", func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Header().Set("Content-Length", strconv.Itoa(len(iso)))
		w.Write(iso)
	})
	mux.HandleFunc("/berth-os.iso.sha256", func(w http.ResponseWriter, r *http.Request) {
		if sumFile == "" {
			http.NotFound(w, r)
			return
		}
		w.Write([]byte(sumFile))
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv, &hits
}

func TestDownloadOnceWithProgress(t *testing.T) {
	iso := testenv.FakeISO("berth-os-v0.3.0", 3<<20)
	srv, hits := server(t, iso, sum(iso)+"  berth-os.iso\n")
	var reports []Progress
	c := &Cache{Dir: filepath.Join(t.TempDir(), "cache"), Progress: func(p Progress) { reports = append(reports, p) }}
	ctx := context.Background()

	got, err := c.Resolve(ctx, srv.URL+"/berth-os.iso")
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(c.Dir, "berth-os-v0.3.0.iso"); got != want {
		t.Errorf("Resolve = %s, want %s", got, want)
	}
	if b, _ := os.ReadFile(got); sum(b) != sum(iso) {
		t.Error("cached file differs from the served ISO")
	}
	if len(reports) == 0 {
		t.Fatal("no progress reported")
	}
	last := reports[len(reports)-1]
	if !last.Final || last.Done != int64(len(iso)) || last.Total != int64(len(iso)) || last.Speed <= 0 {
		t.Errorf("last progress = %+v, want final, %d of %d bytes, a speed", last, len(iso), len(iso))
	}

	again, err := c.Resolve(ctx, srv.URL+"/berth-os.iso")
	if err != nil || again != got {
		t.Errorf("second Resolve = %s, %v; want %s", again, err, got)
	}
	if n := hits.Load(); n != 1 {
		t.Errorf("the ISO was fetched %d times, want once", n)
	}
	// The downloaded ISO is now the default one too.
	t.Setenv("BERTH_ISO", "")
	t.Setenv("BERTH_ISO_URL", "")
	c.SearchFrom = []string{t.TempDir()}
	if def, err := c.Default(ctx); err != nil || def != got {
		t.Errorf("Default = %s, %v; want %s", def, err, got)
	}
}

func TestDownloadChecksumFromFragment(t *testing.T) {
	iso := testenv.FakeISO("berth-os-v0.4.0", 40000)
	srv, _ := server(t, iso, "")
	c := &Cache{Dir: t.TempDir()}
	got, err := c.Download(context.Background(), srv.URL+"/berth-os.iso#sha256="+sum(iso))
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Base(got) != "berth-os-v0.4.0.iso" {
		t.Errorf("Download = %s, want berth-os-v0.4.0.iso", got)
	}
}

func TestDownloadRefused(t *testing.T) {
	iso := testenv.FakeISO("berth-os-v0.5.0", 40000)
	tests := []struct {
		name    string
		sumFile string
		wantErr string
	}{
		{"wrong checksum", sum([]byte("other")) + "  berth-os.iso\n", "checksum mismatch"},
		{"no checksum", "", "publish the .sha256 file"},
		{"garbage checksum", "hello\n", "not a sha256"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, _ := server(t, iso, tt.sumFile)
			c := &Cache{Dir: t.TempDir()}
			got, err := c.Download(context.Background(), srv.URL+"/berth-os.iso")
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Download = %s, %v; want an error containing %q", got, err, tt.wantErr)
			}
			left, _ := filepath.Glob(filepath.Join(c.Dir, "*"))
			hidden, _ := filepath.Glob(filepath.Join(c.Dir, ".*"))
			if len(left)+len(hidden) != 0 {
				t.Errorf("the cache holds %v %v after a refused download, want nothing", left, hidden)
			}
		})
	}
}

func TestDefaultFindsBuildAndImportsIt(t *testing.T) {
	t.Setenv("BERTH_ISO", "")
	t.Setenv("BERTH_ISO_URL", "")
	repo := t.TempDir()
	os.MkdirAll(filepath.Join(repo, "build"), 0o755)
	os.MkdirAll(filepath.Join(repo, "bin"), 0o755)
	built := filepath.Join(repo, BuildPath)
	os.WriteFile(built, testenv.FakeISO("berth-os-v0.6.0", 40000), 0o644)
	c := &Cache{Dir: filepath.Join(t.TempDir(), "cache"), SearchFrom: []string{filepath.Join(repo, "bin")}}

	got, err := c.Default(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(c.Dir, "berth-os-v0.6.0.iso"); got != want {
		t.Errorf("Default = %s, want %s", got, want)
	}
	// A rebuilt ISO of the same version replaces the cached copy.
	os.WriteFile(built, testenv.FakeISO("berth-os-v0.6.0", 50000), 0o644)
	later := time.Now().Add(time.Minute)
	os.Chtimes(built, later, later)
	if _, err := c.Default(context.Background()); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(got); fi.Size() != 50000 {
		t.Errorf("cached copy has %d bytes after a rebuild, want 50000", fi.Size())
	}
}

func TestDefaultNothingFound(t *testing.T) {
	t.Setenv("BERTH_ISO", "")
	t.Setenv("BERTH_ISO_URL", "")
	t.Setenv(ReleaseEnv, "http://127.0.0.1:1") // nothing answers there
	c := &Cache{Dir: t.TempDir(), SearchFrom: []string{t.TempDir()}}
	_, err := c.Default(context.Background())
	if !errors.Is(err, ErrNoISO) {
		t.Fatalf("Default error = %v, want ErrNoISO", err)
	}
}

func TestResolvePath(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "x.iso")
	os.WriteFile(p, testenv.FakeISO("berth-os-v1", 40000), 0o644)
	c := &Cache{Dir: t.TempDir()}
	if got, err := c.Resolve(context.Background(), p); err != nil || got != p {
		t.Errorf("Resolve(%s) = %s, %v", p, got, err)
	}
	_, err := c.Resolve(context.Background(), filepath.Join(dir, "missing.iso"))
	if !errors.Is(err, ErrNoISO) || !strings.Contains(err.Error(), "missing.iso does not exist") {
		t.Errorf("Resolve(missing) error = %v, want one naming the file and wrapping ErrNoISO", err)
	}
}
