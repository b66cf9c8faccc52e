package container

import (
	"encoding/binary"
	"io"
)

// Stream numbers of Docker's multiplexed stream framing.
const (
	StreamStdin  = 0
	StreamStdout = 1
	StreamStderr = 2
)

// WriteFrame writes p as one frame of Docker's multiplexed stream format:
// [stream, 0, 0, 0, big-endian uint32 size] then p.
func WriteFrame(w io.Writer, stream byte, p []byte) error {
	var hdr [8]byte
	hdr[0] = stream
	binary.BigEndian.PutUint32(hdr[4:], uint32(len(p)))
	buf := make([]byte, 0, 8+len(p))
	buf = append(append(buf, hdr[:]...), p...)
	_, err := w.Write(buf)
	return err
}
