package kernelimage

import "encoding/binary"

// unBCJx86 undoes, in place, xz's x86 branch filter on a whole stream that
// starts at offset 0. The filter made the 32-bit operands of CALL (E8) and
// JMP (E9) absolute, so that the same target compresses the same wherever
// it is called from; decoding makes each such operand relative again. Like
// the encoder, it skips an E8/E9 that follows another within 3 bytes
// unless the bytes between could not be the high byte of an operand, and
// only converts operands whose high byte is 0x00 or 0xFF (near targets).
func unBCJx86(buf []byte) {
	// For a mask of the E8/E9 bytes seen among the last three: whether a
	// conversion is still allowed, and which of the operand's bytes to
	// test.
	allowed := [8]bool{true, true, true, false, true, false, false, false}
	bitNum := [8]uint32{0, 1, 2, 2, 3, 3, 3, 3}
	near := func(b byte) bool { return b == 0x00 || b == 0xff }

	prev := -1 // position of the last E8/E9 considered
	var mask uint32
	for i := 0; i+4 < len(buf); i++ {
		if buf[i]&0xfe != 0xe8 {
			continue
		}
		if d := i - prev; d > 3 {
			mask = 0
		} else {
			mask = (mask << (d - 1)) & 7
			if mask != 0 && (!allowed[mask] || near(buf[i+4-int(bitNum[mask])])) {
				prev = i
				mask = mask<<1 | 1
				continue
			}
		}
		prev = i
		if !near(buf[i+4]) {
			mask = mask<<1 | 1
			continue
		}
		src := binary.LittleEndian.Uint32(buf[i+1:])
		var dest uint32
		for {
			dest = src - uint32(i+5)
			if mask == 0 {
				break
			}
			j := bitNum[mask] * 8
			if !near(byte(dest >> (24 - j))) {
				break
			}
			src = dest ^ (1<<(32-j) - 1)
		}
		dest &= 0x01ffffff
		dest |= -(dest & 0x01000000)
		binary.LittleEndian.PutUint32(buf[i+1:], dest)
		i += 4
	}
}
