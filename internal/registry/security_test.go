package registry_test

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"minzheng/internal/app"
	"minzheng/internal/app/apptest"
	"minzheng/internal/auth"
	"minzheng/internal/db"
	"minzheng/internal/db/dbtest"
	"minzheng/internal/errs"
	"minzheng/internal/registry"
	"minzheng/internal/tabular"
)

// incomeMessage is the one message every way into the register gives for
// a monthly income out of bounds.
const incomeMessage = "月收入应在 0 至 10000000 元之间（整数元）"

// maxIncome is the largest monthly income (yuan) the register takes.
const maxIncome = 10_000_000

// fieldMessage returns the message err gives for field, "" if none.
func fieldMessage(err error, field string) string {
	if e := errs.As(err); e != nil {
		for _, f := range e.Fields {
			if f.Field == field {
				return f.Message
			}
		}
	}
	return ""
}

// TestIncomeBounds checks that create, update and import refuse incomes
// above the register's limit (finding 11) with one message naming the
// field, and that import reports overlong numbers as too large, not as
// negative (finding 16).
func TestIncomeBounds(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		ctx := context.Background()
		for _, v := range []int64{-1, maxIncome + 1, math.MaxInt64} {
			_, err := f.svc.Create(ctx, xuhuiClerk, registry.NewPerson{Name: "收入过高", IDNumber: id("310104", "1970-01-01", 31),
				ResidenceDivision: "310104003001", MonthlyIncome: v})
			if got := fieldMessage(err, "monthly_income"); got != incomeMessage {
				t.Errorf("create with income %d: %v, want monthly_income: %s", v, err, incomeMessage)
			}
		}
		x, err := f.svc.Create(ctx, xuhuiClerk, registry.NewPerson{Name: "收入上限", IDNumber: id("310104", "1970-01-01", 32),
			ResidenceDivision: "310104003001", MonthlyIncome: maxIncome})
		if err != nil {
			t.Fatalf("create with the largest income: %v", err)
		}
		for _, v := range []int64{-1, maxIncome + 1, math.MaxInt64} {
			_, err := f.svc.UpdateFacts(ctx, xuhuiClerk, x.ID, registry.FactsUpdate{MonthlyIncome: &v})
			if got := fieldMessage(err, "monthly_income"); got != incomeMessage {
				t.Errorf("update income to %d: %v, want monthly_income: %s", v, err, incomeMessage)
			}
		}

		file := "姓名,身份证号,居住地代码,月收入\n" +
			"甲," + id("310104", "1971-01-01", 41) + ",310104003001,99999999999999999999999\n" +
			"乙," + id("310104", "1971-01-01", 42) + ",310104003001,1e400\n" +
			"丙," + id("310104", "1971-01-01", 43) + ",310104003001,10000000.6\n" +
			"丁," + id("310104", "1971-01-01", 44) + ",310104003001,-3\n" +
			"戊," + id("310104", "1971-01-01", 45) + ",310104003001,NaN\n" +
			"己," + id("310104", "1971-01-01", 46) + ",310104003001,10000000\n"
		rep, err := f.svc.Import(ctx, xuhuiClerk, table(t, file), registry.ImportOptions{DryRun: true})
		if err != nil {
			t.Fatal(err)
		}
		byLine := map[int][]registry.RowError{}
		for _, e := range rep.Errors {
			byLine[e.Line] = append(byLine[e.Line], e)
		}
		for line := 2; line <= 6; line++ {
			es := byLine[line]
			if len(es) != 1 || es[0].Field != "monthly_income" || es[0].Column != "月收入" || es[0].Message != incomeMessage {
				t.Errorf("line %d: errors %+v, want one on 月收入: %s", line, es, incomeMessage)
			}
		}
		if es := byLine[7]; len(es) != 0 {
			t.Errorf("line 7 (the largest income): errors %+v, want none", es)
		}
	})
}

// TestRegisteredElsewhere checks that registering an ID number already
// registered outside the clerk's jurisdiction says only that it cannot be
// registered here and whom to ask, never the masked number (finding 19),
// while inside the jurisdiction the clerk is told it is registered.
func TestRegisteredElsewhere(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		ctx := context.Background()
		number := id("310115", "1960-05-05", 51)
		x, err := f.svc.Create(ctx, pudongClerk, registry.NewPerson{Name: "浦东居民", IDNumber: number, ResidenceDivision: "310115004001"})
		if err != nil {
			t.Fatal(err)
		}
		// A 徐汇 committee clerk: outside their jurisdiction.
		_, err = f.svc.Create(ctx, committeeClerk, registry.NewPerson{Name: "再登记", IDNumber: number, ResidenceDivision: "310104003001"})
		msg := fieldMessage(err, "id_number")
		if msg == "" || strings.Contains(err.Error(), x.IDMasked) || strings.Contains(msg, "已登记") || strings.Contains(msg, "浦东") ||
			!strings.Contains(msg, "不能在本辖区登记") || !strings.Contains(msg, "徐汇区民政局") {
			t.Errorf("registering a 浦东 person from 徐汇: %v; want only that it cannot be registered here and to ask 徐汇区民政局", err)
		}
		// A district-level account asks the city bureau.
		_, err = f.svc.Create(ctx, xuhuiClerk, registry.NewPerson{Name: "再登记", IDNumber: number, ResidenceDivision: "310104003001"})
		if msg := fieldMessage(err, "id_number"); strings.Contains(err.Error(), x.IDMasked) || !strings.Contains(msg, "市民政局") {
			t.Errorf("registering a 浦东 person as a 徐汇 district clerk: %v; want to ask 市民政局 without the masked number", err)
		}
		// Inside the jurisdiction the clerk may be told.
		_, err = f.svc.Create(ctx, pudongClerk, registry.NewPerson{Name: "再登记", IDNumber: number, ResidenceDivision: "310115004001"})
		if msg := fieldMessage(err, "id_number"); msg != "身份证号码 "+x.IDMasked+" 已登记" {
			t.Errorf("registering again in 浦东: %v, want 身份证号码 %s 已登记", err, x.IDMasked)
		}

		// The same through an import.
		file := "姓名,身份证号,居住地代码\n再登记," + number + ",310104003001\n"
		rep, err := f.svc.Import(ctx, xuhuiClerk, table(t, file), registry.ImportOptions{DryRun: true})
		if err != nil {
			t.Fatal(err)
		}
		if len(rep.Errors) != 1 || rep.Errors[0].Field != "id_number" || strings.Contains(rep.Errors[0].Message, x.IDMasked) ||
			strings.Contains(rep.Errors[0].Message, "已登记") || !strings.Contains(rep.Errors[0].Message, "不能在本辖区登记") {
			t.Errorf("importing a 浦东 person from 徐汇: %+v; want only that it cannot be registered here", rep.Errors)
		}
		file = "姓名,身份证号,居住地代码\n再登记," + number + ",310115004001\n"
		rep, err = f.svc.Import(ctx, pudongClerk, table(t, file), registry.ImportOptions{DryRun: true})
		if err != nil {
			t.Fatal(err)
		}
		if len(rep.Errors) != 1 || !strings.Contains(rep.Errors[0].Message, x.IDMasked+" 已登记") {
			t.Errorf("importing a 浦东 person again in 浦东: %+v; want that %s is registered", rep.Errors, x.IDMasked)
		}
	})
}

// TestInvalidUTF8 checks that text which is not valid UTF-8 is refused
// with a message naming the field, not stored as U+FFFD (finding 15):
// through the JSON API, the registration page and the service.
func TestInvalidUTF8(t *testing.T) {
	bad := "王\xff\xfe伟"
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		ctx := context.Background()
		_, err := f.svc.Create(ctx, xuhuiClerk, registry.NewPerson{Name: "地址错", IDNumber: id("310104", "1970-01-01", 61),
			ResidenceDivision: "310104003001", Address: "徐汇区\xc0路"})
		if fieldMessage(err, "address") == "" {
			t.Errorf("create with an address of invalid UTF-8: %v, want an error on address", err)
		}
		// A CSV or Excel reader refuses such bytes itself (naming row and
		// column); the service must too, whatever the reader lets through.
		tb := &tabular.Table{Header: []string{"姓名", "身份证号", "居住地代码", "地址"}, HeaderLine: 1,
			Rows: []tabular.Row{{Line: 2, Cells: []string{bad, id("310104", "1970-01-01", 62), "310104003001", "徐汇区"}}}}
		rep, err := f.svc.Import(ctx, xuhuiClerk, tb, registry.ImportOptions{DryRun: true})
		if err != nil {
			t.Fatal(err)
		}
		if len(rep.Errors) != 1 || rep.Errors[0].Field != "name" || rep.Errors[0].Line != 2 {
			t.Errorf("import of a name of invalid UTF-8: %+v, want one error on line 2, name", rep.Errors)
		}
	})
}

// TestInvalidUTF8HTTP checks through the app that the JSON API and the
// registration page refuse text that is not valid UTF-8 with a message
// naming the field, and that both give an income beyond int64 the
// service's message. (A test of its own: a second "sqlite" subtest would
// be named "sqlite#01", and the '#' cuts the SQLite file URI short.)
func TestInvalidUTF8HTTP(t *testing.T) {
	bad := "王\xff\xfe伟"
	apptest.EachDB(t, func(t *testing.T, cfg app.Config) {
		s := apptest.Open(t, cfg)
		c := apptest.FirstCommittee(t, s.App.Divisions.Tree, xuhui)
		tok := s.Staff(t, "clerk_utf8", auth.Clerk, xuhui)
		countNamed := func(prefix string) int64 {
			var n int64
			if err := s.App.DB.QueryRow(`SELECT COUNT(*) FROM persons WHERE name LIKE $1`, prefix+"%").Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		body := fmt.Sprintf(`{"name":"%s","id_number":"%s","residence_division":"%s"}`, bad, id(xuhui, "1970-01-01", 71), c)
		var e apptest.APIError
		s.Do(t, apptest.NewRequest("POST", "/api/v1/persons", tok, "application/json", []byte(body)), http.StatusUnprocessableEntity, &e)
		if names := e.FieldNames(); len(names) != 1 || names[0] != "name" || !strings.Contains(e.Error.Message, "UTF-8") {
			t.Errorf("POST /api/v1/persons with a name of invalid UTF-8: %+v, want an error naming name", e.Error)
		}
		// Decoding JSON would silently turn the bytes into U+FFFD.
		if n := countNamed("王"); n != 0 {
			t.Errorf("%d persons stored with the name of invalid UTF-8", n)
		}

		// An income too large for int64 in the API gets the service's message.
		body = fmt.Sprintf(`{"name":"收入","id_number":"%s","residence_division":"%s","monthly_income":99999999999999999999}`, id(xuhui, "1970-01-01", 72), c)
		e = apptest.APIError{}
		s.Do(t, apptest.NewRequest("POST", "/api/v1/persons", tok, "application/json", []byte(body)), http.StatusUnprocessableEntity, &e)
		if e.Error == nil || len(e.Error.Fields) != 1 || e.Error.Fields[0].Field != "monthly_income" || e.Error.Fields[0].Message != incomeMessage {
			t.Errorf("POST /api/v1/persons with an income beyond int64: %+v, want monthly_income: %s", e.Error, incomeMessage)
		}
		var x registry.Person
		s.PostJSON(t, "/api/v1/persons", tok, registry.NewPerson{Name: "收入", IDNumber: id(xuhui, "1970-01-01", 73), ResidenceDivision: c}, http.StatusCreated, &x)
		for _, v := range []string{"99999999999999999999", "10000001", "1e30"} {
			e = apptest.APIError{}
			s.Do(t, apptest.NewRequest("PATCH", fmt.Sprintf("/api/v1/persons/%d", x.ID), tok, "application/json", []byte(`{"monthly_income":`+v+`}`)),
				http.StatusUnprocessableEntity, &e)
			if e.Error == nil || len(e.Error.Fields) != 1 || e.Error.Fields[0].Field != "monthly_income" || e.Error.Fields[0].Message != incomeMessage {
				t.Errorf("PATCH monthly_income %s: %+v, want monthly_income: %s", v, e.Error, incomeMessage)
			}
		}

		// The registration page: form values are not decoded, so the
		// service must refuse them.
		b := s.Login(t, "clerk_utf8_page", auth.Clerk, xuhui)
		page := b.Post(t, "/persons/new", url.Values{"name": {bad}, "id_number": {id(xuhui, "1970-01-01", 74)}, "residence_division": {c}, "relation": {"户主"}})
		if page.Code != http.StatusUnprocessableEntity || !strings.Contains(page.Body, "UTF-8") {
			t.Errorf("registration page with a name of invalid UTF-8: status %d, want 422 with a message on UTF-8", page.Code)
		}
		page = b.Post(t, "/persons/new", url.Values{"name": {"收入页"}, "id_number": {id(xuhui, "1970-01-01", 75)}, "residence_division": {c},
			"relation": {"户主"}, "monthly_income": {"99999999999999999999"}})
		if page.Code != http.StatusUnprocessableEntity || !strings.Contains(page.Body, incomeMessage) {
			t.Errorf("registration page with an income beyond int64: status %d, want 422 with %s", page.Code, incomeMessage)
		}
		if n := countNamed("王"); n != 0 {
			t.Errorf("%d persons stored with the name of invalid UTF-8", n)
		}
	})
}
