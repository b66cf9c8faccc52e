package streammux

import (
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net"
	"testing"
)

// TestLargeOneWay: streams of many megabytes written in odd-sized pieces
// arrive whole (a docker run -i of a large file, a docker cp).
func TestLargeOneWay(t *testing.T) {
	s, _ := session(t, dialUnix(backend(t, func(c *net.UnixConn) {
		h := sha256.New()
		n, _ := io.Copy(h, c)
		fmt.Fprintf(c, "%d %x", n, h.Sum(nil))
	})))
	for range 2 {
		st := open(t, s)
		data := make([]byte, 16<<20)
		rand.Read(data)
		go func() {
			p := data
			for len(p) > 0 {
				k := min(len(p), 1+mrand.IntN(100000))
				st.Write(p[:k])
				p = p[k:]
			}
			st.CloseWrite()
		}()
		got, err := io.ReadAll(st)
		want := fmt.Sprintf("%d %x", len(data), sha256.Sum256(data))
		if string(got) != want || err != nil {
			t.Fatalf("got %q, %v; want %q", got, err, want)
		}
		st.Close()
	}
}
