package assistance_test

import (
	"bytes"
	"context"
	"database/sql"
	"strings"
	"testing"
	"time"

	"minzheng/internal/assistance"
	"minzheng/internal/audit"
	"minzheng/internal/auth"
	"minzheng/internal/db"
	"minzheng/internal/db/dbtest"
	"minzheng/internal/division"
	"minzheng/internal/errs"
	"minzheng/internal/idcard"
	"minzheng/internal/policy"
	"minzheng/internal/registry"
	"minzheng/internal/secret"
	"minzheng/internal/tabular"
)

// fixture is a 徐汇 household and staff of every chain role.
type fixture struct {
	svc                 *assistance.Service
	d                   *db.DB
	log                 *audit.Log
	clock               *time.Time
	headID              int64
	headNo, spouseNo    string
	clerk, adviser      auth.Principal
	reviewer, approver  auth.Principal
	approver2, outsider auth.Principal
}

func newFixture(t testing.TB, d *db.DB) *fixture {
	t.Helper()
	ctx := context.Background()
	clock := time.Date(2025, 8, 1, 2, 0, 0, 0, time.UTC)
	now := func() time.Time { return clock }
	suite, _ := secret.NewStandard(bytes.Repeat([]byte{7}, secret.KeySize))
	tree, _ := division.Shanghai()
	if err := division.NewService(d, tree).Seed(ctx); err != nil {
		t.Fatal(err)
	}
	log := audit.New(d, suite, now)
	reg := registry.NewService(d, suite, log, tree, now)
	set, err := policy.Embedded()
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{d: d, log: log, clock: &clock}
	f.svc = &assistance.Service{DB: d, Registry: reg, Policies: set, Audit: log, Suite: suite, Tree: tree, DataDir: t.TempDir(), Now: now}
	birth := func(s string) time.Time { b, _ := time.Parse(time.DateOnly, s); return b }
	f.headNo = idcard.Build("310104", birth("1960-03-01"), 11)
	f.spouseNo = idcard.Build("340104", birth("1962-01-01"), 22)
	head, err := reg.Create(ctx, auth.System(), registry.NewPerson{Name: "王大明", IDNumber: f.headNo, HukouDivision: "310104003001", ResidenceDivision: "310104003001", MonthlyIncome: 900})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := reg.Create(ctx, auth.System(), registry.NewPerson{Name: "李秀英", IDNumber: f.spouseNo, ResidenceDivision: "310104003001", HouseholdID: head.HouseholdID, Relation: "配偶"}); err != nil {
		t.Fatal(err)
	}
	f.headID = head.ID
	f.clerk = auth.Principal{UserID: 1, Name: "clerk1", Role: auth.Clerk, Division: "310104003"}
	f.adviser = auth.Principal{UserID: 2, Name: "adviser1", Role: auth.Adviser, Division: "310104003"}
	f.reviewer = auth.Principal{UserID: 3, Name: "reviewer1", Role: auth.Reviewer, Division: "310104"}
	f.approver = auth.Principal{UserID: 4, Name: "approver1", Role: auth.Approver, Division: "310104"}
	f.approver2 = auth.Principal{UserID: 5, Name: "approver2", Role: auth.Approver, Division: "310104"}
	f.outsider = auth.Principal{UserID: 6, Name: "clerk_pd", Role: auth.Clerk, Division: "310115"}
	return f
}

func wantCode(t *testing.T, what string, err error, code string) *errs.Error {
	t.Helper()
	if errs.Code(err) != code {
		t.Fatalf("%s: %v (code %q), want %s", what, err, errs.Code(err), code)
	}
	return errs.As(err)
}

func hasField(e *errs.Error, field string) bool {
	for _, f := range e.Fields {
		if f.Field == field {
			return true
		}
	}
	return false
}

func count(t *testing.T, d *db.DB, q string, args ...any) int {
	t.Helper()
	var n int
	if err := d.QueryRowContext(context.Background(), q, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

func TestChain(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d)
		s := f.svc
		// The approver has the spouse on file as a relative.
		if _, err := s.RegisterRelative(ctx, f.approver, assistance.NewRelative{Name: "李秀英", IDNumber: f.spouseNo, Relation: "表姐"}); err != nil {
			t.Fatal(err)
		}
		_, err := s.RegisterRelative(ctx, f.approver, assistance.NewRelative{Name: "李秀英", IDNumber: f.spouseNo, Relation: "表姐"})
		wantCode(t, "relative twice", err, errs.Invalid)

		_, err = s.Create(ctx, f.outsider, assistance.NewApplication{PersonID: f.headID, Programs: []string{"dibao"}})
		wantCode(t, "create outside the jurisdiction", err, errs.NotFound)
		_, err = s.Create(ctx, f.adviser, assistance.NewApplication{PersonID: f.headID, Programs: []string{"dibao"}})
		wantCode(t, "create by an adviser", err, errs.Forbidden)
		_, err = s.Create(ctx, f.clerk, assistance.NewApplication{PersonID: f.headID, Programs: []string{"dibao", "nope"}})
		if e := wantCode(t, "unknown programme", err, errs.Invalid); !hasField(e, "programs[1]") {
			t.Errorf("unknown programme: fields %+v", e.Fields)
		}
		a, err := s.Create(ctx, f.clerk, assistance.NewApplication{PersonID: f.headID, Programs: []string{"dibao", "temporary"}})
		if err != nil {
			t.Fatal(err)
		}
		if a.State != assistance.Submitted || a.Division != "310104003001" || a.Conflict || a.DueOn != "2025-08-06" {
			t.Fatalf("created %+v", a)
		}
		_, err = s.Create(ctx, f.clerk, assistance.NewApplication{PersonID: f.headID, Programs: []string{"dibao"}})
		wantCode(t, "a second open application", err, errs.Conflict)

		c, err := s.Get(ctx, f.reviewer, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(c.Members) != 2 || c.Members[0].DeclaredIncomeFen != 90000 || len(c.Precheck) != 2 {
			t.Fatalf("case %+v", c)
		}
		for _, cond := range c.Precheck[0].Conditions {
			if cond.ID == "income" && cond.Evidenced {
				t.Errorf("income condition evidenced before any verification")
			}
		}

		move := func(p auth.Principal, to assistance.State, m assistance.Move) (assistance.Application, error) {
			m.To = to
			return s.Move(ctx, p, a.ID, m)
		}
		_, err = move(f.adviser, assistance.Verifying, assistance.Move{})
		wantCode(t, "verifying by an adviser", err, errs.Forbidden)
		_, err = move(f.outsider, assistance.Verifying, assistance.Move{})
		wantCode(t, "verifying from another district", err, errs.NotFound)
		_, err = move(f.clerk, assistance.Approval, assistance.Move{})
		wantCode(t, "skip to approval", err, errs.Conflict)
		if _, err := move(f.clerk, assistance.Verifying, assistance.Move{}); err != nil {
			t.Fatal(err)
		}
		_, err = move(f.clerk, assistance.Visiting, assistance.Move{})
		if e := wantCode(t, "visit before verification", err, errs.Invalid); !hasField(e, "verification") {
			t.Errorf("fields %+v", e.Fields)
		}

		// A bad batch writes nothing.
		_, err = s.Verify(ctx, f.clerk, a.ID, assistance.VerificationBatch{Records: []assistance.VerificationRecord{
			{IDNumber: f.headNo, Source: "工资收入", Amount: 900},
			{IDNumber: idcard.Build("310104", time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC), 5), Source: "存款", Amount: 5},
			{IDNumber: f.spouseNo, Source: "彩票", Amount: -1},
		}})
		e := wantCode(t, "bad batch", err, errs.Invalid)
		for _, fld := range []string{"records[1].id_number", "records[2].source", "records[2].amount"} {
			if !hasField(e, fld) {
				t.Errorf("bad batch: no %s in %+v", fld, e.Fields)
			}
		}
		if n := count(t, d, `SELECT COUNT(*) FROM verification_records`); n != 0 {
			t.Fatalf("bad batch wrote %d records", n)
		}
		// A file with a bad row is refused row by row.
		csv := "身份证号,数据来源,金额,说明\n" + f.headNo + ",工资收入,900,单位甲\n" + f.spouseNo + ",银行存款,abc,\n"
		tab, err := tabular.Read(strings.NewReader(csv), "核对.csv", 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		_, err = s.VerifyTable(ctx, f.clerk, a.ID, tab, "核对.csv")
		if e := wantCode(t, "bad file", err, errs.Invalid); !hasField(e, "rows[3].amount") || !strings.Contains(e.Fields[0].Message, "第 3 行") {
			t.Errorf("bad file: %+v", e.Fields)
		}
		csv = "身份证号,数据来源,金额,说明\n" + f.headNo + ",工资收入,900,单位甲\n" + f.spouseNo + ",银行存款,\"1,000\",工商银行\n"
		tab, _ = tabular.Read(strings.NewReader(csv), "核对.csv", 1<<20)
		rep, err := s.VerifyTable(ctx, f.clerk, a.ID, tab, "核对.csv")
		if err != nil {
			t.Fatal(err)
		}
		if !rep.Valid || rep.ValidUntil != "2025-10-30" || rep.Rows != 2 || !rep.Differs {
			t.Errorf("report %+v", rep)
		}
		for _, fd := range rep.Findings {
			switch fd.Source {
			case "wage":
				if fd.Differs || fd.FoundFen != 90000 {
					t.Errorf("wage finding %+v", fd)
				}
			case "deposit":
				if !fd.Differs || fd.FoundFen != 100000 || fd.DeclaredFen != 0 {
					t.Errorf("deposit finding %+v", fd)
				}
			}
		}
		if _, err := move(f.clerk, assistance.Visiting, assistance.Move{}); err != nil {
			t.Fatal(err)
		}
		_, err = move(f.adviser, assistance.Notice, assistance.Move{Note: "家中陈设简陋"})
		if e := wantCode(t, "notice without photos", err, errs.Invalid); !hasField(e, "materials") {
			t.Errorf("fields %+v", e.Fields)
		}
		m, err := s.AddMaterial(ctx, f.adviser, a.ID, "visit_photo", "客厅.jpg", strings.NewReader("\xff\xd8\xff photo"))
		if err != nil {
			t.Fatal(err)
		}
		if m.Size != 9 || len(m.SHA256) != 64 || m.ContentType != "image/jpeg" {
			t.Errorf("material %+v", m)
		}
		_, err = s.AddMaterial(ctx, f.adviser, a.ID, "visit_photo", "x.exe", strings.NewReader("MZ"))
		wantCode(t, "an executable", err, errs.Invalid)
		if _, err := move(f.adviser, assistance.Notice, assistance.Move{Note: "家中陈设简陋"}); err != nil {
			t.Fatal(err)
		}
		ns, err := s.Notices(ctx)
		if err != nil || len(ns) != 1 || ns[0].Names != "王**" || ns[0].NoticeUntil != "2025-08-08" {
			t.Fatalf("notices %+v, %v", ns, err)
		}
		if err := s.Object(ctx, a.ID, "该户有一辆轿车未申报", "", "10.0.0.9"); err != nil {
			t.Fatal(err)
		}
		_, err = move(f.clerk, assistance.Review, assistance.Move{})
		if e := wantCode(t, "review during the notice", err, errs.Invalid); !hasField(e, "notice_until") {
			t.Errorf("fields %+v", e.Fields)
		}
		*f.clock = f.clock.AddDate(0, 0, 8)
		_, err = move(f.clerk, assistance.Review, assistance.Move{})
		if e := wantCode(t, "objection unanswered", err, errs.Invalid); !hasField(e, "note") {
			t.Errorf("fields %+v", e.Fields)
		}
		if _, err := move(f.clerk, assistance.Review, assistance.Move{Note: "经核实车辆已于 2023 年转让"}); err != nil {
			t.Fatal(err)
		}
		if _, err := move(f.reviewer, assistance.Approval, assistance.Move{Note: "同意"}); err != nil {
			t.Fatal(err)
		}
		// The approver with a relative in the household must stay out;
		// trying flags the case.
		_, err = move(f.approver, assistance.Granted, assistance.Move{})
		wantCode(t, "approval by a relative", err, errs.Forbidden)
		c, _ = s.Get(ctx, f.approver2, a.ID)
		if !c.Conflict || len(c.RelatedStaff) != 1 || c.RelatedStaff[0] != "approver1" {
			t.Errorf("after the refusal: conflict %v, related %v", c.Conflict, c.RelatedStaff)
		}
		_, err = move(f.approver2, assistance.Granted, assistance.Move{})
		if e := wantCode(t, "temporary without an amount", err, errs.Invalid); !hasField(e, "amounts_fen.temporary") {
			t.Errorf("fields %+v", e.Fields)
		}
		got, err := move(f.approver2, assistance.Granted, assistance.Move{Amounts: map[string]int64{"temporary": 50000}})
		if err != nil {
			t.Fatal(err)
		}
		if got.State != assistance.Granted || got.DecidedOn != "2025-08-09" || got.DueOn != "" {
			t.Errorf("granted %+v", got)
		}
		// 低保 from the verified figures: (1650 − 900/2) × 2 = 2400 yuan.
		var fen, decision int64
		var since, status string
		var proactive int
		if err := d.QueryRowContext(ctx, `SELECT monthly_fen, since, status, proactive, decision_id FROM entitlements WHERE program = 'dibao' AND person_id = $1`, f.headID).
			Scan(&fen, &since, &status, &proactive, &decision); err != nil {
			t.Fatal(err)
		}
		if fen != 240000 || since != "2025-09-01" || status != "active" || proactive != 0 {
			t.Errorf("entitlement: %d fen since %s, %s, proactive %d", fen, since, status, proactive)
		}
		if n := count(t, d, `SELECT COUNT(*) FROM decisions WHERE id = $1 AND kind = 'grant' AND fen_after = 240000 AND run_id IS NULL`, decision); n != 1 {
			t.Errorf("decision %d not written", decision)
		}
		if n := count(t, d, `SELECT COUNT(*) FROM application_programs WHERE application_id = $1 AND program = 'temporary' AND status = 'granted' AND one_off_fen = 50000`, a.ID); n != 1 {
			t.Errorf("temporary aid not recorded")
		}
		if n := count(t, d, `SELECT COUNT(*) FROM events WHERE kind = 'application.moved' AND subject_id = $1`, a.ID); n != 7 {
			t.Errorf("%d application.moved events, want 7 (受理 and six moves)", n)
		}
		if n := count(t, d, `SELECT COUNT(*) FROM events WHERE kind = 'application.decided' AND subject_id = $1`, a.ID); n != 1 {
			t.Errorf("%d application.decided events, want 1", n)
		}
		entries, _ := f.log.List(ctx, audit.Filter{Action: "application.conflict_refused"})
		if len(entries) != 1 {
			t.Errorf("%d conflict refusals audited", len(entries))
		}
		entries, _ = f.log.List(ctx, audit.Filter{Action: "application.move", EntityID: "1"})
		if len(entries) == 0 || !strings.Contains(entries[0].Detail, "利益冲突") {
			t.Errorf("approval audit entry does not mention the conflict: %+v", entries)
		}
		_, err = move(f.approver2, assistance.Refused, assistance.Move{Reasons: []string{"x"}})
		wantCode(t, "move a decided case", err, errs.Conflict)

		// A year on, the re-check opens once and reuses the chain.
		*f.clock = f.clock.AddDate(1, 0, 1)
		st, err := s.OpenRechecks(ctx, auth.System(), f.clock.Truncate(24*time.Hour))
		if err != nil || st.Opened != 1 {
			t.Fatalf("rechecks: %+v, %v", st, err)
		}
		st, err = s.OpenRechecks(ctx, auth.System(), f.clock.Truncate(24*time.Hour))
		if err != nil || st.Opened != 0 {
			t.Fatalf("rechecks again: %+v, %v", st, err)
		}
		list, err := s.List(ctx, f.clerk, assistance.ListQuery{State: assistance.Submitted})
		if err != nil || list.Total != 1 || list.Items[0].Kind != "recheck" || len(list.Items[0].Programs) != 1 || list.Items[0].Programs[0].Program != "dibao" {
			t.Fatalf("recheck list %+v, %v", list, err)
		}
		re := list.Items[0].ID
		if other, _ := s.List(ctx, f.outsider, assistance.ListQuery{}); other.Total != 0 {
			t.Errorf("浦东 clerk sees %d 徐汇 applications", other.Total)
		}
		// A refused re-check stops the entitlement at the end of the month.
		for _, step := range []struct {
			p  auth.Principal
			to assistance.State
			m  assistance.Move
		}{
			{f.clerk, assistance.Verifying, assistance.Move{}},
		} {
			if _, err := s.Move(ctx, step.p, re, assistance.Move{To: step.to, Note: step.m.Note}); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := s.Verify(ctx, f.clerk, re, assistance.VerificationBatch{Records: []assistance.VerificationRecord{{IDNumber: f.headNo, Source: "wage", Amount: 6000}}}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Move(ctx, f.clerk, re, assistance.Move{To: assistance.Visiting}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.AddMaterial(ctx, f.adviser, re, "visit_photo", "a.png", strings.NewReader("png")); err != nil {
			t.Fatal(err)
		}
		for _, step := range []struct {
			p auth.Principal
			m assistance.Move
		}{
			{f.adviser, assistance.Move{To: assistance.Notice, Note: "已就业"}},
		} {
			if _, err := s.Move(ctx, step.p, re, step.m); err != nil {
				t.Fatal(err)
			}
		}
		*f.clock = f.clock.AddDate(0, 0, 7)
		for _, step := range []struct {
			p auth.Principal
			m assistance.Move
		}{
			{f.clerk, assistance.Move{To: assistance.Review}},
			{f.reviewer, assistance.Move{To: assistance.Refused, Reasons: []string{"家庭月人均收入高于低保标准"}}},
		} {
			if _, err := s.Move(ctx, step.p, re, step.m); err != nil {
				t.Fatal(err)
			}
		}
		var until sql.NullString
		if err := d.QueryRowContext(ctx, `SELECT status, until FROM entitlements WHERE program = 'dibao' AND person_id = $1`, f.headID).Scan(&status, &until); err != nil {
			t.Fatal(err)
		}
		if status != "stopped" || until.String != "2026-08-31" {
			t.Errorf("after the refused re-check: %s until %v", status, until)
		}
		if res, err := f.log.Verify(ctx); err != nil || !res.OK {
			t.Errorf("audit chain: %+v, %v", res, err)
		}
	})
}

// toApproval takes a new application of the fixture's household up to 审批.
func toApproval(t *testing.T, f *fixture) int64 {
	t.Helper()
	ctx := context.Background()
	s := f.svc
	a, err := s.Create(ctx, f.clerk, assistance.NewApplication{PersonID: f.headID, Programs: []string{"dibao"}})
	if err != nil {
		t.Fatal(err)
	}
	step := func(p auth.Principal, m assistance.Move) {
		t.Helper()
		if _, err := s.Move(ctx, p, a.ID, m); err != nil {
			t.Fatalf("%s to %s: %v", p.Name, m.To, err)
		}
	}
	step(f.clerk, assistance.Move{To: assistance.Verifying})
	if _, err := s.Verify(ctx, f.clerk, a.ID, assistance.VerificationBatch{Records: []assistance.VerificationRecord{{IDNumber: f.headNo, Source: "wage", Amount: 900}}}); err != nil {
		t.Fatal(err)
	}
	step(f.clerk, assistance.Move{To: assistance.Visiting})
	if _, err := s.AddMaterial(ctx, f.adviser, a.ID, "visit_photo", "p.jpg", strings.NewReader("jpg")); err != nil {
		t.Fatal(err)
	}
	step(f.adviser, assistance.Move{To: assistance.Notice, Note: "属实"})
	*f.clock = f.clock.AddDate(0, 0, assistance.NoticeDays)
	step(f.clerk, assistance.Move{To: assistance.Review})
	step(f.reviewer, assistance.Move{To: assistance.Approval, Note: "同意"})
	return a.ID
}

// TestConcurrentApproval has two approvers approve the same case at once:
// one succeeds, the other is told it has moved on, and one decision is
// written.
func TestConcurrentApproval(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		id := toApproval(t, f)
		errc := make(chan error, 2)
		for _, p := range []auth.Principal{f.approver, f.approver2} {
			go func() {
				_, err := f.svc.Move(context.Background(), p, id, assistance.Move{To: assistance.Granted, Amounts: map[string]int64{"dibao": 100000}})
				errc <- err
			}()
		}
		var ok, conflict int
		for range 2 {
			switch err := <-errc; errs.Code(err) {
			case "":
				ok++
			case errs.Conflict:
				conflict++
			default:
				t.Errorf("unexpected: %v", err)
			}
		}
		if ok != 1 || conflict != 1 {
			t.Errorf("%d approvals, %d conflicts; want 1 and 1", ok, conflict)
		}
		if n := count(t, d, `SELECT COUNT(*) FROM decisions WHERE program = 'dibao'`); n != 1 {
			t.Errorf("%d decisions, want 1", n)
		}
	})
}

// TestRecheckSkipsOneOff: a household granted only temporary aid (临时救助)
// has nothing to re-check.
func TestRecheckSkipsOneOff(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d)
		id := toApproval(t, f)
		if _, err := d.ExecContext(ctx, `UPDATE application_programs SET program = 'temporary' WHERE application_id = $1`, id); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Move(ctx, f.approver2, id, assistance.Move{To: assistance.Granted, Amounts: map[string]int64{"temporary": 80000}}); err != nil {
			t.Fatal(err)
		}
		st, err := f.svc.OpenRechecks(ctx, auth.System(), f.clock.AddDate(2, 0, 0))
		if err != nil || st.Opened != 0 {
			t.Fatalf("rechecks after one-off aid: %+v, %v", st, err)
		}
		if _, err := f.svc.OpenRechecks(ctx, f.clerk, f.clock.AddDate(2, 0, 0)); errs.Code(err) != errs.Forbidden {
			t.Errorf("a clerk opening rechecks: %v", err)
		}
	})
}

// TestDeclare corrects the declaration while the case is in 受理 or 核对,
// and no later.
func TestDeclare(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d)
		a, err := f.svc.Create(ctx, f.clerk, assistance.NewApplication{PersonID: f.headID, Programs: []string{"dibao"}})
		if err != nil {
			t.Fatal(err)
		}
		err = f.svc.Declare(ctx, f.clerk, a.ID, assistance.Declaration{IncomeFen: map[int64]int64{999999: 1}})
		if e := wantCode(t, "a stranger's income", err, errs.Invalid); !hasField(e, "income_999999") {
			t.Errorf("fields %+v", e.Fields)
		}
		wantCode(t, "an adviser declares", f.svc.Declare(ctx, f.adviser, a.ID, assistance.Declaration{}), errs.Forbidden)
		wantCode(t, "another district", f.svc.Declare(ctx, f.outsider, a.ID, assistance.Declaration{}), errs.NotFound)
		if err := f.svc.Declare(ctx, f.clerk, a.ID, assistance.Declaration{IncomeFen: map[int64]int64{f.headID: 50000}, DepositsFen: 700000, Vehicles: 1}); err != nil {
			t.Fatal(err)
		}
		c, err := f.svc.Get(ctx, f.clerk, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		if c.Members[0].DeclaredIncomeFen != 50000 || c.DeclaredDepositsFen != 700000 || c.DeclaredVehicles != 1 {
			t.Errorf("after the correction: %+v, %+v", c.Members[0], c.Application)
		}
		// 低保 on the declaration: (1650 − 500/2) × 2 = 2800 yuan.
		if c.Precheck[0].MonthlyFen != 280000 {
			t.Errorf("pre-check after the correction: %+v", c.Precheck[0])
		}
		toVisit := func() {
			if _, err := f.svc.Move(ctx, f.clerk, a.ID, assistance.Move{To: assistance.Verifying}); err != nil {
				t.Fatal(err)
			}
			if _, err := f.svc.Verify(ctx, f.clerk, a.ID, assistance.VerificationBatch{Records: []assistance.VerificationRecord{{IDNumber: f.headNo, Source: "wage", Amount: 500}}}); err != nil {
				t.Fatal(err)
			}
			if _, err := f.svc.Move(ctx, f.clerk, a.ID, assistance.Move{To: assistance.Visiting}); err != nil {
				t.Fatal(err)
			}
		}
		toVisit()
		wantCode(t, "declare after 核对", f.svc.Declare(ctx, f.clerk, a.ID, assistance.Declaration{}), errs.Conflict)
	})
}

// TestHukouDecides: a household registered in 徐汇 and living in 浦东
// applies in 徐汇 (户籍地), not where it lives.
func TestHukouDecides(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d)
		x, err := f.svc.Registry.Create(ctx, auth.System(), registry.NewPerson{Name: "钱人户分离", IDNumber: idcard.Build("310104", time.Date(1970, 5, 5, 0, 0, 0, 0, time.UTC), 33),
			HukouDivision: "310104003001", ResidenceDivision: "310115004001"})
		if err != nil {
			t.Fatal(err)
		}
		_, err = f.svc.Create(ctx, f.outsider, assistance.NewApplication{PersonID: x.ID, Programs: []string{"temporary"}})
		if e := wantCode(t, "浦东 clerk for a 徐汇 hukou", err, errs.Invalid); !hasField(e, "person_id") {
			t.Errorf("fields %+v", e.Fields)
		}
		a, err := f.svc.Create(ctx, f.clerk, assistance.NewApplication{PersonID: x.ID, Programs: []string{"temporary"}})
		if err != nil || a.Division != "310104003001" {
			t.Fatalf("徐汇 clerk: %+v, %v", a, err)
		}
		if _, err := f.svc.Get(ctx, f.outsider, a.ID); !errs.IsNotFound(err) {
			t.Errorf("浦东 clerk reads the case: %v", err)
		}
	})
}

// TestVerifyExcel files department data from an .xlsx file whose header
// sits below a title row, as hand-made sheets have it.
func TestVerifyExcel(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d)
		a, err := f.svc.Create(ctx, f.clerk, assistance.NewApplication{PersonID: f.headID, Programs: []string{"dibao"}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Move(ctx, f.clerk, a.ID, assistance.Move{To: assistance.Verifying}); err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		if err := tabular.WriteXLSX(&buf, "核对结果", []string{"2025年7月经济状况核对结果"}, [][]string{
			{"身份证号", "数据来源", "金额", "说明", "核对日期"},
			{f.headNo, "不动产", "0", "浦东新区某路 1 号", "2025-07-20"},
			{f.spouseNo, "机动车", "", "沪A12345", "2025-07-21"},
		}); err != nil {
			t.Fatal(err)
		}
		tab, err := tabular.Read(&buf, "核对.xlsx", 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		rep, err := f.svc.VerifyTable(ctx, f.clerk, a.ID, tab, "核对.xlsx")
		if err != nil {
			t.Fatal(err)
		}
		if rep.CheckedOn != "2025-07-20" || rep.ValidUntil != "2025-10-18" || rep.Rows != 2 || !rep.Differs {
			t.Errorf("report %+v", rep)
		}
		for _, fd := range rep.Findings {
			if (fd.Source == "real_estate" || fd.Source == "vehicle") && (!fd.Differs || fd.Count != 1 || fd.DeclaredCount != 0) {
				t.Errorf("finding %+v: one undeclared item should differ", fd)
			}
		}
	})
}

// TestAddMember: a child born since the register was last updated is added
// to the application (and registered in the household); the pre-check
// counts them; bad input names the field; a retry joins the registered
// child without registering twice; after 核对 nobody can be added.
func TestAddMember(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d)
		a, err := f.svc.Create(ctx, f.clerk, assistance.NewApplication{PersonID: f.headID, Programs: []string{"dibao"}})
		if err != nil {
			t.Fatal(err)
		}
		childNo := idcard.Build("310104", time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC), 33)
		child := registry.NewPerson{Name: "王小宝", IDNumber: childNo, Relation: "子女", HukouDivision: "310104003001", ResidenceDivision: "310104003001"}
		wantCode(t, "an adviser adds", func() error { _, err := f.svc.AddMember(ctx, f.adviser, a.ID, child); return err }(), errs.Forbidden)
		wantCode(t, "another district", func() error { _, err := f.svc.AddMember(ctx, f.outsider, a.ID, child); return err }(), errs.NotFound)
		bad := child
		bad.IDNumber = childNo[:17] + "0"
		if childNo[17] == '0' {
			bad.IDNumber = childNo[:17] + "1"
		}
		if e := wantCode(t, "a bad ID number", func() error { _, err := f.svc.AddMember(ctx, f.clerk, a.ID, bad); return err }(), errs.Invalid); !hasField(e, "id_number") {
			t.Errorf("fields %+v", e.Fields)
		}
		m, err := f.svc.AddMember(ctx, f.clerk, a.ID, child)
		if err != nil || m.Name != "王小宝" || m.RelationLabel != "子女" {
			t.Fatalf("add the child: %+v %v", m, err)
		}
		c, err := f.svc.Get(ctx, f.clerk, a.ID)
		if err != nil || len(c.Members) != 3 {
			t.Fatalf("members after adding: %d %v", len(c.Members), err)
		}
		// 低保 for three: (1650 − 900/3) × 3 = 4050 yuan.
		if c.Precheck[0].MonthlyFen != 405000 {
			t.Errorf("pre-check with the child: %+v", c.Precheck[0])
		}
		// The child is registered once; adding again is refused by name of field.
		var n int
		d.QueryRow(`SELECT COUNT(*) FROM persons WHERE name = '王小宝'`).Scan(&n)
		if n != 1 {
			t.Errorf("%d registrations of the child", n)
		}
		if e := wantCode(t, "the same child again", func() error { _, err := f.svc.AddMember(ctx, f.clerk, a.ID, child); return err }(), errs.Invalid); !hasField(e, "id_number") {
			t.Errorf("fields %+v", e.Fields)
		}
		if _, err := f.svc.Move(ctx, f.clerk, a.ID, assistance.Move{To: assistance.Verifying}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Verify(ctx, f.clerk, a.ID, assistance.VerificationBatch{Records: []assistance.VerificationRecord{{IDNumber: f.headNo, Source: "wage", Amount: 900}}}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Move(ctx, f.clerk, a.ID, assistance.Move{To: assistance.Visiting}); err != nil {
			t.Fatal(err)
		}
		other := registry.NewPerson{Name: "王二宝", IDNumber: idcard.Build("310104", time.Date(2025, 4, 1, 0, 0, 0, 0, time.UTC), 44), Relation: "子女", HukouDivision: "310104003001", ResidenceDivision: "310104003001"}
		wantCode(t, "add after 核对", func() error { _, err := f.svc.AddMember(ctx, f.clerk, a.ID, other); return err }(), errs.Conflict)
	})
}
