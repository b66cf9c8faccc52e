package kernelimage

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"hash/crc64"
	"io"

	"github.com/ulikunitz/xz/lzma"
)

var xzMagic = []byte{0xfd, '7', 'z', 'X', 'Z', 0x00}

// XZ filter ids (the .xz file format, section 5.3).
const (
	filterX86   = 0x04
	filterLZMA2 = 0x21
)

// unxz decompresses the first block of the XZ stream in, which the kernel's
// build writes as one block filtered by x86 BCJ then LZMA2 (xz --x86
// --lzma2), and checks it against the stream's check (CRC32, CRC64 or
// SHA-256). Other filter chains are refused. The output is at most max
// bytes.
func unxz(in []byte, limit int) ([]byte, error) {
	if len(in) < 12+8 || !bytes.Equal(in[:6], xzMagic) {
		return nil, errors.New("xz: not an xz stream")
	}
	if crc32.ChecksumIEEE(in[6:8]) != binary.LittleEndian.Uint32(in[8:12]) {
		return nil, errors.New("xz: the stream header is damaged")
	}
	var check hash.Hash
	checkSize := 0
	switch in[7] & 0x0f {
	case 0x00:
	case 0x01:
		check, checkSize = crc32.NewIEEE(), 4
	case 0x04:
		check, checkSize = crc64.New(crc64.MakeTable(crc64.ECMA)), 8
	case 0x0a:
		check, checkSize = sha256.New(), 32
	default:
		return nil, fmt.Errorf("xz: unknown check type %d", in[7]&0x0f)
	}

	block := in[12:]
	hsize := (int(block[0]) + 1) * 4
	if block[0] == 0 || hsize > len(block) {
		return nil, errors.New("xz: no block, or a damaged block header")
	}
	hdr := block[:hsize]
	if crc32.ChecksumIEEE(hdr[:hsize-4]) != binary.LittleEndian.Uint32(hdr[hsize-4:]) {
		return nil, errors.New("xz: the block header is damaged")
	}
	flags := hdr[1]
	if flags&0x3c != 0 {
		return nil, errors.New("xz: reserved block flags set")
	}
	r := bytes.NewReader(hdr[2 : hsize-4])
	if flags&0x40 != 0 { // compressed size
		if _, err := varint(r); err != nil {
			return nil, err
		}
	}
	if flags&0x80 != 0 { // uncompressed size
		if _, err := varint(r); err != nil {
			return nil, err
		}
	}
	var chain []uint64
	var dictProp byte
	for range int(flags&3) + 1 {
		id, err := varint(r)
		if err != nil {
			return nil, err
		}
		n, err := varint(r)
		if err != nil {
			return nil, err
		}
		props := make([]byte, n)
		if _, err := io.ReadFull(r, props); err != nil {
			return nil, errors.New("xz: the block header is truncated")
		}
		switch {
		case id == filterX86 && n == 0:
		case id == filterLZMA2 && n == 1:
			dictProp = props[0]
		default:
			return nil, fmt.Errorf("xz: filter %#x with %d bytes of properties is not supported (the kernel's build uses x86 BCJ and LZMA2)", id, n)
		}
		chain = append(chain, id)
	}
	x86 := false
	switch {
	case len(chain) == 1 && chain[0] == filterLZMA2:
	case len(chain) == 2 && chain[0] == filterX86 && chain[1] == filterLZMA2:
		x86 = true
	default:
		return nil, fmt.Errorf("xz: the filter chain %#x is not supported", chain)
	}
	if dictProp > 40 {
		return nil, errors.New("xz: bad LZMA2 dictionary size")
	}
	dict := int64(2|dictProp&1) << (dictProp/2 + 11)
	if dictProp == 40 || dict > lzma.MaxDictCap {
		dict = lzma.MaxDictCap
	}
	dict = max(dict, lzma.MinDictCap)

	data := bytes.NewReader(block[hsize:])
	lz, err := lzma.Reader2Config{DictCap: int(dict)}.NewReader2(data)
	if err != nil {
		return nil, fmt.Errorf("xz: %w", err)
	}
	out, err := io.ReadAll(io.LimitReader(lz, int64(limit)+1))
	if err != nil {
		return nil, fmt.Errorf("xz: %w", err)
	}
	if len(out) > limit {
		return nil, fmt.Errorf("xz: the output is over %d bytes", limit)
	}
	if x86 {
		unBCJx86(out)
	}
	if check != nil {
		used := len(block) - hsize - data.Len() // the block's compressed data
		pos := hsize + used + (4-used%4)%4      // then padding to 4 bytes
		if pos+checkSize > len(block) {
			return nil, errors.New("xz: the stream is truncated (no check after the block)")
		}
		check.Write(out)
		want := block[pos : pos+checkSize]
		if !bytes.Equal(littleEndian(check.Sum(nil), checkSize), want) {
			return nil, errors.New("xz: the decompressed kernel does not match the stream's check (damaged)")
		}
	}
	return out, nil
}

// littleEndian returns a check as the xz format stores it: CRCs little
// endian (Go's hashes give them big endian), SHA-256 as it is.
func littleEndian(sum []byte, size int) []byte {
	if size == 32 {
		return sum
	}
	out := make([]byte, len(sum))
	for i := range sum {
		out[i] = sum[len(sum)-1-i]
	}
	return out
}

// varint reads an xz multibyte integer (7 bits a byte, little end first,
// at most 9 bytes).
func varint(r io.ByteReader) (uint64, error) {
	var v uint64
	for i := range 9 {
		b, err := r.ReadByte()
		if err != nil {
			return 0, errors.New("xz: the block header is truncated")
		}
		v |= uint64(b&0x7f) << (7 * i)
		if b&0x80 == 0 {
			if i > 0 && b == 0 {
				return 0, errors.New("xz: badly encoded integer")
			}
			return v, nil
		}
	}
	return 0, errors.New("xz: integer too long")
}
