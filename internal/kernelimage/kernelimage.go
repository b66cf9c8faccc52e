// Package kernelimage takes the uncompressed kernel (the vmlinux ELF) out
// of an x86 Linux bzImage, such as berth-os's /boot/vmlinuz, so that QEMU
// can boot it directly through its PVH entry point.
//
// A bzImage is a small decompressor followed by the compressed kernel. In
// a guest without hardware acceleration (QEMU's TCG) that decompressor is
// slow: XZ-decompressing Debian's kernel took about 5 s of every boot on a
// 2-core host, where decompressing it once on the host takes about 1-2 s
// and QEMU then loads the ELF as it is.
package kernelimage

import (
	"bytes"
	"compress/gzip"
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/klauspost/compress/zstd"
)

// ErrNoPVH means the kernel has no PVH entry point (XEN_ELFNOTE_PHYS32_ENTRY,
// CONFIG_PVH), so QEMU cannot boot its vmlinux directly.
var ErrNoPVH = errors.New("the kernel has no PVH entry point (CONFIG_PVH)")

// maxKernel bounds the uncompressed kernel: a damaged or hostile image
// must not fill the memory.
const maxKernel = 512 << 20

// Vmlinux returns the uncompressed kernel inside the bzImage bz, checked to
// be an x86-64 ELF with a PVH entry point. The payload may be XZ (with the
// x86 BCJ filter, as the kernel's build makes it), gzip or zstd.
func Vmlinux(bz []byte) ([]byte, error) {
	payload, err := Payload(bz)
	if err != nil {
		return nil, err
	}
	var out []byte
	switch {
	case bytes.HasPrefix(payload, xzMagic):
		out, err = unxz(payload, maxKernel)
	case bytes.HasPrefix(payload, []byte{0x1f, 0x8b}):
		out, err = readAll(gzip.NewReader(bytes.NewReader(payload)))
	case bytes.HasPrefix(payload, []byte{0x28, 0xb5, 0x2f, 0xfd}):
		var d *zstd.Decoder
		d, err = zstd.NewReader(nil, zstd.WithDecoderMaxMemory(maxKernel), zstd.WithDecoderConcurrency(1))
		if err == nil {
			out, err = d.DecodeAll(payload, nil)
			d.Close()
		}
	default:
		return nil, fmt.Errorf("the kernel's payload is compressed in a way berth does not read (first bytes % x)", payload[:min(len(payload), 6)])
	}
	if err != nil {
		return nil, fmt.Errorf("decompress the kernel: %w", err)
	}
	if err := checkPVH(out); err != nil {
		return nil, err
	}
	return out, nil
}

// readAll reads a decompressor to its end, at most maxKernel bytes.
func readAll(r io.Reader, err error) ([]byte, error) {
	if err != nil {
		return nil, err
	}
	out, err := io.ReadAll(io.LimitReader(r, maxKernel+1))
	if err == nil && len(out) > maxKernel {
		err = fmt.Errorf("it is over %d bytes", maxKernel)
	}
	return out, err
}

// Payload returns the compressed kernel inside the bzImage bz, found by
// its setup header (boot protocol 2.08 or later: payload_offset and
// payload_length).
func Payload(bz []byte) ([]byte, error) {
	const (
		setupSects = 0x1f1
		header     = 0x202
		version    = 0x206
		offset     = 0x248
		length     = 0x24c
	)
	if len(bz) < length+4 || string(bz[header:header+4]) != "HdrS" {
		return nil, errors.New("not a bzImage (no HdrS setup header)")
	}
	if v := binary.LittleEndian.Uint16(bz[version:]); v < 0x0208 {
		return nil, fmt.Errorf("the bzImage's boot protocol %d.%02d predates the payload fields (2.08)", v>>8, v&0xff)
	}
	sects := int(bz[setupSects])
	if sects == 0 {
		sects = 4
	}
	start := (sects+1)*512 + int(binary.LittleEndian.Uint32(bz[offset:]))
	end := start + int(binary.LittleEndian.Uint32(bz[length:]))
	if start < 0 || end > len(bz) || end <= start {
		return nil, errors.New("the bzImage's payload lies outside the file (truncated?)")
	}
	return bz[start:end], nil
}

// checkPVH checks that kernel is an x86-64 ELF executable whose notes give
// a PVH entry point.
func checkPVH(kernel []byte) error {
	f, err := elf.NewFile(bytes.NewReader(kernel))
	if err != nil {
		return fmt.Errorf("the decompressed kernel is not an ELF file: %w", err)
	}
	if f.Machine != elf.EM_X86_64 || f.Type != elf.ET_EXEC {
		return fmt.Errorf("the decompressed kernel is a %s %s, not an x86-64 executable", f.Machine, f.Type)
	}
	const xenPhys32Entry = 18 // XEN_ELFNOTE_PHYS32_ENTRY
	for _, p := range f.Progs {
		if p.Type != elf.PT_NOTE {
			continue
		}
		notes, err := io.ReadAll(p.Open())
		if err != nil {
			return fmt.Errorf("read the kernel's notes: %w", err)
		}
		for len(notes) >= 12 {
			namesz := int(binary.LittleEndian.Uint32(notes))
			descsz := int(binary.LittleEndian.Uint32(notes[4:]))
			typ := binary.LittleEndian.Uint32(notes[8:])
			name := notes[12:min(len(notes), 12+namesz)]
			if typ == xenPhys32Entry && string(bytes.TrimRight(name, "\x00")) == "Xen" {
				return nil
			}
			next := 12 + align4(namesz) + align4(descsz)
			if next > len(notes) || next <= 0 {
				break
			}
			notes = notes[next:]
		}
	}
	return ErrNoPVH
}

func align4(n int) int { return (n + 3) &^ 3 }
