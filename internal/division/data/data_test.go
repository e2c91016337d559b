package data

import (
	"bytes"
	"encoding/csv"
	"strings"
	"testing"
)

func TestShanghaiCSV(t *testing.T) {
	recs, err := csv.NewReader(bytes.NewReader(ShanghaiCSV)).ReadAll()
	if err != nil {
		t.Fatalf("parse shanghai.csv: %v", err)
	}
	if got, want := strings.Join(recs[0], ","), "code,name,level,parent"; got != want {
		t.Fatalf("header = %q, want %q", got, want)
	}
	recs = recs[1:]

	// Code length and parent level for each level.
	levels := map[string]struct {
		digits int
		parent string
	}{
		"city":      {6, ""},
		"district":  {6, "city"},
		"street":    {9, "district"},
		"committee": {12, "street"},
	}
	wantCount := map[string]int{"city": 1, "district": 16, "street": 234, "committee": 6509}

	levelOf := make(map[string]string, len(recs))
	for _, r := range recs {
		if _, dup := levelOf[r[0]]; dup {
			t.Errorf("duplicate code %s", r[0])
		}
		levelOf[r[0]] = r[2]
	}

	count := map[string]int{}
	prev := ""
	for _, r := range recs {
		code, name, level, parent := r[0], r[1], r[2], r[3]
		count[level]++
		if code <= prev {
			t.Errorf("code %s not sorted after %s", code, prev)
		}
		prev = code
		if strings.TrimSpace(name) == "" || name != strings.TrimSpace(name) {
			t.Errorf("%s: bad name %q", code, name)
		}
		spec, ok := levels[level]
		if !ok {
			t.Errorf("%s: unknown level %q", code, level)
			continue
		}
		if len(code) != spec.digits || strings.Trim(code, "0123456789") != "" || !strings.HasPrefix(code, "31") {
			t.Errorf("%s: want %d digits starting 31 for level %s", code, spec.digits, level)
		}
		if spec.parent == "" {
			if parent != "" || code != "310000" {
				t.Errorf("%s: root must be 310000 with no parent, got parent %q", code, parent)
			}
			continue
		}
		pl, ok := levelOf[parent]
		if !ok {
			t.Errorf("%s: parent %q does not exist", code, parent)
			continue
		}
		if pl != spec.parent {
			t.Errorf("%s (%s): parent %s is %s, want %s", code, level, parent, pl, spec.parent)
		}
		// Codes nest by prefix; the root 310000 shares only the province digits.
		prefix := parent
		if pl == "city" {
			prefix = parent[:2]
		}
		if !strings.HasPrefix(code, prefix) {
			t.Errorf("%s: does not start with parent prefix %s", code, prefix)
		}
	}
	for level, want := range wantCount {
		if count[level] != want {
			t.Errorf("%d rows of level %s, want %d", count[level], level, want)
		}
	}
}
