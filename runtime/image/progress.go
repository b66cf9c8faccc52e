package image

import (
	"io"
	"strings"
	"sync"
	"time"
)

// Progress is one step of a pull or load, shaped like Docker's JSON
// progress messages (status, id, progressDetail).
type Progress struct {
	ID      string // a layer's short digest, a tag, or empty
	Status  string
	Current int64
	Total   int64
}

// ProgressFunc receives progress; it may be nil. Calls are serialized.
type ProgressFunc func(Progress)

// reporter serializes calls to a ProgressFunc.
type reporter struct {
	mu sync.Mutex
	fn ProgressFunc
}

func (r *reporter) send(p Progress) {
	if r == nil || r.fn == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.fn(p)
}

// ShortID is the 12-hex-digit form docker shows for IDs and layers.
func ShortID(digest string) string {
	h := strings.TrimPrefix(digest, "sha256:")
	if len(h) > 12 {
		return h[:12]
	}
	return h
}

// progressReader reports bytes read at most every 100 ms.
type progressReader struct {
	r      io.Reader
	rep    *reporter
	id     string
	status string
	total  int64
	n      int64
	last   time.Time
}

func (p *progressReader) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	p.n += int64(n)
	if now := time.Now(); now.Sub(p.last) > 100*time.Millisecond {
		p.last = now
		p.rep.send(Progress{ID: p.id, Status: p.status, Current: p.n, Total: p.total})
	}
	return n, err
}
