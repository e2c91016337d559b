package tabular

import (
	"bytes"
	"encoding/csv"
	"reflect"
	"testing"

	"github.com/xuri/excelize/v2"
)

// Cells that spreadsheets take for formulas (issue 11, finding 5), and
// what the writers must write instead; plain numbers, negative ones too,
// stay numbers.
var formulaCells = []struct{ in, want string }{
	{"=HYPERLINK(\"http://evil.example\",\"点击\")", "'=HYPERLINK(\"http://evil.example\",\"点击\")"},
	{"+1+cmd|' /C calc'!A0", "'+1+cmd|' /C calc'!A0"},
	{"-2+3+cmd|' /C calc'!A0", "'-2+3+cmd|' /C calc'!A0"},
	{"@SUM(1+1)*cmd|' /C calc'!A0", "'@SUM(1+1)*cmd|' /C calc'!A0"},
	{"\t=1+1", "'\t=1+1"},
	{"-", "'-"},
	{"-12.50", "-12.50"},
	{"+3", "+3"},
	{"2100.00", "2100.00"},
	{"张三", "张三"},
	{"1-2", "1-2"},
	{"", ""},
}

func formulaRow() (in, want []string) {
	for _, c := range formulaCells {
		in = append(in, c.in)
		want = append(want, c.want)
	}
	return in, want
}

func TestWriteCSVEscapesFormulas(t *testing.T) {
	in, want := formulaRow()
	var buf bytes.Buffer
	if err := WriteCSV(&buf, []string{"=header"}, [][]string{in}, false); err != nil {
		t.Fatal(err)
	}
	r := csv.NewReader(&buf)
	r.FieldsPerRecord = -1
	got, err := r.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0][0] != "'=header" || !reflect.DeepEqual(got[1], want) {
		t.Errorf("CSV rows\n%q\nwant\n%q", got, [][]string{{"'=header"}, want})
	}
}

func TestXLSXWritersEscapeFormulas(t *testing.T) {
	in, want := formulaRow()
	for _, streaming := range []bool{false, true} {
		var buf bytes.Buffer
		if streaming {
			x, err := NewXLSXWriter(&buf, "名单", []string{"=header"})
			if err != nil {
				t.Fatal(err)
			}
			for range sampleRows + 1 { // past the rows held back
				if err := x.Write(in); err != nil {
					t.Fatal(err)
				}
			}
			if err := x.Close(); err != nil {
				t.Fatal(err)
			}
		} else if err := WriteXLSX(&buf, "名单", []string{"=header"}, [][]string{in}); err != nil {
			t.Fatal(err)
		}
		f, err := excelize.OpenReader(&buf)
		if err != nil {
			t.Fatal(err)
		}
		rows, err := f.GetRows("名单")
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		// GetRows drops trailing empty cells.
		if len(rows) < 2 || rows[0][0] != "'=header" || !reflect.DeepEqual(rows[len(rows)-1], want[:len(want)-1]) {
			t.Errorf("streaming %v: rows %q, want header '=header and %q", streaming, rows[len(rows)-1], want[:len(want)-1])
		}
		for _, r := range rows[1:] {
			if r[0] != want[0] {
				t.Errorf("streaming %v: first cell %q", streaming, r[0])
				break
			}
		}
	}
}

func TestEscapeFormula(t *testing.T) {
	tests := append([]struct{ in, want string }{
		{"\r=1", "'\r=1"},
		{"=", "'="},
		{"+", "'+"},
		{"-1e5", "'-1e5"},
		{"-1.", "'-1."},
		{"-.5", "'-.5"},
		{"-1.2.3", "'-1.2.3"},
		{"+86 21 1234 5678", "'+86 21 1234 5678"},
		{"-0", "-0"},
		{"1.5", "1.5"},
		{" =1", " =1"}, // not at the start
		{"'=1", "'=1"}, // already escaped
	}, formulaCells...)
	for _, tt := range tests {
		if got := EscapeFormula(tt.in); got != tt.want {
			t.Errorf("EscapeFormula(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
