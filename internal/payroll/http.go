package payroll

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strconv"

	"minzheng/internal/auth"
	"minzheng/internal/errs"
	"minzheng/internal/httpx"
	"minzheng/internal/tabular"
	"minzheng/internal/web"
)

// HTTP serves the payroll pages and API.
type HTTP struct {
	Service      *Service
	Render       *web.Renderer
	DistrictName func(code string) string
}

// Routes registers the payroll routes.
func (h *HTTP) Routes(r *httpx.Router) {
	r.H("GET /payroll", h.periodsPage)
	r.H("POST /payroll/run", h.runPage)
	r.H("POST /payroll/returns", h.returnsPage)
	r.H("GET /payroll/{period}", h.periodPage)
	r.H("GET /payroll/{period}/figures.xlsx", h.export)
	r.H("POST /payroll/{period}/signoff", h.signOffPage)

	r.H("GET /persons/{id}/payee-account", h.accountFragment)
	r.H("POST /persons/{id}/payee-account", h.accountSave)

	r.H("GET /api/v1/payroll/periods", h.apiPeriods)
	r.H("POST /api/v1/payroll/runs", h.apiRun)
	r.H("GET /api/v1/payroll/{period}/figures", h.apiFigures)
	r.H("POST /api/v1/payroll/{period}/signoff", h.apiSignOff)
	r.H("POST /api/v1/payroll/returns", h.apiReturns)
	r.H("GET /api/v1/persons/{id}/payee-account", h.apiGetAccount)
	r.H("PUT /api/v1/persons/{id}/payee-account", h.apiSetAccount)
}

// periodsData is what the payroll page shows.
type periodsData struct {
	Periods []Period
	Next    string // the period the run form proposes
	CanRun  bool
	Result  *Result
	Returns *ReturnReport
	Error   string
}

func (h *HTTP) periods(w http.ResponseWriter, r *http.Request, status int, d *periodsData) error {
	p, err := web.Require(r)
	if err != nil {
		return err
	}
	if d.Periods, err = h.Service.Periods(r.Context(), p); err != nil {
		return err
	}
	d.CanRun = p.Can(PermRun)
	if d.Next == "" {
		d.Next = h.Service.now().Format("2006-01")
	}
	page := web.PageFor(r, "待遇发放")
	page.Data = d
	return h.Render.Render(w, status, "payroll", page)
}

func (h *HTTP) periodsPage(w http.ResponseWriter, r *http.Request) error {
	return h.periods(w, r, http.StatusOK, &periodsData{})
}

// formError shows an Invalid or Conflict error on the page; others go up.
func formError(err error) (string, int, error) {
	if e := errs.As(err); e != nil && (e.Code == errs.Invalid || e.Code == errs.Conflict) {
		return e.Message, http.StatusUnprocessableEntity, nil
	}
	return "", 0, err
}

func (h *HTTP) runPage(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Require(r)
	if err != nil {
		return err
	}
	period := r.FormValue("period")
	res, err := h.Service.Run(r.Context(), p, period, Options{Files: false}, nil)
	d := &periodsData{Next: period}
	if err != nil {
		msg, status, err := formError(err)
		if err != nil {
			return err
		}
		d.Error = msg
		return h.periods(w, r, status, d)
	}
	d.Result = &res
	return h.periods(w, r, http.StatusOK, d)
}

func (h *HTTP) returnsPage(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Require(r)
	if err != nil {
		return err
	}
	d := &periodsData{}
	rep, err := h.importReturns(r, p)
	if err != nil {
		msg, status, err := formError(err)
		if err != nil {
			return err
		}
		d.Error = msg
		return h.periods(w, r, status, d)
	}
	d.Returns = &rep
	return h.periods(w, r, http.StatusOK, d)
}

func (h *HTTP) importReturns(r *http.Request, p auth.Principal) (ReturnReport, error) {
	f, hdr, err := r.FormFile("file")
	if err != nil {
		return ReturnReport{}, errs.Field("file", "请选择银行回盘文件（CSV 或 Excel）")
	}
	defer f.Close()
	t, err := tabular.Read(f, hdr.Filename, 200<<20)
	if err != nil {
		return ReturnReport{}, errs.Field("file", "%s", err.Error())
	}
	return h.Service.ImportReturns(r.Context(), p, t, hdr.Filename)
}

// periodData is what a period's page shows.
type periodData struct {
	Period    string
	Figures   []FigureRow
	Total     Figure
	Chart     string
	Districts []string // districts the caller may sign off
	Files     []string
	Error     string
}

// FigureRow is a figure with its names for display.
type FigureRow struct {
	Figure
	DistrictName string
	ProgramName  string
}

func (h *HTTP) period(w http.ResponseWriter, r *http.Request, status int, d *periodData) error {
	p, err := web.Require(r)
	if err != nil {
		return err
	}
	d.Period = r.PathValue("period")
	figs, err := h.Service.Figures(r.Context(), p, d.Period)
	if err != nil {
		return err
	}
	signable := map[string]bool{}
	for _, f := range figs {
		d.Figures = append(d.Figures, FigureRow{Figure: f, DistrictName: h.DistrictName(f.District), ProgramName: h.Service.programName(f.Program)})
		d.Total.Cases += f.Cases
		d.Total.People += f.People
		d.Total.Amount += f.Amount
		d.Total.New += f.New
		d.Total.Stopped += f.Stopped
		if p.Can(PermSign) && p.Scope().Covers(f.District) && f.SignedBy == "" && !signable[f.District] {
			signable[f.District] = true
			d.Districts = append(d.Districts, f.District)
		}
	}
	d.Chart = figuresChart(d.Figures)
	page := web.PageFor(r, "发放统计")
	page.Data = d
	return h.Render.Render(w, status, "payroll_period", page)
}

func (h *HTTP) periodPage(w http.ResponseWriter, r *http.Request) error {
	return h.period(w, r, http.StatusOK, &periodData{})
}

func (h *HTTP) signOffPage(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Require(r)
	if err != nil {
		return err
	}
	files, err := h.Service.SignOff(r.Context(), p, r.PathValue("period"), r.FormValue("district"))
	d := &periodData{}
	if err != nil {
		msg, status, err := formError(err)
		if err != nil {
			return err
		}
		d.Error = msg
		return h.period(w, r, status, d)
	}
	d.Files = files
	return h.period(w, r, http.StatusOK, d)
}

// FiguresHeader is the header of the figures export.
var FiguresHeader = []string{"区", "项目", "发放户/人次", "覆盖人数", "金额（元）", "其中补发（元）", "抵扣（元）", "追缴（元）", "新增", "停发", "签发人"}

func (h *HTTP) export(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Require(r)
	if err != nil {
		return err
	}
	period := r.PathValue("period")
	figs, err := h.Service.Figures(r.Context(), p, period)
	if err != nil {
		return err
	}
	f := func(x float64) string { return strconv.FormatFloat(x, 'f', 2, 64) }
	rows := make([][]string, 0, len(figs))
	for _, g := range figs {
		rows = append(rows, []string{h.DistrictName(g.District), h.Service.programName(g.Program), strconv.FormatInt(g.Cases, 10), strconv.FormatInt(g.People, 10),
			f(g.Amount), f(g.BackPay), f(g.Deductions), f(g.Recoveries), strconv.FormatInt(g.New, 10), strconv.FormatInt(g.Stopped, 10), g.SignedBy})
	}
	w.Header().Set("Content-Type", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="payroll-%s.xlsx"`, period))
	return tabular.WriteXLSX(w, "发放统计 "+period, FiguresHeader, rows)
}

// figuresChart draws the period's amount by district, one stacked bar
// series per programme.
func figuresChart(rows []FigureRow) string {
	var districts, programs []string
	di, pi := map[string]int{}, map[string]int{}
	for _, r := range rows {
		if _, ok := di[r.DistrictName]; !ok {
			di[r.DistrictName] = len(districts)
			districts = append(districts, r.DistrictName)
		}
		if _, ok := pi[r.ProgramName]; !ok {
			pi[r.ProgramName] = len(programs)
			programs = append(programs, r.ProgramName)
		}
	}
	sort.Strings(programs)
	type series struct {
		Name  string    `json:"name"`
		Type  string    `json:"type"`
		Stack string    `json:"stack"`
		Data  []float64 `json:"data"`
	}
	ss := make([]series, len(programs))
	for i, p := range programs {
		ss[i] = series{Name: p, Type: "bar", Stack: "amount", Data: make([]float64, len(districts))}
		pi[p] = i
	}
	for _, r := range rows {
		ss[pi[r.ProgramName]].Data[di[r.DistrictName]] += r.Amount
	}
	opt := map[string]any{
		"title":   map[string]any{"text": "发放金额（元）按区", "left": "center", "textStyle": map[string]any{"fontSize": 14}},
		"tooltip": map[string]any{"trigger": "axis"},
		"legend":  map[string]any{"data": programs, "top": 24},
		"grid":    map[string]any{"left": 80, "right": 20, "bottom": 80, "top": 70},
		"xAxis":   map[string]any{"type": "category", "data": districts, "axisLabel": map[string]any{"rotate": 40}},
		"yAxis":   map[string]any{"type": "value"},
		"series":  ss,
	}
	b, _ := json.Marshal(opt)
	return string(b)
}

// payeeData is what the profile page's payee-account block shows.
type payeeData struct {
	PersonID int64
	Account  Account
	Form     Account // what was typed, shown again after an error
	Card     bool    // paid to the social security card: no account recorded
	CanEdit  bool
	Saved    bool
	Error    string
}

func (h *HTTP) payee(w http.ResponseWriter, r *http.Request, d *payeeData) error {
	p, err := web.Require(r)
	if err != nil {
		return err
	}
	if d.PersonID, err = pathPerson(r); err != nil {
		return err
	}
	if d.Account, err = h.Service.GetAccount(r.Context(), p, d.PersonID); err != nil {
		return err
	}
	d.CanEdit = p.Can(PermAccount)
	d.Card = d.Account.Bank == SocialSecurityCard
	if d.Form.Bank == "" && d.Account.Bank != SocialSecurityCard {
		d.Form = d.Account
	}
	page := web.PageFor(r, "")
	page.Data = d
	return h.Render.Fragment(w, "person_payee", "payee", page)
}

func (h *HTTP) accountFragment(w http.ResponseWriter, r *http.Request) error {
	return h.payee(w, r, &payeeData{})
}

func (h *HTTP) accountSave(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Require(r)
	if err != nil {
		return err
	}
	id, err := pathPerson(r)
	if err != nil {
		return err
	}
	in := Account{PersonID: id, Bank: r.FormValue("bank"), Number: r.FormValue("account"), Holder: r.FormValue("holder"),
		Custodial: r.FormValue("custodial") == "1", Custodian: r.FormValue("custodian")}
	d := &payeeData{}
	if _, err := h.Service.SetAccount(r.Context(), p, in); err != nil {
		e := errs.As(err)
		if e == nil || e.Code != errs.Invalid {
			return err
		}
		in.Number = ""
		d.Form, d.Error = in, e.Message
	} else {
		d.Saved = true
	}
	return h.payee(w, r, d)
}

func (h *HTTP) apiPeriods(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Require(r)
	if err != nil {
		return err
	}
	ps, err := h.Service.Periods(r.Context(), p)
	if err != nil {
		return err
	}
	if ps == nil {
		ps = []Period{}
	}
	httpx.WriteJSON(w, http.StatusOK, map[string]any{"periods": ps})
	return nil
}

func (h *HTTP) apiRun(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Require(r)
	if err != nil {
		return err
	}
	var in struct {
		Period string `json:"period"`
		Files  bool   `json:"files"`
	}
	if err := httpx.DecodeJSON(r, &in); err != nil {
		return err
	}
	res, err := h.Service.Run(r.Context(), p, in.Period, Options{Files: in.Files}, nil)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, res)
	return nil
}

func (h *HTTP) apiFigures(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Require(r)
	if err != nil {
		return err
	}
	figs, err := h.Service.Figures(r.Context(), p, r.PathValue("period"))
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, map[string]any{"period": r.PathValue("period"), "figures": figs})
	return nil
}

func (h *HTTP) apiSignOff(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Require(r)
	if err != nil {
		return err
	}
	var in struct {
		District string `json:"district"`
	}
	if err := httpx.DecodeJSON(r, &in); err != nil {
		return err
	}
	files, err := h.Service.SignOff(r.Context(), p, r.PathValue("period"), in.District)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, map[string]any{"period": r.PathValue("period"), "district": in.District, "files": len(files)})
	return nil
}

func (h *HTTP) apiReturns(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Require(r)
	if err != nil {
		return err
	}
	rep, err := h.importReturns(r, p)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, rep)
	return nil
}

func pathPerson(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, errs.E(errs.NotFound, "人员编号“%s”无效", r.PathValue("id"))
	}
	return id, nil
}

func (h *HTTP) apiGetAccount(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Require(r)
	if err != nil {
		return err
	}
	id, err := pathPerson(r)
	if err != nil {
		return err
	}
	a, err := h.Service.GetAccount(r.Context(), p, id)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, a)
	return nil
}

func (h *HTTP) apiSetAccount(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Require(r)
	if err != nil {
		return err
	}
	id, err := pathPerson(r)
	if err != nil {
		return err
	}
	var a Account
	if err := httpx.DecodeJSON(r, &a); err != nil {
		return err
	}
	a.PersonID = id
	out, err := h.Service.SetAccount(r.Context(), p, a)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, out)
	return nil
}
