package monitor_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"minzheng/internal/app/apptest"
	"minzheng/internal/auth"
	"minzheng/internal/monitor"
)

const (
	xuhui  = apptest.Xuhui
	pudong = apptest.Pudong
	city   = apptest.City
)

// readers are the roles that read monitoring data.
var readers = []auth.Role{auth.Adviser, auth.Reviewer, auth.DistrictAdmin, auth.CityAdmin, auth.Auditor}

// accessTable has one entry per /api/v1 route of monitoring. A route
// without an entry fails TestAccess: decide who may call it before
// shipping it.
var accessTable = map[string]apptest.RouteCase{
	"POST /api/v1/feeds/{type}": {
		// Feeds are city-wide data from other departments: only a city
		// administrator at city level may send them.
		Request: func(f *apptest.Fixture, t *testing.T, tok, d string) *http.Request {
			n := f.Next()
			body := monitor.FeedBatch{Batch: fmt.Sprintf("access-%d", n), Rows: []map[string]any{
				{"id_number": f.Numbers[f.Only[d]], "bill_date": "2025-07-01", "amount": 100 + n}}}
			return apptest.JSONRequest(t, "POST", "/api/v1/feeds/medical", tok, body)
		},
		Want:     apptest.Every(403, 403).But(200, 200, auth.CityAdmin),
		CityWide: []auth.Role{auth.CityAdmin},
	},
	"GET /api/v1/monitor/tasks": {
		// Monitoring readers see their own jurisdiction; asking for another
		// district is refused naming the field.
		Request: apptest.GetFor(func(f *apptest.Fixture, d string) string { return "/api/v1/monitor/tasks?division=" + d }),
		Want:    apptest.Every(403, 403).But(200, 422, readers...),
		Field:   "division",
	},
	"GET /api/v1/monitor/tasks/{id}": {
		// Like reading people: outside the jurisdiction reads as absent.
		Request: func(f *apptest.Fixture, t *testing.T, tok, d string) *http.Request {
			return apptest.NewRequest("GET", fmt.Sprintf("/api/v1/monitor/tasks/%d", task(f, t, d)), tok, "", nil)
		},
		Want: apptest.Every(403, 403).But(200, 404, readers...),
	},
	"POST /api/v1/monitor/tasks/{id}/visits": {
		// Recording a visit needs monitor.visit, checked before the
		// jurisdiction. "Could not reach" keeps the task open, so every
		// allowed caller can record one.
		Request: func(f *apptest.Fixture, t *testing.T, tok, d string) *http.Request {
			return apptest.JSONRequest(t, "POST", fmt.Sprintf("/api/v1/monitor/tasks/%d/visits", task(f, t, d)), tok, monitor.VisitRequest{Disposition: monitor.Unreachable})
		},
		Want: apptest.Every(403, 403).But(201, 404, auth.Adviser, auth.DistrictAdmin, auth.CityAdmin),
	},
	"POST /api/v1/monitor/weather": {
		// Sweeps are planned by districts for themselves; another district
		// is refused naming the field.
		Request: func(f *apptest.Fixture, t *testing.T, tok, d string) *http.Request {
			return apptest.JSONRequest(t, "POST", "/api/v1/monitor/weather", tok, monitor.WeatherRequest{Kind: "cold", Districts: []string{d}})
		},
		Want:  apptest.Every(403, 403).But(200, 422, auth.DistrictAdmin, auth.CityAdmin),
		Field: "districts",
	},
	"GET /api/v1/monitor/calls/stats": {
		// Filtered to the jurisdiction; no target to name.
		Request: apptest.GetPath("/api/v1/monitor/calls/stats"),
		Want:    apptest.Every(403, 403).But(200, 200, readers...),
	},
	"GET /api/v1/monitor/dashboard": {
		Request: apptest.GetFor(func(f *apptest.Fixture, d string) string { return "/api/v1/monitor/dashboard?division=" + d }),
		Want:    apptest.Every(403, 403).But(200, 422, readers...),
		Field:   "division",
	},
}

// task returns an open visit task for the person living only in district
// d, at their committee, written on first use as a warning would write it.
func task(f *apptest.Fixture, t *testing.T, d string) int64 {
	return f.Memo("monitor task "+d, func() int64 {
		now := time.Now().UTC()
		var id int64
		err := f.App.DB.QueryRowContext(context.Background(), `INSERT INTO monitor_tasks (kind, person_id, household_id, division, district, assignee, severity, title, reason, status, due_at, created_at)
			SELECT 'warning', id, household_id, residence_division, $1, '', 'high', '测试预警', '测试原因', 'open', $2, $3 FROM persons WHERE id = $4 RETURNING id`,
			d, now.Add(72*time.Hour).Format("2006-01-02T15:04:05.000000Z"), now.Format("2006-01-02T15:04:05.000000Z"), f.Only[d]).Scan(&id)
		if err != nil {
			t.Fatalf("access fixture: task in %s: %v", d, err)
		}
		return id
	})
}

// TestAccess walks the monitoring routes with every role from two
// districts.
func TestAccess(t *testing.T) {
	apptest.Walk(t, "monitor", accessTable)
}
