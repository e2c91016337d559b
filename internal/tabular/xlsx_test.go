package tabular

import (
	"archive/zip"
	"bytes"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
)

// xlsxBytes returns header and rows written by WriteXLSX.
func xlsxBytes(t testing.TB, header []string, rows [][]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := WriteXLSX(&buf, "名单", header, rows); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func zipOf(t testing.TB, files map[string]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, content := range files {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write([]byte(content)); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// saveXLSX returns f as bytes.
func saveXLSX(t testing.TB, f *excelize.File) []byte {
	t.Helper()
	var buf bytes.Buffer
	if _, err := f.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestXLSXRoundTrip(t *testing.T) {
	header := []string{"姓名", "身份证号", "死亡日期", "编号", "备注", "地址"}
	rows := [][]string{
		{"张三", "11010519491231002X", "2024-07-01", "007", "=1+1", "北京市\n朝阳区"},
		{"欧阳娜娜", "310104198001011234", "2024/7/1", "", "", "上海市黄浦区南京东路 1 号"},
		{"李四", "440300200001010011"}, // short row
		{},                           // blank row: skipped on reading, but numbered
		{"王五", "x", "", "", "", "", "extra cell"},
		{"控制字符\x01", "tab\tinside"},
	}
	data := xlsxBytes(t, header, rows)
	got, err := Read(bytes.NewReader(data), "名单.xlsx", 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	want := &Table{Header: header, HeaderLine: 1, Rows: []Row{
		// A formula comes back as the text written: escaped.
		{Line: 2, Cells: []string{"张三", "11010519491231002X", "2024-07-01", "007", "'=1+1", "北京市\n朝阳区"}},
		{Line: 3, Cells: rows[1]},
		{Line: 4, Cells: rows[2]},
		{Line: 6, Cells: rows[4]},
		// XML cannot hold most control characters; excelize writes U+FFFD.
		{Line: 7, Cells: []string{"控制字符\ufffd", "tab\tinside"}},
	}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Read =\n%#v\nwant\n%#v", got, want)
	}
	if d, ok := ParseDate(got.Rows[0].Get(2)); !ok || d != time.Date(2024, 7, 1, 0, 0, 0, 0, time.UTC) {
		t.Errorf("ParseDate(%q) = %v, %v", got.Rows[0].Get(2), d, ok)
	}

	// Look at the workbook the way Excel would.
	f, err := excelize.OpenReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if got := f.GetSheetList(); !reflect.DeepEqual(got, []string{"名单"}) {
		t.Errorf("sheets = %q", got)
	}
	typ, err := f.GetCellType("名单", "B2")
	if err != nil || typ != excelize.CellTypeInlineString {
		t.Errorf("ID number cell type = %v, %v; want inline string", typ, err)
	}
	panes, err := f.GetPanes("名单")
	if err != nil || !panes.Freeze || panes.YSplit != 1 {
		t.Errorf("panes = %+v, %v; want first row frozen", panes, err)
	}
	style := func(cell string) *excelize.Style {
		id, err := f.GetCellStyle("名单", cell)
		if err != nil {
			t.Fatal(err)
		}
		s, err := f.GetStyle(id)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	if s := style("A1"); s.Font == nil || !s.Font.Bold {
		t.Errorf("header A1 is not bold: %+v", s)
	}
	if s := style("B2"); s.NumFmt != 49 {
		t.Errorf("B2 number format = %d, want 49 (text)", s.NumFmt)
	}
	for col, want := range map[string]float64{"A": 11, "B": 20, "F": 27, "G": 12} {
		if w, err := f.GetColWidth("名单", col); err != nil || w != want {
			t.Errorf("width of column %s = %v, %v; want %v", col, w, err, want)
		}
	}
}

func TestXLSXWriterStreaming(t *testing.T) {
	const n = 2500
	var buf bytes.Buffer
	w, err := NewXLSXWriter(&buf, "低保/特困:2024年7月[全部]*", []string{"序号", "身份证号"})
	if err != nil {
		t.Fatal(err)
	}
	row := make([]string, 2)
	for i := range n {
		row[0], row[1] = fmt.Sprint(i+1), fmt.Sprintf("3101041980%08d", i)
		if err := w.Write(row); err != nil { // row is reused: the writer must not keep it
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.Write(row); err == nil {
		t.Error("Write after Close succeeded")
	}
	if err := w.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	got, err := Read(&buf, "a.xlsx", 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Rows) != n {
		t.Fatalf("read %d rows, want %d", len(got.Rows), n)
	}
	for i, r := range got.Rows {
		if want := []string{fmt.Sprint(i + 1), fmt.Sprintf("3101041980%08d", i)}; r.Line != i+2 || !reflect.DeepEqual(r.Cells, want) {
			t.Fatalf("row %d = %+v, want line %d %q", i, r, i+2, want)
		}
	}
}

func TestXLSXWriterEmpty(t *testing.T) {
	for _, header := range [][]string{nil, {"姓名"}} {
		var buf bytes.Buffer
		w, err := NewXLSXWriter(&buf, "", header)
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		got, err := Read(&buf, "a.xlsx", 0)
		if header == nil {
			if err == nil || err.Error() != "文件为空" {
				t.Errorf("Read of empty sheet: %v, %v; want 文件为空", got, err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got.Header, header) || len(got.Rows) != 0 {
			t.Errorf("Read of header-only sheet = %+v, %v", got, err)
		}
	}
}

func TestSheetName(t *testing.T) {
	tests := []struct{ in, want string }{
		{"名单", "名单"},
		{"", "Sheet1"},
		{"  ", "Sheet1"},
		{"低保/特困:2024[7]*?", "低保_特困_2024_7___"},
		{"'引号'", "引号"},
		{strings.Repeat("长", 40), strings.Repeat("长", 31)},
	}
	for _, tt := range tests {
		if got := sheetName(tt.in); got != tt.want {
			t.Errorf("sheetName(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestReadExcelCells reads cells as Excel itself stores them: numbers with
// date formats, numbers typed into General cells, row gaps and a title row.
func TestReadExcelCells(t *testing.T) {
	f := excelize.NewFile()
	const sheet = "Sheet1"
	style := func(s *excelize.Style) int {
		id, err := f.NewStyle(s)
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	custom := func(code string) int { return style(&excelize.Style{CustomNumFmt: &code}) }
	const day = 45474 // 2024-07-01
	cells := []struct {
		name  string
		value any
		style int
		want  string
	}{
		{"default date format (14)", day, style(&excelize.Style{NumFmt: 14}), "2024-07-01"},
		{"date and time (22)", day + 0.5, style(&excelize.Style{NumFmt: 22}), "2024-07-01 12:00"},
		{"Chinese built-in date (31)", day, style(&excelize.Style{NumFmt: 31}), "2024年7月1日"},
		{"custom yyyy/m/d", day, custom("yyyy/m/d"), "2024/7/1"},
		{"custom yyyy-mm-dd", day, custom("yyyy-mm-dd"), "2024-07-01"},
		{"custom Chinese date", day, custom(`yyyy"年"mm"月"dd"日"`), "2024年07月01日"},
		{"date as plain number", day, 0, "45474"},
		{"time.Time value", time.Date(2024, 7, 1, 0, 0, 0, 0, time.UTC), style(&excelize.Style{NumFmt: 14}), "2024-07-01"},
		{"phone typed as number", 13800138000, 0, "13800138000"},
		{"amount with 2 decimals", 1234.5, style(&excelize.Style{NumFmt: 2}), "1234.50"},
	}
	header := []any{"列"}
	values := []any{"值"}
	for _, c := range cells {
		header = append(header, c.name)
		values = append(values, c.value)
	}
	for row, vs := range [][]any{{"2024 年死亡人员名单"}, header, values} {
		if err := f.SetSheetRow(sheet, fmt.Sprintf("A%d", row+1), &vs); err != nil {
			t.Fatal(err)
		}
	}
	for i, c := range cells {
		cell, _ := excelize.CoordinatesToCellName(i+2, 3)
		if c.style != 0 {
			if err := f.SetCellStyle(sheet, cell, cell, c.style); err != nil {
				t.Fatal(err)
			}
		}
	}
	// A row far below, after a gap, and an 18-digit ID number typed as a
	// number: Excel keeps 15 significant digits, so it comes back damaged,
	// which the importer's check digit test will catch.
	if err := f.SetSheetRow(sheet, "A10", &[]any{"末行", 310104198001011234.0}); err != nil {
		t.Fatal(err)
	}
	got, err := Read(bytes.NewReader(saveXLSX(t, f)), "a.xlsx", 0)
	if err != nil {
		t.Fatal(err)
	}
	if got.HeaderLine != 1 || len(got.Rows) != 3 {
		t.Fatalf("Read = %+v", got)
	}
	row := got.Rows[1]
	if row.Line != 3 {
		t.Errorf("values on line %d, want 3", row.Line)
	}
	for i, c := range cells {
		if got := row.Get(i + 1); got != c.want {
			t.Errorf("%s: read %q, want %q", c.name, got, c.want)
		}
		if i < 8 {
			if d, ok := ParseDate(row.Get(i + 1)); !ok || d != time.Date(2024, 7, 1, 0, 0, 0, 0, time.UTC) {
				t.Errorf("%s: ParseDate(%q) = %v, %v", c.name, row.Get(i+1), d, ok)
			}
		}
	}
	last := got.Rows[2]
	if last.Line != 10 || last.Get(1) == "310104198001011234" {
		t.Errorf("last row = %+v", last)
	}
	t.Logf("18-digit number cell reads as %q", last.Get(1))
}

func TestDisplayWidth(t *testing.T) {
	tests := []struct {
		s    string
		want int
	}{
		{"", 0},
		{"abc", 3},
		{"张三", 4},
		{"（全角）", 8},
		{"北京市\n朝阳区建国路", 12},
		{strings.Repeat("长", 100), maxColWidth},
	}
	for _, tt := range tests {
		if got := displayWidth(tt.s); got != tt.want {
			t.Errorf("displayWidth(%q) = %d, want %d", tt.s, got, tt.want)
		}
	}
}
