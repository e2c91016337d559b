package tabular_test

import (
	"fmt"
	"os"
	"strings"

	"minzheng/internal/tabular"
)

func ExampleRead() {
	file := "身份证号,姓名,死亡日期\n11010519491231002X,张三,2024/7/1\n\n310104198001011234,李四,2024年13月1日\n"
	t, err := tabular.Read(strings.NewReader(file), "死亡名单.csv", 10<<20)
	if err != nil {
		fmt.Println(err)
		return
	}
	cols, err := t.Columns([]tabular.Column{
		{Key: "id_number", Names: []string{"id_number", "身份证号", "身份证号码"}, Required: true},
		{Key: "death_date", Names: []string{"death_date", "死亡日期"}, Required: true},
		{Key: "phone", Names: []string{"phone", "联系电话"}},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, r := range t.Rows {
		d, ok := tabular.ParseDate(r.Get(cols["death_date"]))
		if !ok {
			fmt.Printf("第 %d 行：死亡日期 %q 无法识别\n", r.Line, r.Get(cols["death_date"]))
			continue
		}
		fmt.Println(r.Line, r.Get(cols["id_number"]), d.Format("2006-01-02"), r.Get(cols["phone"]) == "")
	}
	// Output:
	// 2 11010519491231002X 2024-07-01 true
	// 第 4 行：死亡日期 "2024年13月1日" 无法识别
}

func ExampleTable_Columns() {
	t := &tabular.Table{Header: []string{"姓名", "电话"}, HeaderLine: 1}
	_, err := t.Columns([]tabular.Column{
		{Key: "id_number", Names: []string{"id_number", "身份证号"}, Required: true},
		{Key: "death_date", Names: []string{"death_date", "死亡日期"}, Required: true},
	})
	fmt.Println(err)
	// Output:
	// 第 1 行：缺少必填列：身份证号（id_number）、死亡日期（death_date）
}

func ExampleWriteXLSX() {
	err := tabular.WriteXLSX(os.Stdout, "低保对象", []string{"姓名", "身份证号"}, [][]string{
		{"张三", "11010519491231002X"},
	})
	if err != nil {
		fmt.Println(err)
	}
}
