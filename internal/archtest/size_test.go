package archtest

import (
	"go/ast"
	"strconv"
	"testing"
)

// maxLines is the most lines a hand-written .go file may have.
const maxLines = 800

// sizeAllowlist is today's .go files longer than maxLines, with their line count. The list
// may only shrink: split a file and lower or remove its entry. The test fails when a file not
// listed passes maxLines, when a listed file grows, and when it falls below the number listed
// (lower the number, so the list stays tight). go test ./internal/archtest/ -update prints
// the table from the tree.
var sizeAllowlist = map[string]int{}

// TestFileSize checks that no non-generated .go file under internal/ and cmd/ (tests
// included) is longer than maxLines, apart from sizeAllowlist. Data files (.csv, .json)
// are not counted.
func TestFileSize(t *testing.T) {
	tr := loadTree(t)
	have := map[string]int{}
	for _, f := range tr.files {
		if ast.IsGenerated(f.file) {
			continue
		}
		if n := lineCount(f.src); n > maxLines {
			have[f.path] = n
		}
	}
	if *update {
		printCounts("sizeAllowlist", have)
	}
	checkCounts(t, "sizeAllowlist (internal/archtest/size_test.go)", "lines", have, sizeAllowlist,
		"split the file to "+strconv.Itoa(maxLines)+" lines or fewer")
}
