package policy

import (
	"encoding/json"
	"os"
	"testing"
	"time"
)

func TestEmbeddedLoad(t *testing.T) {
	s, err := Embedded()
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"dibao", "dibao_edge", "disability_care", "disability_living", "elderly_allowance", "rigid_expense", "tekun"}
	if len(s.IDs()) != len(want) {
		t.Fatalf("ids %v", s.IDs())
	}
	b, _ := os.ReadFile("/tmp/case1.json")
	var c Case
	json.Unmarshal(b, &c)
	for _, id := range s.IDs() {
		r, err := s.Evaluate(id, &c, time.Date(2024, 8, 1, 0, 0, 0, 0, time.UTC), nil)
		if err != nil {
			t.Fatal(err)
		}
		out, _ := json.MarshalIndent(r, "", "  ")
		t.Logf("%s", out)
	}
}
