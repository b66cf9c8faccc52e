package seed

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/diskfs/go-diskfs/backend/file"
	"github.com/diskfs/go-diskfs/filesystem/iso9660"
)

// MetaData returns the seed's meta-data file.
func (c Config) MetaData() []byte {
	return []byte("instance-id: " + c.InstanceID + "\nlocal-hostname: " + c.Hostname + "\n")
}

// UserData returns the seed's #cloud-config user-data file. Keys are
// double-quoted, one per line; mounts are flow lists, one per line, so that
// berth-os's shell init and cloud-init read the same file.
func (c Config) UserData() []byte {
	var b strings.Builder
	b.WriteString("#cloud-config\n")
	b.WriteString("hostname: " + c.Hostname + "\n")
	b.WriteString("ssh_authorized_keys:\n")
	for _, k := range c.SSHAuthorizedKeys {
		b.WriteString(`  - "` + strings.TrimSpace(k) + "\"\n")
	}
	if len(c.Mounts) > 0 {
		b.WriteString("mounts:\n")
		for _, m := range c.Mounts {
			fmt.Fprintf(&b, "  - [ %q, %q, %q, %q ]\n", m.Source, m.Target, m.Type, m.Options)
		}
	}
	return []byte(b.String())
}

// Write creates the seed ISO at path (which must not exist) from cfg. The
// ISO has volume label "cidata" and Rock Ridge and Joliet names, so Linux
// sees the files as meta-data and user-data.
func Write(path string, cfg Config) (err error) {
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("write seed %s: invalid config: %w", path, err)
	}
	work, err := os.MkdirTemp(filepath.Dir(path), ".seed-")
	if err != nil {
		return fmt.Errorf("write seed %s: %w", path, err)
	}
	defer os.RemoveAll(work)

	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return fmt.Errorf("write seed: %w", err)
	}
	defer func() {
		if cerr := f.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("write seed %s: %w", path, cerr)
		}
		if err != nil {
			os.Remove(path)
		}
	}()

	fs, err := iso9660.Create(file.New(f, false), 0, 0, 2048, work)
	if err != nil {
		return fmt.Errorf("write seed %s: create iso9660: %w", path, err)
	}
	files := []struct {
		name string
		data []byte
	}{
		{"/meta-data", cfg.MetaData()},
		{"/user-data", cfg.UserData()},
	}
	for _, e := range files {
		if err := addFile(fs, e.name, e.data); err != nil {
			return fmt.Errorf("write seed %s: %w", path, err)
		}
	}
	opts := iso9660.FinalizeOptions{RockRidge: true, Joliet: true, VolumeIdentifier: VolumeLabel}
	if err := fs.Finalize(opts); err != nil {
		return fmt.Errorf("write seed %s: finalize iso9660: %w", path, err)
	}
	return nil
}

func addFile(fs *iso9660.FileSystem, name string, data []byte) error {
	w, err := fs.OpenFile(name, os.O_CREATE|os.O_RDWR)
	if err != nil {
		return fmt.Errorf("add %s: %w", name, err)
	}
	n, err := w.Write(data)
	if err == nil && n != len(data) {
		err = errors.New("short write")
	}
	if cerr := w.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("add %s: %w", name, err)
	}
	return nil
}
