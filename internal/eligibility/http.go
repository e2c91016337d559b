package eligibility

import (
	"context"
	"io"
	"net/http"
	"time"

	"minzheng/internal/auth"
	"strconv"

	"minzheng/internal/errs"
	"minzheng/internal/httpx"
	"minzheng/internal/policy"
	"minzheng/internal/web"
)

// HTTP serves eligibility on the profile page and in the API.
type HTTP struct {
	Service      *Service
	Proactive    *Proactive
	RunProactive func(ctx context.Context, by auth.Principal, on time.Time, progress io.Writer) (RunStats, error)
	Render       *web.Renderer
	DistrictName func(string) string
}

// Routes registers the handlers.
func (h *HTTP) Routes(r *httpx.Router) {
	r.H("GET /persons/{id}/eligibility", h.fragment)
	r.H("GET /api/v1/persons/{id}/eligibility", h.apiPerson)
	r.H("POST /api/v1/eligibility/evaluate", h.apiEvaluate)
	sim := &SimulatePage{Service: h.Service, Render: h.Render, DistrictName: h.DistrictName}
	r.H("GET /simulate", sim.page)
	r.H("GET /simulate/export.xlsx", sim.export)
	pages := &Pages{Service: h.Service, Proactive: h.Proactive, Render: h.Render, Run: h.RunProactive}
	r.H("GET /policies", pages.policies)
	r.H("GET /proactive", pages.proactivePage)
	r.H("POST /proactive", pages.runNow)
}

func personID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, errs.E(errs.NotFound, "人员编号“%s”无效", r.PathValue("id"))
	}
	return id, nil
}

// fragmentData is what the eligibility block of the profile page shows.
type fragmentData struct {
	AsOf    string
	Results []*policy.Result
}

func (h *HTTP) fragment(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Require(r)
	if err != nil {
		return err
	}
	id, err := personID(r)
	if err != nil {
		return err
	}
	on, err := h.Service.ParseDate(r.URL.Query().Get("as_of"))
	if err != nil {
		return err
	}
	rs, err := h.Service.Person(r.Context(), p, id, "", on)
	if err != nil {
		return err
	}
	page := web.PageFor(r, "")
	page.Data = fragmentData{AsOf: on.Format("2006-01-02"), Results: rs}
	return h.Render.Fragment(w, "person_eligibility", "eligibility", page)
}

func (h *HTTP) apiPerson(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Require(r)
	if err != nil {
		return err
	}
	id, err := personID(r)
	if err != nil {
		return err
	}
	on, err := h.Service.ParseDate(r.URL.Query().Get("as_of"))
	if err != nil {
		return err
	}
	rs, err := h.Service.Person(r.Context(), p, id, r.URL.Query().Get("program"), on)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, map[string]any{"person_id": id, "as_of": on.Format("2006-01-02"), "results": rs})
	return nil
}

// EvaluateRequest is the body of POST /api/v1/eligibility/evaluate: a
// programme, a date and either a registered person or a case in full.
type EvaluateRequest struct {
	Program  string       `json:"program"`
	AsOf     string       `json:"as_of"`
	PersonID int64        `json:"person_id,omitempty"`
	Case     *policy.Case `json:"case,omitempty"`
}

func (h *HTTP) apiEvaluate(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Require(r)
	if err != nil {
		return err
	}
	var req EvaluateRequest
	if err := httpx.DecodeJSON(r, &req); err != nil {
		return err
	}
	if req.Program == "" {
		return errs.Field("program", "请指定项目 program，例如 dibao")
	}
	on, err := h.Service.ParseDate(req.AsOf)
	if err != nil {
		return err
	}
	var res *policy.Result
	switch {
	case req.Case != nil && req.PersonID != 0:
		return errs.Field("case", "person_id 与 case 只能给出一个")
	case req.Case != nil:
		res, err = h.Service.Case(req.Program, req.Case, on)
	case req.PersonID != 0:
		var rs []*policy.Result
		rs, err = h.Service.Person(r.Context(), p, req.PersonID, req.Program, on)
		if err == nil {
			res = rs[0]
		}
	default:
		return errs.Field("case", "请给出 person_id（已登记人员）或 case（完整的家庭情况）")
	}
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, res)
	return nil
}
