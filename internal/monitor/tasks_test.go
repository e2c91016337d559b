package monitor_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"minzheng/internal/auth"
	"minzheng/internal/db"
	"minzheng/internal/db/dbtest"
	"minzheng/internal/errs"
	"minzheng/internal/monitor"
	"minzheng/internal/registry"
)

// readings builds an hourly water feed for a meter from start, with
// litres(hour index) per hour.
func readings(meter string, start time.Time, hours int, litres func(i int, h time.Time) float64) string {
	var b strings.Builder
	b.WriteString("水表编号,读数时间,用水量\n")
	for i := range hours {
		h := start.Add(time.Duration(i) * time.Hour)
		fmt.Fprintf(&b, "%s,%s,%g\n", meter, h.Format("2006-01-02 15:04"), litres(i, h))
	}
	return b.String()
}

// daytime uses water from 07:00 to 21:59, never at night.
func daytime(_ int, h time.Time) float64 {
	if h.Hour() >= 7 && h.Hour() < 22 {
		return 12
	}
	return 0
}

func TestWaterMeterSilence(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		ctx := context.Background()
		elder, _ := f.person(t, "孙奶奶", "1938-03-03", committee, 0, 2000)
		f.exec(t, `UPDATE persons SET lives_alone = 1 WHERE id = $1`, elder.ID)
		if err := f.svc.BindDevices(ctx, auth.System(), []monitor.Binding{{DeviceID: "WM-1", Kind: monitor.WaterMeter, PersonID: elder.ID}}); err != nil {
			t.Fatal(err)
		}
		start := time.Date(2025, 7, 20, 0, 0, 0, 0, cst)
		// Ten ordinary days, each ending with a quiet night: nothing.
		res := f.importCSV(t, monitor.Water, "wm-history", readings("WM-1", start, 10*24+7, daytime))
		if res.Accepted != 247 || res.Warnings != 0 {
			t.Fatalf("ordinary days and nights: %+v", res)
		}
		// The same readings again: duplicates, nothing new.
		res = f.importCSV(t, monitor.Water, "wm-history-again", readings("WM-1", start.Add(240*time.Hour), 7, daytime))
		if res.Duplicates != 7 || res.Accepted != 0 {
			t.Errorf("resent readings: %+v", res)
		}
		// The next day: silence from 07:00 on. At 06:00 the next morning
		// it is 32 hours since the last use (21:00 the day before
		// yesterday) — but by 20:00 it is already past 24 hours.
		next := start.Add(247 * time.Hour) // day 11, 07:00
		silent := func(int, time.Time) float64 { return 0 }
		res = f.importCSV(t, monitor.Water, "wm-silent-morning", readings("WM-1", next, 9, silent)) // to 15:00: 18 h
		if res.Warnings != 0 {
			t.Errorf("18 hours of silence warned: %+v", res)
		}
		res = f.importCSV(t, monitor.Water, "wm-silent-day", readings("WM-1", next.Add(9*time.Hour), 8, silent)) // to 23:00: 26 h
		if res.Warnings != 1 {
			t.Fatalf("a day of silence did not warn: %+v", res)
		}
		tasks, _ := f.svc.Tasks(ctx, auth.System(), monitor.TaskFilter{Status: "open"})
		if len(tasks) != 1 || tasks[0].Severity != monitor.Urgent || tasks[0].Title != "独居老人用水异常" || !strings.Contains(tasks[0].Reason, "26 小时") {
			t.Errorf("tasks %+v", tasks)
		}
		// An unbound meter is unmatched.
		res = f.importCSV(t, monitor.Water, "wm-unknown", readings("WM-X", next, 2, daytime))
		if res.Unmatched != 2 {
			t.Errorf("unbound meter: %+v", res)
		}
	})
}

func TestTasksScopeVisitsAndEscalation(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		ctx := context.Background()
		var referred []monitor.Referral
		f.svc.ReferApplication = func(_ context.Context, _ auth.Principal, r monitor.Referral) (string, error) {
			referred = append(referred, r)
			return fmt.Sprintf("APP-%d", r.TaskID), nil
		}
		a, aID := f.person(t, "甲", "1945-01-01", committee, 0, 0)
		b, bID := f.person(t, "乙", "1945-01-02", otherCommittee, 0, 0)
		c, cID := f.person(t, "丙", "1945-01-03", pudongComm, 0, 0)
		for _, p := range []registry.Person{a, b, c} {
			f.entitle(t, p, "dibao")
		}
		csv := "身份证号,结算日期,自付金额\n"
		for _, n := range []string{aID, bID, cID} {
			csv += n + ",2025-07-01,5000\n"
		}
		if res := f.importCSV(t, monitor.Medical, "m", csv); res.Warnings != 3 {
			t.Fatalf("%+v", res)
		}
		adviser := auth.Principal{Name: "gu", Role: auth.Adviser, Division: committee}
		scopes := []struct {
			p    auth.Principal
			want int
		}{
			{adviser, 1},
			{auth.Principal{Role: auth.Adviser, Division: otherCommittee}, 1},
			{auth.Principal{Role: auth.Adviser, Division: "310104003"}, 2},
			{auth.Principal{Role: auth.DistrictAdmin, Division: "310104"}, 2},
			{auth.Principal{Role: auth.Reviewer, Division: "310115"}, 1},
			{auth.System(), 3},
		}
		for _, s := range scopes {
			ts, err := f.svc.Tasks(ctx, s.p, monitor.TaskFilter{})
			if err != nil || len(ts) != s.want {
				t.Errorf("%s at %s: %d tasks, want %d (%v)", s.p.Role, s.p.Division, len(ts), s.want, err)
			}
		}
		if _, err := f.svc.Tasks(ctx, auth.Principal{Role: auth.Clerk, Division: "310104"}, monitor.TaskFilter{}); errs.Code(err) != errs.Forbidden {
			t.Errorf("clerk: %v", err)
		}
		if _, err := f.svc.Tasks(ctx, adviser, monitor.TaskFilter{Division: "310115"}); errs.Code(err) != errs.Invalid {
			t.Errorf("filter outside: %v", err)
		}
		mine, _ := f.svc.Tasks(ctx, adviser, monitor.TaskFilter{})
		id := mine[0].ID
		theirs, _ := f.svc.Tasks(ctx, auth.Principal{Role: auth.Adviser, Division: otherCommittee}, monitor.TaskFilter{})
		if _, err := f.svc.Task(ctx, adviser, theirs[0].ID); errs.Code(err) != errs.NotFound {
			t.Errorf("another committee's task: %v", err)
		}
		det, err := f.svc.Task(ctx, adviser, id)
		if err != nil || len(det.Members) != 1 || !strings.Contains(string(det.Data), "medical_3m") {
			t.Fatalf("detail %+v %v", det, err)
		}
		// Bad visit: nothing recorded.
		if _, err := f.svc.RecordVisit(ctx, adviser, id, monitor.Visit{Disposition: "maybe"}); errs.As(err) == nil || errs.As(err).Fields[0].Field != "disposition" {
			t.Errorf("bad disposition: %v", err)
		}
		// Could not reach: rescheduled, still open.
		f.now = today.Add(time.Hour)
		tk, err := f.svc.RecordVisit(ctx, adviser, id, monitor.Visit{Disposition: monitor.Unreachable})
		if err != nil || tk.Status != monitor.StatusOpen || tk.Attempts != 1 || !tk.DueAt.Equal(f.now.Add(24*time.Hour)) {
			t.Fatalf("unreachable: %+v %v", tk, err)
		}
		// Referred: an application through the hook, closed, with photos.
		photo := monitor.Photo{Name: "door.jpg", ContentType: "image/jpeg", Data: []byte("\xff\xd8\xff jpeg")}
		tk, err = f.svc.RecordVisit(ctx, adviser, id, monitor.Visit{Date: "2025-08-01", Found: "老人独居，医疗费用高，有申请意愿", Disposition: monitor.Referred, Photos: []monitor.Photo{photo}})
		if err != nil || tk.Status != monitor.StatusClosed || tk.Referral != fmt.Sprintf("APP-%d", id) || len(referred) != 1 || referred[0].PersonID != a.ID {
			t.Fatalf("referred: %+v %v %+v", tk, err, referred)
		}
		det, _ = f.svc.Task(ctx, adviser, id)
		if len(det.Visits) != 2 || len(det.Visits[1].Photos) != 1 {
			t.Fatalf("visits %+v", det.Visits)
		}
		ph, err := f.svc.Photo(ctx, adviser, id, det.Visits[1].Photos[0])
		if err != nil || !bytes.Equal(ph.Data, photo.Data) {
			t.Errorf("photo %v", err)
		}
		if _, err := f.svc.RecordVisit(ctx, adviser, id, monitor.Visit{Found: "x", Disposition: monitor.Resolved}); errs.Code(err) != errs.Conflict {
			t.Errorf("closed twice: %v", err)
		}
		// Past the deadline (3 days for high): escalated to the district.
		f.now = today.Add(73 * time.Hour)
		n, err := f.svc.Escalate(ctx)
		if err != nil || n != 2 {
			t.Errorf("escalated %d, %v", n, err)
		}
		if n, _ := f.svc.Escalate(ctx); n != 0 {
			t.Errorf("escalated twice")
		}
		over, _ := f.svc.Tasks(ctx, auth.Principal{Role: auth.DistrictAdmin, Division: "310104"}, monitor.TaskFilter{Status: monitor.StatusEscalated})
		if len(over) != 1 || !over[0].Overdue {
			t.Errorf("district's escalated tasks %+v", over)
		}
	})
}

func TestWeatherSweepAndCalls(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		ctx := context.Background()
		old, _ := f.person(t, "钱爷爷", "1940-01-01", committee, 0, 0)
		f.person(t, "钱小", "1990-01-01", committee, 0, 0) // too young for the sweep
		far, _ := f.person(t, "孙爷爷", "1940-01-01", pudongComm, 0, 0)
		f.exec(t, `UPDATE persons SET lives_alone = 1`)
		district := auth.Principal{Name: "xh", Role: auth.DistrictAdmin, Division: "310104"}
		if _, err := f.svc.WeatherSweep(ctx, district, "cold", []string{"310115"}); errs.As(err) == nil || errs.As(err).Fields[0].Field != "districts" {
			t.Errorf("other district: %v", err)
		}
		n, err := f.svc.WeatherSweep(ctx, district, "cold", []string{"310104"})
		if err != nil || n != 1 {
			t.Fatalf("sweep %d %v", n, err)
		}
		if n, _ := f.svc.WeatherSweep(ctx, district, "cold", []string{"310104"}); n != 0 {
			t.Errorf("second sweep created %d", n)
		}
		ts, _ := f.svc.Tasks(ctx, district, monitor.TaskFilter{Kind: monitor.TaskWeather})
		if len(ts) != 1 || ts[0].PersonID != old.ID || ts[0].Title != "寒潮天气探访独居老人" {
			t.Errorf("weather tasks %+v", ts)
		}

		// 一键通: a call makes an urgent task at the street's service centre.
		if err := f.svc.BindDevices(ctx, auth.System(), []monitor.Binding{{DeviceID: "YJT-9", Kind: monitor.CallButton, PersonID: far.ID}}); err != nil {
			t.Fatal(err)
		}
		res := f.importCSV(t, monitor.Call, "yjt-1", "设备编号,呼叫时间,呼叫类型\nYJT-9,2025-08-01 16:40,跌倒求助\n")
		if res.Accepted != 1 {
			t.Fatalf("%+v", res)
		}
		centre := auth.Principal{Name: "pd", Role: auth.Adviser, Division: pudongComm[:9]}
		calls, _ := f.svc.Tasks(ctx, centre, monitor.TaskFilter{Kind: monitor.TaskCall})
		if len(calls) != 1 || calls[0].Division != pudongComm[:9] || calls[0].Severity != monitor.Urgent ||
			!calls[0].DueAt.Equal(time.Date(2025, 8, 1, 17, 10, 0, 0, cst)) {
			t.Fatalf("call tasks %+v", calls)
		}
		f.now = time.Date(2025, 8, 1, 16, 52, 0, 0, cst)
		if _, err := f.svc.Respond(ctx, centre, calls[0].ID); err != nil {
			t.Fatal(err)
		}
		st, err := f.svc.CallStats(ctx, auth.System())
		if err != nil || len(st) != 1 || st[0].District != "310115" || st[0].Calls != 1 || st[0].MedianMinutes != 12 {
			t.Errorf("call stats %+v %v", st, err)
		}
	})
}

// TestWeatherSweepWeakGuardianship: an extreme-weather sweep visits elders
// marked with weak guardianship (弱监护) as well as those living alone, one
// task per household, and the task says which; unmarked elders, the young
// and other districts are left out.
func TestWeatherSweepWeakGuardianship(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		ctx := context.Background()
		alone, _ := f.person(t, "独居甲", "1940-01-01", committee, 0, 0)
		husband, _ := f.person(t, "弱监护甲", "1936-01-01", otherCommittee, 0, 0)
		wife, _ := f.person(t, "弱监护乙", "1938-01-01", otherCommittee, husband.HouseholdID, 0)
		plain, _ := f.person(t, "有人照料", "1937-01-01", committee, 0, 0)
		young, _ := f.person(t, "年轻", "1990-01-01", committee, 0, 0)
		far, _ := f.person(t, "浦东弱监护", "1936-01-01", pudongComm, 0, 0)
		f.exec(t, `UPDATE persons SET lives_alone = 1 WHERE id = $1`, alone.ID)
		f.exec(t, `UPDATE persons SET weak_guardianship = 1 WHERE id IN ($1, $2, $3, $4)`, husband.ID, wife.ID, young.ID, far.ID)
		district := auth.Principal{Name: "xh", Role: auth.DistrictAdmin, Division: "310104"}
		n, err := f.svc.WeatherSweep(ctx, district, "heat", []string{"310104"})
		if err != nil || n != 2 {
			t.Fatalf("sweep created %d, %v; want 2 (the elder alone, the old couple once)", n, err)
		}
		ts, _ := f.svc.Tasks(ctx, district, monitor.TaskFilter{Kind: monitor.TaskWeather})
		got := map[int64]monitor.Task{}
		for _, tk := range ts {
			got[tk.HouseholdID] = tk
		}
		if tk := got[alone.HouseholdID]; tk.Title != "高温天气探访独居老人" || !strings.Contains(tk.Reason, "独居老人") {
			t.Errorf("task of the elder alone: %+v", tk)
		}
		if tk := got[husband.HouseholdID]; tk.Title != "高温天气探访弱监护老人" || !strings.Contains(tk.Reason, "弱监护老人") || tk.Division != otherCommittee {
			t.Errorf("task of the old couple: %+v", tk)
		}
		if _, ok := got[plain.HouseholdID]; ok || len(ts) != 2 {
			t.Errorf("weather tasks %+v", ts)
		}
		// The adviser sees the flag at the door.
		dt, err := f.svc.Task(ctx, district, got[husband.HouseholdID].ID)
		if err != nil || len(dt.Members) != 2 || !dt.Members[0].WeakGuardianship || !dt.Members[1].WeakGuardianship {
			t.Errorf("task detail members %+v %v", dt.Members, err)
		}
		if n, _ := f.svc.WeatherSweep(ctx, district, "heat", []string{"310104"}); n != 0 {
			t.Errorf("second sweep created %d", n)
		}
	})
}
