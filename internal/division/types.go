// Package division holds Shanghai's administrative division tree (行政区划):
// the city, its 16 districts, the street-level units (街道/镇/乡 and other
// street-level statistical units) and the residents'/village committees
// (居委会/村委会), with national statistics codes. Every person, household
// and staff jurisdiction hangs on it.
package division

// Level is a division's depth in the tree.
type Level string

// The levels, from the top.
const (
	City      Level = "city"      // 市
	District  Level = "district"  // 区
	Street    Level = "street"    // 街道、镇、乡
	Committee Level = "committee" // 居委会、村委会
)

// Label returns the level's Chinese name.
func (l Level) Label() string {
	switch l {
	case City:
		return "市"
	case District:
		return "区"
	case Street:
		return "街道/镇"
	case Committee:
		return "居（村）委会"
	}
	return string(l)
}

// Division is one node of the tree.
type Division struct {
	Code   string `json:"code"`
	Name   string `json:"name"`
	Level  Level  `json:"level"`
	Parent string `json:"parent,omitempty"`
}

// Ref is a division named by code and name.
type Ref struct {
	Code string `json:"code"`
	Name string `json:"name"`
}

// Node is a division with its children and how many registered (户籍)
// people and households it holds, counted within the caller's jurisdiction.
type Node struct {
	Division
	Persons    int64  `json:"persons"`
	Households int64  `json:"households"`
	Path       []Ref  `json:"path"`
	Children   []Ref  `json:"children"`
	ChildStats []Stat `json:"-"`
}

// Stat is a child division with its counts.
type Stat struct {
	Ref
	Level      Level
	Persons    int64
	Households int64
}
