package isocache

import (
	"bytes"
	"compress/gzip"
	"debug/elf"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"

	"github.com/berthvm/berth/internal/testenv"
)

// bootISO writes an ISO laid out like berth-os's (made by xorriso, as
// scripts/iso/build.sh makes it) with the given kernel and initramfs, and
// returns its path and SHA-256.
func bootISO(t *testing.T, kernel, initrd, isolinuxCfg string) (string, string) {
	t.Helper()
	testenv.NeedCommand(t, "xorriso")
	dir := t.TempDir()
	cd := filepath.Join(dir, "cd")
	for name, data := range map[string]string{"boot/vmlinuz": kernel, "boot/initrd.img": initrd, "isolinux/isolinux.cfg": isolinuxCfg} {
		if data == "" {
			continue
		}
		p := filepath.Join(cd, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	os.MkdirAll(cd, 0o755)
	iso := filepath.Join(dir, "berth-os.iso")
	if out, err := exec.Command("xorriso", "-as", "mkisofs", "-quiet", "-o", iso, "-V", "berth-os-v9.9.9", "-J", "-R", cd).CombinedOutput(); err != nil {
		t.Fatalf("xorriso: %v\n%s", err, out)
	}
	sum, err := SHA256File(iso)
	if err != nil {
		t.Fatal(err)
	}
	return iso, sum
}

func readString(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestBoot: the kernel, initramfs and command line come out of the ISO
// once; a damaged or foreign copy is taken out again; an ISO that is not
// the one named, or that has no kernel, is an error.
func TestBoot(t *testing.T) {
	const cfg = "DEFAULT berth-os\nLABEL berth-os\n  KERNEL /boot/vmlinuz\n  INITRD /boot/initrd.img\n  APPEND console=ttyS0,115200n8 quiet\n"
	iso, sum := bootISO(t, "KERNEL-1", "INITRD-1", cfg)
	c := &Cache{Dir: t.TempDir()}

	bf, err := c.Boot(iso, sum)
	if err != nil {
		t.Fatalf("Boot: %v", err)
	}
	if got := readString(t, bf.Kernel); got != "KERNEL-1" {
		t.Errorf("kernel = %q, want KERNEL-1", got)
	}
	if got := readString(t, bf.Initrd); got != "INITRD-1" {
		t.Errorf("initrd = %q, want INITRD-1", got)
	}
	if bf.Cmdline != "console=ttyS0,115200n8 quiet" {
		t.Errorf("cmdline = %q, want the ISO's APPEND line", bf.Cmdline)
	}
	if !strings.HasPrefix(bf.Kernel, filepath.Join(c.Dir, "boot", sum)) {
		t.Errorf("kernel at %s, want under the cache's boot/%s", bf.Kernel, sum)
	}

	t.Run("kept", func(t *testing.T) {
		old := time.Now().Add(-time.Hour)
		os.Chtimes(bf.Kernel, old, old)
		again, err := c.Boot(iso, sum)
		if err != nil || again != bf {
			t.Fatalf("second Boot = %+v, %v; want %+v", again, err, bf)
		}
		if fi, _ := os.Stat(bf.Kernel); !fi.ModTime().Equal(old) {
			t.Error("the second Boot took the kernel out again, want the cached copy used")
		}
	})
	t.Run("damaged copy taken out again", func(t *testing.T) {
		if err := os.WriteFile(bf.Initrd, []byte("INITRD-2"), 0o644); err != nil {
			t.Fatal(err)
		}
		again, err := c.Boot(iso, sum)
		if err != nil {
			t.Fatal(err)
		}
		if got := readString(t, again.Initrd); got != "INITRD-1" {
			t.Errorf("initrd after repair = %q, want INITRD-1", got)
		}
	})
	t.Run("missing file taken out again", func(t *testing.T) {
		os.Remove(bf.Kernel)
		again, err := c.Boot(iso, sum)
		if err != nil {
			t.Fatal(err)
		}
		if got := readString(t, again.Kernel); got != "KERNEL-1" {
			t.Errorf("kernel after repair = %q, want KERNEL-1", got)
		}
	})
	t.Run("another ISO's manifest", func(t *testing.T) {
		man := filepath.Join(c.Dir, "boot", sum, "boot.json")
		b := readString(t, man)
		os.WriteFile(man, []byte(strings.Replace(b, sum, strings.Repeat("0", 64), 1)), 0o600)
		if _, err := c.Boot(iso, sum); err != nil {
			t.Fatal(err)
		}
		if got := readString(t, man); !strings.Contains(got, sum) {
			t.Errorf("boot.json after repair = %s, want the ISO's sha256", got)
		}
	})
	t.Run("the ISO is not the one named", func(t *testing.T) {
		other := strings.Repeat("a", 64)
		_, err := c.Boot(iso, other)
		if !errors.Is(err, ErrISOChanged) {
			t.Errorf("Boot with another ISO's sha256 = %v, want ErrISOChanged", err)
		}
		if _, serr := os.Stat(filepath.Join(c.Dir, "boot", other)); !errors.Is(serr, os.ErrNotExist) {
			t.Errorf("Boot of a changed ISO left boot/%s (%v)", other, serr)
		}
	})
	t.Run("not a sha256", func(t *testing.T) {
		if _, err := c.Boot(iso, "abc"); err == nil || !strings.Contains(err.Error(), "is not a sha256") {
			t.Errorf("Boot(iso, abc) = %v", err)
		}
	})
}

// TestBootNoKernel: an ISO without /boot/vmlinuz (not berth-os) says so;
// one without isolinux.cfg gets the default command line.
func TestBootNoKernel(t *testing.T) {
	iso, sum := bootISO(t, "", "INITRD", "")
	c := &Cache{Dir: t.TempDir()}
	if _, err := c.Boot(iso, sum); err == nil || !strings.Contains(err.Error(), "boot/vmlinuz") {
		t.Errorf("Boot of an ISO without a kernel = %v, want an error naming boot/vmlinuz", err)
	}
	iso, sum = bootISO(t, "K", "I", "")
	bf, err := c.Boot(iso, sum)
	if err != nil || bf.Cmdline != DefaultCmdline {
		t.Errorf("Boot of an ISO without isolinux.cfg = %+v, %v; want the default command line", bf, err)
	}
}

// TestBootCpio: an initramfs compressed with zstd or gzip is booted
// decompressed (a newc cpio archive); anything else as it is.
func TestBootCpio(t *testing.T) {
	const cpio = "070701 a newc archive"
	enc, _ := zstd.NewWriter(nil)
	var gz bytes.Buffer
	w := gzip.NewWriter(&gz)
	w.Write([]byte(cpio))
	w.Close()
	for name, tc := range map[string]struct{ initrd, want, file string }{
		"zstd":          {string(enc.EncodeAll([]byte(cpio), nil)), cpio, "initrd.cpio"},
		"gzip":          {gz.String(), cpio, "initrd.cpio"},
		"plain":         {cpio, cpio, "initrd.img"},
		"zstd, no cpio": {string(enc.EncodeAll([]byte("not cpio"), nil)), string(enc.EncodeAll([]byte("not cpio"), nil)), "initrd.img"},
		"damaged gzip":  {gz.String()[:10], gz.String()[:10], "initrd.img"},
	} {
		t.Run(name, func(t *testing.T) {
			iso, sum := bootISO(t, "KERNEL", tc.initrd, "")
			bf, err := (&Cache{Dir: t.TempDir()}).Boot(iso, sum)
			if err != nil {
				t.Fatal(err)
			}
			if filepath.Base(bf.Initrd) != tc.file || readString(t, bf.Initrd) != tc.want {
				t.Errorf("initrd %s holds %q, want %s holding %q", bf.Initrd, readString(t, bf.Initrd), tc.file, tc.want)
			}
		})
	}
}

// TestBootVmlinux: from berth-os's ISO the uncompressed kernel and
// initramfs come out too, and are what QEMU boots; a damaged copy is taken
// out again, and so is an entry an older berth wrote (without them).
func TestBootVmlinux(t *testing.T) {
	iso := testenv.ISO(t)
	sum, err := SHA256File(iso)
	if err != nil {
		t.Fatal(err)
	}
	c := &Cache{Dir: t.TempDir()}
	bf, err := c.Boot(iso, sum)
	if err != nil {
		t.Fatal(err)
	}
	isELF := func(bf BootFiles) {
		t.Helper()
		if filepath.Base(bf.Kernel) != "vmlinux" {
			t.Fatalf("kernel %s, want the vmlinux", bf.Kernel)
		}
		f, err := elf.Open(bf.Kernel)
		if err != nil {
			t.Fatalf("the vmlinux: %v", err)
		}
		f.Close()
		if filepath.Base(bf.Initrd) != "initrd.cpio" || !strings.HasPrefix(readString(t, bf.Initrd), "070701") {
			t.Fatalf("initramfs %s, want initrd.cpio, a newc cpio archive", bf.Initrd)
		}
	}
	isELF(bf)

	os.WriteFile(bf.Kernel, []byte("\x7fELF damaged"), 0o644)
	again, err := c.Boot(iso, sum)
	if err != nil {
		t.Fatal(err)
	}
	isELF(again)

	man := filepath.Join(c.Dir, "boot", sum, "boot.json")
	var m map[string]any
	json.Unmarshal([]byte(readString(t, man)), &m)
	delete(m, "format")
	delete(m, "vmlinux_sha256")
	delete(m, "cpio_sha256")
	b, _ := json.Marshal(m)
	os.WriteFile(man, b, 0o600)
	os.Remove(bf.Kernel)
	again, err = c.Boot(iso, sum)
	if err != nil {
		t.Fatal(err)
	}
	isELF(again)
}
