package tabular

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/text/encoding/simplifiedchinese"
)

var fuzzNames = []string{"a.csv", "a.txt", "a.xlsx"}

// fuzzSeeds returns the fixtures and a few generated files.
func fuzzSeeds(t testing.TB) [][]byte {
	files, err := filepath.Glob(filepath.Join("testdata", "*"))
	if err != nil {
		t.Fatal(err)
	}
	var seeds [][]byte
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		seeds = append(seeds, b)
	}
	return append(seeds,
		mustEncode(t, peopleCSV, simplifiedchinese.GBK.NewEncoder()),
		mustEncode(t, "姓名,备注\n吉𠮷,€100\n", simplifiedchinese.GB18030.NewEncoder()),
		[]byte("a;b;c\n\"x\"\"y\";\"\";z\r\n\n1;2"),
		[]byte("\xff\xfea\x00\t\x00b\x00\n\x001\x00\t\x002\x00"),
		xlsxBytes(t, []string{"姓名", "身份证号"}, [][]string{{"张三", "11010519491231002X"}, {}, {"李四"}}),
	)
}

// FuzzRead checks that Read never panics, returns only *Error, and keeps
// its promises about the table.
func FuzzRead(f *testing.F) {
	for _, seed := range fuzzSeeds(f) {
		for i := range fuzzNames {
			f.Add(seed, uint8(i))
		}
	}
	f.Fuzz(func(t *testing.T, data []byte, kind uint8) {
		name := fuzzNames[int(kind)%len(fuzzNames)]
		tab, err := Read(bytes.NewReader(data), name, 1<<20)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Message == "" || e.Line < 0 {
				t.Fatalf("Read error %#v is not a proper *Error", err)
			}
			return
		}
		checkTable(t, tab)
	})
}

func checkTable(t *testing.T, tab *Table) {
	t.Helper()
	if len(tab.Header) == 0 || tab.HeaderLine < 1 {
		t.Fatalf("header %q on line %d", tab.Header, tab.HeaderLine)
	}
	checkCells(t, tab.Header)
	prev := tab.HeaderLine
	for _, r := range tab.Rows {
		if r.Line <= prev || r.Line < 2 {
			t.Fatalf("row on line %d after line %d", r.Line, prev)
		}
		prev = r.Line
		if len(r.Cells) == 0 {
			t.Fatalf("blank row on line %d", r.Line)
		}
		checkCells(t, r.Cells)
	}
}

func checkCells(t *testing.T, cells []string) {
	t.Helper()
	if cells[len(cells)-1] == "" {
		t.Fatalf("trailing empty cell in %q", cells)
	}
	for _, c := range cells {
		if trimCell(c) != c || !utf8.ValidString(c) {
			t.Fatalf("cell %q is not trimmed valid UTF-8", c)
		}
	}
}

// FuzzCSVRoundTrip checks that Read gives back what WriteCSV wrote, with
// the line numbers the cells' line breaks imply. The input is split into
// rows at U+001E and into cells at U+001F. Cells hold no tab or semicolon,
// which could make Read take another separator.
func FuzzCSVRoundTrip(f *testing.F) {
	f.Add("姓名\x1f身份证号\x1e张三\x1f11010519491231002X")
	f.Add("a\x1fb\x1e\x1e \x1f\x1e\"x\"\"\x1fline\nbreak\r\n\x1e\x1f\x1fz\x1e1\x1f2\x1f\x1f")
	f.Add("\x1e\n\x1f\u3000\x1e\\.\x1f\" a \"\x1e=1+1\x1f\r")
	f.Fuzz(func(t *testing.T, s string) {
		if !utf8.ValidString(s) || strings.ContainsAny(s, "\x00\t;") {
			return
		}
		var rows [][]string
		for _, r := range strings.Split(s, "\x1e") {
			rows = append(rows, strings.Split(r, "\x1f"))
		}
		var buf bytes.Buffer
		if err := WriteCSV(&buf, nil, rows, true); err != nil {
			t.Fatal(err)
		}
		// What Read should return: WriteCSV escapes formulas and drops
		// "\r" inside cells, as encoding/csv does with UseCRLF.
		want := &Table{Rows: []Row{}}
		line := 1
		for _, r := range rows {
			var cells []string
			breaks := 0
			for _, c := range r {
				c = strings.ReplaceAll(EscapeFormula(c), "\r", "")
				breaks += strings.Count(c, "\n")
				cells = append(cells, trimCell(c))
			}
			if cells = dropTrailingEmpty(cells); len(cells) > 0 {
				if want.Header == nil {
					want.Header, want.HeaderLine = cells, line
				} else {
					want.Rows = append(want.Rows, Row{Line: line, Cells: cells})
				}
			}
			line += 1 + breaks
		}
		got, err := Read(&buf, "a.csv", 0)
		if want.Header == nil {
			var e *Error
			if !errors.As(err, &e) || e.Message != msgEmpty {
				t.Fatalf("Read = %+v, %v; want the empty-file error", got, err)
			}
			return
		}
		if err != nil {
			t.Fatalf("Read: %v", err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("Read =\n%#v\nwant\n%#v", got, want)
		}
	})
}
