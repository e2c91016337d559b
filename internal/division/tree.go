package division

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"io"
	"sort"
	"strings"

	"minzheng/internal/division/data"
)

// Tree is the whole division tree in memory (a few thousand nodes), for
// lookups that must not touch the database: names, paths, validation.
type Tree struct {
	byCode   map[string]*Division
	children map[string][]string
	root     string
}

// Shanghai returns the embedded tree of Shanghai.
func Shanghai() (*Tree, error) { return ParseCSV(bytes.NewReader(data.ShanghaiCSV)) }

// ParseCSV reads a tree from CSV with the header code,name,level,parent.
func ParseCSV(r io.Reader) (*Tree, error) {
	cr := csv.NewReader(r)
	recs, err := cr.ReadAll()
	if err != nil {
		return nil, fmt.Errorf("division: read csv: %w", err)
	}
	if len(recs) < 2 || strings.Join(recs[0], ",") != "code,name,level,parent" {
		return nil, fmt.Errorf("division: csv must start with the header code,name,level,parent")
	}
	var ds []Division
	for _, r := range recs[1:] {
		ds = append(ds, Division{Code: r[0], Name: r[1], Level: Level(r[2]), Parent: r[3]})
	}
	return NewTree(ds)
}

// NewTree builds a tree; every parent must be present.
func NewTree(ds []Division) (*Tree, error) {
	t := &Tree{byCode: make(map[string]*Division, len(ds)), children: map[string][]string{}}
	for i := range ds {
		d := &ds[i]
		if _, dup := t.byCode[d.Code]; dup {
			return nil, fmt.Errorf("division: code %s twice", d.Code)
		}
		t.byCode[d.Code] = d
	}
	for _, d := range ds {
		if d.Parent == "" {
			t.root = d.Code
			continue
		}
		if _, ok := t.byCode[d.Parent]; !ok {
			return nil, fmt.Errorf("division: %s has unknown parent %s", d.Code, d.Parent)
		}
		t.children[d.Parent] = append(t.children[d.Parent], d.Code)
	}
	for _, c := range t.children {
		sort.Strings(c)
	}
	return t, nil
}

// Root returns the code of the top division.
func (t *Tree) Root() string { return t.root }

// Get returns the division with code.
func (t *Tree) Get(code string) (Division, bool) {
	d, ok := t.byCode[code]
	if !ok {
		return Division{}, false
	}
	return *d, true
}

// Name returns the name of code, or "" when unknown.
func (t *Tree) Name(code string) string {
	if d, ok := t.byCode[code]; ok {
		return d.Name
	}
	return ""
}

// FullName returns the names from the district down, e.g. 徐汇区天平路街道;
// for the city itself its name.
func (t *Tree) FullName(code string) string {
	if code == t.root {
		return t.Name(code)
	}
	var parts []string
	for _, r := range t.Path(code) {
		if r.Code != t.root {
			parts = append(parts, r.Name)
		}
	}
	return strings.Join(parts, "")
}

// Path returns the divisions from the root down to code, inclusive.
func (t *Tree) Path(code string) []Ref {
	var out []Ref
	for c := code; c != ""; {
		d, ok := t.byCode[c]
		if !ok {
			break
		}
		out = append(out, Ref{Code: d.Code, Name: d.Name})
		c = d.Parent
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out
}

// Children returns the child codes of code, sorted.
func (t *Tree) Children(code string) []string { return t.children[code] }

// All returns every division, sorted by code.
func (t *Tree) All() []Division {
	out := make([]Division, 0, len(t.byCode))
	for _, d := range t.byCode {
		out = append(out, *d)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Code < out[j].Code })
	return out
}

// Count returns how many divisions of level the tree has.
func (t *Tree) Count(level Level) int {
	n := 0
	for _, d := range t.byCode {
		if d.Level == level {
			n++
		}
	}
	return n
}
