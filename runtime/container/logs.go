package container

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"os"
	"sync"
	"time"
)

// LogEntry is one line of a container's log file (Docker's json-file
// format: one JSON object per line of output).
type LogEntry struct {
	Log    string    `json:"log"`
	Stream string    `json:"stream"` // "stdout" or "stderr"
	Time   time.Time `json:"time"`
}

// logWriter appends a container's output to its log file, one entry per
// line per stream.
type logWriter struct {
	mu      sync.Mutex
	f       *os.File
	partial map[string][]byte
}

func openLogWriter(path string) (*logWriter, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return nil, err
	}
	return &logWriter{f: f, partial: map[string][]byte{}}, nil
}

// write logs p as output of stream; incomplete lines wait for their end.
func (w *logWriter) write(stream string, p []byte) {
	w.mu.Lock()
	defer w.mu.Unlock()
	buf := append(w.partial[stream], p...)
	var out bytes.Buffer
	now := time.Now().UTC()
	for {
		i := bytes.IndexByte(buf, '\n')
		if i < 0 {
			break
		}
		w.entry(&out, stream, buf[:i+1], now)
		buf = buf[i+1:]
	}
	if len(buf) >= 16<<10 {
		w.entry(&out, stream, buf, now)
		buf = nil
	}
	w.partial[stream] = append([]byte(nil), buf...)
	w.f.Write(out.Bytes())
}

func (w *logWriter) entry(out *bytes.Buffer, stream string, line []byte, t time.Time) {
	b, _ := json.Marshal(LogEntry{Log: string(line), Stream: stream, Time: t})
	out.Write(b)
	out.WriteByte('\n')
}

// flush writes every incomplete line.
func (w *logWriter) flush() {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out bytes.Buffer
	for s, buf := range w.partial {
		if len(buf) > 0 {
			w.entry(&out, s, buf, time.Now().UTC())
		}
		delete(w.partial, s)
	}
	w.f.Write(out.Bytes())
}

func (w *logWriter) close() error {
	w.flush()
	return w.f.Close()
}

// LogOptions select what ReadLogs returns.
type LogOptions struct {
	Stdout, Stderr bool
	Since, Until   time.Time // zero: no bound
	Tail           int       // < 0: all
	Follow         bool
}

// readLogEntries decodes the entries of r that opts selects (Follow aside).
func readLogEntries(r io.Reader, opts LogOptions) ([]LogEntry, int64, error) {
	br := bufio.NewReader(r)
	var out []LogEntry
	var consumed int64
	for {
		line, err := br.ReadBytes('\n')
		if len(line) > 0 && line[len(line)-1] == '\n' {
			consumed += int64(len(line))
			var e LogEntry
			if json.Unmarshal(line, &e) == nil && opts.wants(e) {
				out = append(out, e)
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, consumed, err
		}
	}
	if opts.Tail >= 0 && len(out) > opts.Tail {
		out = out[len(out)-opts.Tail:]
	}
	return out, consumed, nil
}

func (o LogOptions) wants(e LogEntry) bool {
	if e.Stream == "stdout" && !o.Stdout || e.Stream == "stderr" && !o.Stderr {
		return false
	}
	if !o.Since.IsZero() && e.Time.Before(o.Since) {
		return false
	}
	if !o.Until.IsZero() && e.Time.After(o.Until) {
		return false
	}
	return true
}
