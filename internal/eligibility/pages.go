package eligibility

import (
	"context"
	"io"
	"net/http"
	"time"

	"minzheng/internal/auth"
	"minzheng/internal/db"
	"minzheng/internal/errs"
	"minzheng/internal/policy"
	"minzheng/internal/web"
)

// Pages serves the policy catalogue (政策参数) for every staff member and
// the proactive-grant console (免申即享) for city administrators.
type Pages struct {
	Service   *Service
	Proactive *Proactive
	Render    *web.Renderer
	// Run runs the proactive grant under its lease.
	Run func(ctx context.Context, by auth.Principal, on time.Time, progress io.Writer) (RunStats, error)
}

type policiesData struct {
	Today    string
	Policies []*policy.Policy
}

func (h *Pages) policies(w http.ResponseWriter, r *http.Request) error {
	if _, err := web.Require(r); err != nil {
		return err
	}
	d := policiesData{Today: h.Service.Now().Format(time.DateOnly)}
	for _, id := range h.Service.Policies.IDs() {
		p, _ := h.Service.Policies.Get(id)
		d.Policies = append(d.Policies, p)
	}
	page := web.PageFor(r, "政策与参数")
	page.Data = d
	return h.Render.Render(w, http.StatusOK, "policies", page)
}

// RunRow is one proactive run in the console's history.
type RunRow struct {
	ID                      int64
	AsOf, Started, Finished string
	Actor                   string
	Persons, Grants         int
	Stops, Changes          int
}

type proactiveData struct {
	Today string
	Runs  []RunRow
	Last  *RunStats
	Error string
}

func (h *Pages) requireOperator(r *http.Request) (auth.Principal, error) {
	p, err := web.Require(r)
	if err != nil {
		return p, err
	}
	return p, MayRun(p)
}

func (h *Pages) runs(r *http.Request) ([]RunRow, error) {
	rows, err := h.Proactive.DB.QueryContext(r.Context(), `SELECT id, as_of, started_at, COALESCE(finished_at, ''), actor, persons, grants, stops, changes FROM proactive_runs ORDER BY id DESC LIMIT 20`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []RunRow
	for rows.Next() {
		var x RunRow
		if err := rows.Scan(&x.ID, &x.AsOf, &x.Started, &x.Finished, &x.Actor, &x.Persons, &x.Grants, &x.Stops, &x.Changes); err != nil {
			return nil, err
		}
		x.Started = db.ParseTime(x.Started).In(time.FixedZone("CST", 8*3600)).Format("2006-01-02 15:04")
		out = append(out, x)
	}
	return out, rows.Err()
}

func (h *Pages) console(w http.ResponseWriter, r *http.Request, d proactiveData, status int) error {
	var err error
	if d.Runs, err = h.runs(r); err != nil {
		return err
	}
	d.Today = h.Service.Now().Format(time.DateOnly)
	page := web.PageFor(r, "免申即享")
	page.Data = d
	return h.Render.Render(w, status, "proactive", page)
}

func (h *Pages) proactivePage(w http.ResponseWriter, r *http.Request) error {
	if _, err := h.requireOperator(r); err != nil {
		return err
	}
	return h.console(w, r, proactiveData{}, http.StatusOK)
}

// runNow runs the proactive grant from the console's button. It runs in
// the request: fine for a district-sized register; the city runs it from
// the CLI or the schedule.
func (h *Pages) runNow(w http.ResponseWriter, r *http.Request) error {
	p, err := h.requireOperator(r)
	if err != nil {
		return err
	}
	on, err := h.Service.ParseDate(r.FormValue("as_of"))
	if err != nil {
		return h.console(w, r, proactiveData{Error: errs.As(err).Message}, http.StatusUnprocessableEntity)
	}
	st, err := h.Run(r.Context(), p, on, discard{})
	if e := errs.As(err); e != nil && (e.Code == errs.Invalid || e.Code == errs.Conflict) {
		return h.console(w, r, proactiveData{Error: e.Message}, http.StatusUnprocessableEntity)
	}
	if err != nil {
		return err
	}
	return h.console(w, r, proactiveData{Last: &st}, http.StatusOK)
}

type discard struct{}

func (discard) Write(b []byte) (int, error) { return len(b), nil }
