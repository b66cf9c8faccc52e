package sshutil

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"

	"github.com/pkg/sftp"
)

// SFTP returns the connection's SFTP client, starting the subsystem on
// first use; later calls share it. Client.Close closes it. ctx bounds the
// wait for a free session.
func (c *Client) SFTP(ctx context.Context) (*sftp.Client, error) {
	c.sftpMu.Lock()
	defer c.sftpMu.Unlock()
	if c.sftp != nil {
		return c.sftp, nil
	}
	// The SFTP session is opened like a command session but does not
	// count against MaxSessions once open.
	s, release, err := c.newSession(ctx, true)
	if err != nil {
		return nil, fmt.Errorf("sftp to %s: %w", c.target, err)
	}
	defer release()
	pw, err := s.StdinPipe()
	if err != nil {
		s.Close()
		return nil, fmt.Errorf("sftp to %s: %w", c.target, err)
	}
	pr, err := s.StdoutPipe()
	if err != nil {
		s.Close()
		return nil, fmt.Errorf("sftp to %s: %w", c.target, err)
	}
	if err := s.RequestSubsystem("sftp"); err != nil {
		s.Close()
		return nil, fmt.Errorf("sftp to %s: %w (the server needs an sftp subsystem; dropbear runs /usr/lib/sftp-server)", c.target, err)
	}
	sc, err := sftp.NewClientPipe(pr, pw, sftp.UseConcurrentWrites(true), sftp.UseConcurrentReads(true))
	if err != nil {
		s.Close()
		return nil, fmt.Errorf("sftp to %s: %w (the server needs an sftp subsystem; dropbear runs /usr/lib/sftp-server)", c.target, err)
	}
	c.sftp, c.sftpSession = sc, s
	return sc, nil
}

// FS returns the machine's files over SFTP, named label in messages
// (usually the machine name).
func (c *Client) FS(ctx context.Context, label string) (*RemoteFS, error) {
	sc, err := c.SFTP(ctx)
	if err != nil {
		return nil, err
	}
	return &RemoteFS{Label: label, SFTP: sc}, nil
}

// Upload copies the local file src to dst on the machine through a
// temporary name and a rename, so that dst is never seen half written;
// dst keeps src's permission bits.
func (c *Client) Upload(ctx context.Context, src, dst string) error {
	rfs, err := c.FS(ctx, c.target.Addr)
	if err != nil {
		return err
	}
	return Copy(ctx, LocalFS{}, src, rfs, dst, false)
}

// Download copies the file src on the machine to the local file dst the
// same way.
func (c *Client) Download(ctx context.Context, src, dst string) error {
	rfs, err := c.FS(ctx, c.target.Addr)
	if err != nil {
		return err
	}
	return Copy(ctx, rfs, src, LocalFS{}, dst, false)
}

// RemoteFS is a machine's file tree over SFTP. Relative names are relative
// to the login user's home.
type RemoteFS struct {
	Label string // for messages
	SFTP  *sftp.Client
}

func (r *RemoteFS) String() string { return r.Label }

// Stat returns name's information, following symlinks.
func (r *RemoteFS) Stat(name string) (fs.FileInfo, error) { return r.SFTP.Stat(name) }

// ReadDir lists the folder name.
func (r *RemoteFS) ReadDir(name string) ([]fs.FileInfo, error) { return r.SFTP.ReadDir(name) }

// Open opens name for reading.
func (r *RemoteFS) Open(name string) (io.ReadCloser, error) { return r.SFTP.Open(name) }

// MkdirAll makes the folder name and its parents.
func (r *RemoteFS) MkdirAll(name string, perm fs.FileMode) error {
	if err := r.SFTP.MkdirAll(name); err != nil {
		return err
	}
	return r.SFTP.Chmod(name, perm)
}

// Join joins names with slashes.
func (r *RemoteFS) Join(elem ...string) string { return path.Join(elem...) }

// Base returns the last element of name.
func (r *RemoteFS) Base(name string) string { return path.Base(name) }

// WriteFile writes what src holds to name with mode perm: into a temporary
// file next to name, then renamed over it (atomically where the server has
// the posix-rename extension, which OpenSSH's sftp-server has).
func (r *RemoteFS) WriteFile(ctx context.Context, name string, src io.Reader, perm fs.FileMode) (err error) {
	tmp := path.Join(path.Dir(name), "."+path.Base(name)+".berth-tmp-"+randomSuffix())
	f, err := r.SFTP.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			r.SFTP.Remove(tmp)
		}
	}()
	if _, err := f.ReadFrom(ctxReader{ctx, src}); err != nil {
		return err
	}
	if err := f.Chmod(perm); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := r.SFTP.PosixRename(tmp, name); err != nil {
		// Servers without the extension refuse to rename over a file.
		if rerr := r.SFTP.Rename(tmp, name); rerr != nil {
			if st, serr := r.SFTP.Stat(name); serr != nil || st.IsDir() {
				return rerr
			}
			if err := r.SFTP.Remove(name); err != nil {
				return err
			}
			return r.SFTP.Rename(tmp, name)
		}
	}
	return nil
}

// LocalFS is this computer's file tree.
type LocalFS struct{}

func (LocalFS) String() string { return "local" }

// Stat returns name's information, following symlinks.
func (LocalFS) Stat(name string) (fs.FileInfo, error) { return os.Stat(name) }

// ReadDir lists the folder name.
func (LocalFS) ReadDir(name string) ([]fs.FileInfo, error) {
	entries, err := os.ReadDir(name)
	if err != nil {
		return nil, err
	}
	infos := make([]fs.FileInfo, 0, len(entries))
	for _, e := range entries {
		info, err := e.Info()
		if errors.Is(err, fs.ErrNotExist) {
			continue // removed while listing
		}
		if err != nil {
			return nil, err
		}
		infos = append(infos, info)
	}
	return infos, nil
}

// Open opens name for reading.
func (LocalFS) Open(name string) (io.ReadCloser, error) { return os.Open(name) }

// MkdirAll makes the folder name and its parents.
func (LocalFS) MkdirAll(name string, perm fs.FileMode) error { return os.MkdirAll(name, perm) }

// Join joins names with the local separator.
func (LocalFS) Join(elem ...string) string { return filepath.Join(elem...) }

// Base returns the last element of name.
func (LocalFS) Base(name string) string { return filepath.Base(name) }

// WriteFile writes what src holds to name with mode perm, through a
// temporary file and a rename.
func (LocalFS) WriteFile(ctx context.Context, name string, src io.Reader, perm fs.FileMode) (err error) {
	f, err := os.CreateTemp(filepath.Dir(name), "."+filepath.Base(name)+".berth-tmp-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if _, err := io.Copy(f, ctxReader{ctx, src}); err != nil {
		return err
	}
	if err := f.Chmod(perm); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), name)
}

// ctxReader fails reads once ctx has ended, so that long copies stop.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

func randomSuffix() string {
	var b [6]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
