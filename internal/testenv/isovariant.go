package testenv

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
	"unicode/utf16"
)

// ISOVariant copies the ISO 9660 image at src into a temporary folder
// with its volume id set to volumeID (in the primary volume descriptor
// and in Joliet's, the two places readers take it from) and returns the
// copy's path: the same guest OS under another version, for tests of
// `berth upgrade`. Everything else, the boot records and every file, is
// the same bytes.
func ISOVariant(t testing.TB, src, volumeID string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), volumeID+".iso")
	if err := copyISO(src, dst); err != nil {
		t.Fatal(err)
	}
	if err := SetVolumeID(dst, volumeID); err != nil {
		t.Fatal(err)
	}
	return dst
}

func copyISO(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// SetVolumeID rewrites, in place, the volume id of the ISO 9660 image at
// path: the primary volume descriptor's (d-characters, space-padded to
// 32 bytes) and, when the image has Joliet, the supplementary one's
// (UCS-2 big-endian, 16 characters).
func SetVolumeID(path, id string) error {
	if len(id) > 32 {
		return fmt.Errorf("volume id %q is longer than 32 bytes", id)
	}
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	const sector = 2048
	primary := false
	for n := int64(16); n < 64; n++ {
		var d [sector]byte
		if _, err := f.ReadAt(d[:], n*sector); err != nil {
			return fmt.Errorf("%s: read volume descriptor %d: %w", path, n, err)
		}
		if string(d[1:6]) != "CD001" {
			return fmt.Errorf("%s: sector %d is not a volume descriptor", path, n)
		}
		var field []byte
		switch {
		case d[0] == 255: // set terminator
			if !primary {
				return fmt.Errorf("%s has no primary volume descriptor", path)
			}
			return nil
		case d[0] == 1:
			field = append([]byte(id), bytes.Repeat([]byte(" "), 32-len(id))...)
			primary = true
		case d[0] == 2 && d[88] == '%' && d[89] == '/': // Joliet
			if len(id) > 16 {
				return fmt.Errorf("volume id %q is longer than Joliet's 16 characters", id)
			}
			for _, u := range utf16.Encode([]rune(id)) {
				field = append(field, byte(u>>8), byte(u))
			}
			for len(field) < 32 {
				field = append(field, 0, ' ')
			}
		default:
			continue
		}
		if _, err := f.WriteAt(field, n*sector+40); err != nil {
			return err
		}
	}
	return fmt.Errorf("%s: no volume descriptor set terminator in the first 64 sectors", path)
}
