package server

import (
	"archive/tar"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// evilTar tries to write outside the container: through a symlink to
// the root's parent, and with a name climbing out.
func evilTar(t *testing.T, marker string) string {
	t.Helper()
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	entries := []tar.Header{
		{Name: "up", Typeflag: tar.TypeSymlink, Linkname: "../../../../../../../../tmp", Mode: 0o777},
		{Name: "up/" + marker, Typeflag: tar.TypeReg, Mode: 0o644, Size: 4},
	}
	for _, h := range entries {
		if err := tw.WriteHeader(&h); err != nil {
			t.Fatal(err)
		}
		if h.Size > 0 {
			tw.Write([]byte("evil"))
		}
	}
	tw.Close()
	return b.String()
}

// dirTar holds one directory, name.
func dirTar(t *testing.T, name string) string {
	t.Helper()
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	tw.WriteHeader(&tar.Header{Name: name + "/", Typeflag: tar.TypeDir, Mode: 0o755})
	tw.Close()
	return b.String()
}

func climbTar(t *testing.T, marker string) string {
	t.Helper()
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	tw.WriteHeader(&tar.Header{Name: "../../../../../../../../tmp/" + marker, Typeflag: tar.TypeReg, Mode: 0o644, Size: 4})
	tw.Write([]byte("evil"))
	tw.Close()
	return b.String()
}

func TestDockerCLICopy(t *testing.T) {
	a := startAgent(t)
	run := func(stdin string, args ...string) (string, string, int) { return docker(t, a.sock, stdin, args...) }
	must := func(stdin string, args ...string) string {
		t.Helper()
		out, errOut, code := run(stdin, args...)
		if code != 0 {
			t.Fatalf("docker %s: exit %d: %s", strings.Join(args, " "), code, errOut)
		}
		return out
	}
	host := t.TempDir()
	mtime := time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC)
	f := filepath.Join(host, "f")
	os.WriteFile(f, []byte("hello\n"), 0o640)
	os.Chmod(f, 0o640)
	os.Chown(f, 1000, 1000)
	os.Chtimes(f, mtime, mtime)
	d := filepath.Join(host, "d")
	os.MkdirAll(filepath.Join(d, "sub"), 0o750)
	os.WriteFile(filepath.Join(d, "sub", "g"), []byte("g\n"), 0o600)
	os.Symlink("sub/g", filepath.Join(d, "link"))

	must("", "run", "-d", "--name", "cp", "busybox", "sleep", "1000")
	wantStat := fmt.Sprintf("640 1000:1000 %d\n", mtime.Unix())
	must("", "cp", f, "cp:/tmp/f")
	if got := must("", "exec", "cp", "stat", "-c", "%a %u:%g %Y", "/tmp/f"); got != wantStat {
		t.Errorf("copied in: stat = %q, want %q", got, wantStat)
	}
	must("", "cp", d, "cp:/tmp/")
	if got := must("", "exec", "cp", "sh", "-c", "cat /tmp/d/sub/g; readlink /tmp/d/link; stat -c %a /tmp/d/sub"); got != "g\nsub/g\n750\n" {
		t.Errorf("directory copied in: %q", got)
	}
	out := t.TempDir()
	must("", "cp", "cp:/tmp/f", filepath.Join(out, "f"))
	must("", "cp", "cp:/tmp/d", out)
	// The docker CLI writes files it copies out as its own user (as with
	// Docker); the tar it gets keeps the owner.
	wantHost := fmt.Sprintf("640 0:0 %d\n", mtime.Unix())
	if got := statLine(t, filepath.Join(out, "f")); got != wantHost {
		t.Errorf("copied out: stat = %q, want %q", got, wantHost)
	}
	tr := tar.NewReader(strings.NewReader(must("", "cp", "cp:/tmp/f", "-")))
	if h, err := tr.Next(); err != nil || h.Name != "f" || h.Uid != 1000 || h.Gid != 1000 || h.Mode != 0o640 || !h.ModTime.Equal(mtime) {
		t.Errorf("copied out as a tar: %+v %v", h, err)
	}
	if b, err := os.ReadFile(filepath.Join(out, "d", "sub", "g")); err != nil || string(b) != "g\n" {
		t.Errorf("directory copied out: %q %v", b, err)
	}
	must("", "cp", "cp:/tmp/d/.", filepath.Join(out, "contents"))
	if b, err := os.ReadFile(filepath.Join(out, "contents", "sub", "g")); err != nil || string(b) != "g\n" {
		t.Errorf("directory contents (/.) copied out: %q %v", b, err)
	}
	if _, errOut, code := run("", "cp", "cp:/nonexistent", out); code == 0 || !strings.Contains(errOut, "Could not find the file /nonexistent") {
		t.Errorf("missing path: exit %d, %q", code, errOut)
	}

	// Hostile archives stay inside the container.
	marker := fmt.Sprintf("berth-escape-%d", time.Now().UnixNano())
	run(evilTar(t, marker), "cp", "-", "cp:/tmp")
	run(climbTar(t, marker+"-climb"), "cp", "-", "cp:/tmp")
	must("", "cp", f, "cp:/../../../../tmp/"+marker+"-path")
	for _, m := range []string{marker, marker + "-climb", marker + "-path"} {
		if _, err := os.Stat(filepath.Join("/tmp", m)); err == nil {
			os.Remove(filepath.Join("/tmp", m))
			t.Errorf("%s escaped to the host's /tmp", m)
		}
	}
	if got := must("", "exec", "cp", "cat", "/tmp/"+marker); got != "evil" {
		t.Errorf("the symlinked entry should land in the container's /tmp, got %q", got)
	}
	must("", "exec", "cp", "test", "-f", "/tmp/"+marker+"-path")

	// A stopped container: both ways, through its layers.
	must("", "stop", "-t", "0", "cp")
	must("", "cp", f, "cp:/tmp/f2")
	must("", "cp", "cp:/tmp/f", filepath.Join(out, "f3"))
	if got := statLine(t, filepath.Join(out, "f3")); got != wantHost {
		t.Errorf("copied out of a stopped container: stat = %q, want %q", got, wantHost)
	}
	must("", "start", "cp")
	if got := must("", "exec", "cp", "stat", "-c", "%a %u:%g %Y", "/tmp/f2"); got != wantStat {
		t.Errorf("copied into a stopped container: stat = %q, want %q", got, wantStat)
	}
	// A stopped container's volume is read and written where it lives.
	must("", "run", "--name", "vol", "-v", "cpdata:/data", "busybox", "sh", "-c", "echo v > /data/file")
	must("", "cp", "vol:/data/file", filepath.Join(out, "vf"))
	if b, err := os.ReadFile(filepath.Join(out, "vf")); err != nil || string(b) != "v\n" {
		t.Errorf("copied out of a stopped container's volume: %q %v", b, err)
	}
	must("", "cp", f, "vol:/data/f2")
	if got := must("", "run", "--rm", "-v", "cpdata:/data", "busybox", "cat", "/data/f2"); got != "hello\n" {
		t.Errorf("copied into a stopped container's volume: %q", got)
	}
	must("", "cp", "vol:/data", filepath.Join(out, "vdir"))
	if b, err := os.ReadFile(filepath.Join(out, "vdir", "file")); err != nil || string(b) != "v\n" {
		t.Errorf("a stopped container's volume copied out: %q %v", b, err)
	}
	// -a (copyUIDGID) gives what it copies to the container's user.
	must("", "create", "--name", "asapp", "merge")
	os.WriteFile(filepath.Join(host, "rootfile"), []byte("r\n"), 0o600)
	must("", "cp", "-a", filepath.Join(host, "rootfile"), "asapp:/tmp/")
	tr = tar.NewReader(strings.NewReader(must("", "cp", "asapp:/tmp/rootfile", "-")))
	if h, err := tr.Next(); err != nil || h.Uid != 1000 || h.Gid != 1000 {
		t.Errorf("cp -a into a container of user app: %+v %v", h, err)
	}
	// A directory does not replace a file (noOverwriteDirNonDir).
	if _, errOut, code := run(dirTar(t, "rootfile"), "cp", "-", "asapp:/tmp"); code == 0 || !strings.Contains(errOut, "cannot overwrite non-directory") {
		t.Errorf("a directory over a file: exit %d, %q", code, errOut)
	}
	// A created container gets files before it first runs.
	must("", "create", "--name", "fresh", "busybox", "cat", "/etc/greeting")
	os.WriteFile(filepath.Join(host, "greeting"), []byte("hi from cp\n"), 0o644)
	must("", "cp", filepath.Join(host, "greeting"), "fresh:/etc/greeting")
	if got := must("", "start", "-a", "fresh"); got != "hi from cp\n" {
		t.Errorf("created container: %q", got)
	}
}

func statLine(t *testing.T, p string) string {
	t.Helper()
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	st := fi.Sys().(*syscall.Stat_t)
	return fmt.Sprintf("%o %d:%d %d\n", fi.Mode().Perm(), st.Uid, st.Gid, fi.ModTime().Unix())
}
