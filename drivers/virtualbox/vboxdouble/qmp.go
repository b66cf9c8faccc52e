package vboxdouble

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net"
	"strings"
	"time"
)

// qmp runs one QMP command on the VM's monitor socket and returns its
// "return" value.
func qmp(sock, command string, args any) (json.RawMessage, error) {
	c, err := net.DialTimeout("unix", sock, 5*time.Second)
	if err != nil {
		return nil, fmt.Errorf("connect to the VM's QMP socket: %w", err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(20 * time.Second))
	r := bufio.NewReader(c)
	if _, err := r.ReadBytes('\n'); err != nil { // greeting
		return nil, fmt.Errorf("read QMP greeting: %w", err)
	}
	if _, err := exchange(c, r, "qmp_capabilities", nil); err != nil {
		return nil, err
	}
	return exchange(c, r, command, args)
}

func exchange(c net.Conn, r *bufio.Reader, command string, args any) (json.RawMessage, error) {
	req := map[string]any{"execute": command}
	if args != nil {
		req["arguments"] = args
	}
	b, _ := json.Marshal(req)
	if _, err := c.Write(append(b, '\n')); err != nil {
		return nil, fmt.Errorf("send QMP %s: %w", command, err)
	}
	for {
		line, err := r.ReadBytes('\n')
		if err != nil {
			return nil, fmt.Errorf("read QMP %s answer: %w", command, err)
		}
		var resp struct {
			Return json.RawMessage `json:"return"`
			Error  *struct {
				Class string `json:"class"`
				Desc  string `json:"desc"`
			} `json:"error"`
			Event string `json:"event"`
		}
		if err := json.Unmarshal(line, &resp); err != nil {
			return nil, fmt.Errorf("read QMP %s answer %q: %w", command, line, err)
		}
		switch {
		case resp.Event != "":
			continue
		case resp.Error != nil:
			return nil, fmt.Errorf("QMP %s: %s: %s", command, resp.Error.Class, resp.Error.Desc)
		default:
			return resp.Return, nil
		}
	}
}

// hmp runs a human monitor command through QMP. The monitor answers in
// prose: "host forwarding rule for ... removed" is success, while "Could
// not set up ...", "... not found" or a usage text are failures.
func hmp(sock, line string) error {
	ret, err := qmp(sock, "human-monitor-command", map[string]string{"command-line": line})
	if err != nil {
		return err
	}
	var out string
	json.Unmarshal(ret, &out)
	out = strings.TrimSpace(out)
	if out == "" || strings.HasSuffix(out, " removed") {
		return nil
	}
	return fmt.Errorf("%s: %s", line, out)
}
