package registry_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"minzheng/internal/audit"
	"minzheng/internal/auth"
	"minzheng/internal/db"
	"minzheng/internal/db/dbtest"
	"minzheng/internal/division"
	"minzheng/internal/errs"
	"minzheng/internal/idcard"
	"minzheng/internal/registry"
	"minzheng/internal/secret"
	"minzheng/internal/tabular"
)

var today = time.Date(2025, 8, 1, 9, 0, 0, 0, time.UTC)

type fixture struct {
	db    *db.DB
	svc   *registry.Service
	audit *audit.Log
	suite secret.Suite
}

func setup(t testing.TB, d *db.DB) fixture {
	t.Helper()
	suite, err := secret.NewStandard(bytes.Repeat([]byte{3}, secret.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	tree, err := division.Shanghai()
	if err != nil {
		t.Fatal(err)
	}
	now := func() time.Time { return today }
	a := audit.New(d, suite, now)
	if err := division.NewService(d, tree).Seed(context.Background()); err != nil {
		t.Fatal(err)
	}
	return fixture{db: d, svc: registry.NewService(d, suite, a, tree, now), audit: a, suite: suite}
}

func id(region string, birth string, seq int) string {
	b, _ := time.Parse("2006-01-02", birth)
	return idcard.Build(region, b, seq)
}

var (
	xuhuiReviewer  = auth.Principal{Name: "xh", Role: auth.Reviewer, Division: "310104", Remote: "test"}
	pudongClerk    = auth.Principal{Name: "pd", Role: auth.Clerk, Division: "310115", Remote: "test"}
	xuhuiClerk     = auth.Principal{Name: "xc", Role: auth.Clerk, Division: "310104", Remote: "test"}
	committeeClerk = auth.Principal{Name: "cc", Role: auth.Clerk, Division: "310104003001", Remote: "test"}
)

func TestCreateSearchGet(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		ctx := context.Background()
		sys := auth.System()
		// 徐汇 hukou, lives in 浦东 (人户分离).
		wang, err := f.svc.Create(ctx, sys, registry.NewPerson{Name: "王秀英", IDNumber: id("310104", "1950-03-02", 22), HukouDivision: "310104003001", ResidenceDivision: "310115004001"})
		if err != nil {
			t.Fatal(err)
		}
		if wang.Sex != "F" || wang.BirthDate != "1950-03-02" || wang.IDMasked != "310104********022"+wang.IDMasked[17:] {
			t.Errorf("derived fields wrong: %+v", wang)
		}
		li, err := f.svc.Create(ctx, sys, registry.NewPerson{Name: "李建国", IDNumber: id("310115", "1948-10-01", 11), HukouDivision: "310115004001", ResidenceDivision: "310115004001", HouseholdID: wang.HouseholdID, Relation: "配偶"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Create(ctx, sys, registry.NewPerson{Name: "王伟", IDNumber: id("310105", "1980-01-01", 13), HukouDivision: "310105001001", ResidenceDivision: "310105001001"}); err != nil {
			t.Fatal(err)
		}

		tests := []struct {
			name  string
			p     auth.Principal
			q     string
			total int64
		}{
			{"city sees all", sys, "", 3},
			{"name prefix", sys, "王", 2},
			{"xuhui sees hukou in xuhui", xuhuiReviewer, "", 1},
			{"pudong sees residence and hukou in pudong", pudongClerk, "", 2},
			{"pudong name search", pudongClerk, "王", 1},
			{"by full ID", sys, id("310115", "1948-10-01", 11), 1},
			{"by full ID lower-case x irrelevant", xuhuiReviewer, id("310115", "1948-10-01", 11), 0},
			{"committee clerk", committeeClerk, "", 1},
		}
		for _, tt := range tests {
			res, err := f.svc.Search(ctx, tt.p, registry.Query{Q: tt.q})
			if err != nil {
				t.Fatalf("%s: %v", tt.name, err)
			}
			if res.Total != tt.total || int64(len(res.Items)) != tt.total {
				t.Errorf("%s: total %d items %d, want %d", tt.name, res.Total, len(res.Items), tt.total)
			}
		}

		pr, err := f.svc.Get(ctx, xuhuiReviewer, wang.ID)
		if err != nil {
			t.Fatal(err)
		}
		if pr.HukouName != "徐汇区天平路街道"+pr.HukouName[len("徐汇区天平路街道"):] || !strings.HasPrefix(pr.ResidenceName, "浦东新区") {
			t.Errorf("names: %q / %q", pr.HukouName, pr.ResidenceName)
		}
		// 李建国 is in 浦东 only: the 徐汇 reviewer sees the household without him.
		if len(pr.Members) != 1 {
			t.Errorf("xuhui reviewer sees %d members, want 1", len(pr.Members))
		}
		if _, err := f.svc.Get(ctx, xuhuiReviewer, li.ID); !errs.IsNotFound(err) {
			t.Errorf("out-of-jurisdiction get: %v, want not_found", err)
		}
		if pr, err := f.svc.Get(ctx, pudongClerk, wang.ID); err != nil || len(pr.Members) != 2 {
			t.Errorf("pudong clerk: %v members=%d", err, len(pr.Members))
		}
	})
}

func TestCreateValidation(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		ctx := context.Background()
		good := id("310104", "1990-05-05", 31)
		if _, err := f.svc.Create(ctx, auth.System(), registry.NewPerson{Name: "张三", IDNumber: good, HukouDivision: "310104", ResidenceDivision: "310104"}); err != nil {
			t.Fatal(err)
		}
		bad := good[:17] + string("0123456789X"[(strings.IndexByte("0123456789X", good[17])+1)%11])
		tests := []struct {
			name  string
			p     auth.Principal
			np    registry.NewPerson
			code  string
			field string
		}{
			{"bad checksum", auth.System(), registry.NewPerson{Name: "张三", IDNumber: bad, ResidenceDivision: "310104"}, errs.Invalid, "id_number"},
			{"duplicate", auth.System(), registry.NewPerson{Name: "张三", IDNumber: good, ResidenceDivision: "310104"}, errs.Invalid, "id_number"},
			{"no name", auth.System(), registry.NewPerson{IDNumber: id("310104", "1990-05-05", 33), ResidenceDivision: "310104"}, errs.Invalid, "name"},
			{"unknown division", auth.System(), registry.NewPerson{Name: "张三", IDNumber: id("310104", "1990-05-05", 35), ResidenceDivision: "310199"}, errs.Invalid, "residence_division"},
			{"outside jurisdiction", pudongClerk, registry.NewPerson{Name: "张三", IDNumber: id("310104", "1990-05-05", 37), HukouDivision: "310104", ResidenceDivision: "310104"}, errs.Invalid, "residence_division"},
			{"adviser may not write", auth.Principal{Name: "a", Role: auth.Adviser, Division: "310104"}, registry.NewPerson{Name: "张三", IDNumber: id("310104", "1990-05-05", 39), ResidenceDivision: "310104"}, errs.Forbidden, ""},
			{"household outside jurisdiction", xuhuiClerk, registry.NewPerson{Name: "张三", IDNumber: id("310104", "1990-05-05", 41), ResidenceDivision: "310104", HouseholdID: 999}, errs.Invalid, "household_id"},
		}
		for _, tt := range tests {
			_, err := f.svc.Create(ctx, tt.p, tt.np)
			if errs.Code(err) != tt.code {
				t.Errorf("%s: code %q (%v), want %q", tt.name, errs.Code(err), err, tt.code)
				continue
			}
			if tt.field != "" {
				e := errs.As(err)
				if len(e.Fields) == 0 || e.Fields[0].Field != tt.field {
					t.Errorf("%s: fields %+v, want %s", tt.name, e.Fields, tt.field)
				}
			}
		}
		var n int
		d.QueryRow(`SELECT COUNT(*) FROM persons`).Scan(&n)
		if n != 1 {
			t.Errorf("persons = %d after refused creates, want 1", n)
		}
	})
}

func TestRevealIDIsAudited(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		ctx := context.Background()
		number := id("310104", "1960-02-29", 101)
		x, err := f.svc.Create(ctx, auth.System(), registry.NewPerson{Name: "赵六", IDNumber: number, HukouDivision: "310104", ResidenceDivision: "310104"})
		if err != nil {
			t.Fatal(err)
		}
		var enc []byte
		d.QueryRow(`SELECT id_enc FROM persons WHERE id = $1`, x.ID).Scan(&enc)
		if bytes.Contains(enc, []byte(number)) || bytes.Contains(enc, []byte(number[6:14])) {
			t.Fatal("ID number stored in clear")
		}
		if _, err := f.svc.RevealID(ctx, auth.Principal{Name: "c", Role: auth.Clerk, Division: "310104"}, x.ID); errs.Code(err) != errs.Forbidden {
			t.Errorf("clerk reveal: %v, want forbidden", err)
		}
		if _, err := f.svc.RevealID(ctx, auth.Principal{Name: "r", Role: auth.Reviewer, Division: "310115"}, x.ID); !errs.IsNotFound(err) {
			t.Errorf("other district reveal: %v, want not_found", err)
		}
		got, err := f.svc.RevealID(ctx, xuhuiReviewer, x.ID)
		if err != nil || got != number {
			t.Fatalf("reveal = %q, %v", got, err)
		}
		es, err := f.audit.List(ctx, audit.Filter{Action: "person.view_id_number"})
		if err != nil || len(es) != 1 || es[0].Actor != "xh" || es[0].EntityID == "" || strings.Contains(es[0].Detail, number) {
			t.Fatalf("audit entries: %+v %v", es, err)
		}
	})
}

func table(t *testing.T, csv string) *tabular.Table {
	t.Helper()
	tb, err := tabular.Read(strings.NewReader(csv), "people.csv", 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	return tb
}

func TestImport(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		ctx := context.Background()
		existing := id("310104", "1970-01-01", 1)
		if _, err := f.svc.Create(ctx, auth.System(), registry.NewPerson{Name: "已登记", IDNumber: existing, HukouDivision: "310104", ResidenceDivision: "310104"}); err != nil {
			t.Fatal(err)
		}
		a1, a2 := id("310104", "1955-06-01", 11), id("310104", "1957-07-02", 12)
		bad := a1[:17] + map[bool]string{true: "0", false: "1"}[a1[17] != '0']
		file := "户号,姓名,身份证号,与户主关系,户籍地代码,居住地代码,出生日期\n" +
			"H1,张大爷," + a1 + ",户主,310104003001,310104003001,1955-06-01\n" +
			"H1,李阿姨," + a2 + ",配偶,310104003001,310104003001,1957-07-02\n" +
			"H2,错校验," + bad + ",户主,310104003001,310104003001,\n" +
			"H3,未知区划," + id("310104", "1960-01-01", 21) + ",户主,310199,310199,\n" +
			"H1,重复," + a1 + ",子女,310104003001,310104003001,\n" +
			",,," + "户主,310104003001,310104003001,\n" +
			"H4,日期错," + id("310104", "1961-01-01", 23) + ",户主,310104003001,310104003001,1961-13-01\n" +
			"H5,已登记," + existing + ",户主,310104,310104,\n"
		countPersons := func() int {
			var n int
			d.QueryRow(`SELECT COUNT(*) FROM persons`).Scan(&n)
			return n
		}
		rep, err := f.svc.Import(ctx, xuhuiClerk, table(t, file), registry.ImportOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if rep.Written || rep.Rows != 8 || rep.Good != 2 || rep.Bad != 6 {
			t.Fatalf("report %+v", rep)
		}
		want := map[int]string{4: "id_number", 5: "hukou_division", 6: "id_number", 7: "name", 8: "birth_date", 9: "id_number"}
		got := map[int]bool{}
		for _, e := range rep.Errors {
			if want[e.Line] == e.Field {
				got[e.Line] = true
			}
			if e.Message == "" || e.Column == "" {
				t.Errorf("row error without message or column: %+v", e)
			}
		}
		for line, field := range want {
			if !got[line] {
				t.Errorf("no error on line %d field %s; errors %+v", line, field, rep.Errors)
			}
		}
		if n := countPersons(); n != 1 {
			t.Fatalf("persons = %d after refused import, want 1", n)
		}
		// Good rows only.
		rep, err = f.svc.Import(ctx, xuhuiClerk, table(t, file), registry.ImportOptions{GoodOnly: true})
		if err != nil || !rep.Written || rep.Persons != 2 || rep.Households != 1 {
			t.Fatalf("good-only import: %+v %v", rep, err)
		}
		if n := countPersons(); n != 3 {
			t.Fatalf("persons = %d, want 3", n)
		}
		res, _ := f.svc.Search(ctx, auth.System(), registry.Query{Q: a2})
		if len(res.Items) != 1 || res.Items[0].Relation != registry.Spouse {
			t.Fatalf("imported spouse: %+v", res.Items)
		}
		// Importing the same file again only finds duplicates.
		rep, err = f.svc.Import(ctx, xuhuiClerk, table(t, file), registry.ImportOptions{GoodOnly: true})
		if err != nil || rep.Written || rep.Good != 0 {
			t.Fatalf("re-import: %+v %v", rep, err)
		}
		// A clerk of 浦东 cannot import 徐汇 people.
		other := "姓名,身份证号,居住地代码\n孙七," + id("310104", "1991-01-01", 51) + ",310104\n"
		rep, _ = f.svc.Import(ctx, pudongClerk, table(t, other), registry.ImportOptions{GoodOnly: true})
		if rep.Written || rep.Bad != 1 || rep.Errors[0].Field != "residence_division" {
			t.Fatalf("cross-district import: %+v", rep)
		}
		// Missing required column names it.
		_, err = f.svc.Import(ctx, xuhuiClerk, table(t, "姓名,居住地代码\n张三,310104\n"), registry.ImportOptions{})
		if errs.Code(err) != errs.Invalid || !strings.Contains(errs.As(err).Message, "身份证号") {
			t.Fatalf("missing column: %v", err)
		}
		if n := countPersons(); n != 3 {
			t.Fatalf("persons = %d, want 3", n)
		}
	})
}

func TestLoaderAndExport(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		ctx := context.Background()
		l, err := f.svc.NewLoader(ctx, auth.System())
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 300; i++ {
			district := []string{"310104", "310115"}[i%2]
			n := id(district, "1960-01-01", i)
			code := district + "003001"
			p := registry.Person{Relation: registry.Head, Name: "测试", BirthDate: "1960-01-01", Sex: "M", HukouDivision: code, ResidenceDivision: code}
			if _, err := l.Add(registry.Household{HukouDivision: code, ResidenceDivision: code}, []registry.Person{p}, []string{n}); err != nil {
				t.Fatal(err)
			}
		}
		if err := l.Close("test"); err != nil {
			t.Fatal(err)
		}
		var idx int
		d.QueryRow(`SELECT COUNT(*) FROM deferred_indexes`).Scan(&idx)
		if idx != 0 {
			t.Errorf("%d indexes still deferred", idx)
		}
		// Search by ID works through the rebuilt hash index, and new rows get new IDs.
		res, err := f.svc.Search(ctx, auth.System(), registry.Query{Q: id("310115", "1960-01-01", 1)})
		if err != nil || res.Total != 1 {
			t.Fatalf("search after load: %+v %v", res, err)
		}
		x, err := f.svc.Create(ctx, auth.System(), registry.NewPerson{Name: "新人", IDNumber: id("310104", "1999-09-09", 1), ResidenceDivision: "310104"})
		if err != nil || x.ID != 301 {
			t.Fatalf("create after load: id %d, %v", x.ID, err)
		}
		var rows []registry.Person
		n, err := f.svc.Each(ctx, xuhuiReviewer, "", func(p registry.Person) error { rows = append(rows, p); return nil })
		if err != nil || n != 151 {
			t.Fatalf("export count %d, %v", n, err)
		}
		for _, p := range rows {
			if !strings.HasPrefix(p.HukouDivision, "310104") && !strings.HasPrefix(p.ResidenceDivision, "310104") {
				t.Fatalf("export leaked %+v", p)
			}
		}
		es, _ := f.audit.List(ctx, audit.Filter{Action: "person.export"})
		if len(es) != 1 {
			t.Errorf("export not audited: %+v", es)
		}
	})
}

func TestProfileViewIsAudited(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		ctx := context.Background()
		x, err := f.svc.Create(ctx, auth.System(), registry.NewPerson{Name: "钱八", IDNumber: id("310104", "1944-04-04", 7), HukouDivision: "310104", ResidenceDivision: "310104"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Get(ctx, xuhuiReviewer, x.ID); err != nil {
			t.Fatal(err)
		}
		f.svc.Get(ctx, pudongClerk, x.ID) // refused: not in 浦东, not recorded as a view
		es, err := f.audit.List(ctx, audit.Filter{Action: "person.view"})
		if err != nil || len(es) != 1 || es[0].Actor != "xh" || es[0].EntityID != fmt.Sprint(x.ID) {
			t.Fatalf("view entries %+v %v", es, err)
		}
	})
}

// TestWeakGuardianship sets and clears 弱监护: an adviser of the
// jurisdiction may set it (and nothing else), a clerk too; outside the
// jurisdiction the person reads as absent; each change is audited and
// shows on the profile; OnChange is not called, as no benefit depends on it.
func TestWeakGuardianship(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		ctx := context.Background()
		x, err := f.svc.Create(ctx, auth.System(), registry.NewPerson{Name: "钱老太", IDNumber: id("310104", "1938-04-05", 31), HukouDivision: "310104003001", ResidenceDivision: "310104003001"})
		if err != nil {
			t.Fatal(err)
		}
		changes := 0
		f.svc.OnChange = func(context.Context, int64) error { changes++; return nil }
		yes, no := true, false
		adviser := auth.Principal{Name: "gu", Role: auth.Adviser, Division: "310104003001", Remote: "test"}
		if _, err := f.svc.UpdateFacts(ctx, adviser, x.ID, registry.FactsUpdate{WeakGuardianship: &yes}); err != nil {
			t.Fatalf("adviser sets weak guardianship: %v", err)
		}
		pr, err := f.svc.Get(ctx, xuhuiReviewer, x.ID)
		if err != nil || !pr.WeakGuardianship {
			t.Fatalf("profile after setting: %+v %v", pr.Person, err)
		}
		income := int64(100)
		if _, err := f.svc.UpdateFacts(ctx, adviser, x.ID, registry.FactsUpdate{WeakGuardianship: &no, MonthlyIncome: &income}); errs.Code(err) != errs.Forbidden {
			t.Errorf("adviser changes income: %v, want forbidden", err)
		}
		elsewhere := auth.Principal{Name: "pd_gu", Role: auth.Adviser, Division: "310115", Remote: "test"}
		if _, err := f.svc.UpdateFacts(ctx, elsewhere, x.ID, registry.FactsUpdate{WeakGuardianship: &no}); !errs.IsNotFound(err) {
			t.Errorf("adviser of another district: %v, want not_found", err)
		}
		if _, err := f.svc.UpdateFacts(ctx, xuhuiReviewer, x.ID, registry.FactsUpdate{WeakGuardianship: &no}); errs.Code(err) != errs.Forbidden {
			t.Errorf("reviewer: %v, want forbidden", err)
		}
		got, err := f.svc.UpdateFacts(ctx, xuhuiClerk, x.ID, registry.FactsUpdate{WeakGuardianship: &no})
		if err != nil || got.WeakGuardianship {
			t.Fatalf("clerk clears: %+v %v", got, err)
		}
		var weak int
		d.QueryRow(`SELECT weak_guardianship FROM persons WHERE id = $1`, x.ID).Scan(&weak)
		if weak != 0 {
			t.Errorf("weak_guardianship = %d after clearing", weak)
		}
		es, err := f.audit.List(ctx, audit.Filter{Action: "person.update", EntityID: fmt.Sprint(x.ID)})
		if err != nil || len(es) != 2 || es[0].Actor != "xc" || !strings.Contains(es[0].Detail, "取消弱监护") || es[1].Actor != "gu" || !strings.Contains(es[1].Detail, "标记弱监护") {
			t.Errorf("audit: %+v %v", es, err)
		}
		if changes != 0 {
			t.Errorf("OnChange called %d times for 弱监护 alone", changes)
		}
	})
}
