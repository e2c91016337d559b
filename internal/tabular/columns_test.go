package tabular

import (
	"errors"
	"reflect"
	"testing"
)

var deathSpec = []Column{
	{Key: "name", Names: []string{"name", "姓名"}},
	{Key: "id_number", Names: []string{"id_number", "身份证号", "身份证号码", "公民身份号码"}, Required: true},
	{Key: "death_date", Names: []string{"death_date", "死亡日期"}, Required: true},
	{Key: "phone", Names: []string{"phone", "联系电话"}},
}

func TestColumns(t *testing.T) {
	tests := []struct {
		name   string
		table  *Table
		want   map[string]int
		line   int    // of the header after Columns
		rows   int    // left after Columns
		errMsg string // the whole error text, if an error is expected
	}{
		{
			name:  "Chinese headers",
			table: &Table{Header: []string{"序号", "姓名", "公民身份号码", "死亡日期"}, HeaderLine: 1},
			want:  map[string]int{"name": 1, "id_number": 2, "death_date": 3, "phone": -1},
			line:  1,
		},
		{
			name:  "English headers, any case, spaces and marks",
			table: &Table{Header: []string{" Death Date ", "ID_NUMBER*", "Ｐｈｏｎｅ"}, HeaderLine: 1},
			want:  map[string]int{"name": -1, "id_number": 1, "death_date": 0, "phone": 2},
			line:  1,
		},
		{
			name:  "Chinese with spaces and required marks",
			table: &Table{Header: []string{"*身份证号码", "死亡 日期", "姓　名"}, HeaderLine: 1},
			want:  map[string]int{"name": 2, "id_number": 0, "death_date": 1, "phone": -1},
			line:  1,
		},
		{
			name:   "missing required columns",
			table:  &Table{Header: []string{"姓名", "电话"}, HeaderLine: 1},
			line:   1,
			errMsg: "第 1 行：缺少必填列：身份证号（id_number）、死亡日期（death_date）",
		},
		{
			name:   "duplicate columns, also under different names",
			table:  &Table{Header: []string{"身份证号", "死亡日期", "姓名", "id_number", "身份证号码", "备注", "备注"}, HeaderLine: 1},
			line:   1,
			errMsg: "第 1 行：身份证号（id_number）列重复（A 列、D 列、E 列）",
		},
		{
			name:   "missing and duplicate",
			table:  &Table{Header: []string{"死亡日期", "死亡日期"}, HeaderLine: 2},
			line:   2,
			errMsg: "第 2 行：缺少必填列：身份证号（id_number）；死亡日期（death_date）列重复（A 列、B 列）",
		},
		{
			name: "title rows above the header",
			table: &Table{Header: []string{"2024 年 7 月死亡人员名单"}, HeaderLine: 1, Rows: []Row{
				{Line: 2, Cells: []string{"填报单位：民政局", "", "日期：2024-08-01"}},
				{Line: 4, Cells: []string{"姓名", "身份证号", "死亡日期"}},
				{Line: 5, Cells: []string{"张三", "11010519491231002X", "2024-07-01"}},
			}},
			want: map[string]int{"name": 0, "id_number": 1, "death_date": 2, "phone": -1},
			line: 4,
			rows: 1,
		},
		{
			name: "no header anywhere",
			table: &Table{Header: []string{"标题"}, HeaderLine: 1, Rows: []Row{
				{Line: 2, Cells: []string{"张三", "11010519491231002X", "2024-07-01"}},
			}},
			line:   1,
			rows:   1,
			errMsg: "第 1 行：缺少必填列：身份证号（id_number）、死亡日期（death_date）",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.table.Columns(deathSpec)
			if tt.errMsg != "" {
				var e *Error
				if !errors.As(err, &e) || err.Error() != tt.errMsg || e.Line != tt.line {
					t.Fatalf("Columns error = %v, want %q on line %d", err, tt.errMsg, tt.line)
				}
				return
			}
			if err != nil {
				t.Fatalf("Columns: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Columns = %v, want %v", got, tt.want)
			}
			if tt.table.HeaderLine != tt.line || len(tt.table.Rows) != tt.rows {
				t.Errorf("header on line %d with %d rows, want line %d with %d rows",
					tt.table.HeaderLine, len(tt.table.Rows), tt.line, tt.rows)
			}
		})
	}
}

func TestLabel(t *testing.T) {
	tests := []struct {
		c    Column
		want string
	}{
		{Column{Key: "id_number", Names: []string{"id_number", "身份证号"}}, "身份证号（id_number）"},
		{Column{Key: "id_number", Names: []string{"id_number"}}, "id_number"},
		{Column{Key: "", Names: []string{"身份证号"}}, "身份证号"},
	}
	for _, tt := range tests {
		if got := label(tt.c); got != tt.want {
			t.Errorf("label(%+v) = %q, want %q", tt.c, got, tt.want)
		}
	}
}

func TestColumnLetter(t *testing.T) {
	for i, want := range map[int]string{0: "A", 25: "Z", 26: "AA", 51: "AZ", 52: "BA", 701: "ZZ", 702: "AAA"} {
		if got := columnLetter(i); got != want {
			t.Errorf("columnLetter(%d) = %q, want %q", i, got, want)
		}
	}
}
