package archtest

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
)

// update makes the tests print their tables as the tree has them now (go test
// ./internal/archtest/ -update), to paste over the ones in the test files.
var update = flag.Bool("update", false, "print the layer edges and allowlists as the tree has them now")

// goFile is one .go file of the module, parsed with its comments.
type goFile struct {
	path string // slash-separated, relative to the module root: internal/registry/service.go
	dir  string // its directory, the package: internal/registry
	test bool   // a _test.go file (internal or external test package)
	fset *token.FileSet
	file *ast.File
	src  []byte
}

// sourceTree is every .go file under internal/ and cmd/, outside testdata and hidden folders.
type sourceTree struct {
	module string // the module path from go.mod: minzheng
	files  []*goFile
}

var (
	treeOnce   sync.Once
	loadedTree *sourceTree
	treeErr    error
)

// loadTree parses the module's source once for all tests.
func loadTree(t *testing.T) *sourceTree {
	t.Helper()
	treeOnce.Do(func() { loadedTree, treeErr = parseTree() })
	if treeErr != nil {
		t.Fatal(treeErr)
	}
	return loadedTree
}

// parseTree finds the module root above the working directory and parses its Go files.
func parseTree() (*sourceTree, error) {
	root, err := os.Getwd()
	if err != nil {
		return nil, err
	}
	var gomod []byte
	for {
		gomod, err = os.ReadFile(filepath.Join(root, "go.mod"))
		if err == nil {
			break
		}
		parent := filepath.Dir(root)
		if parent == root {
			return nil, errors.New("archtest: no go.mod above the working directory")
		}
		root = parent
	}
	tr := &sourceTree{}
	for _, line := range strings.Split(string(gomod), "\n") {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(line), "module "); ok {
			tr.module = strings.Trim(strings.TrimSpace(rest), `"`)
			break
		}
	}
	if tr.module == "" {
		return nil, errors.New("archtest: go.mod names no module")
	}
	fset := token.NewFileSet()
	for _, top := range []string{"internal", "cmd"} {
		err := filepath.WalkDir(filepath.Join(root, top), func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			name := d.Name()
			if d.IsDir() {
				if name == "testdata" || name == "node_modules" || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") {
					return filepath.SkipDir
				}
				return nil
			}
			if !strings.HasSuffix(name, ".go") || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") {
				return nil
			}
			src, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			rel, err := filepath.Rel(root, p)
			if err != nil {
				return err
			}
			rel = filepath.ToSlash(rel)
			f, err := parser.ParseFile(fset, rel, src, parser.ParseComments|parser.SkipObjectResolution)
			if err != nil {
				return fmt.Errorf("archtest: %w", err)
			}
			tr.files = append(tr.files, &goFile{
				path: rel, dir: path.Dir(rel), test: strings.HasSuffix(name, "_test.go"),
				fset: fset, file: f, src: src,
			})
			return nil
		})
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
	}
	sort.Slice(tr.files, func(i, j int) bool { return tr.files[i].path < tr.files[j].path })
	return tr, nil
}

// lineCount is the number of lines of src, a last line without a newline included.
func lineCount(src []byte) int {
	n := bytes.Count(src, []byte("\n"))
	if len(src) > 0 && src[len(src)-1] != '\n' {
		n++
	}
	return n
}

// checkCounts compares what the tree has (file → count, only files over the limit or with
// offences) with an allowlist that may only shrink, and reports a file not listed, a count
// that grew, and a listed count that is higher than the tree's (the list is kept tight).
// what names the thing counted ("SQL literals", "lines"); fix says what to do instead.
func checkCounts(t *testing.T, table string, what string, have, allowed map[string]int, fix string) {
	t.Helper()
	for _, p := range sortedKeys(have) {
		n := have[p]
		max, listed := allowed[p]
		switch {
		case !listed:
			t.Errorf("%s: %d %s, and the file is not in %s: %s", p, n, what, table, fix)
		case n > max:
			t.Errorf("%s: %d %s, more than the %d allowed in %s (the list may only shrink): %s", p, n, what, max, table, fix)
		case n < max:
			t.Errorf("%s: %d %s, fewer than the %d listed in %s: lower the number to %d", p, n, what, max, table, n)
		}
	}
	for _, p := range sortedKeys(allowed) {
		if _, ok := have[p]; !ok {
			t.Errorf("%s: listed in %s with %d %s, but it no longer needs an entry (or is gone): remove it from the list", p, table, allowed[p], what)
		}
	}
}

// printCounts prints a file → count table in Go syntax, to paste into a test file.
func printCounts(name string, have map[string]int) {
	fmt.Printf("var %s = map[string]int{\n", name)
	for _, p := range sortedKeys(have) {
		fmt.Printf("\t%q: %d,\n", p, have[p])
	}
	fmt.Printf("}\n\n")
}

// sortedKeys returns the keys of m in order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
