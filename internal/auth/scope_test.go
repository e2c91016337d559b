package auth_test

import (
	"context"
	"reflect"
	"strconv"
	"testing"

	"minzheng/internal/auth"
	"minzheng/internal/db"
	"minzheng/internal/db/dbtest"
)

func scopeOf(division string) auth.Scope {
	return auth.Principal{Role: auth.Reviewer, Division: division}.Scope()
}

func TestScope(t *testing.T) {
	tests := []struct {
		division string
		city     bool
		lo, hi   string
		in, out  []string
	}{
		{"310000", true, "31", "32", []string{"310000", "310104", "310104003", "310104003001", "319999"}, []string{"320102", "300000", ""}},
		{"310100", false, "3101", "3102", []string{"310101", "310104003001"}, []string{"310201", "310000"}},
		{"310104", false, "310104", "310105", []string{"310104", "310104003", "310104003001"}, []string{"310105", "310105001001", "310103999", "310000", "31010"}},
		{"310104003", false, "310104003", "310104004", []string{"310104003", "310104003001"}, []string{"310104", "310104004001", "310104002999"}},
		{"310104003001", false, "310104003001", "310104003002", []string{"310104003001"}, []string{"310104003002", "310104003", "310104"}},
	}
	for _, tt := range tests {
		s := scopeOf(tt.division)
		if s.CityWide() != tt.city {
			t.Errorf("%s: CityWide = %v", tt.division, s.CityWide())
		}
		if lo, hi := s.Range(); lo != tt.lo || hi != tt.hi {
			t.Errorf("%s: Range = [%q, %q), want [%q, %q)", tt.division, lo, hi, tt.lo, tt.hi)
		}
		for _, c := range tt.in {
			if !s.Covers(c) {
				t.Errorf("%s does not cover %q", tt.division, c)
			}
		}
		for _, c := range tt.out {
			if s.Covers(c) {
				t.Errorf("%s covers %q", tt.division, c)
			}
		}
		if len(tt.out) > 0 && !s.Covers(tt.out[0], tt.in[0]) {
			t.Errorf("%s: Covers(%q, %q) is false; one of them is in", tt.division, tt.out[0], tt.in[0])
		}
		if s.Covers() || s.Covers(tt.out...) {
			t.Errorf("%s: Covers of none of its codes is true", tt.division)
		}
	}
}

func TestScopeNarrow(t *testing.T) {
	tests := []struct {
		division, code string
		want           string // the division whose scope Narrow gives; "" for none
	}{
		{"310000", "310000", "310000"},
		{"310000", "310104", "310104"},
		{"310000", "310104003", "310104003"},
		{"310104", "310104", "310104"},
		{"310104", "310104003", "310104003"},
		{"310104", "310000", "310104"}, // the city holds the district: the district's own
		{"310104003", "310104", "310104003"},
		{"310104003001", "310104003", "310104003001"},
		{"310104", "310105", ""},
		{"310104003", "310104004001", ""},
	}
	for _, tt := range tests {
		got, ok := scopeOf(tt.division).Narrow(tt.code)
		if ok != (tt.want != "") {
			t.Errorf("%s narrowed to %s: ok = %v", tt.division, tt.code, ok)
			continue
		}
		if ok && got != scopeOf(tt.want) {
			t.Errorf("%s narrowed to %s = %v, want the scope of %s", tt.division, tt.code, got, tt.want)
		}
	}
}

func TestScopeSQL(t *testing.T) {
	pre := []any{"x", 7}
	cond, args := scopeOf("310000").SQL(pre, "t.division")
	if cond != "1 = 1" || !reflect.DeepEqual(args, pre) {
		t.Errorf("city: %q %v, want 1 = 1 and the arguments as they were", cond, args)
	}
	cond, args = scopeOf("310104").SQL(nil, "a.division")
	if cond != "(a.division >= $1 AND a.division < $2)" || !reflect.DeepEqual(args, []any{"310104", "310105"}) {
		t.Errorf("district: %q %v", cond, args)
	}
	cond, args = scopeOf("310104003").SQL(pre, "p.hukou_division", "p.residence_division")
	want := "((p.hukou_division >= $3 AND p.hukou_division < $4) OR (p.residence_division >= $3 AND p.residence_division < $4))"
	if cond != want || !reflect.DeepEqual(args, []any{"x", 7, "310104003", "310104004"}) {
		t.Errorf("street after two arguments: %q %v", cond, args)
	}

	// The condition selects what Covers covers, on both databases.
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		scopes := []string{"310100", "310104", "310104003", "310104003001"}
		codes := []string{"310104", "310105", "310104003", "310104003001", "310104003002", "310104004001", "310101", "320102"}
		for _, div := range scopes {
			s := scopeOf(div)
			for _, a := range codes {
				for _, b := range []string{"", "310104003001"} {
					if got, want := evalScope(t, d, s, a, b), s.Covers(a, b); got != want {
						t.Errorf("%s: SQL over (%q, %q) = %v, Covers = %v", div, a, b, got, want)
					}
				}
			}
		}
	})
}

// evalScope evaluates s's condition over two columns holding a and b,
// after two arguments of its own.
func evalScope(t testing.TB, d *db.DB, s auth.Scope, a, b string) bool {
	t.Helper()
	cond, args := s.SQL([]any{a, b}, "c.a", "c.b")
	var n int
	q := `SELECT CASE WHEN ` + cond + ` THEN 1 ELSE 0 END FROM (SELECT CAST($1 AS TEXT) AS a, CAST($2 AS TEXT) AS b) c`
	if err := d.QueryRowContext(context.Background(), q, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n == 1
}

// FuzzScopeCovers checks that Covers agrees with the code range and with
// the SQL condition (on SQLite) for random 6-, 9- and 12-digit codes, made
// to share a random number of leading digits with the scope's division so
// that the edges of the range are reached.
func FuzzScopeCovers(f *testing.F) {
	divisions := []string{"310000", "310100", "310104", "310115", "310104003", "310104003001"}
	d := dbtest.SQLite(f)
	f.Add(uint8(2), uint8(0), uint8(6), uint64(0))
	f.Add(uint8(2), uint8(0), uint8(5), uint64(5))
	f.Add(uint8(4), uint8(1), uint8(9), uint64(1))
	f.Add(uint8(5), uint8(2), uint8(11), uint64(2))
	f.Add(uint8(0), uint8(0), uint8(2), uint64(123456))
	f.Add(uint8(0), uint8(0), uint8(1), uint64(2))
	f.Add(uint8(1), uint8(1), uint8(4), uint64(999))
	f.Fuzz(func(t *testing.T, which, length, shared uint8, tail uint64) {
		div := divisions[int(which)%len(divisions)]
		n := []int{6, 9, 12}[int(length)%3]
		k := min(int(shared)%(n+1), len(div))
		code := div[:k]
		for digits := strconv.FormatUint(tail, 10); len(code) < n; digits = digits[1:] + digits[:1] {
			code += digits[:1]
		}
		s := scopeOf(div)
		lo, hi := s.Range()
		if got, want := s.Covers(code), lo <= code && code < hi; got != want {
			t.Fatalf("%s: Covers(%q) = %v, range [%q, %q) says %v", div, code, got, lo, hi, want)
		}
		if s.CityWide() {
			// The city's condition is 1 = 1: every stored code is the city's.
			if cond, _ := s.SQL(nil, "c.a"); cond != "1 = 1" {
				t.Fatalf("city: %q", cond)
			}
			return
		}
		if got, want := evalScope(t, d, s, code, ""), s.Covers(code); got != want {
			t.Fatalf("%s: SQL over %q = %v, Covers = %v", div, code, got, want)
		}
	})
}
