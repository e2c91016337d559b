package tabular

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding/simplifiedchinese"
)

// TestFileErrorsNameTheRow: errors that stop a whole file (broken quotes,
// broken GBK bytes) name the row and the column in Message itself, which
// is what an importer shows (issue 11, finding 16).
func TestFileErrorsNameTheRow(t *testing.T) {
	gbk := mustEncode(t, "姓名,身份证号,地址\n张三,310104195001011234,徐汇\n", simplifiedchinese.GBK.NewEncoder())
	tests := []struct {
		name, data, want string
	}{
		{"bare quote", "姓名,身份证号,地址\n张三,310104195001011234,5\"号\n", "第 2 行（C 列）："},
		{"text after closing quote", "姓名,身份证号\n\"张三\"x,310104195001011234\n", "第 2 行（A 列）："},
		{"quote open at the end", "姓名,身份证号,地址\n张三,310104195001011234,徐汇\n李四,\"310104\n", "第 3 行（B 列）："},
		{"semicolons", "姓名;身份证号;地址\n张三;3101;徐\"汇\n", "第 2 行（C 列）："},
		{"broken GBK", string(gbk) + "李四,31010\xff\xff,徐汇\n", "第 3 行（B 列）："},
		{"broken UTF-8", "姓名,身份证号,地址\n张三,310104195001011234,徐汇\n李四,310104,徐\xff汇\n", "第 3 行（C 列）："},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Read(strings.NewReader(tt.data), "名单.csv", 0)
			var e *Error
			if !errors.As(err, &e) || !strings.HasPrefix(e.Message, tt.want) || e.Error() != e.Message {
				t.Fatalf("Read = %v, want an *Error whose Message starts with %q", err, tt.want)
			}
		})
	}
}

// TestXLSXOverlongNumbers: a number too large for the date or time format
// of its cell came out as a negative date (-4713-11-24) or duration; it
// must come out as the number (issue 11, finding 16).
func TestXLSXOverlongNumbers(t *testing.T) {
	f := excelize.NewFile()
	f.SetSheetRow("Sheet1", "A1", &[]string{"出生日期", "时长", "日期"})
	date, _ := f.NewStyle(&excelize.Style{NumFmt: 14})
	hours, _ := f.NewStyle(&excelize.Style{NumFmt: 46}) // [h]:mm:ss
	cn, _ := f.NewStyle(&excelize.Style{NumFmt: 31})    // yyyy"年"m"月"d"日"
	for i, v := range []float64{99999999999999999999, 1e300, 45474} {
		row := i + 2
		for j, st := range []int{date, hours, cn} {
			cell, _ := excelize.CoordinatesToCellName(j+1, row)
			f.SetCellValue("Sheet1", cell, v)
			f.SetCellStyle("Sheet1", cell, cell, st)
		}
	}
	tab, err := Read(bytes.NewReader(saveXLSX(t, f)), "a.xlsx", 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range tab.Rows[:2] {
		for _, c := range r.Cells {
			if strings.HasPrefix(c, "-") {
				t.Errorf("row %d: %q, a positive number shown negative", r.Line, c)
			}
		}
	}
	if got := tab.Rows[0].Cells[0]; got != "1E+20" && got != "100000000000000000000" {
		t.Errorf("overlong number in a date cell reads %q", got)
	}
	if got := tab.Rows[2].Cells; got[0] != "2024-07-01" || got[2] != "2024年7月1日" {
		t.Errorf("dates in range read %q", got)
	}
}
