package idcard_test

import (
	"bytes"
	"encoding/csv"
	"testing"

	"minzheng/internal/division/data"
	"minzheng/internal/idcard"
)

// TestShanghaiDistrictsAreRegions checks that the two embedded data sets
// agree: every Shanghai district in the division tree is a known address code.
func TestShanghaiDistrictsAreRegions(t *testing.T) {
	recs, err := csv.NewReader(bytes.NewReader(data.ShanghaiCSV)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, r := range recs[1:] {
		if r[2] != "district" {
			continue
		}
		n++
		name, ok := idcard.RegionName(r[0])
		if !ok || name != "上海市"+r[1] {
			t.Errorf("RegionName(%s) = %q, %v; want 上海市%s", r[0], name, ok, r[1])
		}
	}
	if n != 16 {
		t.Errorf("%d districts, want 16", n)
	}
}
