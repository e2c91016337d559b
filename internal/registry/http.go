package registry

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"minzheng/internal/errs"
	"minzheng/internal/httpx"
	"minzheng/internal/tabular"
	"minzheng/internal/web"
)

// MaxUpload is the largest import file accepted (64 MiB).
const MaxUpload = 64 << 20

// HTTP serves people search, profiles, registration, import and export,
// as pages and as the JSON API.
type HTTP struct {
	Service *Service
	Render  *web.Renderer
}

// Routes registers the handlers.
func (h *HTTP) Routes(r *httpx.Router) {
	r.H("GET /persons", h.searchPage)
	r.H("GET /persons/new", h.newPage)
	r.H("POST /persons/new", h.createPage)
	r.H("GET /persons/export.xlsx", h.export)
	r.H("GET /persons/{id}", h.profilePage)
	r.H("POST /persons/{id}/id-number", h.revealFragment)
	r.H("POST /persons/{id}/weak-guardianship", h.guardianship)
	r.H("GET /import", h.importPage)
	r.H("POST /import", h.importUpload)
	r.H("GET /import/template.xlsx", h.importTemplate)

	r.H("GET /api/v1/persons", h.apiSearch)
	r.H("POST /api/v1/persons", h.apiCreate)
	r.H("GET /api/v1/persons/export.xlsx", h.export)
	r.H("GET /api/v1/persons/{id}", h.apiGet)
	r.H("PATCH /api/v1/persons/{id}", h.apiUpdate)
	r.H("GET /api/v1/persons/{id}/id-number", h.apiReveal)
	r.H("POST /api/v1/persons/import", h.apiImport)
}

const pageSize = 20

type searchData struct {
	Q                      string
	Result                 SearchResult
	Prev, Next             bool
	PrevOffset, NextOffset int
}

func (h *HTTP) searchPage(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Require(r)
	if err != nil {
		return err
	}
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	off, _ := strconv.Atoi(r.URL.Query().Get("offset"))
	res, err := h.Service.Search(r.Context(), p, Query{Q: q, Offset: off, Limit: pageSize})
	if err != nil {
		return err
	}
	page := web.PageFor(r, "人员查询")
	page.Data = searchData{Q: q, Result: res, Prev: off > 0, PrevOffset: max(off-pageSize, 0),
		Next: int64(off+pageSize) < res.Total, NextOffset: off + pageSize}
	return h.Render.Render(w, http.StatusOK, "persons", page)
}

func pathID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, errs.E(errs.NotFound, "人员编号“%s”无效", r.PathValue("id"))
	}
	return id, nil
}

func (h *HTTP) profilePage(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Require(r)
	if err != nil {
		return err
	}
	id, err := pathID(r)
	if err != nil {
		return err
	}
	pr, err := h.Service.Get(r.Context(), p, id)
	if err != nil {
		return err
	}
	page := web.PageFor(r, pr.Name)
	page.Data = pr
	return h.Render.Render(w, http.StatusOK, "person", page)
}

// guardianship sets or clears 弱监护 from the profile page.
func (h *HTTP) guardianship(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Require(r)
	if err != nil {
		return err
	}
	id, err := pathID(r)
	if err != nil {
		return err
	}
	var weak bool
	switch r.FormValue("weak_guardianship") {
	case "1":
		weak = true
	case "0":
	default:
		return errs.Field("weak_guardianship", "弱监护应为 1（标记）或 0（取消）")
	}
	if _, err := h.Service.UpdateFacts(r.Context(), p, id, FactsUpdate{WeakGuardianship: &weak}); err != nil {
		return err
	}
	http.Redirect(w, r, fmt.Sprintf("/persons/%d", id), http.StatusSeeOther)
	return nil
}

func (h *HTTP) revealFragment(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Require(r)
	if err != nil {
		return err
	}
	id, err := pathID(r)
	if err != nil {
		return err
	}
	number, err := h.Service.RevealID(r.Context(), p, id)
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	page := web.PageFor(r, "")
	page.Data = number
	return h.Render.Fragment(w, "person", "fullid", page)
}

type newData struct {
	Form      NewPerson
	Fields    map[string]string
	Error     *errs.Error
	Relations []Relation
}

var relations = []Relation{Head, Spouse, Child, Parent, Grandchild, Other}

func (h *HTTP) newPage(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Require(r)
	if err != nil {
		return err
	}
	if err := MayCreate(p); err != nil {
		return err
	}
	page := web.PageFor(r, "登记人员")
	page.Data = newData{Form: NewPerson{ResidenceDivision: p.Division, Relation: string(Head)}, Fields: map[string]string{}, Relations: relations}
	return h.Render.Render(w, http.StatusOK, "person_new", page)
}

func (h *HTTP) createPage(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Require(r)
	if err != nil {
		return err
	}
	np := NewPerson{Name: r.FormValue("name"), IDNumber: r.FormValue("id_number"), HukouDivision: r.FormValue("hukou_division"),
		ResidenceDivision: r.FormValue("residence_division"), Relation: r.FormValue("relation"), Address: r.FormValue("address")}
	fields := map[string]string{}
	if v := strings.TrimSpace(r.FormValue("household_id")); v != "" {
		if np.HouseholdID, err = strconv.ParseInt(v, 10, 64); err != nil {
			fields["household_id"] = "户编号应为数字"
		}
	}
	if v := strings.TrimSpace(r.FormValue("monthly_income")); v != "" {
		if np.MonthlyIncome, err = strconv.ParseInt(v, 10, 64); errors.Is(err, strconv.ErrRange) {
			fields["monthly_income"] = msgIncome
		} else if err != nil {
			fields["monthly_income"] = "月收入应为整数（元）"
		}
	}
	var e *errs.Error
	if len(fields) == 0 {
		x, err := h.Service.Create(r.Context(), p, np)
		if err == nil {
			http.Redirect(w, r, fmt.Sprintf("/persons/%d", x.ID), http.StatusSeeOther)
			return nil
		}
		if e = errs.As(err); e == nil || e.Code != errs.Invalid {
			return err
		}
		for _, f := range e.Fields {
			fields[f.Field] = f.Message
		}
	}
	if e == nil {
		e = errs.E(errs.Invalid, "请修改下面标出的字段")
	}
	page := web.PageFor(r, "登记人员")
	page.Data = newData{Form: np, Fields: fields, Error: e, Relations: relations}
	return h.Render.Render(w, http.StatusUnprocessableEntity, "person_new", page)
}

// exportHeader is the header of person exports; ID numbers are masked.
var exportHeader = []string{"编号", "姓名", "身份证号（脱敏）", "性别", "出生日期", "户籍地代码", "户籍地", "居住地代码", "居住地", "户编号", "与户主关系", "死亡日期"}

func (h *HTTP) export(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Require(r)
	if err != nil {
		return err
	}
	if err := MayExport(p); err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="persons-%s.xlsx"`, time.Now().Format("20060102-1504")))
	xw, err := tabular.NewXLSXWriter(w, "人员名单", exportHeader)
	if err != nil {
		return err
	}
	tree := h.Service.tree
	_, err = h.Service.Each(r.Context(), p, r.URL.Query().Get("q"), func(x Person) error {
		return xw.Write([]string{strconv.FormatInt(x.ID, 10), x.Name, x.IDMasked, x.SexLabel(), x.BirthDate, x.HukouDivision, tree.FullName(x.HukouDivision),
			x.ResidenceDivision, tree.FullName(x.ResidenceDivision), strconv.FormatInt(x.HouseholdID, 10), x.Relation.Label(), x.DeathDate})
	})
	if err != nil {
		return err
	}
	return xw.Close()
}

type importData struct {
	FileName string
	Report   *ImportReport
	Error    string
}

func (h *HTTP) importPage(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Require(r)
	if err != nil {
		return err
	}
	if err := MayImport(p); err != nil {
		return err
	}
	page := web.PageFor(r, "批量导入")
	page.Data = importData{}
	return h.Render.Render(w, http.StatusOK, "import", page)
}

// readUpload reads the multipart file field "file" into a table.
func readUpload(r *http.Request) (*tabular.Table, string, error) {
	r.Body = http.MaxBytesReader(nil, r.Body, MaxUpload+1<<20)
	f, hdr, err := r.FormFile("file")
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return nil, "", errs.Field("file", "文件超过 %d MB 的上限，请拆分后分批导入", MaxUpload>>20)
	}
	if err != nil {
		return nil, "", errs.Field("file", "请选择要上传的文件")
	}
	defer f.Close()
	t, err := ParseFile(tabular.Read(f, hdr.Filename, MaxUpload))
	return t, hdr.Filename, err
}

func (h *HTTP) importUpload(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Require(r)
	if err != nil {
		return err
	}
	page := web.PageFor(r, "批量导入")
	data := importData{}
	t, name, err := readUpload(r)
	data.FileName = name
	if err == nil {
		var rep ImportReport
		rep, err = h.Service.Import(r.Context(), p, t, ImportOptions{GoodOnly: r.FormValue("good_only") == "1"})
		data.Report = &rep
	}
	status := http.StatusOK
	if err != nil {
		e := errs.As(err)
		if e == nil || e.Code == errs.Internal {
			return err
		}
		data.Report, data.Error, status = nil, e.Message, errs.Status(e.Code)
	}
	page.Data = data
	return h.Render.Render(w, status, "import", page)
}

func (h *HTTP) importTemplate(w http.ResponseWriter, r *http.Request) error {
	if _, err := web.Require(r); err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
	w.Header().Set("Content-Disposition", `attachment; filename="import-template.xlsx"`)
	header := []string{"户号", "姓名", "身份证号", "与户主关系", "户籍地代码", "居住地代码", "出生日期", "月收入", "残疾类别", "残疾等级", "死亡日期", "地址"}
	return tabular.WriteXLSX(w, "人员导入", header, [][]string{
		{"H0001", "张三", "310104195001010017", "户主", "310104003001", "310104003001", "1950-01-01", "4500", "", "0", "", "天平路 1 号"},
	})
}

// API handlers.

func (h *HTTP) apiSearch(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Require(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	off, _ := strconv.Atoi(q.Get("offset"))
	limit, _ := strconv.Atoi(q.Get("limit"))
	res, err := h.Service.Search(r.Context(), p, Query{Q: q.Get("q"), Offset: off, Limit: limit})
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, res)
	return nil
}

func (h *HTTP) apiGet(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Require(r)
	if err != nil {
		return err
	}
	id, err := pathID(r)
	if err != nil {
		return err
	}
	pr, err := h.Service.Get(r.Context(), p, id)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, pr)
	return nil
}

func (h *HTTP) apiReveal(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Require(r)
	if err != nil {
		return err
	}
	id, err := pathID(r)
	if err != nil {
		return err
	}
	number, err := h.Service.RevealID(r.Context(), p, id)
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	httpx.WriteJSON(w, http.StatusOK, map[string]any{"id": id, "id_number": number})
	return nil
}

func (h *HTTP) apiCreate(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Require(r)
	if err != nil {
		return err
	}
	var np NewPerson
	if err := decodeJSON(r, &np); err != nil {
		return err
	}
	x, err := h.Service.Create(r.Context(), p, np)
	if err != nil {
		return err
	}
	w.Header().Set("Location", fmt.Sprintf("/api/v1/persons/%d", x.ID))
	httpx.WriteJSON(w, http.StatusCreated, x)
	return nil
}

func (h *HTTP) apiImport(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Require(r)
	if err != nil {
		return err
	}
	t, _, err := readUpload(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	rep, err := h.Service.Import(r.Context(), p, t, ImportOptions{GoodOnly: q.Get("good_only") == "1", DryRun: q.Get("dry_run") == "1"})
	if err != nil {
		return err
	}
	status := http.StatusOK
	if rep.Bad > 0 && !rep.Written {
		status = http.StatusUnprocessableEntity
	}
	httpx.WriteJSON(w, status, rep)
	return nil
}

func (h *HTTP) apiUpdate(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Require(r)
	if err != nil {
		return err
	}
	id, err := pathID(r)
	if err != nil {
		return err
	}
	var u FactsUpdate
	if err := decodeJSON(r, &u); err != nil {
		return err
	}
	x, err := h.Service.UpdateFacts(r.Context(), p, id, u)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, x)
	return nil
}

// decodeJSON is httpx.DecodeJSON giving a monthly income that is not a
// whole number of yuan or does not fit an int64 the service's message,
// so that the API answers as the service does for any income out of
// bounds.
func decodeJSON(r *http.Request, v any) error {
	err := httpx.DecodeJSON(r, v)
	if e := errs.As(err); e != nil && len(e.Fields) == 1 && e.Fields[0].Field == "monthly_income" {
		return errs.Field("monthly_income", "%s", msgIncome)
	}
	return err
}
