package isocache

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/berthvm/berth/internal/atomicfile"
)

// Progress is the state of a download.
type Progress struct {
	Done  int64         // bytes received
	Total int64         // bytes expected; -1 when the server did not say
	Speed float64       // bytes per second so far
	ETA   time.Duration // time left; -1 when unknown
	Final bool          // the last report of this download
}

// indexName is the cache file that maps downloaded URLs to cached files.
const indexName = "downloads.json"

// indexEntry is one downloaded URL.
type indexEntry struct {
	File   string `json:"file"` // name in the cache folder
	SHA256 string `json:"sha256"`
}

// Download fetches the ISO at rawURL into the cache, once: a later call
// with the same URL returns the cached file without the network. The
// SHA-256 comes from the URL's fragment ("#sha256=HEX") or from the file
// next to it (URL + ".sha256"); a download that does not match it is
// thrown away.
func (c *Cache) Download(ctx context.Context, rawURL string) (string, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "", fmt.Errorf("download iso: %w", err)
	}
	key := rawURL
	index, err := c.readIndex()
	if err != nil {
		return "", err
	}
	if e, ok := index[key]; ok {
		p := filepath.Join(c.Dir, e.File)
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	want, err := c.wantSum(ctx, u)
	if err != nil {
		return "", err
	}
	u.Fragment = ""
	if err := os.MkdirAll(c.Dir, 0o700); err != nil {
		return "", fmt.Errorf("download iso: %w", err)
	}
	tmp, got, err := c.fetch(ctx, u.String())
	if err != nil {
		return "", fmt.Errorf("download iso %s: %w", u, err)
	}
	defer os.Remove(tmp)
	if got != want {
		return "", fmt.Errorf("download iso %s: checksum mismatch: got sha256 %s, want %s (the download is damaged or the file changed; it was not kept)", u, got, want)
	}
	id, err := VolumeID(tmp)
	if err != nil {
		return "", fmt.Errorf("download iso %s: %w", u, err)
	}
	name := cacheName(id)
	dst := filepath.Join(c.Dir, name)
	if err := os.Chmod(tmp, 0o644); err != nil {
		return "", fmt.Errorf("download iso: %w", err)
	}
	if err := os.Rename(tmp, dst); err != nil {
		return "", fmt.Errorf("download iso: %w", err)
	}
	index[key] = indexEntry{File: name, SHA256: got}
	if err := c.writeIndex(index); err != nil {
		return "", err
	}
	return dst, nil
}

func (c *Cache) client() *http.Client {
	if c.Client != nil {
		return c.Client
	}
	return http.DefaultClient
}

// wantSum finds the expected SHA-256 of the file at u.
func (c *Cache) wantSum(ctx context.Context, u *url.URL) (string, error) {
	if v, ok := strings.CutPrefix(u.Fragment, "sha256="); ok {
		return checkHex(v, "the url's #sha256= fragment")
	}
	sumURL := *u
	sumURL.Fragment = ""
	sumURL.Path += ".sha256"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, sumURL.String(), nil)
	if err != nil {
		return "", fmt.Errorf("download iso checksum: %w", err)
	}
	resp, err := c.client().Do(req)
	if err != nil {
		return "", fmt.Errorf("download iso checksum: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("download iso checksum %s: %s (publish the .sha256 file next to the ISO or add #sha256=HEX to the url)", sumURL.String(), resp.Status)
	}
	line, err := bufio.NewReader(io.LimitReader(resp.Body, 4096)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("download iso checksum %s: %w", sumURL.String(), err)
	}
	fields := strings.Fields(line)
	if len(fields) == 0 {
		return "", fmt.Errorf("download iso checksum %s: the file is empty", sumURL.String())
	}
	return checkHex(fields[0], sumURL.String())
}

func checkHex(v, from string) (string, error) {
	v = strings.ToLower(v)
	if b, err := hex.DecodeString(v); err != nil || len(b) != sha256.Size {
		return "", fmt.Errorf("download iso: %s holds %q, not a sha256 in hex", from, v)
	}
	return v, nil
}

// fetch downloads rawURL into a temporary file in the cache and returns
// its path and SHA-256.
func (c *Cache) fetch(ctx context.Context, rawURL string) (path, sum string, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return "", "", err
	}
	resp, err := c.client().Do(req)
	if err != nil {
		return "", "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", "", fmt.Errorf("server answered %s", resp.Status)
	}
	tmp, err := os.CreateTemp(c.Dir, ".download-*")
	if err != nil {
		return "", "", err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	h := sha256.New()
	pr := &progressWriter{total: resp.ContentLength, start: time.Now(), report: c.Progress}
	if _, err := io.Copy(io.MultiWriter(tmp, h, pr), resp.Body); err != nil {
		return "", "", err
	}
	pr.finish()
	if resp.ContentLength >= 0 && pr.done != resp.ContentLength {
		return "", "", fmt.Errorf("got %d bytes, want %d", pr.done, resp.ContentLength)
	}
	if err := tmp.Close(); err != nil {
		return "", "", err
	}
	return tmp.Name(), hex.EncodeToString(h.Sum(nil)), nil
}

// progressWriter counts bytes and reports progress at most every 200 ms.
type progressWriter struct {
	total  int64
	done   int64
	start  time.Time
	last   time.Time
	report func(Progress)
}

const reportEvery = 200 * time.Millisecond

func (p *progressWriter) Write(b []byte) (int, error) {
	p.done += int64(len(b))
	if p.report != nil && time.Since(p.last) >= reportEvery {
		p.last = time.Now()
		p.report(p.progress(false))
	}
	return len(b), nil
}

func (p *progressWriter) finish() {
	if p.report != nil {
		p.report(p.progress(true))
	}
}

func (p *progressWriter) progress(final bool) Progress {
	pr := Progress{Done: p.done, Total: p.total, ETA: -1, Final: final}
	if el := time.Since(p.start).Seconds(); el > 0 {
		pr.Speed = float64(p.done) / el
	}
	if p.total > 0 && pr.Speed > 0 {
		pr.ETA = time.Duration(float64(p.total-p.done) / pr.Speed * float64(time.Second))
	}
	if final {
		pr.ETA = 0
	}
	return pr
}

func (c *Cache) readIndex() (map[string]indexEntry, error) {
	index := map[string]indexEntry{}
	b, err := os.ReadFile(filepath.Join(c.Dir, indexName))
	if errors.Is(err, os.ErrNotExist) {
		return index, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read iso cache index: %w", err)
	}
	if err := json.Unmarshal(b, &index); err != nil {
		// A damaged index only costs a download.
		return map[string]indexEntry{}, nil
	}
	return index, nil
}

func (c *Cache) writeIndex(index map[string]indexEntry) error {
	if err := atomicfile.WriteJSON(filepath.Join(c.Dir, indexName), index); err != nil {
		return fmt.Errorf("write iso cache index: %w", err)
	}
	return nil
}
