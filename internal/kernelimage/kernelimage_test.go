package kernelimage

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"

	"github.com/berthvm/berth/internal/testenv"
)

// testELF is an x86-64 executable whose PT_NOTE holds the Xen notes given
// (type -> name), followed by code: real x86 machine code (this test
// binary's own), full of CALL and JMP for the BCJ filter to convert.
func testELF(t *testing.T, notes map[uint32]string) []byte {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	code, err := os.ReadFile(exe)
	if err != nil {
		t.Fatal(err)
	}
	code = code[:min(len(code), 512<<10)]
	var note []byte
	for typ, name := range notes {
		n := append([]byte(name), 0)
		for len(n)%4 != 0 {
			n = append(n, 0)
		}
		note = binary.LittleEndian.AppendUint32(note, uint32(len(name)+1))
		note = binary.LittleEndian.AppendUint32(note, 4)
		note = binary.LittleEndian.AppendUint32(note, typ)
		note = append(note, n...)
		note = binary.LittleEndian.AppendUint32(note, 0x1000000)
	}
	const ehsize, phsize = 64, 56
	off := uint64(ehsize + phsize)
	le := binary.LittleEndian
	b := []byte{0x7f, 'E', 'L', 'F', 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0}
	b = le.AppendUint16(b, 2)  // ET_EXEC
	b = le.AppendUint16(b, 62) // EM_X86_64
	b = le.AppendUint32(b, 1)
	b = le.AppendUint64(b, 0x1000000) // entry
	b = le.AppendUint64(b, ehsize)    // program headers
	b = le.AppendUint64(b, 0)         // no sections
	b = le.AppendUint32(b, 0)
	b = le.AppendUint16(b, ehsize)
	b = le.AppendUint16(b, phsize)
	b = le.AppendUint16(b, 1)
	b = le.AppendUint16(b, 64)
	b = le.AppendUint16(b, 0)
	b = le.AppendUint16(b, 0)
	b = le.AppendUint32(b, 4) // PT_NOTE
	b = le.AppendUint32(b, 4) // PF_R
	b = le.AppendUint64(b, off)
	b = le.AppendUint64(b, 0)
	b = le.AppendUint64(b, 0)
	b = le.AppendUint64(b, uint64(len(note)))
	b = le.AppendUint64(b, uint64(len(note)))
	b = le.AppendUint64(b, 4)
	b = append(b, note...)
	return append(b, code...)
}

// bzImage wraps payload in a setup header as the kernel's build lays it
// out (boot protocol 2.15, 30 setup sectors, the payload after a few
// bytes of decompressor).
func bzImage(payload []byte) []byte {
	const sects = 30
	bz := make([]byte, (sects+1)*512+100)
	bz[0x1f1] = sects
	copy(bz[0x202:], "HdrS")
	binary.LittleEndian.PutUint16(bz[0x206:], 0x020f)
	binary.LittleEndian.PutUint32(bz[0x248:], 100)
	binary.LittleEndian.PutUint32(bz[0x24c:], uint32(len(payload)))
	return append(append(bz, payload...), "trailer"...)
}

// xzKernel compresses data as the kernel's build does (scripts/xz_wrap.sh:
// the x86 BCJ filter, then LZMA2, a CRC32 check).
func xzKernel(t *testing.T, data []byte, check string) []byte {
	t.Helper()
	testenv.NeedCommand(t, "xz")
	cmd := exec.Command("xz", "--format=xz", "--check="+check, "--x86", "--lzma2=dict=1MiB", "-c")
	cmd.Stdin = bytes.NewReader(data)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("xz: %v: %s", err, stderr.String())
	}
	return out
}

// TestVmlinux: the kernel comes out of a bzImage whole, whatever its
// compression (XZ with the x86 filter and each kind of check, gzip,
// zstd), and only when it has a PVH entry point.
func TestVmlinux(t *testing.T) {
	elf := testELF(t, map[uint32]string{18: "Xen"})
	var gz bytes.Buffer
	w := gzip.NewWriter(&gz)
	w.Write(elf)
	w.Close()
	enc, _ := zstd.NewWriter(nil)
	payloads := map[string][]byte{
		"xz crc32":  xzKernel(t, elf, "crc32"),
		"xz crc64":  xzKernel(t, elf, "crc64"),
		"xz sha256": xzKernel(t, elf, "sha256"),
		"xz none":   xzKernel(t, elf, "none"),
		"gzip":      gz.Bytes(),
		"zstd":      enc.EncodeAll(elf, nil),
	}
	for name, p := range payloads {
		t.Run(name, func(t *testing.T) {
			got, err := Vmlinux(bzImage(p))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, elf) {
				t.Fatalf("the kernel came out different (%d bytes, want %d)", len(got), len(elf))
			}
		})
	}

	t.Run("the x86 filter did change the data", func(t *testing.T) {
		// Without undoing the filter the output differs: the check fails.
		testenv.NeedCommand(t, "xz")
		cmd := exec.Command("xz", "--format=raw", "--x86", "--lzma2", "-c")
		cmd.Stdin = bytes.NewReader(elf)
		filtered, err := cmd.Output()
		if err != nil {
			t.Fatal(err)
		}
		cmd = exec.Command("xz", "--format=raw", "--lzma2", "-dc")
		cmd.Stdin = bytes.NewReader(filtered)
		raw, err := cmd.Output()
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Equal(raw, elf) {
			t.Fatal("the test's code has no CALL or JMP the filter converts")
		}
	})

	t.Run("damaged", func(t *testing.T) {
		p := bytes.Clone(payloads["xz crc32"])
		p[len(p)/2] ^= 0x55
		if _, err := Vmlinux(bzImage(p)); err == nil {
			t.Fatal("a damaged kernel came out without an error")
		}
	})

	t.Run("no PVH entry point", func(t *testing.T) {
		other := testELF(t, map[uint32]string{17: "Xen", 18: "GNU"})
		_, err := Vmlinux(bzImage(xzKernel(t, other, "crc32")))
		if !errors.Is(err, ErrNoPVH) {
			t.Fatalf("err = %v, want ErrNoPVH", err)
		}
	})

	t.Run("not a bzImage", func(t *testing.T) {
		for name, data := range map[string][]byte{
			"empty":     nil,
			"an ELF":    elf,
			"truncated": bzImage(payloads["gzip"])[:4000],
		} {
			if _, err := Vmlinux(data); err == nil {
				t.Errorf("%s: no error", name)
			}
		}
		_, err := Vmlinux(bzImage([]byte("lz4?payload")))
		if err == nil || !strings.Contains(err.Error(), "compressed in a way") {
			t.Errorf("unknown compression: err = %v", err)
		}
	})
}
