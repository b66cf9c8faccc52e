package sshutil_test

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/berthvm/berth/internal/testenv"
	"github.com/berthvm/berth/sshutil"
)

func TestGenerateKeyThenLoad(t *testing.T) {
	path := filepath.Join(t.TempDir(), "id_ed25519")
	gen, err := sshutil.GenerateKey(path, "berth-dev")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(gen.PublicKey, "ssh-ed25519 ") || !strings.HasSuffix(gen.PublicKey, " berth-dev") {
		t.Errorf("public line = %q, want ssh-ed25519 ... berth-dev", gen.PublicKey)
	}
	if runtime.GOOS != "windows" {
		for name, want := range map[string]os.FileMode{path: 0o600, path + ".pub": 0o644} {
			st, err := os.Stat(name)
			if err != nil {
				t.Fatal(err)
			}
			if got := st.Mode().Perm(); got != want {
				t.Errorf("mode of %s = %o, want %o", name, got, want)
			}
		}
	}
	pub, err := os.ReadFile(path + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(pub), gen.PublicKey+"\n"; got != want {
		t.Errorf(".pub = %q, want %q", got, want)
	}
	loaded, err := sshutil.LoadKey(path)
	if err != nil {
		t.Fatal(err)
	}
	if loaded.PublicKey != gen.PublicKey {
		t.Errorf("loaded public line = %q, want %q", loaded.PublicKey, gen.PublicKey)
	}
	if got, want := string(loaded.Signer.PublicKey().Marshal()), string(gen.Signer.PublicKey().Marshal()); got != want {
		t.Error("loaded signer differs from the generated one")
	}
	if _, err := sshutil.GenerateKey(path, "again"); !errors.Is(err, os.ErrExist) {
		t.Errorf("GenerateKey over an existing key: err = %v, want os.ErrExist", err)
	}
	again, err := sshutil.LoadOrGenerateKey(path, "x")
	if err != nil || again.PublicKey != gen.PublicKey {
		t.Errorf("LoadOrGenerateKey on an existing key = %v, %v; want the existing key", again, err)
	}
}

func TestLoadKeyErrors(t *testing.T) {
	dir := t.TempDir()
	other, err := sshutil.GenerateKey(filepath.Join(dir, "other"), "")
	if err != nil {
		t.Fatal(err)
	}
	mine, err := sshutil.GenerateKey(filepath.Join(dir, "mine"), "")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(mine.Path+".pub", []byte(other.PublicKey+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "garbage"), []byte("not a key"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		path string
		want string
	}{
		{filepath.Join(dir, "missing"), "no such file"},
		{mine.Path, "does not belong to this private key"},
		{filepath.Join(dir, "garbage"), "load ssh key"},
	}
	for _, tt := range tests {
		_, err := sshutil.LoadKey(tt.path)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("LoadKey(%s) error = %v, want one containing %q", filepath.Base(tt.path), err, tt.want)
		}
	}
}

// OpenSSH's own tools must read the key berth writes, and berth must read
// keys written by ssh-keygen, passphrase ones with a clear error.
func TestKeysInteroperateWithOpenSSH(t *testing.T) {
	testenv.NeedCommand(t, "ssh-keygen")
	dir := t.TempDir()
	gen, err := sshutil.GenerateKey(filepath.Join(dir, "berth"), "c")
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("ssh-keygen", "-y", "-f", gen.Path).Output()
	if err != nil {
		t.Fatalf("ssh-keygen -y on berth's key: %v", err)
	}
	if got, want := strings.Fields(string(out))[1], strings.Fields(gen.PublicKey)[1]; got != want {
		t.Errorf("ssh-keygen derives %s, berth wrote %s", got, want)
	}

	made := filepath.Join(dir, "made")
	if out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "made-by-ssh-keygen", "-f", made).CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen: %v: %s", err, out)
	}
	k, err := sshutil.LoadKey(made)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(k.PublicKey, " made-by-ssh-keygen") {
		t.Errorf("public line = %q, want the .pub comment", k.PublicKey)
	}

	locked := filepath.Join(dir, "locked")
	if out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "secret", "-f", locked).CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen: %v: %s", err, out)
	}
	if _, err := sshutil.LoadKey(locked); err == nil || !strings.Contains(err.Error(), "passphrase") {
		t.Errorf("LoadKey of a passphrase key: err = %v, want one naming the passphrase", err)
	}
}
