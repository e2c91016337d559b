package tabular

import (
	"fmt"
	"strings"

	"golang.org/x/text/width"
)

// Column describes a column an importer wants from a [Table].
type Column struct {
	// Key names the column in the map Columns returns, e.g. "id_number".
	Key string
	// Names lists the header texts accepted for the column, English and
	// Chinese, e.g. {"id_number", "身份证号", "身份证号码"}. The first
	// Chinese one names the column in error messages.
	Names []string
	// Required makes Columns fail when the column is absent.
	Required bool
}

// headerSearchRows is how many rows below the first one Columns searches
// for the header when the first row is not it.
const headerSearchRows = 10

// Columns finds the columns of spec in the header and returns the 0-based
// index of each by Key. Every key of spec is in the map: an absent optional
// column maps to -1, for which [Row.Get] returns "". Header cells match a
// name regardless of case, width (全角/半角), spaces, underscores and the "*"
// that templates put on required columns.
//
// Hand-made sheets often have a title row or two above the header
// (「2024 年低保对象花名册」). When the first row lacks required columns,
// Columns looks for a row among the next few that has them all and, if it
// finds one, makes it the header and drops the rows above it from t.
//
// The error, an *Error on the header line, names every missing required
// column and every column that appears more than once.
func (t *Table) Columns(spec []Column) (map[string]int, error) {
	names := make(map[string]int) // normalized name → index in spec
	for i, c := range spec {
		for _, n := range c.Names {
			n = normalizeName(n)
			if _, dup := names[n]; !dup && n != "" {
				names[n] = i
			}
		}
	}
	m := matchHeader(t.Header, spec, names)
	if len(m.missing) > 0 {
		for i, r := range t.Rows[:min(len(t.Rows), headerSearchRows)] {
			if m2 := matchHeader(r.Cells, spec, names); len(m2.missing) == 0 {
				t.Header, t.HeaderLine, t.Rows = r.Cells, r.Line, t.Rows[i+1:]
				m = m2
				break
			}
		}
	}
	var problems []string
	if len(m.missing) > 0 {
		problems = append(problems, "缺少必填列："+strings.Join(m.missing, "、"))
	}
	problems = append(problems, m.dups...)
	if len(problems) > 0 {
		return nil, lineError(t.HeaderLine, 0, strings.Join(problems, "；"), nil)
	}
	return m.index, nil
}

type headerMatch struct {
	index   map[string]int
	missing []string // labels of absent required columns
	dups    []string // one message per column found more than once
}

func matchHeader(header []string, spec []Column, names map[string]int) headerMatch {
	m := headerMatch{index: make(map[string]int, len(spec))}
	found := make([][]int, len(spec)) // header positions per spec column
	for col, h := range header {
		if i, ok := names[normalizeName(h)]; ok {
			found[i] = append(found[i], col)
		}
	}
	for i, c := range spec {
		switch cols := found[i]; {
		case len(cols) == 0:
			m.index[c.Key] = -1
			if c.Required {
				m.missing = append(m.missing, label(c))
			}
		case len(cols) == 1:
			m.index[c.Key] = cols[0]
		default:
			m.index[c.Key] = cols[0]
			letters := make([]string, len(cols))
			for j, col := range cols {
				letters[j] = columnLetter(col) + " 列"
			}
			m.dups = append(m.dups, fmt.Sprintf("%s列重复（%s）", label(c), strings.Join(letters, "、")))
		}
	}
	return m
}

// label names a column for the user: its first Chinese name with its key,
// as in 身份证号（id_number）.
func label(c Column) string {
	name := c.Key
	for _, n := range c.Names {
		if hasNonASCII(n) {
			name = n
			break
		}
	}
	if name == c.Key || c.Key == "" {
		return name
	}
	return name + "（" + c.Key + "）"
}

// normalizeName folds the differences between spellings of a header that
// people do not see as differences.
func normalizeName(s string) string {
	s = strings.ToLower(width.Fold.String(trimCell(s)))
	return strings.Map(func(r rune) rune {
		switch r {
		case ' ', '\t', '\n', '\r', '_', '*', '\u3000':
			return -1
		}
		return r
	}, s)
}

func hasNonASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return true
		}
	}
	return false
}

// columnLetter returns Excel's name for the 0-based column i: A, B, …, Z,
// AA, ….
func columnLetter(i int) string {
	var b []byte
	for i++; i > 0; i = (i - 1) / 26 {
		b = append([]byte{byte('A' + (i-1)%26)}, b...)
	}
	return string(b)
}
