package web_test

import (
	"io/fs"
	"path/filepath"
	"testing"

	"minzheng/internal/app"
)

// templateFiles returns every template in the source tree: the layout and
// error page here, and each business line's templates/ folder.
func templateFiles(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("../*/templates/*.html") // web's own is ../web/templates
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 3 {
		t.Fatalf("found only %d templates", len(files))
	}
	return files
}

// linePages returns the page templates the lines declare to the app.
func linePages() []fs.FS {
	var out []fs.FS
	for _, m := range app.Declared() {
		if m.Templates != nil {
			out = append(out, m.Templates)
		}
	}
	return out
}

// TestEveryTemplateFolderIsDeclared: a line's templates/ folder reaches the
// app only through its module; a folder no module declares would be dead.
func TestEveryTemplateFolderIsDeclared(t *testing.T) {
	declared := map[string]bool{}
	for _, fsys := range linePages() {
		names, _ := fs.Glob(fsys, "*.html")
		for _, n := range names {
			declared[n] = true
		}
	}
	files, _ := filepath.Glob("../*/templates/*.html")
	for _, f := range files {
		if filepath.Base(filepath.Dir(filepath.Dir(f))) == "web" {
			continue // the layout and error page, web's own
		}
		if !declared[filepath.Base(f)] {
			t.Errorf("%s is in no module's Templates", f)
		}
	}
}
