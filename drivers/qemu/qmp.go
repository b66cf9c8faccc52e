package qemu

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"time"
)

// qmpTimeout bounds a QMP exchange when ctx has no earlier deadline.
const qmpTimeout = 10 * time.Second

// qmp is a connection to QEMU's machine protocol, past the capabilities
// negotiation.
type qmp struct {
	ctx  context.Context // its end closes conn
	conn net.Conn
	r    *bufio.Reader
	stop func() bool // ends the close-on-cancel hook
}

// failed is err of an exchange on q: when q's context has ended (which
// closed the connection under the exchange), that end too, so that an
// interrupted command reports the interrupt and not only "use of closed
// network connection".
func (q *qmp) failed(err error) error {
	if cause := context.Cause(q.ctx); cause != nil {
		return fmt.Errorf("%w (%w)", cause, err)
	}
	return err
}

// qmpMessage is any message QEMU sends: greeting, reply or event.
type qmpMessage struct {
	QMP    json.RawMessage `json:"QMP"`
	Return json.RawMessage `json:"return"`
	Error  *qmpError       `json:"error"`
	Event  string          `json:"event"`
}

type qmpError struct {
	Class string `json:"class"`
	Desc  string `json:"desc"`
}

func (e *qmpError) Error() string { return e.Class + ": " + e.Desc }

// dialQMP connects to the QMP socket at path, reads the greeting and
// leaves capabilities negotiation mode.
func dialQMP(ctx context.Context, path string) (*qmp, error) {
	deadline, ok := ctx.Deadline()
	if !ok || time.Until(deadline) > qmpTimeout {
		deadline = time.Now().Add(qmpTimeout)
	}
	addr, err := socketAddr(path)
	if err != nil {
		return nil, err
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "unix", addr)
	if err != nil {
		return nil, fmt.Errorf("connect to qmp socket: %w", err)
	}
	if err := conn.SetDeadline(deadline); err != nil {
		conn.Close()
		return nil, err
	}
	// Closing the connection when ctx ends unblocks a read in progress.
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	q := &qmp{ctx: ctx, conn: conn, r: bufio.NewReader(conn), stop: stop}
	greet, err := q.read()
	if err == nil && greet.QMP == nil {
		err = errors.New("no greeting")
	}
	if err == nil {
		err = q.execute("qmp_capabilities", nil, nil)
	}
	if err != nil {
		stop()
		conn.Close()
		return nil, fmt.Errorf("qmp handshake: %w", err)
	}
	return q, nil
}

func (q *qmp) Close() error {
	q.stop()
	return q.conn.Close()
}

func (q *qmp) read() (qmpMessage, error) {
	line, err := q.r.ReadBytes('\n')
	if err != nil {
		return qmpMessage{}, q.failed(err)
	}
	var m qmpMessage
	if err := json.Unmarshal(line, &m); err != nil {
		return qmpMessage{}, fmt.Errorf("read qmp message %q: %w", line, err)
	}
	return m, nil
}

// execute runs a QMP command and decodes its return value into out (when
// out is not nil). Events that arrive meanwhile are skipped.
func (q *qmp) execute(command string, args, out any) error {
	req := map[string]any{"execute": command}
	if args != nil {
		req["arguments"] = args
	}
	b, err := json.Marshal(req)
	if err != nil {
		return err
	}
	if _, err := q.conn.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("qmp %s: %w", command, q.failed(err))
	}
	for {
		m, err := q.read()
		if err != nil {
			return fmt.Errorf("qmp %s: %w", command, err)
		}
		switch {
		case m.Event != "":
			continue
		case m.Error != nil:
			return fmt.Errorf("qmp %s: %w", command, m.Error)
		case m.Return != nil:
			if out == nil {
				return nil
			}
			if err := json.Unmarshal(m.Return, out); err != nil {
				return fmt.Errorf("qmp %s: decode reply: %w", command, err)
			}
			return nil
		}
	}
}

// status returns the run state of the VM ("running", "paused",
// "shutdown", ...).
func (q *qmp) status() (string, error) {
	var st struct {
		Status string `json:"status"`
	}
	if err := q.execute("query-status", nil, &st); err != nil {
		return "", err
	}
	return st.Status, nil
}

// hmp runs a human monitor command, for what QMP has no command of its
// own (host forwards), and returns its text output.
func (q *qmp) hmp(commandLine string) (string, error) {
	var out string
	err := q.execute("human-monitor-command", map[string]string{"command-line": commandLine}, &out)
	return out, err
}
