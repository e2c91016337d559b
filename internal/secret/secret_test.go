package secret

import (
	"bytes"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"os"
	"path/filepath"
	"testing"
)

func testSuite(t *testing.T) *Standard {
	t.Helper()
	key := bytes.Repeat([]byte{7}, KeySize)
	s, err := NewStandard(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestSealOpen(t *testing.T) {
	s := testSuite(t)
	pt := []byte("310104195001011234")
	a, b := s.Seal(pt), s.Seal(pt)
	if bytes.Equal(a, b) {
		t.Error("two seals of the same value are equal: nonce not random")
	}
	if bytes.Contains(a, pt) {
		t.Error("sealed value contains the plaintext")
	}
	got, err := s.Open(a)
	if err != nil || !bytes.Equal(got, pt) {
		t.Fatalf("Open = %q, %v", got, err)
	}
	a[len(a)-1] ^= 1
	if _, err := s.Open(a); err == nil {
		t.Error("tampered value opened")
	}
	other, _ := NewStandard(bytes.Repeat([]byte{8}, KeySize))
	if _, err := other.Open(b); err == nil {
		t.Error("opened with the wrong key")
	}
}

func TestIndex(t *testing.T) {
	s := testSuite(t)
	if !bytes.Equal(s.Index("a"), s.Index("a")) || bytes.Equal(s.Index("a"), s.Index("b")) {
		t.Error("index not deterministic or not distinct")
	}
	other, _ := NewStandard(bytes.Repeat([]byte{8}, KeySize))
	if bytes.Equal(s.Index("a"), other.Index("a")) {
		t.Error("index does not depend on the key")
	}
}

func TestLoadKey(t *testing.T) {
	t.Setenv(EnvKey, "")
	dir := filepath.Join(t.TempDir(), "data")
	k1, created, err := LoadKey(dir)
	if err != nil || !created || len(k1) != KeySize {
		t.Fatalf("first LoadKey: %v created=%v", err, created)
	}
	fi, err := os.Stat(filepath.Join(dir, KeyFile))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v, %v", fi.Mode(), err)
	}
	k2, created, err := LoadKey(dir)
	if err != nil || created || !bytes.Equal(k1, k2) {
		t.Fatalf("second LoadKey differs: %v created=%v", err, created)
	}
	env := bytes.Repeat([]byte{9}, KeySize)
	t.Setenv(EnvKey, base64.StdEncoding.EncodeToString(env))
	k3, _, err := LoadKey(dir)
	if err != nil || !bytes.Equal(k3, env) {
		t.Fatalf("env key not used: %v", err)
	}
	t.Setenv(EnvKey, "short")
	if _, _, err := LoadKey(dir); err == nil {
		t.Error("bad env key accepted")
	}
}

// TestLoadKeyTightensMode: a key file readable by group or others (issue
// 11, finding 18) is tightened to 0600 at start, and the key still loads.
func TestLoadKeyTightensMode(t *testing.T) {
	t.Setenv(EnvKey, "")
	dir := t.TempDir()
	path := filepath.Join(dir, KeyFile)
	want := bytes.Repeat([]byte{3}, KeySize)
	for _, mode := range []os.FileMode{0o644, 0o640, 0o604, 0o666} {
		if err := os.WriteFile(path, []byte(base64.StdEncoding.EncodeToString(want)+"\n"), mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(path, mode); err != nil { // WriteFile keeps an existing file's mode
			t.Fatal(err)
		}
		got, created, err := LoadKey(dir)
		if err != nil || created || !bytes.Equal(got, want) {
			t.Fatalf("mode %v: LoadKey = %v, created %v", mode, err, created)
		}
		fi, err := os.Stat(path)
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Fatalf("mode %v: after LoadKey the key file is %v, want 0600 (%v)", mode, fi.Mode().Perm(), err)
		}
	}
}

func TestChain(t *testing.T) {
	key := bytes.Repeat([]byte{7}, KeySize)
	s := testSuite(t)
	if s.ChainScheme() != ChainHMACSHA256 {
		t.Fatalf("default chain scheme %q", s.ChainScheme())
	}
	legacy, ok := s.Chain(ChainSHA256)
	if sum := sha256.Sum256([]byte("x")); !ok || !bytes.Equal(legacy([]byte("x")), sum[:]) {
		t.Fatal("the legacy scheme is not plain SHA-256")
	}
	mac, ok := s.Chain(ChainHMACSHA256)
	if !ok {
		t.Fatal("no hmac-sha256")
	}
	got := mac([]byte("x"))
	// The chain key is derived with HKDF under its label: never the
	// encryption key, the lookup key or the master key itself.
	for _, k := range [][]byte{key, key[:32], key[32:]} {
		m := hmac.New(sha256.New, k)
		m.Write([]byte("x"))
		if bytes.Equal(m.Sum(nil), got) {
			t.Fatal("the chain MAC uses a key of the suite's other uses")
		}
	}
	ck, _ := hkdf.Key(sha256.New, key, nil, ChainLabel, 32)
	m := hmac.New(sha256.New, ck)
	m.Write([]byte("x"))
	if !bytes.Equal(m.Sum(nil), got) {
		t.Fatal("the chain MAC is not HMAC-SHA-256 under HKDF(master, \"audit-chain\")")
	}
	other, _ := NewStandard(bytes.Repeat([]byte{8}, KeySize))
	if omac, _ := other.Chain(ChainHMACSHA256); bytes.Equal(omac([]byte("x")), got) {
		t.Fatal("the chain MAC does not depend on the key")
	}
	if _, ok := s.Chain("md5"); ok {
		t.Error("unknown scheme accepted")
	}
	if _, err := NewStandard(key, WithChain(ChainSHA256)); err == nil {
		t.Error("new entries may not be chained without a key")
	}
	if _, err := NewStandard(key, WithChain(ChainHMACSM3)); err == nil {
		t.Error("hmac-sm3 accepted although it is not built in")
	}
}
