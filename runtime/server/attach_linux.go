package server

import (
	"io"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/berthvm/berth/runtime/container"
	"github.com/moby/moby/api/types"
)

// attachContainer streams a container's stdio over the hijacked
// connection. On a container not started yet it answers at once and
// connects when the container starts, so the client sees all the output.
// With logs=1 the log so far is replayed first (Docker's order: log, then
// the live stream; only the log with logs=1&stream=0).
func (s *Server) attachContainer(w http.ResponseWriter, r *http.Request) error {
	rt, info, err := s.getContainer(r)
	if err != nil {
		return err
	}
	opts := container.AttachOptions{
		Stdin:  boolParam(r, "stdin"),
		Stdout: boolParam(r, "stdout"),
		Stderr: boolParam(r, "stderr"),
	}
	logs := boolParam(r, "logs")
	stream := boolParam(r, "stream") || !logs
	// Registered before the answer: the client may start the container as
	// soon as it has it, and a start connects only registered attaches.
	var att *container.AttachRequest
	if stream {
		if att, err = rt.RequestAttach(info.Spec.ID, opts); err != nil {
			return err
		}
	}
	conn, stdin, err := Hijack(w, r, info.Spec.Tty)
	if err != nil {
		if att != nil {
			att.Cancel()
		}
		return err
	}
	defer conn.Close()
	if logs && (opts.Stdout || opts.Stderr) {
		lo := container.LogOptions{Stdout: opts.Stdout, Stderr: opts.Stderr, Tail: -1}
		err := rt.Logs(r.Context(), info.Spec.ID, lo, func(e container.LogEntry) error {
			return writeLogEntry(conn, info.Spec.Tty, false, e)
		})
		if err != nil {
			s.log.Debug("attach: replay the log", "container", info.Spec.ID, "err", err)
			if att != nil {
				att.Cancel()
			}
			return nil
		}
	}
	if !stream {
		CloseWrite(conn)
		return nil
	}
	mon, err := att.Conn(r.Context())
	if err != nil {
		s.log.Debug("attach failed", "container", info.Spec.ID, "err", err)
		return nil
	}
	defer mon.Close()
	if opts.Stdin {
		go func() {
			io.Copy(mon, stdin)
			if uc, ok := mon.(*net.UnixConn); ok {
				uc.CloseWrite()
			}
		}()
	}
	io.Copy(conn, mon)
	CloseWrite(conn)
	return nil
}

// containerLogs answers the container's log, framed like its attach
// stream (raw with a TTY).
func (s *Server) containerLogs(w http.ResponseWriter, r *http.Request) error {
	rt, info, err := s.getContainer(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	opts := container.LogOptions{
		Stdout: boolParam(r, "stdout"),
		Stderr: boolParam(r, "stderr"),
		Follow: boolParam(r, "follow"),
		Tail:   -1,
	}
	if !opts.Stdout && !opts.Stderr {
		return Errorf(http.StatusBadRequest, "you must choose at least one stream")
	}
	if t := q.Get("tail"); t != "" && t != "all" {
		n, err := strconv.Atoi(t)
		if err != nil {
			return Errorf(http.StatusBadRequest, "invalid tail %q: a number or \"all\"", t)
		}
		opts.Tail = n
	}
	for _, p := range []struct {
		name string
		dst  *time.Time
	}{{"since", &opts.Since}, {"until", &opts.Until}} {
		if v := q.Get(p.name); v != "" && v != "0" {
			t, err := parseUnixTime(v)
			if err != nil {
				return Errorf(http.StatusBadRequest, "invalid %s %q: %v", p.name, v, err)
			}
			*p.dst = t
		}
	}
	stamps := boolParam(r, "timestamps")
	ctype := types.MediaTypeMultiplexedStream
	if info.Spec.Tty {
		ctype = types.MediaTypeRawStream
	}
	w.Header().Set("Content-Type", ctype)
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	rc.Flush()
	return rt.Logs(r.Context(), info.Spec.ID, opts, func(e container.LogEntry) error {
		err := writeLogEntry(w, info.Spec.Tty, stamps, e)
		if opts.Follow {
			rc.Flush()
		}
		return err
	})
}

// writeLogEntry writes one log entry as the container's stream carries it:
// raw with a TTY, else framed for its stream; stamps puts the time first.
func writeLogEntry(w io.Writer, tty, stamps bool, e container.LogEntry) error {
	line := e.Log
	if stamps {
		line = e.Time.UTC().Format(time.RFC3339Nano) + " " + line
	}
	if tty {
		_, err := io.WriteString(w, line)
		return err
	}
	id := byte(container.StreamStdout)
	if e.Stream == "stderr" {
		id = container.StreamStderr
	}
	return container.WriteFrame(w, id, []byte(line))
}
