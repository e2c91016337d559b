package payroll_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"os"
	"path/filepath"
	"strconv"
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
	"minzheng/internal/jobs"
	"minzheng/internal/payroll"
	"minzheng/internal/registry"
	"minzheng/internal/secret"
	"minzheng/internal/tabular"
)

type fixture struct {
	d     *db.DB
	reg   *registry.Service
	pay   *payroll.Service
	clock *time.Time
}

func newFixture(t *testing.T, d *db.DB) *fixture {
	t.Helper()
	suite, _ := secret.NewStandard(bytes.Repeat([]byte{7}, secret.KeySize))
	clock := time.Date(2025, 8, 1, 9, 0, 0, 0, time.UTC)
	f := &fixture{d: d, clock: &clock}
	now := func() time.Time { return *f.clock }
	tree, _ := division.Shanghai()
	if err := division.NewService(d, tree).Seed(context.Background()); err != nil {
		t.Fatal(err)
	}
	log := audit.New(d, suite, now)
	f.reg = registry.NewService(d, suite, log, tree, now)
	f.pay = &payroll.Service{DB: d, Suite: suite, Audit: log, Leases: jobs.NewLeases(d, now), Dir: t.TempDir(), Now: now,
		HouseholdPrograms: map[string]bool{"dibao": true}}
	return f
}

func (f *fixture) person(t *testing.T, name, div, birth string, seq int, household int64) registry.Person {
	t.Helper()
	b, _ := time.Parse(time.DateOnly, birth)
	np := registry.NewPerson{Name: name, IDNumber: idcard.Build(div[:6], b, seq), HukouDivision: div, ResidenceDivision: div, HouseholdID: household}
	if household != 0 {
		np.Relation = "子女"
	}
	p, err := f.reg.Create(context.Background(), auth.System(), np)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func (f *fixture) entitle(t *testing.T, program string, p registry.Person, fen int64, since string) {
	t.Helper()
	if _, err := f.d.Exec(`INSERT INTO entitlements (program, person_id, household_id, status, monthly_fen, since, proactive, decision_id, updated_at) VALUES ($1, $2, $3, 'active', $4, $5, 1, 0, '')`,
		program, p.ID, p.HouseholdID, fen, since); err != nil {
		t.Fatal(err)
	}
}

// stop stops an entitlement as the proactive run does: the entitlement
// row and a stop decision with the stop date.
func (f *fixture) stop(t *testing.T, program string, p registry.Person, until string) {
	t.Helper()
	var fen int64
	f.d.QueryRow(`SELECT monthly_fen FROM entitlements WHERE program = $1 AND person_id = $2`, program, p.ID).Scan(&fen)
	now := db.Now(*f.clock)
	if _, err := f.d.Exec(`UPDATE entitlements SET status = 'stopped', until = $1, updated_at = $2 WHERE program = $3 AND person_id = $4`, until, now, program, p.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.d.Exec(`INSERT INTO decisions (program, person_id, household_id, kind, as_of, fen_before, fen_after, policy_version, inputs_hash, explanation, created_at, until)
		VALUES ($1, $2, $3, 'stop', $4, $5, 0, 'test', '', '{}', $6, $4)`, program, p.ID, p.HouseholdID, until, fen, now); err != nil {
		t.Fatal(err)
	}
}

// run runs the payroll and, as the CLI does, releases the bank files.
func (f *fixture) run(t *testing.T, period string) payroll.Result {
	t.Helper()
	return f.runFiles(t, period, true)
}

// compute runs the payroll without files: districts sign off.
func (f *fixture) compute(t *testing.T, period string) payroll.Result {
	t.Helper()
	return f.runFiles(t, period, false)
}

func (f *fixture) runFiles(t *testing.T, period string, files bool) payroll.Result {
	t.Helper()
	res, err := f.pay.Run(context.Background(), auth.System(), period, payroll.Options{Batch: 2, Files: files}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func (f *fixture) line(program string, person int64, period, kind string) int64 {
	var fen int64 = -1
	f.d.QueryRow(`SELECT fen FROM ledger WHERE program = $1 AND person_id = $2 AND period = $3 AND kind = $4`, program, person, period, kind).Scan(&fen)
	return fen
}

func readBank(t *testing.T, path string) [][]string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(b, []byte("\ufeff")))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

func TestMonthlyPayrollExactlyOnce(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d)
		elder := f.person(t, "张老", "310104003001", "1950-03-01", 11, 0)
		mum := f.person(t, "李母", "310115004001", "1980-01-01", 22, 0)
		f.person(t, "李子", "310115004001", "2012-01-01", 33, mum.HouseholdID)
		late := f.person(t, "王新", "310104003001", "1940-01-01", 44, 0)
		f.entitle(t, "elderly_allowance", elder, 15000, "2025-07-01")
		f.entitle(t, "dibao", mum, 210000, "2025-07-01")
		f.entitle(t, "elderly_allowance", late, 35000, "2025-09-01") // starts next month

		res := f.run(t, "2025-08")
		if res.Lines != 2 || res.NewLines != 2 || res.AmountTotal != 2250 {
			t.Fatalf("August: %+v, want 2 lines of 150 + 2100 yuan", res)
		}
		again := f.run(t, "2025-08")
		if again.NewLines != 0 || again.Lines != 2 || again.AmountTotal != 2250 {
			t.Fatalf("August again: %+v, want nothing new", again)
		}
		// Bank files: per district, 社保卡 by ID number for people without an account.
		rows := readBank(t, filepath.Join(f.pay.Dir, "2025-08", "310104", payroll.SocialSecurityCard+".csv"))
		if len(rows) != 2 || rows[1][0] != "2025-08/elderly_allowance/"+itoa(elder.ID) || rows[1][5] != "150.00" || !validID(rows[1][2]) {
			t.Fatalf("Xuhui bank file %v", rows)
		}

		// A custodial account: the custodian's account gets the money.
		if _, err := f.pay.SetAccount(ctx, auth.System(), payroll.Account{PersonID: mum.ID, Bank: "工商银行", Number: "6222 0210 0111 2222", Holder: "李母", Custodial: true}); errs.Code(err) != errs.Invalid {
			t.Fatalf("custodial account without a custodian: %v", err)
		}
		acc, err := f.pay.SetAccount(ctx, auth.System(), payroll.Account{PersonID: mum.ID, Bank: "工商银行", Number: "6222 0210 0111 2222", Holder: "浦东某街道代管专户", Custodial: true, Custodian: "某街道社区事务受理中心"})
		if err != nil || acc.Number != "6222********2222" {
			t.Fatalf("account %+v %v", acc, err)
		}

		// September: the elder died on 10 August (after August was paid);
		// a back payment of July for the household; the late grant starts.
		*f.clock = f.clock.Add(24 * time.Hour) // the death is recorded a day after August was paid
		f.stop(t, "elderly_allowance", elder, "2025-08-10")
		d.Exec(`INSERT INTO back_payments (decision_id, program, person_id, month, fen, created_at) VALUES (1, 'dibao', $1, '2025-07', 5500, '')`, mum.ID)
		res = f.run(t, "2025-09")
		if got := f.line("elderly_allowance", elder.ID, "2025-09", payroll.Regular); got != -1 {
			t.Errorf("paid a dead person in September: %d", got)
		}
		// August: 150 yuan paid, 10 of 31 days due = 48.39 → recover 101.61.
		if got := f.line("elderly_allowance", elder.ID, "2025-08", payroll.Recovery); got != -10161 {
			t.Errorf("recovery %d, want -10161", got)
		}
		if got := f.line("dibao", mum.ID, "2025-09", payroll.BackPay); got != 5500 {
			t.Errorf("back pay %d, want 5500", got)
		}
		if res.Lines != 3 || res.AmountTotal != 2100+55+350 {
			t.Errorf("September %+v", res)
		}
		custodial := readBank(t, filepath.Join(f.pay.Dir, "2025-09", "310115", "工商银行.csv"))
		if len(custodial) != 2 || custodial[1][5] != "2155.00" || custodial[1][1] != "浦东某街道代管专户" || custodial[1][8] != "是" || custodial[1][10] != "李母" {
			t.Errorf("custodial bank file %v", custodial)
		}
		// The back payment is paid once.
		res = f.run(t, "2025-09")
		if res.NewLines != 0 {
			t.Errorf("September again added %d lines", res.NewLines)
		}

		// The bank returns the household's September payment as failed: it
		// goes again in October's file, and then no more.
		tbl, err := tabular.Read(strings.NewReader("流水号,结果,原因\n2025-09/dibao/"+itoa(mum.ID)+",失败,账户冻结\n"), "return.csv", 0)
		if err != nil {
			t.Fatal(err)
		}
		if rep, err := f.pay.ImportReturns(ctx, auth.System(), tbl, "return.csv"); err != nil || rep.Failed != 1 {
			t.Fatalf("returns %+v %v", rep, err)
		}
		var held int64
		d.QueryRow(`SELECT subject_id FROM events WHERE kind = 'payment.held'`).Scan(&held)
		if held != mum.ID {
			t.Errorf("payment.held event for person %d, want %d", held, mum.ID)
		}
		bad, _ := tabular.Read(strings.NewReader("流水号,结果\n2025-09/dibao/999999,失败\nxx,成功\n"), "bad.csv", 0)
		if _, err := f.pay.ImportReturns(ctx, auth.System(), bad, "bad.csv"); errs.Code(err) != errs.Invalid || !strings.Contains(err.Error(), "第 2 行") || !strings.Contains(err.Error(), "第 3 行") {
			t.Errorf("bad return file: %v", err)
		}
		// The elder's entitlement is granted again from October: the
		// recovery is deducted from October's payment.
		d.Exec(`UPDATE entitlements SET status = 'active', until = NULL, since = '2025-10-01' WHERE person_id = $1`, elder.ID)
		f.run(t, "2025-10")
		if got := f.line("elderly_allowance", elder.ID, "2025-10", payroll.Deduction); got != -10161 {
			t.Errorf("deduction %d, want -10161", got)
		}
		// The debt is settled: November is paid in full, nothing deducted.
		f.run(t, "2025-11")
		if got := f.line("elderly_allowance", elder.ID, "2025-11", payroll.Deduction); got != -1 {
			t.Errorf("November deduction %d after the debt was settled", got)
		}
		oct := readBank(t, filepath.Join(f.pay.Dir, "2025-10", "310115", "工商银行.csv"))
		refs := map[string]string{}
		for _, r := range oct[1:] {
			refs[r[0]] = r[5]
		}
		if refs["2025-09/dibao/"+itoa(mum.ID)] != "2155.00" || refs["2025-10/dibao/"+itoa(mum.ID)] != "2100.00" {
			t.Errorf("October file should retry September: %v", refs)
		}
		xh := readBank(t, filepath.Join(f.pay.Dir, "2025-10", "310104", payroll.SocialSecurityCard+".csv"))
		for _, r := range xh[1:] {
			if r[0] == "2025-10/elderly_allowance/"+itoa(elder.ID) && r[5] != "48.39" {
				t.Errorf("elder's October payment after deduction %s, want 48.39", r[5])
			}
		}
		// The ledger refuses changes.
		if _, err := d.Exec(`UPDATE ledger SET fen = 0`); err == nil {
			t.Error("ledger accepted an UPDATE")
		}
		if _, err := d.Exec(`DELETE FROM ledger`); err == nil {
			t.Error("ledger accepted a DELETE")
		}
		var dup int
		d.QueryRow(`SELECT COUNT(*) FROM (SELECT period, program, person_id, kind FROM ledger GROUP BY period, program, person_id, kind HAVING COUNT(*) > 1) x`).Scan(&dup)
		if dup != 0 {
			t.Errorf("%d duplicate ledger keys", dup)
		}
	})
}

func TestPayrollAccess(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d)
		elder := f.person(t, "张老", "310104003001", "1950-03-01", 11, 0)
		f.entitle(t, "elderly_allowance", elder, 15000, "2025-07-01")
		clerk := auth.Principal{Name: "c", Role: auth.Clerk, Division: "310104"}
		if _, err := f.pay.Run(ctx, clerk, "2025-08", payroll.Options{}, nil); errs.Code(err) != errs.Forbidden {
			t.Errorf("clerk ran the payroll: %v", err)
		}
		if _, err := f.pay.Run(ctx, auth.System(), "2025-13", payroll.Options{}, nil); errs.Code(err) != errs.Invalid {
			t.Errorf("bad period: %v", err)
		}
		// Another process holds the lease: this one reports it is running.
		other := jobs.NewLeases(d, nil)
		other.Holder = "elsewhere:1:x"
		if _, err := other.Acquire(ctx, payroll.Job, time.Hour); err != nil {
			t.Fatal(err)
		}
		if _, err := f.pay.Run(ctx, auth.System(), "2025-08", payroll.Options{}, nil); errs.Code(err) != errs.Conflict || !strings.Contains(err.Error(), "正在另一进程中运行") {
			t.Errorf("second process: %v", err)
		}
		other.Release(ctx, payroll.Job, "")
		f.compute(t, "2025-08")

		pudong := auth.Principal{Name: "pd", Role: auth.Approver, Division: "310115"}
		if _, err := f.pay.SignOff(ctx, pudong, "2025-08", "310104"); errs.Code(err) != errs.Forbidden {
			t.Errorf("Pudong approver signed off Xuhui: %v", err)
		}
		xuhui := auth.Principal{Name: "xh", Role: auth.Approver, Division: "310104"}
		files, err := f.pay.SignOff(ctx, xuhui, "2025-08", "310104")
		if err != nil || len(files) != 1 {
			t.Fatalf("sign-off: %v %v", files, err)
		}
		if _, err := f.pay.SignOff(ctx, xuhui, "2025-08", "310104"); errs.Code(err) != errs.Conflict {
			t.Errorf("second sign-off: %v", err)
		}
		figs, err := f.pay.Figures(ctx, pudong, "2025-08")
		if err != nil || len(figs) != 0 {
			t.Errorf("Pudong sees Xuhui's figures: %+v %v", figs, err)
		}
		figs, err = f.pay.Figures(ctx, xuhui, "2025-08")
		if err != nil || len(figs) != 1 || figs[0].Cases != 1 || figs[0].Amount != 150 || figs[0].SignedBy != "xh" {
			t.Errorf("Xuhui figures %+v %v", figs, err)
		}
		if _, err := f.pay.GetAccount(ctx, pudong, elder.ID); errs.Code(err) != errs.NotFound {
			t.Errorf("Pudong read a Xuhui account: %v", err)
		}

		// A grant decided after the sign-off: the next run adds its line,
		// the district is no longer signed, and a supplementary sign-off
		// writes a file with that payment only.
		late := f.person(t, "王新", "310104003001", "1940-01-01", 44, 0)
		f.entitle(t, "elderly_allowance", late, 35000, "2025-08-15")
		if res := f.compute(t, "2025-08"); res.NewLines != 1 {
			t.Fatalf("run after sign-off: %+v", res)
		}
		if figs, _ := f.pay.Figures(ctx, xuhui, "2025-08"); len(figs) != 1 || figs[0].SignedBy != "" || figs[0].Amount != 500 {
			t.Errorf("figures after a late line %+v, want unsigned 500 yuan", figs)
		}
		files, err = f.pay.SignOff(ctx, xuhui, "2025-08", "310104")
		if err != nil || len(files) != 1 || !strings.HasSuffix(files[0], payroll.SocialSecurityCard+"-补充2.csv") {
			t.Fatalf("supplementary sign-off: %v %v", files, err)
		}
		rows := readBank(t, files[0])
		if len(rows) != 2 || rows[1][0] != "2025-08/elderly_allowance/"+itoa(late.ID)+"/2" || rows[1][5] != "350.00" {
			t.Errorf("supplementary file %v", rows)
		}
		if _, err := f.pay.SignOff(ctx, xuhui, "2025-08", "310104"); errs.Code(err) != errs.Conflict {
			t.Errorf("third sign-off with nothing new: %v", err)
		}
		// The bank fails the supplementary payment: it goes again, alone,
		// with September's first batch.
		tbl, _ := tabular.Read(strings.NewReader("流水号,结果\n"+rows[1][0]+",失败\n"), "r.csv", 0)
		if _, err := f.pay.ImportReturns(ctx, xuhui, tbl, "r.csv"); err != nil {
			t.Fatal(err)
		}
		f.compute(t, "2025-09")
		files, err = f.pay.SignOff(ctx, xuhui, "2025-09", "310104")
		if err != nil {
			t.Fatal(err)
		}
		refs := map[string]string{}
		for _, r := range readBank(t, files[0])[1:] {
			refs[r[0]] = r[5]
		}
		if len(refs) != 3 || refs[rows[1][0]] != "350.00" || refs["2025-09/elderly_allowance/"+itoa(late.ID)] != "350.00" {
			t.Errorf("September file %v", refs)
		}

		// Account numbers: ASCII digits only; short ones keep only the last four.
		for _, bad := range []string{"１２３４５６７８", "٠١٢٣٤٥٦٧", "1234567"} {
			if _, err := f.pay.SetAccount(ctx, auth.System(), payroll.Account{PersonID: elder.ID, Bank: "工商银行", Number: bad, Holder: "张老"}); errs.Code(err) != errs.Invalid {
				t.Errorf("account %q: %v", bad, err)
			}
		}
		acc, err := f.pay.SetAccount(ctx, auth.System(), payroll.Account{PersonID: elder.ID, Bank: "工商银行", Number: "12345678", Holder: "张老", Custodian: "某人"})
		if err != nil || acc.Number != "****5678" || acc.Custodian != "" {
			t.Errorf("short account %+v %v", acc, err)
		}
	})
}

func TestCampaignPaysOnce(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d)
		elder := f.person(t, "张老", "310104003001", "1950-03-01", 11, 0)
		mum := f.person(t, "李母", "310115004001", "1980-01-01", 22, 0)
		f.person(t, "李子", "310115004001", "2012-01-01", 33, mum.HouseholdID)
		f.entitle(t, "elderly_allowance", elder, 15000, "2025-07-01")
		f.entitle(t, "dibao", mum, 210000, "2025-07-01")
		c := payroll.Campaign{ID: "2026-spring", Name: "2026 年春节帮困送温暖", Rule: `"dibao" in programs || "tekun" in programs`, Amount: "household_size * 200", AsOf: "2026-01-15"}
		res, err := f.pay.RunCampaign(ctx, auth.System(), c, nil)
		if err != nil || res.Lines != 1 || res.NewLines != 1 || res.AmountTotal != 400 {
			t.Fatalf("campaign %+v %v", res, err)
		}
		if res, err := f.pay.RunCampaign(ctx, auth.System(), c, nil); err != nil || res.NewLines != 0 {
			t.Fatalf("campaign again %+v %v", res, err)
		}
		c.Amount = "1000"
		if _, err := f.pay.RunCampaign(ctx, auth.System(), c, nil); errs.Code(err) != errs.Invalid {
			t.Errorf("same id, another amount: %v", err)
		}
		bad := payroll.Campaign{ID: "x y", Name: "", Rule: "programs +", Amount: `"a"`, AsOf: "2026-13-01"}
		err = func() error { _, err := bad.Check(); return err }()
		e := errs.As(err)
		if e == nil || len(e.Fields) != 5 {
			t.Fatalf("bad campaign: %v", err)
		}
	})
}

// TestTemporaryAidPaidOnce: temporary aid granted on an application is
// paid once, as a one-off line to the applicant; a second grant to the same
// person in the same month waits for the next month.
func TestTemporaryAidPaidOnce(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		mum := f.person(t, "李母", "310115004001", "1980-01-01", 22, 0)
		for i, fen := range []int64{300000, 50000} {
			id := int64(100 + i)
			if _, err := d.Exec(`INSERT INTO applications (id, kind, household_id, applicant_id, division, state, state_since, created_by, created_at, updated_at)
				VALUES ($1, 'new', $2, $3, '310115004001', 'granted', '', 'c', '', '')`, id, mum.HouseholdID, mum.ID); err != nil {
				t.Fatal(err)
			}
			if _, err := d.Exec(`INSERT INTO application_programs (application_id, program, status, one_off_fen) VALUES ($1, 'temporary', 'granted', $2)`, id, fen); err != nil {
				t.Fatal(err)
			}
		}
		if res := f.run(t, "2025-08"); res.NewLines != 1 || res.AmountTotal != 3000 {
			t.Fatalf("August: %+v, want the first grant of 3000 yuan", res)
		}
		if res := f.run(t, "2025-08"); res.NewLines != 0 {
			t.Fatalf("August again: %+v", res)
		}
		if res := f.run(t, "2025-09"); res.NewLines != 1 || res.AmountTotal != 500 {
			t.Fatalf("September: %+v, want the second grant of 500 yuan", res)
		}
		var paid []string
		rows, _ := d.Query(`SELECT paid_on FROM application_programs ORDER BY application_id`)
		for rows.Next() {
			var p string
			rows.Scan(&p)
			paid = append(paid, p)
		}
		rows.Close()
		if strings.Join(paid, ",") != "2025-08,2025-09" {
			t.Errorf("paid_on %v", paid)
		}
	})
}

func TestDue(t *testing.T) {
	first, last, _ := payroll.ParsePeriod("2025-02")
	for _, c := range []struct {
		since, until string
		want         int64
	}{
		{"2025-01-01", "", 2800},
		{"2025-02-20", "", 2800},           // the first month is paid in full
		{"2025-03-01", "", 0},              // not yet
		{"2024-01-01", "2025-01-31", 0},    // stopped before
		{"2024-01-01", "2025-02-14", 1400}, // by the day: 14 of 28
		{"2024-01-01", "2025-02-28", 2800},
	} {
		if got := payroll.Due(2800, c.since, c.until, first, last); got != c.want {
			t.Errorf("Due(%s, %s) = %d, want %d", c.since, c.until, got, c.want)
		}
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func validID(s string) bool {
	_, err := idcard.Parse(s, time.Now())
	return err == nil
}
