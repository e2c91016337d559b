package registry_test

import (
	"bytes"
	"context"
	"testing"

	"minzheng/internal/auth"
	"minzheng/internal/db/dbtest"
	"minzheng/internal/registry"
	"minzheng/internal/tabular"
)

// FuzzImport feeds arbitrary files to the importer: it must never panic,
// every row error must name a row of the file and a field, and a refused
// file must write nothing.
func FuzzImport(f *testing.F) {
	good := id("310104", "1955-06-01", 11)
	f.Add([]byte("户号,姓名,身份证号,居住地代码\nH1,张三," + good + ",310104003001\n"))
	f.Add([]byte("name,id_number,residence_division,birth_date\n李四," + good + ",310104,1955-13-01\n"))
	f.Add([]byte("姓名,身份证号,居住地代码\n\"王五\n," + good + "\n"))
	f.Add([]byte("\xef\xbb\xbf姓名,身份证号,居住地代码,残疾等级,月收入\n赵六,31010419550601001X,310115,9,abc\n"))
	d := dbtest.SQLite(f)
	fx := setup(f, d)
	clerk := auth.Principal{Name: "fz", Role: auth.Clerk, Division: "310104", Remote: "fuzz"}
	f.Fuzz(func(t *testing.T, data []byte) {
		tb, err := tabular.Read(bytes.NewReader(data), "f.csv", 1<<20)
		if err != nil {
			return
		}
		rep, err := fx.svc.Import(context.Background(), clerk, tb, registry.ImportOptions{})
		if err != nil {
			return
		}
		last := 1
		if n := len(tb.Rows); n > 0 {
			last = tb.Rows[n-1].Line
		}
		for _, e := range rep.Errors {
			if e.Line < 2 || e.Line > last || e.Field == "" || e.Message == "" {
				t.Fatalf("bad row error %+v (last line %d)", e, last)
			}
		}
		if rep.Bad > 0 && rep.Written {
			t.Fatalf("file with %d bad rows was written without GoodOnly", rep.Bad)
		}
		if rep.Good+rep.Bad != rep.Rows {
			t.Fatalf("good %d + bad %d != rows %d", rep.Good, rep.Bad, rep.Rows)
		}
	})
}
