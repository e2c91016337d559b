package secret

import (
	"bytes"
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
