// Package secret keeps personal data safe at rest: it encrypts sensitive
// fields (AES-256-GCM), derives keyed lookup hashes (HMAC-SHA-256) so records
// can be found by ID number without decrypting a table, and chains the audit
// log with a keyed MAC (HMAC-SHA-256 under a key derived from the master key
// with HKDF, label "audit-chain"), which nobody holding only the database can
// recompute. The algorithms sit behind the Suite interface so the national
// algorithms (SM4/SM3, for 密评) can be configured instead.
package secret

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"io"
	"log/slog"
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
	// Digest returns an unkeyed hash of data (SHA-256): the audit chain's
	// scheme before it was keyed, still used to verify old entries.
	Digest(data []byte) []byte
	// Chain returns the function that computes the audit chain's hash
	// under scheme (ChainSHA256, ChainHMACSHA256, ChainHMACSM3), and false
	// when the suite cannot compute that scheme. The keyed schemes use a
	// key derived from the master key, never the encryption or lookup key.
	Chain(scheme string) (func(data []byte) []byte, bool)
	// ChainScheme names the scheme new audit entries are chained with.
	ChainScheme() string
	// Name names the algorithms, e.g. "aes-gcm+hmac-sha256+sha256".
	Name() string
}

// The schemes of the audit chain, as each entry records its own.
const (
	// ChainSHA256 is the unkeyed SHA-256 chain of entries written before
	// the chain was keyed. Anyone with the database can recompute it, so
	// it is only verified, never written.
	ChainSHA256 = "sha256"
	// ChainHMACSHA256 is HMAC-SHA-256 under the chain key, the default.
	ChainHMACSHA256 = "hmac-sha256"
	// ChainHMACSM3 is HMAC-SM3 under the chain key (GB/T 32905), for 密评.
	// Not built in yet: it needs github.com/emmansun/gmsm, which the module
	// mirror of the build machines does not list; Chain reports false and
	// WithChain refuses it until it is added.
	ChainHMACSM3 = "hmac-sm3"
)

// ChainLabel is the HKDF info label of the audit chain key.
const ChainLabel = "audit-chain"

// Option configures NewStandard.
type Option func(*Standard) error

// WithChain selects the scheme new audit entries are chained with; the
// default is ChainHMACSHA256.
func WithChain(scheme string) Option {
	return func(s *Standard) error {
		if _, ok := s.Chain(scheme); !ok || scheme == ChainSHA256 {
			return fmt.Errorf("secret: audit chain scheme %q is not available (built in: %s)", scheme, ChainHMACSHA256)
		}
		s.chainScheme = scheme
		return nil
	}
}

// Standard is the default suite: AES-256-GCM, HMAC-SHA-256 and SHA-256.
type Standard struct {
	aead        cipher.AEAD
	macPool     sync.Pool
	chainPool   sync.Pool // HMAC-SHA-256 under the chain key
	chainScheme string
}

// NewStandard returns the default suite for a 64-byte master key.
func NewStandard(key []byte, opts ...Option) (*Standard, error) {
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
	chainKey, err := hkdf.Key(sha256.New, key, nil, ChainLabel, 32)
	if err != nil {
		return nil, err
	}
	s := &Standard{aead: aead, chainScheme: ChainHMACSHA256}
	s.macPool.New = func() any { return hmac.New(sha256.New, macKey) }
	s.chainPool.New = func() any { return hmac.New(sha256.New, chainKey) }
	for _, o := range opts {
		if err := o(s); err != nil {
			return nil, err
		}
	}
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

// Chain returns the audit chain's hash for scheme: SHA-256 for the old
// unkeyed entries, HMAC-SHA-256 under the chain key for the keyed ones.
func (s *Standard) Chain(scheme string) (func(data []byte) []byte, bool) {
	switch scheme {
	case ChainSHA256:
		return s.Digest, true
	case ChainHMACSHA256:
		return s.chainMAC, true
	}
	return nil, false
}

func (s *Standard) chainMAC(data []byte) []byte {
	m := s.chainPool.Get().(hash.Hash)
	m.Reset()
	m.Write(data)
	sum := m.Sum(nil)
	s.chainPool.Put(m)
	return sum
}

// ChainScheme names the scheme new audit entries are chained with.
func (s *Standard) ChainScheme() string { return s.chainScheme }

// Name names the algorithms.
func (s *Standard) Name() string { return "aes-256-gcm+hmac-sha256+" + s.chainScheme }

// LoadKey returns the master key from EnvKey, or from the key file in
// dataDir, creating that file (mode 0600) with a new random key when neither
// exists. created reports whether a new key was made. A key file that group
// or others may read or write is tightened to 0600 (with a warning in the
// log), or refused when that fails.
func LoadKey(dataDir string) (key []byte, created bool, err error) {
	if v := strings.TrimSpace(os.Getenv(EnvKey)); v != "" {
		key, err := base64.StdEncoding.DecodeString(v)
		if err != nil || len(key) != KeySize {
			return nil, false, fmt.Errorf("secret: %s must be base64 of %d bytes", EnvKey, KeySize)
		}
		return key, false, nil
	}
	path := filepath.Join(dataDir, KeyFile)
	key, err = readKeyFile(path)
	if err == nil {
		return key, false, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, false, err
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, false, fmt.Errorf("secret: create data folder: %w", err)
	}
	key = make([]byte, KeySize)
	rand.Read(key)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) { // another process starting at the same time made it
		key, err := readKeyFile(path)
		return key, false, err
	}
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

// readKeyFile reads the key file at path, first tightening its mode to 0600
// when group or others have any access to it.
func readKeyFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, err
		}
		return nil, fmt.Errorf("secret: read key: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("secret: read key: %w", err)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		if err := f.Chmod(0o600); err != nil {
			return nil, fmt.Errorf("secret: 密钥文件 %s 的权限为 %#o，其他用户可以读取，且无法改为 0600（%v）：请执行 chmod 600 %s 后再启动", path, perm, err, path)
		}
		slog.Warn("secret: the key file was readable by other users; its mode is now 0600 — if others could log in here, consider the key exposed", "path", path, "was", fmt.Sprintf("%#o", perm))
	}
	b, err := io.ReadAll(io.LimitReader(f, 4096))
	if err != nil {
		return nil, fmt.Errorf("secret: read key: %w", err)
	}
	key, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(b)))
	if err != nil || len(key) != KeySize {
		return nil, fmt.Errorf("secret: %s is damaged: it must hold base64 of %d bytes", path, KeySize)
	}
	return key, nil
}
