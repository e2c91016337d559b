package tabular

import (
	"bytes"
	"encoding/csv"
	"errors"
	"io"
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

// FuzzCSVAgreesWithEncodingCSV checks the hand-written parser against
// encoding/csv wherever the two should agree: UTF-8 text that encoding/csv
// reads without error in its strict mode, which leaves out the liberties the
// parser takes (spaces around quoted cells, lone "\r" line breaks), and that
// Read does not sniff as a spreadsheet.
func FuzzCSVAgreesWithEncodingCSV(f *testing.F) {
	for _, seed := range fuzzSeeds(f) {
		f.Add(string(seed))
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !utf8.ValidString(s) || strings.ContainsAny(s, "\r\x00") || strings.HasPrefix(s, "\ufeff") ||
			strings.HasPrefix(s, string(zipMagic)) || strings.HasPrefix(s, string(oleMagic)) {
			return
		}
		r := csv.NewReader(strings.NewReader(s))
		r.Comma = rune(detectSeparator(s))
		r.FieldsPerRecord = -1
		type rec struct {
			line  int
			cells []string
		}
		var want []rec
		for {
			fields, err := r.Read()
			if err == io.EOF {
				break
			}
			if err != nil {
				return // not valid strict CSV
			}
			line, _ := r.FieldPos(0)
			for i := range fields {
				fields[i] = trimCell(fields[i])
			}
			if fields = dropTrailingEmpty(fields); len(fields) > 0 {
				want = append(want, rec{line, fields})
			}
		}
		tab, err := Read(strings.NewReader(s), "a.csv", 0)
		if len(want) == 0 {
			if err == nil {
				t.Fatalf("Read = %+v, encoding/csv found nothing", tab)
			}
			return
		}
		if err != nil {
			t.Fatalf("Read: %v; encoding/csv read %v", err, want)
		}
		got := []rec{{tab.HeaderLine, tab.Header}}
		for _, row := range tab.Rows {
			got = append(got, rec{row.Line, row.Cells})
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("Read =\n%v\nencoding/csv =\n%v", got, want)
		}
	})
}
