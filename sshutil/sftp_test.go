//go:build linux

package sshutil_test

import (
	"bytes"
	"crypto/rand"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/berthvm/berth/sshutil"
)

func TestUploadDownload(t *testing.T) {
	eachServer(t, func(t *testing.T, kind string) {
		_, c := connect(t, kind)
		ctx := testContext(t)
		local := t.TempDir()
		remote := t.TempDir() // the server runs on this host, as root
		src := filepath.Join(local, "agent")
		data := make([]byte, 3<<20+17)
		rand.Read(data)
		if err := os.WriteFile(src, data, 0o755); err != nil {
			t.Fatal(err)
		}
		dst := filepath.Join(remote, "berth-agent")
		if err := os.WriteFile(dst, []byte("old version"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := c.Upload(ctx, src, dst); err != nil {
			t.Fatalf("Upload: %v", err)
		}
		got, err := os.ReadFile(dst)
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("uploaded file differs (%d bytes, want %d): %v", len(got), len(data), err)
		}
		if st, _ := os.Stat(dst); st.Mode().Perm() != 0o755 {
			t.Errorf("uploaded mode = %o, want 755", st.Mode().Perm())
		}
		if names := list(t, remote); strings.Join(names, ",") != "berth-agent" {
			t.Errorf("remote folder holds %v, want only berth-agent (no temporary files)", names)
		}
		// The remote side sees it too.
		if out, err := c.Output(ctx, "sha256sum "+dst+" | cut -c1-8; stat -c %a "+dst); err != nil || !strings.HasSuffix(string(out), "755\n") {
			t.Errorf("remote check: %q, %v", out, err)
		}

		back := filepath.Join(local, "back")
		if err := c.Download(ctx, dst, back); err != nil {
			t.Fatalf("Download: %v", err)
		}
		if got, _ := os.ReadFile(back); !bytes.Equal(got, data) {
			t.Error("downloaded file differs")
		}

		// Errors name the file.
		err = c.Download(ctx, filepath.Join(remote, "missing"), back)
		if err == nil || !strings.Contains(err.Error(), "missing") {
			t.Errorf("Download of a missing file: %v", err)
		}
	})
}

func TestCopyTrees(t *testing.T) {
	eachServer(t, func(t *testing.T, kind string) {
		_, c := connect(t, kind)
		ctx := testContext(t)
		rfs, err := c.FS(ctx, "dev")
		if err != nil {
			t.Fatal(err)
		}
		src := filepath.Join(t.TempDir(), "site")
		files := map[string]string{"index.html": "<h1>hi</h1>", "css/a.css": "a{}", "css/deep/b.css": "b{}", "empty/.keep": ""}
		for name, content := range files {
			p := filepath.Join(src, name)
			os.MkdirAll(filepath.Dir(p), 0o755)
			if err := os.WriteFile(p, []byte(content), 0o640); err != nil {
				t.Fatal(err)
			}
		}
		os.Symlink("index.html", filepath.Join(src, "link.html"))
		files["link.html"] = files["index.html"] // symlinks are followed

		// A folder without recursive is refused.
		remote := t.TempDir()
		if err := sshutil.Copy(ctx, sshutil.LocalFS{}, src, rfs, remote, false); err == nil || !strings.Contains(err.Error(), "-r") {
			t.Errorf("Copy of a folder without recursive: %v", err)
		}
		// Into an existing folder: lands as remote/site.
		if err := sshutil.Copy(ctx, sshutil.LocalFS{}, src, rfs, remote, true); err != nil {
			t.Fatal(err)
		}
		checkTree(t, filepath.Join(remote, "site"), files)
		// Machine to machine (here the same server, another folder).
		other := filepath.Join(t.TempDir(), "copy")
		if err := sshutil.Copy(ctx, rfs, filepath.Join(remote, "site"), rfs, other, true); err != nil {
			t.Fatal(err)
		}
		checkTree(t, other, files)
		// And back to a new local name.
		back := filepath.Join(t.TempDir(), "back")
		if err := sshutil.Copy(ctx, rfs, other, sshutil.LocalFS{}, back, true); err != nil {
			t.Fatal(err)
		}
		checkTree(t, back, files)
	})
}

func checkTree(t *testing.T, root string, want map[string]string) {
	t.Helper()
	got := map[string]string{}
	filepath.Walk(root, func(p string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		data, _ := os.ReadFile(p)
		rel, _ := filepath.Rel(root, p)
		got[filepath.ToSlash(rel)] = string(data)
		if info.Mode().Perm() != 0o640 {
			t.Errorf("%s mode = %o, want 640", p, info.Mode().Perm())
		}
		return nil
	})
	if len(got) != len(want) {
		t.Errorf("%s holds %v, want %v", root, got, want)
	}
	for name, content := range want {
		if got[name] != content {
			t.Errorf("%s/%s = %q, want %q", root, name, got[name], content)
		}
	}
}

func list(t *testing.T, dir string) []string {
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	return names
}
