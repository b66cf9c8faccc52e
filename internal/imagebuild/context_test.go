package imagebuild

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

func names(t *testing.T, b []byte) []string {
	t.Helper()
	var out []string
	tr := tar.NewReader(bytes.NewReader(b))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, h.Name)
	}
	sort.Strings(out)
	return out
}

func TestWriteContext(t *testing.T) {
	dir := t.TempDir()
	for name, body := range map[string]string{
		"Dockerfile": "FROM x\n", "app.go": "x", ".dockerignore": "*.log\nnode_modules\n!keep.log\n",
		"debug.log": "no", "keep.log": "yes", "node_modules/a/b.js": "no", "src/main.go": "x",
	} {
		p := filepath.Join(dir, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var buf bytes.Buffer
	name, err := WriteContext(context.Background(), &buf, dir, "")
	if err != nil || name != "Dockerfile" {
		t.Fatalf("WriteContext = %q, %v", name, err)
	}
	got := strings.Join(names(t, buf.Bytes()), " ")
	if want := ".dockerignore Dockerfile app.go keep.log src/ src/main.go"; got != want {
		t.Errorf("context holds %q, want %q", got, want)
	}

	outside := filepath.Join(t.TempDir(), "prod.Dockerfile")
	os.WriteFile(outside, []byte("FROM y\n"), 0o644)
	buf.Reset()
	name, err = WriteContext(context.Background(), &buf, dir, outside)
	if err != nil || !strings.HasPrefix(name, ".dockerfile.") {
		t.Fatalf("outside Dockerfile: %q, %v", name, err)
	}
	if cn, _ := contextName(dir, outside); cn != name {
		t.Errorf("contextName = %q, WriteContext named it %q", cn, name)
	}
	if !strings.Contains(strings.Join(names(t, buf.Bytes()), " "), name) {
		t.Errorf("the outside Dockerfile was not sent as %s", name)
	}
	if _, err := WriteContext(context.Background(), io.Discard, t.TempDir(), ""); !errors.Is(err, ErrNoDockerfile) {
		t.Errorf("no Dockerfile: %v, want ErrNoDockerfile", err)
	}
}
