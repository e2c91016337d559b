package policy

import (
	"testing"
	"time"
)

func TestEmbeddedLoad(t *testing.T) {
	s := embeddedSet(t)
	want := []string{"dibao", "dibao_edge", "disability_care", "disability_living", "elderly_allowance", "rigid_expense", "tekun"}
	if got := s.IDs(); len(got) != len(want) {
		t.Fatalf("ids %v, want %v", got, want)
	} else {
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("ids %v, want %v", got, want)
			}
		}
	}
	for _, id := range s.IDs() {
		p, _ := s.Get(id)
		if len(p.Version) != 12 {
			t.Errorf("%s: version %q", id, p.Version)
		}
	}
}

func TestNameOn(t *testing.T) {
	s := embeddedSet(t)
	day := func(d string) time.Time { t, _ := time.Parse(time.DateOnly, d); return t }
	for _, c := range []struct{ id, on, want string }{
		{"dibao_edge", "2024-12-30", "低收入困难家庭"},
		{"dibao_edge", "2024-12-31", "最低生活保障边缘家庭"},
		{"rigid_expense", "2024-12-30", "支出型贫困家庭"},
		{"rigid_expense", "2024-12-31", "刚性支出困难家庭"},
		{"dibao", "2024-08-01", "最低生活保障"},
	} {
		p, _ := s.Get(c.id)
		if got := p.NameOn(day(c.on)); got != c.want {
			t.Errorf("%s on %s: %s, want %s", c.id, c.on, got, c.want)
		}
	}
}

func TestYuan(t *testing.T) {
	for x, want := range map[float64]string{
		0: "0", 1595: "1,595", 1234.5: "1,234.50", 0.01: "0.01", 1000000: "1,000,000",
		999.999: "1,000", -1595.5: "-1,595.50", 2073.5: "2,073.50",
	} {
		if got := Yuan(x); got != want {
			t.Errorf("Yuan(%v) = %q, want %q", x, got, want)
		}
	}
}

func TestAge(t *testing.T) {
	day := func(d string) time.Time { t, _ := time.Parse(time.DateOnly, d); return t }
	for _, c := range []struct {
		birth, on string
		want      int
	}{
		{"1959-08-01", "2024-08-01", 65},
		{"1959-08-02", "2024-08-01", 64},
		{"1959-12-31", "2024-01-01", 64},
		{"2024-02-29", "2028-02-29", 4},
		{"1960-02-29", "2025-03-01", 65},
		{"1960-02-29", "2025-02-27", 64},
	} {
		if got := Age(day(c.birth), day(c.on)); got != c.want {
			t.Errorf("Age(%s, %s) = %d, want %d", c.birth, c.on, got, c.want)
		}
	}
}
