package app_test

import (
	"context"
	"fmt"
	"io"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"minzheng/internal/app"
	"minzheng/internal/auth"
	"minzheng/internal/idcard"
	"minzheng/internal/monitor"
	"minzheng/internal/payroll"
	"minzheng/internal/registry"
)

// The tests of this file follow a change from one business line into
// others through what app.Open wires between them (Registry.OnChange,
// the events dispatcher, Monitor.ReferApplication).

// TestMonitorReferral closes a warning's task as "referred": the hook wired
// in app.go opens a social assistance application for the household
// (刚性支出困难 and 临时救助 after a rigid-expense warning), named on the task.
func TestMonitorReferral(t *testing.T) {
	eachDB(t, func(t *testing.T, cfg app.Config) {
		s := openServer(t, cfg)
		ctx := context.Background()
		committee := firstCommittee(t, s.App.Divisions.Tree, xuhui)
		number := idcard.Build(xuhui, time.Date(1960, 5, 6, 0, 0, 0, 0, time.UTC), 3)
		p, err := s.App.Registry.Create(ctx, auth.System(), registry.NewPerson{Name: "转介对象", IDNumber: number, HukouDivision: committee, ResidenceDivision: committee, MonthlyIncome: 1000})
		if err != nil {
			t.Fatal(err)
		}
		s.App.DB.ExecContext(ctx, `INSERT INTO entitlements (program, person_id, household_id, status, monthly_fen, since, proactive, decision_id, updated_at) VALUES ('dibao', $1, $2, 'active', 50000, '2025-01-01', 1, 0, '')`, p.ID, p.HouseholdID)
		tab, err := monitor.TableOf([]map[string]any{{"id_number": number, "bill_date": time.Now().AddDate(0, 0, -3).Format(time.DateOnly), "amount": 9000}})
		if err != nil {
			t.Fatal(err)
		}
		if res, err := s.App.Monitor.Import(ctx, auth.System(), monitor.ImportRequest{Type: monitor.Medical, Batch: "yb-ref", Table: tab}); err != nil || res.Warnings != 1 {
			t.Fatalf("import %+v %v", res, err)
		}
		adviser := auth.Principal{Name: "gu", Role: auth.Adviser, Division: committee, Remote: "test"}
		ts, err := s.App.Monitor.Tasks(ctx, adviser, monitor.TaskFilter{})
		if err != nil || len(ts) != 1 {
			t.Fatalf("tasks %v %v", ts, err)
		}
		tk, err := s.App.Monitor.RecordVisit(ctx, adviser, ts[0].ID, monitor.Visit{Found: "医疗费用负担重，愿意申请", Disposition: monitor.Referred})
		if err != nil || tk.Status != monitor.StatusClosed || !strings.HasPrefix(tk.Referral, "救助申请 ") {
			t.Fatalf("referred: %+v %v", tk, err)
		}
		var apps int
		var programs string
		s.App.DB.QueryRowContext(ctx, `SELECT COUNT(DISTINCT a.id), COALESCE(MIN(pr.program), '') || ',' || COALESCE(MAX(pr.program), '') FROM applications a
			JOIN application_programs pr ON pr.application_id = a.id WHERE a.household_id = $1`, p.HouseholdID).Scan(&apps, &programs)
		if apps != 1 || programs != "rigid_expense,temporary" {
			t.Errorf("%d applications with programmes %q", apps, programs)
		}
	})
}

// TestFeedFactsReachDecisions imports a disability feed and a medical feed
// through the service and follows their facts into the register and the
// entitlements: a grade-1 certificate, once its person.changed event is
// delivered, grants 重度残疾人护理补贴 without an application; three months
// of bills become the person's monthly medical expense, which the profile's
// evaluation explains and the proactive run grants 刚性支出困难 on.
func TestFeedFactsReachDecisions(t *testing.T) {
	eachDB(t, func(t *testing.T, cfg app.Config) {
		s := openServer(t, cfg)
		ctx := context.Background()
		committee := firstCommittee(t, s.App.Divisions.Tree, xuhui)
		today := time.Now().In(time.FixedZone("CST", 8*3600))
		register := func(name string, seq int, income int64) (registry.Person, string) {
			number := idcard.Build(xuhui, time.Date(1970, 3, 4, 0, 0, 0, 0, time.UTC), seq)
			p, err := s.App.Registry.Create(ctx, auth.System(), registry.NewPerson{Name: name, IDNumber: number, HukouDivision: committee, ResidenceDivision: committee, MonthlyIncome: income})
			if err != nil {
				t.Fatal(err)
			}
			return p, number
		}
		imp := func(typ monitor.FeedType, batch string, rows ...map[string]any) {
			tab, err := monitor.TableOf(rows)
			if err != nil {
				t.Fatal(err)
			}
			if res, err := s.App.Monitor.Import(ctx, auth.System(), monitor.ImportRequest{Type: typ, Batch: batch, Table: tab}); err != nil || res.Accepted != len(rows) {
				t.Fatalf("import %s: %+v %v", batch, res, err)
			}
		}
		active := func(program string, person int64) int64 {
			var fen int64
			s.App.DB.QueryRowContext(ctx, `SELECT monthly_fen FROM entitlements WHERE program = $1 AND person_id = $2 AND status = 'active'`, program, person).Scan(&fen)
			return fen
		}

		disabled, number := register("残联对象", 5, 800)
		imp(monitor.Disability, "cl-e2e", map[string]any{"id_number": number, "category": "肢体残疾", "grade": 1,
			"issued_on": today.AddDate(0, 0, -10).Format(time.DateOnly), "valid_until": today.AddDate(5, 0, 0).Format(time.DateOnly)})
		var grade int
		s.App.DB.QueryRowContext(ctx, `SELECT disability_grade FROM persons WHERE id = $1`, disabled.ID).Scan(&grade)
		if grade != 1 || active("disability_care", disabled.ID) != 0 {
			t.Fatalf("before the events are delivered: grade %d, care %d fen", grade, active("disability_care", disabled.ID))
		}
		if _, err := s.App.Events.Drain(ctx); err != nil {
			t.Fatal(err)
		}
		if fen := active("disability_care", disabled.ID); fen <= 0 {
			t.Errorf("重度残疾人护理补贴 not granted after the certificate: %d fen", fen)
		}
		var expl string
		s.App.DB.QueryRowContext(ctx, `SELECT explanation FROM decisions WHERE program = 'disability_care' AND person_id = $1`, disabled.ID).Scan(&expl)
		if !strings.Contains(expl, "1 级残疾") {
			t.Errorf("decision explanation %s", expl)
		}

		ill, illNumber := register("医保对象", 6, 2000)
		imp(monitor.Medical, "yb-e2e",
			map[string]any{"id_number": illNumber, "bill_date": today.AddDate(0, -2, 0).Format(time.DateOnly), "amount": 1000, "bill_no": "E1"},
			map[string]any{"id_number": illNumber, "bill_date": today.AddDate(0, 0, -5).Format(time.DateOnly), "amount": 800, "bill_no": "E2"})
		pr, err := s.App.Registry.Get(ctx, auth.System(), ill.ID)
		if err != nil || pr.MonthlyMedicalExpense != 600 {
			t.Fatalf("monthly medical expense %v %v, want 1800 / 3 = 600", pr.MonthlyMedicalExpense, err)
		}
		admin := s.staff(t, "admin", auth.CityAdmin, city)
		rec := s.serve(newRequest("GET", fmt.Sprintf("/api/v1/persons/%d/eligibility?program=rigid_expense", ill.ID), admin, "", nil))
		if rec.Code != 200 || !strings.Contains(rec.Body.String(), "必需支出 600") {
			t.Errorf("eligibility: %d %s", rec.Code, rec.Body.String())
		}
		if _, err := s.App.Proactive.Run(ctx, auth.System(), time.Now(), io.Discard); err != nil {
			t.Fatal(err)
		}
		if fen := active("rigid_expense", ill.ID); fen <= 0 {
			t.Errorf("刚性支出困难 not granted on 600 yuan of monthly medical spending: %d fen", fen)
		}
	})
}

// TestDeathAfterPayrollBecomesRecovery: August is paid; the death of an
// allowance recipient on 10 August is then recorded through the API, which
// stops the allowance; September's payroll pays nothing more and recovers
// the 21 days of August paid beyond the death.
func TestDeathAfterPayrollBecomesRecovery(t *testing.T) {
	eachDB(t, func(t *testing.T, cfg app.Config) {
		s := openServer(t, cfg)
		ctx := context.Background()
		if _, err := s.App.Generate(ctx, 2000, 13, io.Discard); err != nil {
			t.Fatal(err)
		}
		if _, err := s.App.RunProactive(ctx, auth.System(), mustDay(t, "2025-08-01"), io.Discard); err != nil {
			t.Fatal(err)
		}
		if _, err := s.App.Payroll.Run(ctx, auth.System(), "2025-08", payroll.Options{}, nil); err != nil {
			t.Fatal(err)
		}
		var person, fen int64
		s.App.DB.QueryRow(`SELECT person_id, fen FROM ledger WHERE period = '2025-08' AND program = 'elderly_allowance' ORDER BY person_id LIMIT 1`).Scan(&person, &fen)
		if person == 0 {
			t.Fatal("no elderly allowance paid in August")
		}
		token := s.staff(t, "ops", auth.CityAdmin, city)
		death := "2025-08-10"
		r := httptest.NewRecorder()
		s.Handler.ServeHTTP(r, jsonRequest(t, "PATCH", "/api/v1/persons/"+itoa(person), token, registry.FactsUpdate{DeathDate: &death}))
		if r.Code != 200 {
			t.Fatalf("record the death: %d %s", r.Code, r.Body)
		}
		var status, until string
		s.App.DB.QueryRow(`SELECT status, until FROM entitlements WHERE program = 'elderly_allowance' AND person_id = $1`, person).Scan(&status, &until)
		if status != "stopped" || until != death {
			t.Fatalf("entitlement after the death: %s until %s", status, until)
		}
		if _, err := s.App.Payroll.Run(ctx, auth.System(), "2025-09", payroll.Options{}, nil); err != nil {
			t.Fatal(err)
		}
		var sept, recovery int64 = -1, 0
		s.App.DB.QueryRow(`SELECT fen FROM ledger WHERE period = '2025-09' AND program = 'elderly_allowance' AND person_id = $1`, person).Scan(&sept)
		s.App.DB.QueryRow(`SELECT fen FROM ledger WHERE period = '2025-08' AND program = 'elderly_allowance' AND person_id = $1 AND kind = 'recovery'`, person).Scan(&recovery)
		want := -(fen - (fen*10+15)/31)
		if sept != -1 || recovery != want {
			t.Fatalf("September line %d (want none), August recovery %d (want %d)", sept, recovery, want)
		}
	})
}

func mustDay(t *testing.T, s string) time.Time {
	t.Helper()
	d, err := time.Parse(time.DateOnly, s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
