package auth

import (
	"fmt"
	"strings"

	"minzheng/internal/db"
)

// cityPrefix is the prefix of every code in the city's tree (310000).
const cityPrefix = "31"

// Scope is a jurisdiction: the division codes of one subtree of the tree,
// which share a prefix — "31" for the city (310000), "3101" for 310100,
// the code itself for a district, a street or a committee. It is the one
// place the rule lives: every line asks Principal.Scope which records a
// caller may see and change, and a record outside reads as absent.
type Scope struct{ prefix string }

// Scope returns p's jurisdiction: the subtree of p.Division.
func (p Principal) Scope() Scope { return Scope{JurisdictionPrefix(p.Division)} }

// JurisdictionPrefix returns the prefix shared by the codes in the subtree
// of the division code.
func JurisdictionPrefix(code string) string {
	if len(code) == 6 && strings.HasSuffix(code, "0000") {
		return code[:2]
	}
	if len(code) == 6 && strings.HasSuffix(code, "00") {
		return code[:4]
	}
	return code
}

// CityWide reports whether s is the whole city.
func (s Scope) CityWide() bool { return s.prefix == cityPrefix }

// Covers reports whether any of the division codes lies in s (a person is
// in scope when their registered address or their residence is). The
// empty code lies nowhere.
func (s Scope) Covers(codes ...string) bool {
	for _, c := range codes {
		if c != "" && strings.HasPrefix(c, s.prefix) {
			return true
		}
	}
	return false
}

// Range returns the half-open range of the codes in s, for a query that
// takes them as fixed arguments: column >= lo AND column < hi.
func (s Scope) Range() (lo, hi string) { return db.PrefixRange(s.prefix) }

// Narrow returns the part of s inside the subtree of code, and false when
// the two do not meet: a district's subtree for a city caller, the caller's
// own street for a district below it.
func (s Scope) Narrow(code string) (Scope, bool) {
	np := JurisdictionPrefix(code)
	switch {
	case strings.HasPrefix(np, s.prefix):
		return Scope{np}, true
	case strings.HasPrefix(s.prefix, np):
		return s, true
	}
	return Scope{}, false
}

// SQL returns the condition that any of the columns holds a code in s,
// with args and the range appended to them; its placeholders are numbered
// after the arguments already in args ($n, on both databases), and each
// column uses the same two. For the whole city the condition is "1 = 1"
// and args are returned as they are: every stored code is one of the
// city's, and a condition would only slow counts.
func (s Scope) SQL(args []any, columns ...string) (string, []any) {
	if s.CityWide() {
		return "1 = 1", args
	}
	lo, hi := s.Range()
	args = append(args, lo, hi)
	n := len(args)
	conds := make([]string, len(columns))
	for i, c := range columns {
		conds[i] = fmt.Sprintf("(%s >= $%d AND %s < $%d)", c, n-1, c, n)
	}
	if len(conds) == 1 {
		return conds[0], args
	}
	return "(" + strings.Join(conds, " OR ") + ")", args
}
