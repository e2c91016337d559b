package assistance

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"minzheng/internal/auth"
	"minzheng/internal/errs"
	"minzheng/internal/httpx"
	"minzheng/internal/pdfdoc"
	"minzheng/internal/registry"
	"minzheng/internal/tabular"
	"minzheng/internal/web"
)

// MaxVerificationFile is the largest department data file accepted.
const MaxVerificationFile = 16 << 20

// HTTP serves applications as pages (worklists, the case page, the
// decision letter, the public notice, relatives on file) and as the JSON
// API under /api/v1/applications.
type HTTP struct {
	Service *Service
	Render  *web.Renderer

	objections httpx.Limiter // anonymous objections per client address
}

// Budgets of anonymous objections (objectPage) from one client address.
const (
	objectionsPerTenMinutes = 5  // to any notice
	objectionsPerDay        = 50 // to one notice
)

// Routes registers the handlers.
func (h *HTTP) Routes(r *httpx.Router) {
	r.H("GET /applications", h.listPage)
	r.H("POST /applications", h.createPage)
	r.H("GET /applications/{id}", h.casePage)
	r.H("POST /applications/{id}/move", h.movePage)
	r.H("POST /applications/{id}/declaration", h.declarePage)
	r.H("POST /applications/{id}/members", h.memberPage)
	r.H("POST /applications/{id}/materials", h.materialPage)
	r.H("GET /applications/{id}/materials/{mid}", h.download)
	r.H("POST /applications/{id}/verification", h.verifyPage)
	r.H("GET /applications/{id}/letter", h.letterPage)
	r.H("GET /applications/{id}/letter.pdf", h.letterPDF)
	r.H("GET /notices", h.noticesPage)
	r.H("POST /notices/{id}/objection", h.objectPage)
	r.H("GET /relatives", h.relativesPage)
	r.H("POST /relatives", h.relativeCreatePage)

	r.H("GET /api/v1/applications", h.apiList)
	r.H("POST /api/v1/applications", h.apiCreate)
	r.H("GET /api/v1/applications/overdue", h.apiOverdue)
	r.H("GET /api/v1/applications/{id}", h.apiGet)
	r.H("POST /api/v1/applications/{id}/transitions", h.apiMove)
	r.H("POST /api/v1/applications/{id}/materials", h.apiMaterial)
	r.H("POST /api/v1/applications/{id}/members", h.apiMember)
	r.H("POST /api/v1/applications/{id}/verification", h.apiVerify)
	r.H("POST /api/v1/relatives", h.apiRelative)
}

func appID(r *http.Request, name string) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue(name), 10, 64)
	if err != nil || id <= 0 {
		return 0, errs.E(errs.NotFound, "编号“%s”无效", r.PathValue(name))
	}
	return id, nil
}

// listData is what the worklist shows.
type listData struct {
	State     string
	Overdue   bool
	States    []StateInfo
	Programs  []Program
	List      List
	Counts    []OverdueCount
	CanCreate bool
}

func (h *HTTP) listPage(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Require(r)
	if err != nil {
		return err
	}
	q := ListQuery{State: State(r.URL.Query().Get("state")), Overdue: r.URL.Query().Get("overdue") == "1", Limit: 100}
	switch {
	case q.State == "all":
		q.State = ""
	case q.State == "" && !q.Overdue:
		q.State = worklist[p.Role]
	}
	list, err := h.Service.List(r.Context(), p, q)
	if err != nil {
		return err
	}
	counts, err := h.Service.Overdue(r.Context(), p)
	if err != nil {
		return err
	}
	page := web.PageFor(r, "社会救助申请")
	page.Data = listData{State: string(q.State), Overdue: q.Overdue, States: States, Programs: Programs, List: list, Counts: counts, CanCreate: p.Can(PermCreate)}
	return h.Render.Render(w, http.StatusOK, "applications", page)
}

// worklist is the state whose cases each chain role opens its worklist on.
var worklist = map[auth.Role]State{auth.Clerk: Submitted, auth.Adviser: Visiting, auth.Reviewer: Review, auth.Approver: Approval}

func (h *HTTP) createPage(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Require(r)
	if err != nil {
		return err
	}
	if err := r.ParseForm(); err != nil {
		return errs.E(errs.Invalid, "表单无法解析")
	}
	na := NewApplication{Programs: r.Form["programs"]}
	var fe errs.Fields
	num := func(field string) int64 {
		v := strings.TrimSpace(r.FormValue(field))
		if v == "" {
			return 0
		}
		x, err := strconv.ParseFloat(v, 64)
		if err != nil {
			fe.Add(field, "“%s”应为数字", v)
		}
		return int64(x*100 + 0.5)
	}
	na.PersonID, _ = strconv.ParseInt(strings.TrimSpace(r.FormValue("person_id")), 10, 64)
	na.DeclaredDepositsFen, na.DeclaredSecuritiesFen = num("deposits"), num("securities")
	na.DeclaredVehicles, na.DeclaredProperties = int(num("vehicles")/100), int(num("properties")/100)
	if err := fe.Err(); err != nil {
		return err
	}
	a, err := h.Service.Create(r.Context(), p, na)
	if err != nil {
		return err
	}
	http.Redirect(w, r, fmt.Sprintf("/applications/%d", a.ID), http.StatusSeeOther)
	return nil
}

// caseData is what the case page shows.
type caseData struct {
	Case          Case
	MaterialKinds []MaterialKind
	CanVerify     bool
	CanUpload     bool
	CanDeclare    bool
}

func (h *HTTP) casePage(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Require(r)
	if err != nil {
		return err
	}
	id, err := appID(r, "id")
	if err != nil {
		return err
	}
	c, err := h.Service.Get(r.Context(), p, id)
	if err != nil {
		return err
	}
	page := web.PageFor(r, "救助申请详情")
	page.Data = caseData{Case: c, MaterialKinds: MaterialKindList, CanVerify: p.Can(PermVerify) && c.State == Verifying,
		CanUpload: p.Can(PermMaterial) && !c.State.Final(), CanDeclare: p.Can(PermCreate) && (c.State == Submitted || c.State == Verifying)}
	if to := State(r.URL.Query().Get("done")); to != "" {
		if info, ok := to.Info(); ok {
			page.Flash = "已办理：" + info.Label
		}
	}
	return h.Render.Render(w, http.StatusOK, "application", page)
}

func (h *HTTP) movePage(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Require(r)
	if err != nil {
		return err
	}
	id, err := appID(r, "id")
	if err != nil {
		return err
	}
	if err := r.ParseForm(); err != nil {
		return errs.E(errs.Invalid, "表单无法解析")
	}
	m := Move{To: State(r.FormValue("to")), Note: r.FormValue("note")}
	for _, line := range strings.Split(r.FormValue("reasons"), "\n") {
		if line = strings.TrimSpace(line); line != "" {
			m.Reasons = append(m.Reasons, line)
		}
	}
	for k, vs := range r.Form {
		prog, ok := strings.CutPrefix(k, "amount_")
		if !ok || len(vs) == 0 || strings.TrimSpace(vs[0]) == "" {
			continue
		}
		x, err := strconv.ParseFloat(strings.TrimSpace(vs[0]), 64)
		if err != nil {
			return errs.Field("amounts_fen."+prog, "金额“%s”应为数字（元）", vs[0])
		}
		if m.Amounts == nil {
			m.Amounts = map[string]int64{}
		}
		m.Amounts[prog] = int64(x*100 + 0.5)
	}
	if _, err := h.Service.Move(r.Context(), p, id, m); err != nil {
		return err
	}
	http.Redirect(w, r, fmt.Sprintf("/applications/%d?done=%s", id, url.QueryEscape(string(m.To))), http.StatusSeeOther)
	return nil
}

// yuanField reads a form field in yuan as fen; empty is 0.
func yuanField(r *http.Request, field string, fe *errs.Fields) int64 {
	v := strings.TrimSpace(r.FormValue(field))
	if v == "" {
		return 0
	}
	x, err := strconv.ParseFloat(v, 64)
	if err != nil || x < 0 || x > 1e9 {
		fe.Add(field, "“%s”应为不小于 0 的金额（元）", v)
		return 0
	}
	return int64(x*100 + 0.5)
}

func (h *HTTP) declarePage(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Require(r)
	if err != nil {
		return err
	}
	id, err := appID(r, "id")
	if err != nil {
		return err
	}
	if err := r.ParseForm(); err != nil {
		return errs.E(errs.Invalid, "表单无法解析")
	}
	var fe errs.Fields
	d := Declaration{IncomeFen: map[int64]int64{}, DepositsFen: yuanField(r, "deposits", &fe), SecuritiesFen: yuanField(r, "securities", &fe)}
	for k := range r.Form {
		if v, ok := strings.CutPrefix(k, "income_"); ok {
			pid, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				fe.Add(k, "成员编号“%s”无效", v)
				continue
			}
			d.IncomeFen[pid] = yuanField(r, k, &fe)
		}
	}
	for field, dst := range map[string]*int{"vehicles": &d.Vehicles, "properties": &d.Properties} {
		if v := strings.TrimSpace(r.FormValue(field)); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil {
				fe.Add(field, "“%s”应为整数", v)
			}
			*dst = n
		}
	}
	if err := fe.Err(); err != nil {
		return err
	}
	if err := h.Service.Declare(r.Context(), p, id, d); err != nil {
		return err
	}
	http.Redirect(w, r, fmt.Sprintf("/applications/%d", id), http.StatusSeeOther)
	return nil
}

func (h *HTTP) materialPage(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Require(r)
	if err != nil {
		return err
	}
	id, err := appID(r, "id")
	if err != nil {
		return err
	}
	if _, err := h.material(r, p, id); err != nil {
		return err
	}
	http.Redirect(w, r, fmt.Sprintf("/applications/%d#materials", id), http.StatusSeeOther)
	return nil
}

func (h *HTTP) material(r *http.Request, p auth.Principal, id int64) (Material, error) {
	r.Body = http.MaxBytesReader(nil, r.Body, MaxMaterialSize+1<<20)
	f, hdr, err := r.FormFile("file")
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return Material{}, errs.Field("file", "文件超过 %d MB", MaxMaterialSize>>20)
	}
	if err != nil {
		return Material{}, errs.Field("file", "请选择要上传的文件")
	}
	defer f.Close()
	return h.Service.AddMaterial(r.Context(), p, id, r.FormValue("kind"), hdr.Filename, f)
}

func (h *HTTP) download(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Require(r)
	if err != nil {
		return err
	}
	id, err := appID(r, "id")
	if err != nil {
		return err
	}
	mid, err := appID(r, "mid")
	if err != nil {
		return err
	}
	m, f, err := h.Service.OpenMaterial(r.Context(), p, id, mid)
	if err != nil {
		return err
	}
	defer f.Close()
	w.Header().Set("Content-Type", m.ContentType)
	w.Header().Set("Content-Disposition", mime.FormatMediaType("inline", map[string]string{"filename": m.FileName}))
	w.Header().Set("Cache-Control", "no-store")
	_, err = io.Copy(w, f)
	return err
}

// readTable reads the multipart file field "file" into a table.
func readTable(r *http.Request) (*tabular.Table, string, error) {
	r.Body = http.MaxBytesReader(nil, r.Body, MaxVerificationFile+1<<20)
	f, hdr, err := r.FormFile("file")
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return nil, "", errs.Field("file", "文件超过 %d MB", MaxVerificationFile>>20)
	}
	if err != nil {
		return nil, "", errs.Field("file", "请选择要上传的文件")
	}
	defer f.Close()
	t, err := tabular.Read(f, hdr.Filename, MaxVerificationFile)
	if err != nil {
		return nil, hdr.Filename, errs.Field("file", "%s", err.Error())
	}
	return t, hdr.Filename, nil
}

func (h *HTTP) verifyPage(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Require(r)
	if err != nil {
		return err
	}
	id, err := appID(r, "id")
	if err != nil {
		return err
	}
	t, name, err := readTable(r)
	if err != nil {
		return err
	}
	if _, err := h.Service.VerifyTable(r.Context(), p, id, t, name); err != nil {
		return err
	}
	http.Redirect(w, r, fmt.Sprintf("/applications/%d#verification", id), http.StatusSeeOther)
	return nil
}

// letterData is the decision letter (决定书).
type letterData struct {
	Case     Case
	Decision Step
	Office   string
}

// letter reads a decided case's letter: the case, its decision and the
// district office that issues it.
func (h *HTTP) letter(r *http.Request) (letterData, error) {
	p, err := web.Require(r)
	if err != nil {
		return letterData{}, err
	}
	id, err := appID(r, "id")
	if err != nil {
		return letterData{}, err
	}
	c, err := h.Service.Get(r.Context(), p, id)
	if err != nil {
		return letterData{}, err
	}
	if !c.State.Final() {
		return letterData{}, errs.E(errs.Conflict, "申请尚未办结，没有决定书")
	}
	d := letterData{Case: c, Office: h.Service.Tree.Name(c.Division[:min(6, len(c.Division))]) + "民政局"}
	for _, st := range c.Steps {
		if st.To == c.State {
			d.Decision = st
		}
	}
	return d, nil
}

// letterPDF serves the decision letter as a PDF (决定书), the same text as
// the printable page.
func (h *HTTP) letterPDF(w http.ResponseWriter, r *http.Request) error {
	d, err := h.letter(r)
	if err != nil {
		return err
	}
	c := d.Case
	doc := pdfdoc.New()
	doc.Line(d.Office, 20, true)
	title := "社会救助不予批准决定书"
	if c.State == Granted {
		title = "社会救助批准决定书"
	}
	doc.Line(title, 18, true)
	doc.Space(12)
	doc.Line(fmt.Sprintf("编号：%d", c.ID), 12, false)
	doc.Line(c.Applicant+"：", 12, false)
	doc.Line(fmt.Sprintf("你户于 %s 提出的社会救助申请，经经济状况核对、入户调查和公示，依据《上海市社会救助条例》，决定如下：", c.CreatedAt.In(shanghai).Format(dateFmt)), 12, false)
	for _, pr := range c.Programs {
		line := pr.Label + "：不予批准"
		if pr.Status == "granted" {
			line = pr.Label + "：批准"
			if pr.MonthlyFen > 0 {
				line += "，每月 " + yuan(pr.MonthlyFen) + " 元"
			}
			if pr.OneOffFen > 0 {
				line += "，一次性 " + yuan(pr.OneOffFen) + " 元"
			}
		}
		doc.Line("　　"+line, 12, false)
	}
	if len(d.Decision.Reasons) > 0 {
		doc.Line("理由：", 12, false)
		for i, reason := range d.Decision.Reasons {
			doc.Line(fmt.Sprintf("　　%d. %s", i+1, reason), 12, false)
		}
	}
	doc.Line("如对本决定不服，可以自收到本决定书之日起六十日内依法申请行政复议，或者在六个月内依法提起行政诉讼。", 12, false)
	doc.Space(24)
	doc.Line(d.Office, 12, false)
	doc.Line(c.DecidedOn, 12, false)
	w.Header().Set("Content-Type", "application/pdf")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`inline; filename="decision-%d.pdf"`, c.ID))
	_, err = doc.WriteTo(w)
	return err
}

func (h *HTTP) letterPage(w http.ResponseWriter, r *http.Request) error {
	d, err := h.letter(r)
	if err != nil {
		return err
	}
	page := web.PageFor(r, "决定书")
	page.Data = d
	return h.Render.Render(w, http.StatusOK, "letter", page)
}

// noticesData is the public notice page.
type noticesData struct {
	Notices []PublicNotice
	Sent    bool
}

func (h *HTTP) noticesPage(w http.ResponseWriter, r *http.Request) error {
	ns, err := h.Service.Notices(r.Context())
	if err != nil {
		return err
	}
	page := web.PageFor(r, "社会救助公示")
	page.Data = noticesData{Notices: ns, Sent: r.URL.Query().Get("sent") == "1"}
	return h.Render.Render(w, http.StatusOK, "notices", page)
}

// objectPage takes an anonymous objection to a public notice, within the
// budgets of the client's address (every attempt counts, accepted or not).
func (h *HTTP) objectPage(w http.ResponseWriter, r *http.Request) error {
	id, err := appID(r, "id")
	if err != nil {
		return err
	}
	addr := httpx.ClientIP(r)
	if !h.objections.Allow(h.Service.Now(),
		httpx.Limit{Key: "a:" + addr, N: objectionsPerTenMinutes, Per: 10 * time.Minute},
		httpx.Limit{Key: fmt.Sprintf("n:%d:%s", id, addr), N: objectionsPerDay, Per: 24 * time.Hour}) {
		return errs.E(errs.TooMany, "异议提交过于频繁，请稍后再试；如有急事，请直接联系街道（乡镇）社会救助窗口")
	}
	if err := h.Service.Object(r.Context(), id, r.FormValue("text"), r.FormValue("contact"), addr); err != nil {
		return err
	}
	http.Redirect(w, r, "/notices?sent=1", http.StatusSeeOther)
	return nil
}

// relativesData is the page of a staff member's relatives on file.
type relativesData struct {
	Relatives []Relative
	Error     *errs.Error
	Form      NewRelative
}

func (h *HTTP) relativesPage(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Require(r)
	if err != nil {
		return err
	}
	return h.renderRelatives(w, r, p, http.StatusOK, nil, NewRelative{})
}

func (h *HTTP) renderRelatives(w http.ResponseWriter, r *http.Request, p auth.Principal, status int, e *errs.Error, form NewRelative) error {
	rs, err := h.Service.Relatives(r.Context(), p)
	if err != nil {
		return err
	}
	form.IDNumber = ""
	page := web.PageFor(r, "经办人员亲属备案")
	page.Data = relativesData{Relatives: rs, Error: e, Form: form}
	return h.Render.Render(w, status, "relatives", page)
}

func (h *HTTP) relativeCreatePage(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Require(r)
	if err != nil {
		return err
	}
	nr := NewRelative{Name: r.FormValue("name"), IDNumber: r.FormValue("id_number"), Relation: r.FormValue("relation")}
	if _, err := h.Service.RegisterRelative(r.Context(), p, nr); err != nil {
		e := errs.As(err)
		if e == nil || e.Code != errs.Invalid {
			return err
		}
		return h.renderRelatives(w, r, p, http.StatusUnprocessableEntity, e, nr)
	}
	http.Redirect(w, r, "/relatives", http.StatusSeeOther)
	return nil
}

// API handlers.

func (h *HTTP) apiList(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Require(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	off, _ := strconv.Atoi(q.Get("offset"))
	limit, _ := strconv.Atoi(q.Get("limit"))
	res, err := h.Service.List(r.Context(), p, ListQuery{State: State(q.Get("state")), Overdue: q.Get("overdue") == "1", Offset: off, Limit: limit})
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, res)
	return nil
}

func (h *HTTP) apiCreate(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Require(r)
	if err != nil {
		return err
	}
	var na NewApplication
	if err := httpx.DecodeJSON(r, &na); err != nil {
		return err
	}
	a, err := h.Service.Create(r.Context(), p, na)
	if err != nil {
		return err
	}
	w.Header().Set("Location", fmt.Sprintf("/api/v1/applications/%d", a.ID))
	httpx.WriteJSON(w, http.StatusCreated, a)
	return nil
}

func (h *HTTP) apiOverdue(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Require(r)
	if err != nil {
		return err
	}
	cs, err := h.Service.Overdue(r.Context(), p)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, map[string]any{"districts": cs})
	return nil
}

func (h *HTTP) apiGet(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Require(r)
	if err != nil {
		return err
	}
	id, err := appID(r, "id")
	if err != nil {
		return err
	}
	c, err := h.Service.Get(r.Context(), p, id)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, c)
	return nil
}

func (h *HTTP) apiMove(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Require(r)
	if err != nil {
		return err
	}
	id, err := appID(r, "id")
	if err != nil {
		return err
	}
	var m Move
	if err := httpx.DecodeJSON(r, &m); err != nil {
		return err
	}
	a, err := h.Service.Move(r.Context(), p, id, m)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, a)
	return nil
}

func (h *HTTP) apiMaterial(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Require(r)
	if err != nil {
		return err
	}
	id, err := appID(r, "id")
	if err != nil {
		return err
	}
	m, err := h.material(r, p, id)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusCreated, m)
	return nil
}

func (h *HTTP) apiVerify(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Require(r)
	if err != nil {
		return err
	}
	id, err := appID(r, "id")
	if err != nil {
		return err
	}
	var rep Report
	if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data") {
		t, name, err := readTable(r)
		if err != nil {
			return err
		}
		rep, err = h.Service.VerifyTable(r.Context(), p, id, t, name)
		if err != nil {
			return err
		}
	} else {
		var b VerificationBatch
		if err := httpx.DecodeJSON(r, &b); err != nil {
			return err
		}
		if rep, err = h.Service.Verify(r.Context(), p, id, b); err != nil {
			return err
		}
	}
	httpx.WriteJSON(w, http.StatusCreated, rep)
	return nil
}

func (h *HTTP) apiRelative(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Require(r)
	if err != nil {
		return err
	}
	var nr NewRelative
	if err := httpx.DecodeJSON(r, &nr); err != nil {
		return err
	}
	rel, err := h.Service.RegisterRelative(r.Context(), p, nr)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusCreated, rel)
	return nil
}

// memberPage adds a household member the register lacks, from the case
// page's form.
func (h *HTTP) memberPage(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Require(r)
	if err != nil {
		return err
	}
	id, err := appID(r, "id")
	if err != nil {
		return err
	}
	np := registry.NewPerson{Name: r.FormValue("name"), IDNumber: r.FormValue("id_number"), Relation: r.FormValue("relation"),
		HukouDivision: r.FormValue("hukou_division"), ResidenceDivision: r.FormValue("residence_division")}
	if v := strings.TrimSpace(r.FormValue("monthly_income")); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return errs.Field("monthly_income", "月收入“%s”应为整数（元）", v)
		}
		np.MonthlyIncome = n
	}
	if _, err := h.Service.AddMember(r.Context(), p, id, np); err != nil {
		return err
	}
	http.Redirect(w, r, fmt.Sprintf("/applications/%d#members", id), http.StatusSeeOther)
	return nil
}

func (h *HTTP) apiMember(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Require(r)
	if err != nil {
		return err
	}
	id, err := appID(r, "id")
	if err != nil {
		return err
	}
	var np registry.NewPerson
	if err := httpx.DecodeJSON(r, &np); err != nil {
		return err
	}
	m, err := h.Service.AddMember(r.Context(), p, id, np)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusCreated, m)
	return nil
}
