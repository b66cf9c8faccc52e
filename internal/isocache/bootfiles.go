package isocache

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/diskfs/go-diskfs/backend/file"
	"github.com/diskfs/go-diskfs/filesystem/iso9660"
	"github.com/klauspost/compress/zstd"

	"github.com/berthvm/berth/internal/atomicfile"
	"github.com/berthvm/berth/internal/kernelimage"
)

// Where a berth-os ISO keeps what a hypervisor can boot directly.
const (
	isoKernel   = "boot/vmlinuz"
	isoInitrd   = "boot/initrd.img"
	isoBootConf = "isolinux/isolinux.cfg"
)

// DefaultCmdline is the kernel command line of an ISO whose isolinux.cfg
// names none.
const DefaultCmdline = "console=ttyS0,115200n8 quiet"

// bootDir is the cache folder that holds the boot files of ISOs, one
// folder per ISO SHA-256.
const bootDir = "boot"

// ErrISOChanged means an ISO is not the one a machine was made with.
var ErrISOChanged = errors.New("the ISO changed")

// bootManifest is boot.json: what was taken out of which ISO.
type bootManifest struct {
	// Format is bootFormat when the entry was written; an entry of an
	// older format is taken out again (it lacks the vmlinux).
	Format       int    `json:"format,omitempty"`
	ISOSHA256    string `json:"iso_sha256"`
	KernelSHA256 string `json:"kernel_sha256"`
	InitrdSHA256 string `json:"initrd_sha256"`
	// VmlinuxSHA256 is set when the kernel's uncompressed ELF was taken
	// out of it (vmlinux, booted through its PVH entry point).
	VmlinuxSHA256 string `json:"vmlinux_sha256,omitempty"`
	// NoVmlinux says why there is none (an ISO of another kind).
	NoVmlinux string `json:"no_vmlinux,omitempty"`
	// CpioSHA256 is set when the initramfs was decompressed into
	// initrd.cpio (which the kernel unpacks without decompressing).
	CpioSHA256 string `json:"cpio_sha256,omitempty"`
	Cmdline    string `json:"cmdline"`
}

// bootFormat is the format of the boot.json this berth writes: 2 added the
// vmlinux and initrd.cpio.
const bootFormat = 2

// BootFiles are the kernel, initramfs and kernel command line of a
// berth-os ISO, taken out of it so that QEMU can boot them with -kernel,
// -initrd and -append (faster than firmware and isolinux reading the CD).
type BootFiles struct {
	// Kernel is the path of the kernel to boot: the uncompressed vmlinux
	// when it could be taken out of the ISO's bzImage (QEMU boots it
	// through its PVH entry point, with no decompression in the guest),
	// else the bzImage itself.
	Kernel string
	// Initrd is the path of the initramfs: decompressed (initrd.cpio)
	// when it was compressed with zstd or gzip, as the kernel unpacks a
	// plain cpio archive faster under emulation (the guest's CPU is slow,
	// QEMU copies the larger file in at once).
	Initrd  string
	Cmdline string // the APPEND line of the ISO's isolinux.cfg
}

// SHA256File returns the hex SHA-256 of the file at path.
func SHA256File(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// Boot returns the boot files of the ISO at iso, whose SHA-256 is isoSum
// (hex). They are taken out of the ISO once into the cache (Dir/boot/
// isoSum/); a cached copy that is damaged (a file whose SHA-256 is not the
// one recorded) or belongs to another ISO is taken out again.
func (c *Cache) Boot(iso, isoSum string) (BootFiles, error) {
	if _, err := hex.DecodeString(isoSum); err != nil || len(isoSum) != 2*sha256.Size {
		return BootFiles{}, fmt.Errorf("boot files of %s: %q is not a sha256", iso, isoSum)
	}
	dir := filepath.Join(c.Dir, bootDir, isoSum)
	if bf, err := checkBoot(dir, isoSum); err == nil {
		return bf, nil
	}
	if err := os.MkdirAll(filepath.Dir(dir), 0o700); err != nil {
		return BootFiles{}, fmt.Errorf("boot files of %s: %w", iso, err)
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dir), ".extract-*")
	if err != nil {
		return BootFiles{}, fmt.Errorf("boot files of %s: %w", iso, err)
	}
	defer os.RemoveAll(tmp)
	// Taking the files out is rare: check that the ISO is the one asked for.
	if got, err := SHA256File(iso); err != nil {
		return BootFiles{}, fmt.Errorf("boot files of %s: %w", iso, err)
	} else if got != isoSum {
		return BootFiles{}, fmt.Errorf("boot files of %s: %w: its sha256 is %s, the machine was made with %s", iso, ErrISOChanged, got, isoSum)
	}
	if err := extractBoot(iso, isoSum, tmp); err != nil {
		return BootFiles{}, fmt.Errorf("take the kernel and initramfs out of %s: %w", iso, err)
	}
	// Another berth may have extracted the same ISO meanwhile: a good copy
	// there wins; a bad one is replaced.
	if bf, err := checkBoot(dir, isoSum); err == nil {
		return bf, nil
	}
	old := dir + ".old"
	os.RemoveAll(old)
	if err := os.Rename(dir, old); err != nil && !errors.Is(err, os.ErrNotExist) {
		return BootFiles{}, fmt.Errorf("boot files of %s: %w", iso, err)
	}
	os.RemoveAll(old)
	if err := os.Rename(tmp, dir); err != nil {
		if bf, cerr := checkBoot(dir, isoSum); cerr == nil {
			return bf, nil
		}
		return BootFiles{}, fmt.Errorf("boot files of %s: %w", iso, err)
	}
	return checkBoot(dir, isoSum)
}

// checkBoot returns the boot files in dir when they are whole and belong
// to the ISO isoSum.
func checkBoot(dir, isoSum string) (BootFiles, error) {
	b, err := os.ReadFile(filepath.Join(dir, "boot.json"))
	if err != nil {
		return BootFiles{}, err
	}
	var m bootManifest
	if err := json.Unmarshal(b, &m); err != nil {
		return BootFiles{}, err
	}
	if m.ISOSHA256 != isoSum {
		return BootFiles{}, fmt.Errorf("%s holds the boot files of ISO %s", dir, m.ISOSHA256)
	}
	if m.Format < bootFormat {
		return BootFiles{}, fmt.Errorf("%s was written by an older berth", dir)
	}
	bf := BootFiles{Kernel: filepath.Join(dir, "vmlinuz"), Initrd: filepath.Join(dir, "initrd.img"), Cmdline: m.Cmdline}
	kernelSum, initrdSum := m.KernelSHA256, m.InitrdSHA256
	if m.VmlinuxSHA256 != "" {
		bf.Kernel, kernelSum = filepath.Join(dir, "vmlinux"), m.VmlinuxSHA256
	}
	if m.CpioSHA256 != "" {
		bf.Initrd, initrdSum = filepath.Join(dir, "initrd.cpio"), m.CpioSHA256
	}
	// Only the files QEMU boots are checked (every start reads them).
	for path, want := range map[string]string{bf.Kernel: kernelSum, bf.Initrd: initrdSum} {
		got, err := SHA256File(path)
		if err != nil {
			return BootFiles{}, err
		}
		if got != want {
			return BootFiles{}, fmt.Errorf("%s is damaged: sha256 %s, want %s", path, got, want)
		}
	}
	return bf, nil
}

// extractBoot writes the kernel, the initramfs and boot.json of the ISO
// into dir.
func extractBoot(iso, isoSum, dir string) error {
	f, err := os.Open(iso)
	if err != nil {
		return err
	}
	defer f.Close()
	fs, err := iso9660.Read(file.New(f, true), 0, 0, 2048)
	if err != nil {
		return fmt.Errorf("read the ISO 9660 file system: %w", err)
	}
	m := bootManifest{Format: bootFormat, ISOSHA256: isoSum, Cmdline: DefaultCmdline}
	for _, x := range []struct {
		from, to string
		sum      *string
	}{
		{isoKernel, "vmlinuz", &m.KernelSHA256},
		{isoInitrd, "initrd.img", &m.InitrdSHA256},
	} {
		data, err := fs.ReadFile(x.from)
		if err != nil {
			return fmt.Errorf("%s: %w (is it a berth-os ISO?)", x.from, err)
		}
		if len(data) == 0 {
			return fmt.Errorf("%s is empty", x.from)
		}
		s := sha256.Sum256(data)
		*x.sum = hex.EncodeToString(s[:])
		if err := os.WriteFile(filepath.Join(dir, x.to), data, 0o644); err != nil {
			return err
		}
		write := writeVmlinux
		if x.to == "initrd.img" {
			write = writeCpio
		}
		if err := write(data, dir, &m); err != nil {
			return err
		}
	}
	if conf, err := fs.ReadFile(isoBootConf); err == nil {
		if line := appendLine(conf); line != "" {
			m.Cmdline = line
		}
	}
	return atomicfile.WriteJSON(filepath.Join(dir, "boot.json"), m)
}

// appendLine returns the kernel command line of the first APPEND in an
// isolinux.cfg.
func appendLine(conf []byte) string {
	sc := bufio.NewScanner(bytes.NewReader(conf))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) > 0 && strings.EqualFold(f[0], "APPEND") {
			return strings.Join(f[1:], " ")
		}
	}
	return ""
}

// writeVmlinux takes the uncompressed kernel out of the bzImage bz into
// dir/vmlinux and records it in m; a kernel it cannot take out (not an x86
// bzImage with a PVH entry point, another compression) is recorded as
// such, and the machine boots the bzImage.
func writeVmlinux(bz []byte, dir string, m *bootManifest) error {
	elf, err := kernelimage.Vmlinux(bz)
	if err != nil {
		m.NoVmlinux = err.Error()
		return nil
	}
	s := sha256.Sum256(elf)
	m.VmlinuxSHA256 = hex.EncodeToString(s[:])
	return os.WriteFile(filepath.Join(dir, "vmlinux"), elf, 0o644)
}

// writeCpio decompresses an initramfs compressed with zstd or gzip into
// dir/initrd.cpio and records it in m; any other initramfs is booted as
// it is.
func writeCpio(initrd []byte, dir string, m *bootManifest) error {
	const maxCpio = 1 << 30
	var (
		cpio []byte
		err  error
	)
	switch {
	case bytes.HasPrefix(initrd, []byte{0x28, 0xb5, 0x2f, 0xfd}):
		var d *zstd.Decoder
		if d, err = zstd.NewReader(nil, zstd.WithDecoderMaxMemory(maxCpio), zstd.WithDecoderConcurrency(1)); err != nil {
			return nil
		}
		cpio, err = d.DecodeAll(initrd, nil)
		d.Close()
	case bytes.HasPrefix(initrd, []byte{0x1f, 0x8b}):
		var z *gzip.Reader
		if z, err = gzip.NewReader(bytes.NewReader(initrd)); err != nil {
			return nil
		}
		cpio, err = io.ReadAll(io.LimitReader(z, maxCpio))
	default:
		return nil
	}
	// A newc cpio archive, the only kind the kernel unpacks.
	if err != nil || !bytes.HasPrefix(cpio, []byte("070701")) {
		return nil
	}
	s := sha256.Sum256(cpio)
	m.CpioSHA256 = hex.EncodeToString(s[:])
	return os.WriteFile(filepath.Join(dir, "initrd.cpio"), cpio, 0o644)
}
