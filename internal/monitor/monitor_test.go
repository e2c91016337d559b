package monitor_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"golang.org/x/text/encoding/simplifiedchinese"

	"minzheng/internal/audit"
	"minzheng/internal/auth"
	"minzheng/internal/db"
	"minzheng/internal/db/dbtest"
	"minzheng/internal/division"
	"minzheng/internal/errs"
	"minzheng/internal/idcard"
	"minzheng/internal/monitor"
	"minzheng/internal/registry"
	"minzheng/internal/secret"
	"minzheng/internal/tabular"
)

// today is 2025-08-01 17:00 in Shanghai.
var today = time.Date(2025, 8, 1, 9, 0, 0, 0, time.UTC)

const (
	committee      = "310104003001" // 徐汇区天平路街道某居委
	otherCommittee = "310104003002"
	pudongComm     = "310115004001"
)

type fixture struct {
	db  *db.DB
	reg *registry.Service
	svc *monitor.Service
	now time.Time
	seq int
}

func setup(t testing.TB, d *db.DB) *fixture {
	t.Helper()
	suite, err := secret.NewStandard(bytes.Repeat([]byte{3}, secret.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	tree, err := division.Shanghai()
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{db: d, now: today}
	now := func() time.Time { return f.now }
	a := audit.New(d, suite, now)
	ctx := context.Background()
	if err := division.NewService(d, tree).Seed(ctx); err != nil {
		t.Fatal(err)
	}
	f.reg = registry.NewService(d, suite, a, tree, now)
	f.svc = &monitor.Service{DB: d, Suite: suite, Audit: a, Tree: tree, Now: now, Registry: f.reg, DibaoStandard: func(time.Time) float64 { return 1595 }}
	if err := f.svc.SeedRules(ctx); err != nil {
		t.Fatal(err)
	}
	return f
}

// person registers a person living in the committee and returns them with
// their ID number.
func (f *fixture) person(t testing.TB, name, birth, residence string, household int64, income int64) (registry.Person, string) {
	t.Helper()
	f.seq++
	b, _ := time.Parse(time.DateOnly, birth)
	number := idcard.Build(residence[:6], b, f.seq)
	rel := "户主"
	if household != 0 {
		rel = "配偶"
	}
	p, err := f.reg.Create(context.Background(), auth.System(), registry.NewPerson{Name: name, IDNumber: number, HukouDivision: residence,
		ResidenceDivision: residence, HouseholdID: household, Relation: rel, MonthlyIncome: income})
	if err != nil {
		t.Fatal(err)
	}
	return p, number
}

func (f *fixture) exec(t testing.TB, q string, args ...any) {
	t.Helper()
	if _, err := f.db.ExecContext(context.Background(), q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

func (f *fixture) count(t testing.TB, q string, args ...any) int {
	t.Helper()
	var n int
	if err := f.db.QueryRowContext(context.Background(), q, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

func (f *fixture) entitle(t testing.TB, p registry.Person, program string) {
	f.exec(t, `INSERT INTO entitlements (program, person_id, household_id, status, monthly_fen, since, proactive, decision_id, updated_at) VALUES ($1, $2, $3, 'active', 100000, '2025-01-01', 1, 0, '')`,
		program, p.ID, p.HouseholdID)
}

func csvTable(t testing.TB, content []byte, name string) *tabular.Table {
	t.Helper()
	tab, err := tabular.Read(bytes.NewReader(content), name, 0)
	if err != nil {
		t.Fatalf("read %s: %v", name, err)
	}
	return tab
}

func (f *fixture) importCSV(t testing.TB, typ monitor.FeedType, batch, content string) monitor.Result {
	t.Helper()
	res, err := f.svc.Import(context.Background(), auth.System(), monitor.ImportRequest{Type: typ, Batch: batch, Table: csvTable(t, []byte(content), "feed.csv")})
	if err != nil {
		t.Fatalf("import %s: %v", batch, err)
	}
	return res
}

func TestDeathFeed(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		ctx := context.Background()
		head, headID := f.person(t, "张建国", "1940-05-01", committee, 0, 1000)
		f.entitle(t, head, "elderly_allowance")
		_, spouseID := f.person(t, "李秀英", "1942-06-01", committee, head.HouseholdID, 0)
		stranger := idcard.Build("310104", time.Date(1950, 1, 1, 0, 0, 0, 0, time.UTC), 999)
		csv := "id_number,death_date\n" + headID + ",2025-07-20\n" + stranger + ",2025-07-21\n"
		res := f.importCSV(t, monitor.Death, "gaj-2025-0801", csv)
		if !res.Written || res.Accepted != 1 || res.Unmatched != 1 || res.Rejected != 0 || res.Duplicates != 0 {
			t.Fatalf("result %+v", res)
		}
		if got := res.Line(); got != `{"batch":"gaj-2025-0801", "accepted":1, "rejected":0, "unmatched":1, "duplicates":0}` {
			t.Errorf("line %s", got)
		}
		if len(res.Problems) != 1 || res.Problems[0].Line != 3 || res.Problems[0].Kind != "unmatched" {
			t.Errorf("problems %+v", res.Problems)
		}
		pr, err := f.reg.Get(ctx, auth.System(), head.ID)
		if err != nil || pr.DeathDate != "2025-07-20" {
			t.Fatalf("death not recorded: %q %v", pr.DeathDate, err)
		}
		if n := f.count(t, `SELECT COUNT(*) FROM events WHERE kind = 'person.died' AND subject_id = $1`, head.ID); n != 1 {
			t.Errorf("%d person.died events", n)
		}
		if n := f.count(t, `SELECT COUNT(*) FROM feed_facts WHERE feed_type = 'death' AND source = '公安' AND valid_from = '2025-07-20'`); n != 1 {
			t.Errorf("%d death facts with source and date", n)
		}
		// A recipient reported dead: a warning and a task in the committee.
		if res.Warnings != 1 || f.count(t, `SELECT COUNT(*) FROM monitor_tasks WHERE division = $1 AND person_id = $2`, committee, head.ID) != 1 {
			t.Errorf("warnings %d; tasks %d", res.Warnings, f.count(t, `SELECT COUNT(*) FROM monitor_tasks`))
		}

		// The same batch again changes nothing.
		before := f.count(t, `SELECT COUNT(*) FROM audit_log`)
		again := f.importCSV(t, monitor.Death, "gaj-2025-0801", csv)
		if !again.Replayed || again.Accepted != 1 || again.Unmatched != 1 {
			t.Errorf("replay %+v", again)
		}
		if f.count(t, `SELECT COUNT(*) FROM audit_log`) != before || f.count(t, `SELECT COUNT(*) FROM events`) != 2 || f.count(t, `SELECT COUNT(*) FROM warnings`) != 1 {
			t.Error("the replay changed something")
		}
		// The same death in a new batch is a duplicate.
		dup := f.importCSV(t, monitor.Death, "wjw-2025-0802", "身份证号,死亡日期\n"+headID+",2025-07-20\n")
		if dup.Duplicates != 1 || dup.Accepted != 0 {
			t.Errorf("duplicate %+v", dup)
		}

		// GBK, as Excel on Chinese Windows saves it, with Chinese headers.
		gbk, err := simplifiedchinese.GBK.NewEncoder().Bytes([]byte("身份证号,死亡日期\r\n" + spouseID + ",2025/7/25\r\n"))
		if err != nil {
			t.Fatal(err)
		}
		res, err = f.svc.Import(ctx, auth.System(), monitor.ImportRequest{Type: monitor.Death, Batch: monitor.BatchIDOf(monitor.Death, gbk), Table: csvTable(t, gbk, "死亡.csv")})
		if err != nil || res.Accepted != 1 {
			t.Fatalf("GBK: %+v %v", res, err)
		}
		if n := f.count(t, `SELECT COUNT(*) FROM persons WHERE death_date = '2025-07-25'`); n != 1 {
			t.Error("GBK death not recorded")
		}

		// Excel, with a title row above the header and the date as Excel writes it.
		third, thirdID := f.person(t, "王三", "1939-01-01", committee, 0, 0)
		var x bytes.Buffer
		if err := tabular.WriteXLSX(&x, "死亡", []string{"2025年7月死亡名单"}, [][]string{{"身份证号", "死亡日期"}, {thirdID, "2025年7月26日"}}); err != nil {
			t.Fatal(err)
		}
		res, err = f.svc.Import(ctx, auth.System(), monitor.ImportRequest{Type: monitor.Death, Batch: "xlsx-1", Table: csvTable(t, x.Bytes(), "死亡.xlsx")})
		if err != nil || res.Accepted != 1 {
			t.Fatalf("xlsx: %+v %v", res, err)
		}
		if pr, _ := f.reg.Get(ctx, auth.System(), third.ID); pr.DeathDate != "2025-07-26" {
			t.Errorf("xlsx death %q", pr.DeathDate)
		}
	})
}

func TestMalformedFeedsChangeNothing(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		_, number := f.person(t, "王芳", "1950-01-01", committee, 0, 0)
		good := number + ",2025-07-01\n"
		cases := []struct {
			name    string
			content []byte
			readErr string // the file cannot be read
			err     string // the batch is refused as a whole
			line    int    // the first rejected row
			msg     string
		}{
			{name: "undecodable bytes", content: []byte("id_number,death_date\n" + number + ",2025-07-01\n\xff\xfe\xfd\x80,2025\n"), readErr: "第 3 行"},
			{name: "missing column", content: []byte("id_number,date\n" + good), err: "死亡日期"},
			{name: "bad date", content: []byte("id_number,death_date\n" + good + number[:17] + "X,2025-02-30\n"), line: 3, msg: "不是有效日期"},
			{name: "future date", content: []byte("id_number,death_date\n" + number + ",2026-01-01\n"), line: 2, msg: "晚于今天"},
			{name: "bad ID number", content: []byte("id_number,death_date\n" + good + "310104195001010000,2025-07-01\n"), line: 3, msg: "身份证号码"},
			{name: "duplicate rows", content: []byte("id_number,death_date\n" + good + good), line: 3, msg: "与第 2 行重复"},
			{name: "truncated row", content: []byte("id_number,death_date\n" + good + number[:10]), line: 3, msg: "身份证号码"},
			{name: "truncated quote", content: []byte("id_number,death_date\n" + good + "\"" + number[:10]), readErr: "第 3 行"},
			{name: "death before birth", content: []byte("id_number,death_date\n" + number + ",1949-01-01\n"), line: 2, msg: "早于出生日期"},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				tab, err := tabular.Read(bytes.NewReader(c.content), "feed.csv", 0)
				if c.readErr != "" {
					if err == nil || !strings.Contains(err.Error(), c.readErr) {
						t.Fatalf("read error %v, want %q", err, c.readErr)
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				res, err := f.svc.Import(context.Background(), auth.System(), monitor.ImportRequest{Type: monitor.Death, Batch: c.name, Table: tab})
				if c.err != "" {
					if errs.Code(err) != errs.Invalid || !strings.Contains(err.Error(), c.err) {
						t.Fatalf("error %v, want invalid naming %q", err, c.err)
					}
				} else {
					if err != nil {
						t.Fatal(err)
					}
					if res.Written || res.Rejected == 0 || res.Accepted != 0 {
						t.Fatalf("result %+v", res)
					}
					found := false
					for _, pr := range res.Problems {
						if pr.Kind == "rejected" && pr.Line == c.line && strings.Contains(pr.Message, c.msg) {
							found = true
						}
					}
					if !found {
						t.Errorf("no rejected row %d with %q in %+v", c.line, c.msg, res.Problems)
					}
				}
				for _, table := range []string{"feed_batches", "feed_facts", "events", "warnings"} {
					if n := f.count(t, `SELECT COUNT(*) FROM `+table); n != 0 {
						t.Errorf("%s has %d rows", table, n)
					}
				}
				if n := f.count(t, `SELECT COUNT(*) FROM persons WHERE death_date IS NOT NULL`); n != 0 {
					t.Error("a death was recorded")
				}
			})
		}
		// With GoodOnly the good rows of a batch with bad ones are written.
		tab := csvTable(t, []byte("id_number,death_date\n"+good+"123,2025-07-01\n"), "feed.csv")
		res, err := f.svc.Import(context.Background(), auth.System(), monitor.ImportRequest{Type: monitor.Death, Batch: "good-only", Table: tab, GoodOnly: true})
		if err != nil || !res.Written || res.Accepted != 1 || res.Rejected != 1 {
			t.Errorf("good only: %+v %v", res, err)
		}
	})
}

func TestImportNeedsCityFeedPermission(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		tab := csvTable(t, []byte("id_number,death_date\n"), "feed.csv")
		for _, p := range []auth.Principal{
			{Name: "a", Role: auth.Adviser, Division: committee},
			{Name: "d", Role: auth.DistrictAdmin, Division: "310104"},
			{Name: "c", Role: auth.CityAdmin, Division: "310104"},
		} {
			if _, err := f.svc.Import(context.Background(), p, monitor.ImportRequest{Type: monitor.Death, Batch: "x", Table: tab}); errs.Code(err) != errs.Forbidden {
				t.Errorf("%s: %v, want forbidden", p.Role, err)
			}
		}
	})
}

func TestMedicalRuleAndSuppression(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		f.exec(t, `INSERT INTO users (name, display_name, role, division, password_hash, created_at) VALUES ('gu', '顾问', 'adviser', $1, 'x', '')`, committee)
		poor, poorID := f.person(t, "陈明", "1970-01-01", committee, 0, 1200)
		f.entitle(t, poor, "dibao")
		_, richID := f.person(t, "赵强", "1970-02-01", committee, 0, 1200) // not a recipient: not watched
		csv := "身份证号,结算日期,自付金额\n" + poorID + ",2025-07-10,1500\n" + poorID + ",2025-06-10,600\n" + richID + ",2025-07-10,9000\n"
		res := f.importCSV(t, monitor.Medical, "yb-1", csv)
		if res.Accepted != 3 || res.Warnings != 1 {
			t.Fatalf("result %+v", res)
		}
		tasks, err := f.svc.Tasks(context.Background(), auth.Principal{Name: "gu", Role: auth.Adviser, Division: committee}, monitor.TaskFilter{})
		if err != nil || len(tasks) != 1 {
			t.Fatalf("tasks %+v %v", tasks, err)
		}
		tk := tasks[0]
		if tk.Title != "刚性支出困难风险" || tk.Assignee != "gu" || tk.Severity != monitor.High || !tk.DueAt.Equal(today.Add(72*time.Hour)) ||
			!strings.Contains(tk.Reason, "2100") {
			t.Errorf("task %+v", tk)
		}
		var data, payload string
		if err := d.QueryRowContext(context.Background(), `SELECT w.data, e.payload FROM warnings w JOIN events e ON e.kind = 'warning.raised' AND e.subject_id = w.person_id`).Scan(&data, &payload); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(data, `"medical_3m":2100`) || !strings.Contains(data, `"dibao":true`) || strings.Contains(data, "silent_hours") ||
			!strings.Contains(payload, `"rule":"rigid_expense"`) {
			t.Errorf("warning data %s, event %s", data, payload)
		}
		// Within the suppression window the same rule does not warn again.
		res = f.importCSV(t, monitor.Medical, "yb-2", "身份证号,结算日期,自付金额\n"+poorID+",2025-07-20,3000\n")
		if res.Accepted != 1 || res.Warnings != 0 {
			t.Errorf("suppressed: %+v", res)
		}
		// After it, it does.
		f.now = today.AddDate(0, 0, 91)
		res = f.importCSV(t, monitor.Medical, "yb-3", "身份证号,结算日期,自付金额\n"+poorID+",2025-10-20,3000\n")
		if res.Warnings != 1 {
			t.Errorf("after the window: %+v", res)
		}
	})
}

// Two members of one household in one batch make one warning, also when
// the rules load them in different groups (the warnings of a batch are
// written at its end).
func TestOneWarningPerHouseholdInABatch(t *testing.T) {
	defer monitor.SetSubjectsPerLoad(1)()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		head, headID := f.person(t, "陈明", "1970-01-01", committee, 0, 1200)
		_, spouseID := f.person(t, "李芳", "1971-01-01", committee, head.HouseholdID, 0)
		f.entitle(t, head, "dibao")
		res := f.importCSV(t, monitor.Medical, "yb-1", "身份证号,结算日期,自付金额\n"+headID+",2025-07-10,5000\n"+spouseID+",2025-07-11,4000\n")
		if res.Accepted != 2 || res.Warnings != 1 {
			t.Fatalf("result %+v", res)
		}
		if n := f.count(t, `SELECT COUNT(*) FROM monitor_tasks WHERE household_id = $1`, head.HouseholdID); n != 1 {
			t.Errorf("%d tasks", n)
		}
	})
}

func TestRules(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		ctx := context.Background()
		bad := monitor.Rule{Code: "big_bill", Name: "大额账单", Severity: monitor.High, Population: monitor.Everyone, Feed: monitor.Medical,
			Expression: "household.medical_3m > 'a'", SuppressDays: 30, Enabled: true}
		_, err := f.svc.SaveRule(ctx, auth.System(), bad)
		if e := errs.As(err); e == nil || len(e.Fields) != 1 || e.Fields[0].Field != "expression" || !strings.Contains(e.Fields[0].Message, "大额账单") {
			t.Fatalf("bad expression: %v", err)
		}
		bad.Expression = "household.medical_3m > 5000"
		bad.Severity = "huge"
		if _, err := f.svc.SaveRule(ctx, auth.System(), bad); errs.As(err) == nil || errs.As(err).Fields[0].Field != "severity" {
			t.Fatalf("bad severity: %v", err)
		}
		bad.Severity = monitor.Medium
		if _, err := f.svc.SaveRule(ctx, auth.Principal{Role: auth.DistrictAdmin, Division: "310104"}, bad); errs.Code(err) != errs.Forbidden {
			t.Fatalf("district: %v", err)
		}
		if _, err := f.svc.SaveRule(ctx, auth.System(), bad); err != nil {
			t.Fatal(err)
		}
		_, number := f.person(t, "周一", "1960-01-01", committee, 0, 3000)
		res := f.importCSV(t, monitor.Medical, "m", "id_number,bill_date,amount\n"+number+",2025-07-01,6000\n")
		if res.Warnings != 1 {
			t.Errorf("configured rule: %+v", res)
		}
		rules, _ := f.svc.Rules(ctx, auth.System())
		if len(rules) != len(monitor.DefaultRules)+1 {
			t.Errorf("%d rules", len(rules))
		}
	})
}

var cst = time.FixedZone("CST", 8*3600)

// TestOtherFeeds covers the unemployment, arrears and disability feeds:
// an unemployment registration in a household just above the 低保 line
// warns, one far above does not; three months of arrears in a 低保 household
// warn; a disability certificate updates the register with an event.
func TestOtherFeeds(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		ctx := context.Background()
		near, nearID := f.person(t, "近线", "1980-01-01", committee, 0, 2000) // 2000 < 1.5 × 1595
		_, farID := f.person(t, "远线", "1980-01-02", committee, 0, 9000)
		res := f.importCSV(t, monitor.Unemployment, "rs-1", "身份证号,登记日期\n"+nearID+",2025-07-15\n"+farID+",2025-07-15\n")
		if res.Accepted != 2 || res.Warnings != 1 {
			t.Fatalf("unemployment: %+v", res)
		}
		ts, _ := f.svc.Tasks(ctx, auth.System(), monitor.TaskFilter{Rule: "unemployed_near_line"})
		if len(ts) != 1 || ts[0].PersonID != near.ID || ts[0].Severity != monitor.Medium || !strings.Contains(ts[0].Reason, "1595") {
			t.Errorf("unemployment tasks %+v", ts)
		}

		poor, poorID := f.person(t, "欠费", "1950-01-01", committee, 0, 800)
		f.entitle(t, poor, "dibao")
		res = f.importCSV(t, monitor.Arrears, "sdr-1", "身份证号,欠费类别,欠费金额,欠费月数,统计日期\n"+poorID+",电,356.5,3,2025-07-31\n")
		if res.Accepted != 1 || res.Warnings != 1 {
			t.Errorf("arrears: %+v", res)
		}

		res = f.importCSV(t, monitor.Disability, "cl-1", "身份证号,残疾类别,残疾等级,发证日期,有效期至\n"+poorID+",肢体残疾,2,2025-07-01,2030-06-30\n")
		if res.Accepted != 1 {
			t.Fatalf("disability: %+v", res)
		}
		pr, _ := f.reg.Get(ctx, auth.System(), poor.ID)
		if pr.DisabilityCategory != "physical" || pr.DisabilityGrade != 2 {
			t.Errorf("register after the certificate: %s %d", pr.DisabilityCategory, pr.DisabilityGrade)
		}
		if n := f.count(t, `SELECT COUNT(*) FROM events WHERE kind = 'person.changed' AND subject_id = $1`, poor.ID); n != 1 {
			t.Errorf("%d person.changed events", n)
		}
		if n := f.count(t, `SELECT COUNT(*) FROM feed_facts WHERE feed_type = 'disability' AND source = '残联' AND valid_from = '2025-07-01' AND valid_to = '2030-06-30'`); n != 1 {
			t.Errorf("disability fact with validity: %d", n)
		}
	})
}

// TestSweep: a rule added after the facts arrived finds them in the full
// sweep; a second sweep finds nothing new (suppression); overdue tasks are
// escalated.
func TestSweep(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		ctx := context.Background()
		_, number := f.person(t, "全量", "1960-01-01", committee, 0, 1000)
		if res := f.importCSV(t, monitor.Medical, "m", "id_number,bill_date,amount\n"+number+",2025-07-20,4000\n"); res.Warnings != 0 {
			t.Fatalf("%+v", res)
		}
		if _, err := f.svc.SaveRule(ctx, auth.System(), monitor.Rule{Code: "bills_over_income", Name: "医疗费用超过月收入", Severity: monitor.Low,
			Population: monitor.Everyone, Feed: monitor.Medical, Expression: "household.medical_3m > household.monthly_income", SuppressDays: 30, Enabled: true}); err != nil {
			t.Fatal(err)
		}
		st, err := f.svc.Sweep(ctx, auth.System())
		if err != nil || st.Warnings != 1 {
			t.Fatalf("sweep %+v %v", st, err)
		}
		if st, _ := f.svc.Sweep(ctx, auth.System()); st.Warnings != 0 {
			t.Errorf("second sweep %+v", st)
		}
		f.now = today.AddDate(0, 0, 16) // a low task has 15 days
		if st, _ := f.svc.Sweep(ctx, auth.System()); st.Escalated != 1 {
			t.Errorf("escalation in the sweep %+v", st)
		}
		if _, err := f.svc.Sweep(ctx, auth.Principal{Role: auth.DistrictAdmin, Division: "310104"}); errs.Code(err) != errs.Forbidden {
			t.Errorf("district sweep: %v", err)
		}
	})
}

// TestFeedFactsReachRegister: a disability certificate valid on the import
// date changes the register only when it differs from it, audited with the
// feed's source and followed by one person.changed event; one not yet or no
// longer valid is kept as a fact only. Medical bills refresh the persons'
// monthly medical expense: the self-paid amounts of the last three months,
// divided by three.
func TestFeedFactsReachRegister(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		ctx := context.Background()
		a, aID := f.person(t, "残疾甲", "1970-01-01", committee, 0, 500)
		b, bID := f.person(t, "残疾乙", "1971-01-01", committee, 0, 500)
		c, cID := f.person(t, "残疾丙", "1972-01-01", committee, 0, 500)
		header := "身份证号,残疾类别,残疾等级,发证日期,有效期至\n"
		res := f.importCSV(t, monitor.Disability, "cl-a", header+aID+",肢体残疾,1,2025-07-01,2030-06-30\n"+
			bID+",视力残疾,2,2020-01-01,2025-06-30\n"+ // expired
			cID+",听力残疾,3,2025-09-01,\n") // not yet valid
		if res.Accepted != 3 {
			t.Fatalf("disability: %+v", res)
		}
		grades := func(p registry.Person) string {
			var cat string
			var grade int
			d.QueryRow(`SELECT disability_category, disability_grade FROM persons WHERE id = $1`, p.ID).Scan(&cat, &grade)
			return fmt.Sprintf("%s/%d", cat, grade)
		}
		if g := grades(a); g != "physical/1" {
			t.Errorf("valid certificate: register has %s", g)
		}
		if g, h := grades(b), grades(c); g != "/0" || h != "/0" {
			t.Errorf("expired and future certificates changed the register: %s, %s", g, h)
		}
		events := func() int { return f.count(t, `SELECT COUNT(*) FROM events WHERE kind = 'person.changed'`) }
		if n := events(); n != 1 {
			t.Errorf("%d person.changed events, want 1", n)
		}
		entries, err := audit.New(d, nil, nil).List(ctx, audit.Filter{Action: "person.feed_update"})
		if err != nil || len(entries) != 1 || entries[0].EntityID != fmt.Sprint(a.ID) || !strings.Contains(entries[0].Detail, "残联") ||
			!strings.Contains(entries[0].Detail, "cl-a") || !strings.Contains(entries[0].Detail, "2030-06-30") {
			t.Errorf("audit %+v %v", entries, err)
		}
		// The same grade again under a new certificate number changes nothing.
		res = f.importCSV(t, monitor.Disability, "cl-b", header+aID+",肢体残疾,1,2025-07-15,2030-07-14\n")
		if res.Accepted != 1 || events() != 1 {
			t.Errorf("same facts again: %+v, %d events", res, events())
		}
		// A changed grade is applied.
		f.importCSV(t, monitor.Disability, "cl-c", header+aID+",肢体残疾,2,2025-07-20,2030-07-19\n")
		if g := grades(a); g != "physical/2" || events() != 2 {
			t.Errorf("changed grade: %s, %d events", g, events())
		}

		// Medical bills: 2025-05-01 … 2025-08-01 count; 2025-04-30 does not.
		m, mID := f.person(t, "医疗甲", "1960-01-01", committee, 0, 1000)
		other, otherID := f.person(t, "医疗乙", "1961-01-01", committee, m.HouseholdID, 0)
		expense := func(p registry.Person) float64 {
			pr, err := f.reg.Get(ctx, auth.System(), p.ID)
			if err != nil {
				t.Fatal(err)
			}
			return pr.MonthlyMedicalExpense
		}
		res = f.importCSV(t, monitor.Medical, "yb-a", "身份证号,结算日期,自付金额,结算单号\n"+mID+",2025-04-30,9000,A1\n"+mID+",2025-05-01,1000,A2\n"+
			mID+",2025-07-20,2000,A3\n"+otherID+",2025-07-31,100,B1\n")
		if res.Accepted != 4 {
			t.Fatalf("medical: %+v", res)
		}
		if got := expense(m); got != 1000 {
			t.Errorf("monthly medical expense %v, want (1000 + 2000) / 3 = 1000", got)
		}
		if got := expense(other); got != 33.33 {
			t.Errorf("monthly medical expense %v, want 100 / 3 = 33.33", got)
		}
		// A later batch adds to the window; a batch of old bills only leaves
		// the figure as the window now has it.
		f.importCSV(t, monitor.Medical, "yb-b", "身份证号,结算日期,自付金额,结算单号\n"+mID+",2025-08-01,500,A4\n")
		if got := expense(m); got != 1166.67 {
			t.Errorf("after another bill: %v, want 3500 / 3 = 1166.67", got)
		}
		f.now = today.AddDate(0, 1, 0) // 2025-09-01: the May bill leaves the window
		f.importCSV(t, monitor.Medical, "yb-c", "身份证号,结算日期,自付金额,结算单号\n"+mID+",2025-01-01,10,A5\n")
		if got := expense(m); got != 833.33 {
			t.Errorf("a month later: %v, want (2000 + 500) / 3 = 833.33", got)
		}
		if n := f.count(t, `SELECT COUNT(*) FROM audit_log WHERE action = 'feed.import' AND entity_id = 'yb-a' AND detail LIKE '%月均医疗自付 2 人%'`); n != 1 {
			t.Errorf("feed.import audit does not count the persons updated")
		}
	})
}
