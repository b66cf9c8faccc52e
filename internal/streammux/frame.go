package streammux

import (
	"encoding/binary"
	"fmt"
	"io"
)

// Frame types. Every frame is a 9-byte header (type, stream id as a
// big-endian uint32, payload length as a big-endian uint32) followed by
// the payload.
const (
	// frameOpen asks the server for a new stream; the client picks its id.
	frameOpen byte = 1 + iota
	// frameOpened answers frameOpen: the stream is connected.
	frameOpened
	// frameData carries bytes of a stream, within the receiver's credit.
	frameData
	// frameFin: the sender writes no more on the stream (half-close).
	frameFin
	// frameReset aborts a stream both ways; its payload says why (maybe
	// empty). In answer to frameOpen it refuses the stream.
	frameReset
	// frameCredit grants the receiver of the frame the right to send as
	// many more bytes (the payload, a big-endian uint32) on the stream.
	frameCredit
)

const (
	headerLen = 9
	// maxPayload bounds a frame's payload; a larger one is a protocol
	// error.
	maxPayload = 32 << 10
	// window is how many unread bytes a stream's receiver accepts: the
	// credit each side starts with. A receiver grants more once its reader
	// has taken half of it.
	window = 256 << 10
)

// header is a decoded frame header.
type header struct {
	typ byte
	id  uint32
	n   uint32
}

func (h header) encode(b []byte) {
	b[0] = h.typ
	binary.BigEndian.PutUint32(b[1:5], h.id)
	binary.BigEndian.PutUint32(b[5:9], h.n)
}

// readFrame reads one frame from r into buf (grown as needed) and returns
// its header and payload, which stays valid until the next call.
func readFrame(r io.Reader, buf []byte) (header, []byte, error) {
	var hb [headerLen]byte
	if _, err := io.ReadFull(r, hb[:]); err != nil {
		return header{}, nil, err
	}
	h := header{typ: hb[0], id: binary.BigEndian.Uint32(hb[1:5]), n: binary.BigEndian.Uint32(hb[5:9])}
	if h.typ < frameOpen || h.typ > frameCredit {
		return h, nil, fmt.Errorf("frame of unknown type %d", h.typ)
	}
	if h.n > maxPayload {
		return h, nil, fmt.Errorf("frame of %d bytes (at most %d)", h.n, maxPayload)
	}
	if cap(buf) < int(h.n) {
		buf = make([]byte, h.n)
	}
	p := buf[:h.n]
	if _, err := io.ReadFull(r, p); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return h, nil, err
	}
	return h, p, nil
}
