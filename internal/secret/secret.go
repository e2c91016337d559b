// Package secret keeps personal data safe at rest: it encrypts sensitive
// fields (AES-256-GCM), derives keyed lookup hashes (HMAC-SHA-256) so records
// can be found by ID number without decrypting a table, and hashes the audit
// chain (SHA-256). The algorithms sit behind the Suite interface so the
// national algorithms (SM4/SM3, for 密评) can be configured instead.
package secret

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"os"
	"path/filepath"
	"strings"
	"sync"
)

// EnvKey names the environment variable that holds the key in production
// (base64 of 64 random bytes). It takes precedence over the key file.
const EnvKey = "MINZHENG_SECRET_KEY"

// KeyFile is the name of the key file in the data folder.
const KeyFile = "secret.key"

// KeySize is the length of the master key: 32 bytes for encryption and 32
// for the lookup hash.
const KeySize = 64

// Suite is the set of algorithms used to protect data.
type Suite interface {
	// Seal encrypts plaintext; the result carries its own nonce.
	Seal(plaintext []byte) []byte
	// Open decrypts what Seal produced.
	Open(sealed []byte) ([]byte, error)
	// Index returns a keyed hash of value, stable for a key, for lookups.
	Index(value string) []byte
	// Digest returns an unkeyed hash of data, for hash chains.
	Digest(data []byte) []byte
	// Name names the algorithms, e.g. "aes-gcm+hmac-sha256+sha256".
	Name() string
}

// Standard is the default suite: AES-256-GCM, HMAC-SHA-256 and SHA-256.
type Standard struct {
	aead    cipher.AEAD
	macPool sync.Pool
}

// NewStandard returns the default suite for a 64-byte master key.
func NewStandard(key []byte) (*Standard, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("secret: key must be %d bytes, got %d", KeySize, len(key))
	}
	block, err := aes.NewCipher(key[:32])
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	macKey := append([]byte(nil), key[32:]...)
	s := &Standard{aead: aead}
	s.macPool.New = func() any { return hmac.New(sha256.New, macKey) }
	return s, nil
}

// Seal encrypts plaintext with a random 96-bit nonce, prefixed to the result.
func (s *Standard) Seal(plaintext []byte) []byte {
	out := make([]byte, s.aead.NonceSize(), s.aead.NonceSize()+len(plaintext)+s.aead.Overhead())
	rand.Read(out)
	return s.aead.Seal(out, out, plaintext, nil)
}

// Open decrypts a value sealed with the same key.
func (s *Standard) Open(sealed []byte) ([]byte, error) {
	n := s.aead.NonceSize()
	if len(sealed) < n+s.aead.Overhead() {
		return nil, errors.New("secret: sealed value too short")
	}
	return s.aead.Open(nil, sealed[:n], sealed[n:], nil)
}

// Index returns HMAC-SHA-256(value) under the lookup key.
func (s *Standard) Index(value string) []byte {
	m := s.macPool.Get().(hash.Hash)
	m.Reset()
	m.Write([]byte(value))
	sum := m.Sum(nil)
	s.macPool.Put(m)
	return sum
}

// Digest returns SHA-256(data).
func (s *Standard) Digest(data []byte) []byte {
	sum := sha256.Sum256(data)
	return sum[:]
}

// Name names the algorithms.
func (s *Standard) Name() string { return "aes-256-gcm+hmac-sha256+sha256" }

// LoadKey returns the master key from EnvKey, or from the key file in
// dataDir, creating that file (mode 0600) with a new random key when neither
// exists. created reports whether a new key was made.
func LoadKey(dataDir string) (key []byte, created bool, err error) {
	if v := strings.TrimSpace(os.Getenv(EnvKey)); v != "" {
		key, err := base64.StdEncoding.DecodeString(v)
		if err != nil || len(key) != KeySize {
			return nil, false, fmt.Errorf("secret: %s must be base64 of %d bytes", EnvKey, KeySize)
		}
		return key, false, nil
	}
	path := filepath.Join(dataDir, KeyFile)
	b, err := os.ReadFile(path)
	if err == nil {
		key, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(b)))
		if err != nil || len(key) != KeySize {
			return nil, false, fmt.Errorf("secret: %s is damaged: it must hold base64 of %d bytes", path, KeySize)
		}
		return key, false, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, false, fmt.Errorf("secret: read key: %w", err)
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, false, fmt.Errorf("secret: create data folder: %w", err)
	}
	key = make([]byte, KeySize)
	rand.Read(key)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, false, fmt.Errorf("secret: create key file: %w", err)
	}
	if _, err := f.WriteString(base64.StdEncoding.EncodeToString(key) + "\n"); err != nil {
		f.Close()
		return nil, false, fmt.Errorf("secret: write key file: %w", err)
	}
	if err := f.Close(); err != nil {
		return nil, false, err
	}
	return key, true, nil
}
