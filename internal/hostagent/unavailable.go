package hostagent

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"
)

// writeUnavailable answers a client whose connection cannot reach the
// agent with an HTTP 503 and a Docker-style error message, so the docker
// CLI prints why instead of a bare EOF.
func writeUnavailable(c net.Conn, cause error) {
	c.SetDeadline(time.Now().Add(2 * time.Second))
	// Read the request head, so that the client sees the answer.
	buf := make([]byte, 4096)
	c.Read(buf)
	writeUnavailableAnswer(c, cause)
}

// writeUnavailableAnswer is writeUnavailable's answer alone, for a client
// whose request was read.
func writeUnavailableAnswer(c net.Conn, cause error) {
	c.SetWriteDeadline(time.Now().Add(2 * time.Second))
	msg, _ := json.Marshal(map[string]string{"message": "berth: the machine's agent cannot be reached: " + cause.Error()})
	var b strings.Builder
	fmt.Fprintf(&b, "HTTP/1.1 %d %s\r\n", http.StatusServiceUnavailable, http.StatusText(http.StatusServiceUnavailable))
	fmt.Fprintf(&b, "Content-Type: application/json\r\nContent-Length: %d\r\nConnection: close\r\n\r\n", len(msg)+1)
	io.WriteString(c, b.String())
	c.Write(append(msg, '\n'))
}
