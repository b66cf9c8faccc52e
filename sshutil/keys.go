package sshutil

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"strings"

	"golang.org/x/crypto/ssh"

	"github.com/berthvm/berth/internal/atomicfile"
)

// KeyPair is a machine's SSH key: the private key file (OpenSSH format,
// mode 0600) and its public half next to it with ".pub" appended.
type KeyPair struct {
	Path      string     // private key file
	Signer    ssh.Signer // loaded private key
	PublicKey string     // authorized_keys line, without a trailing newline
}

// GenerateKey writes a new ed25519 key to path (0600, OpenSSH format, the
// way ssh-keygen writes it) and its authorized_keys line to path+".pub"
// (0644). comment ends the public line ("berth-dev"). It refuses to
// overwrite an existing key. Both files are written to temporary names
// and renamed, so a crash never leaves half a key.
func GenerateKey(path, comment string) (*KeyPair, error) {
	if _, err := os.Lstat(path); err == nil {
		return nil, fmt.Errorf("generate ssh key %s: %w", path, os.ErrExist)
	}
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate ssh key %s: %w", path, err)
	}
	block, err := ssh.MarshalPrivateKey(priv, comment)
	if err != nil {
		return nil, fmt.Errorf("generate ssh key %s: encode: %w", path, err)
	}
	signer, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		return nil, fmt.Errorf("generate ssh key %s: %w", path, err)
	}
	sshPub, err := ssh.NewPublicKey(pub)
	if err != nil {
		return nil, fmt.Errorf("generate ssh key %s: %w", path, err)
	}
	line := authorizedLine(sshPub, comment)
	if err := atomicfile.WriteFile(path+".pub", []byte(line+"\n"), 0o644, atomicfile.Sync()); err != nil {
		return nil, fmt.Errorf("generate ssh key %s: %w", path, err)
	}
	if err := atomicfile.WriteFile(path, pem.EncodeToMemory(block), 0o600, atomicfile.Sync()); err != nil {
		os.Remove(path + ".pub")
		return nil, fmt.Errorf("generate ssh key %s: %w", path, err)
	}
	return &KeyPair{Path: path, Signer: signer, PublicKey: line}, nil
}

// LoadKey reads a private key written by GenerateKey or ssh-keygen
// (unencrypted). The public line comes from path+".pub" when it exists,
// else it is derived from the private key.
func LoadKey(path string) (*KeyPair, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load ssh key: %w", err)
	}
	signer, err := ssh.ParsePrivateKey(data)
	if err != nil {
		var missing *ssh.PassphraseMissingError
		if errors.As(err, &missing) {
			return nil, fmt.Errorf("load ssh key %s: the key is protected by a passphrase; berth needs a key without one", path)
		}
		return nil, fmt.Errorf("load ssh key %s: %w", path, err)
	}
	line := authorizedLine(signer.PublicKey(), "")
	if pubData, err := os.ReadFile(path + ".pub"); err == nil {
		pub, comment, _, _, perr := ssh.ParseAuthorizedKey(pubData)
		if perr != nil {
			return nil, fmt.Errorf("load ssh key %s.pub: %w", path, perr)
		}
		if !keysEqual(pub, signer.PublicKey()) {
			return nil, fmt.Errorf("load ssh key %s: %s.pub does not belong to this private key", path, path)
		}
		line = authorizedLine(pub, comment)
	}
	return &KeyPair{Path: path, Signer: signer, PublicKey: line}, nil
}

// LoadOrGenerateKey loads the key at path, generating it first when the
// file does not exist.
func LoadOrGenerateKey(path, comment string) (*KeyPair, error) {
	kp, err := LoadKey(path)
	if err == nil || !errors.Is(err, os.ErrNotExist) {
		return kp, err
	}
	return GenerateKey(path, comment)
}

func authorizedLine(k ssh.PublicKey, comment string) string {
	line := strings.TrimSuffix(string(ssh.MarshalAuthorizedKey(k)), "\n")
	if comment != "" {
		line += " " + comment
	}
	return line
}

func keysEqual(a, b ssh.PublicKey) bool {
	return a.Type() == b.Type() && string(a.Marshal()) == string(b.Marshal())
}
