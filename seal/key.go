package seal

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/mod/sumdb/note"
)

// GenerateKey returns a new Ed25519 key pair named name in the encodings of
// golang.org/x/mod/sumdb/note: the private signer key
// ("PRIVATE+KEY+name+hash+key") and the public verifier key
// ("name+hash+key"). The name is also the default origin of the checkpoints
// signed with it.
func GenerateKey(name string) (private, public string, err error) {
	private, public, err = note.GenerateKey(rand.Reader, name)
	if err == nil {
		_, err = note.NewSigner(private) // note checks the name only here
	}
	if err != nil {
		return "", "", fmt.Errorf("seal: key name %q: %w; a name is printable ASCII without spaces or '+', such as psono-audit-prod", name, err)
	}
	return private, public, nil
}

// WriteKeyFiles generates a key pair named name and writes it to dir as
// name.key (the private key, mode 0600) and name.pub (the public key, 0644).
// It refuses to overwrite either file. It returns the two paths.
func WriteKeyFiles(dir, name string) (keyPath, pubPath string, err error) {
	private, public, err := GenerateKey(name)
	if err != nil {
		return "", "", err
	}
	if dir != "" {
		// A missing folder is made, private: it holds a private key.
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return "", "", fmt.Errorf("seal: key folder: %w", err)
		}
	}
	keyPath = filepath.Join(dir, name+".key")
	pubPath = filepath.Join(dir, name+".pub")
	for _, p := range []string{keyPath, pubPath} {
		if _, err := os.Lstat(p); err == nil {
			return "", "", fmt.Errorf("seal: %s exists; remove it or choose another name, a key is never overwritten", p)
		}
	}
	if err := writeNew(keyPath, private+"\n", 0o600); err != nil {
		return "", "", err
	}
	if err := writeNew(pubPath, public+"\n", 0o644); err != nil {
		os.Remove(keyPath)
		return "", "", err
	}
	return keyPath, pubPath, nil
}

func writeNew(path, content string, mode os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return fmt.Errorf("seal: %w", err)
	}
	if err := f.Chmod(mode); err != nil { // whatever the umask
		f.Close()
		return fmt.Errorf("seal: %w", err)
	}
	if _, err := f.WriteString(content); err != nil {
		f.Close()
		return fmt.Errorf("seal: write %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("seal: write %s: %w", path, err)
	}
	return f.Close()
}

// LoadSigner reads a private key file written by WriteKeyFiles (or
// "otelaudit keygen") and returns its signer and the matching verifier.
func LoadSigner(path string) (note.Signer, note.Verifier, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("seal: private key: %w", err)
	}
	skey := strings.TrimSpace(string(b))
	if !strings.HasPrefix(skey, "PRIVATE+KEY+") {
		return nil, nil, fmt.Errorf("seal: %s is not a private key (it should start with PRIVATE+KEY+; was the .pub file given?)", path)
	}
	signer, err := note.NewSigner(skey)
	if err != nil {
		return nil, nil, fmt.Errorf("seal: private key %s: %w", path, err)
	}
	// note derives no verifier from a signer: do it from the seed.
	_, rest, _ := strings.Cut(strings.TrimPrefix(skey, "PRIVATE+KEY+"), "+")
	_, key64, _ := strings.Cut(rest, "+")
	key, err := base64.StdEncoding.DecodeString(key64)
	if err != nil || len(key) != 1+ed25519.SeedSize || key[0] != 1 {
		return nil, nil, fmt.Errorf("seal: private key %s: not an Ed25519 key", path)
	}
	pub := ed25519.NewKeyFromSeed(key[1:]).Public().(ed25519.PublicKey)
	vkey, err := note.NewEd25519VerifierKey(signer.Name(), pub)
	if err != nil {
		return nil, nil, fmt.Errorf("seal: private key %s: %w", path, err)
	}
	verifier, err := note.NewVerifier(vkey)
	if err != nil {
		return nil, nil, fmt.Errorf("seal: private key %s: %w", path, err)
	}
	if verifier.KeyHash() != signer.KeyHash() {
		return nil, nil, errors.New("seal: private key " + path + ": derived public key does not match the key's hash")
	}
	return signer, verifier, nil
}

// LoadVerifier reads a public key file written by WriteKeyFiles (or
// "otelaudit keygen").
func LoadVerifier(path string) (note.Verifier, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("seal: public key: %w", err)
	}
	vkey := strings.TrimSpace(string(b))
	if strings.HasPrefix(vkey, "PRIVATE+KEY+") {
		return nil, fmt.Errorf("seal: %s is a private key; give the public key (NAME.pub), and keep the private one off the machine that verifies", path)
	}
	v, err := note.NewVerifier(vkey)
	if err != nil {
		return nil, fmt.Errorf("seal: public key %s: %w", path, err)
	}
	return v, nil
}

// CheckKeyFile reports a private key file that others than its owner may
// read, or replace: a file readable or writable by group or others, or a
// folder others may write to (without the sticky bit), where the file could
// be swapped for another key. It returns nil for a well-kept key, and where
// file modes say nothing (Windows).
func CheckKeyFile(path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("seal: private key: %w", err)
	}
	if !keyModesMatter {
		return nil
	}
	if m := fi.Mode().Perm(); m&0o077 != 0 {
		return fmt.Errorf("seal: private key %s has mode %04o: others than its owner can read it and sign forged checkpoints; chmod 600 %s", path, m, path)
	}
	dir := filepath.Dir(path)
	if di, err := os.Stat(dir); err == nil && di.Mode().Perm()&0o002 != 0 && di.Mode()&os.ModeSticky == 0 {
		return fmt.Errorf("seal: private key %s is in %s, a folder anyone may write to: the key can be replaced; keep it in a folder only its owner writes (chmod o-w %s)", path, dir, dir)
	}
	return nil
}
