package idcard

import (
	_ "embed"
	"strings"
	"sync"
)

// regionsCSV lists the address codes Parse accepts, "code,name" per line
// after a header, sorted by code. regions_extract.mjs writes it; see
// REGIONS_SOURCE.md.
//
//go:embed regions.csv
var regionsCSV string

// regions maps each known address code to its full name. It is built on
// first use (about 7,000 entries) so that importing the package costs nothing.
var regions = sync.OnceValue(func() map[string]string {
	lines := strings.Split(strings.TrimSpace(regionsCSV), "\n")
	m := make(map[string]string, len(lines))
	for _, line := range lines[1:] {
		code, name, ok := strings.Cut(strings.TrimSpace(line), ",")
		if !ok || len(code) != 6 {
			panic("idcard: malformed regions.csv line " + line)
		}
		m[code] = name
	}
	return m
})

// RegionName returns the full name of a 6-digit address code, such as
// 上海市卢湾区 for 310103, and whether the code is known. Known codes are the
// county- and prefecture-level codes of GB/T 2260 since 1980, including
// those since abolished or renamed: an ID number keeps the code of the
// county that issued it. The name is the latest one the code had.
func RegionName(code string) (string, bool) {
	name, ok := regions()[code]
	return name, ok
}
