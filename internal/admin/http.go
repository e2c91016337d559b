// Package admin serves the staff console around the platform services:
// login and logout, the role home page, staff accounts, API tokens and the
// audit log viewer. It is the HTTP face of auth and audit, which cannot
// import the web layer themselves.
package admin

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"minzheng/internal/audit"
	"minzheng/internal/auth"
	"minzheng/internal/division"
	"minzheng/internal/errs"
	"minzheng/internal/httpx"
	"minzheng/internal/tabular"
	"minzheng/internal/web"
)

// HTTP serves the console.
type HTTP struct {
	Auth      *auth.Service
	Audit     *audit.Log
	Divisions *division.Service
	Render    *web.Renderer
}

// Routes registers the handlers.
func (h *HTTP) Routes(r *httpx.Router) {
	r.H("GET /{$}", h.home)
	r.H("GET /login", h.loginPage)
	r.H("POST /login", h.login)
	r.H("POST /logout", h.logout)
	r.H("GET /users", h.usersPage)
	r.H("POST /users", h.createUser)
	r.H("GET /users/export.xlsx", h.exportUsers)
	r.H("GET /audit", h.auditPage)
	r.H("POST /audit/verify", h.verifyFragment)

	r.H("GET /api/v1/me", h.apiMe)
	r.H("GET /api/v1/users", h.apiUsers)
	r.H("POST /api/v1/users", h.apiCreateUser)
	r.H("GET /api/v1/audit", h.apiAudit)
	r.H("GET /api/v1/audit/verify", h.apiVerify)
}

func (h *HTTP) home(w http.ResponseWriter, r *http.Request) error {
	p, ok := auth.FromContext(r.Context())
	if !ok {
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return nil
	}
	page := web.PageFor(r, "首页")
	if n, err := h.Divisions.Node(r.Context(), p, p.Division); err == nil {
		page.Data = n
	}
	return h.Render.Render(w, http.StatusOK, "home", page)
}

type loginData struct {
	Name, Next, Error string
}

// safeNext returns next when it is a path on this site, else "/": it must
// start with a single "/" (not "//" or "/\", which browsers take for
// another host), have no scheme or host, and hold no control character
// (browsers drop tabs and line breaks, so "/\t/evil.example" is
// "//evil.example") — checked again after each of up to three rounds of
// percent-decoding, for whatever decodes it later.
func safeNext(next string) string {
	s := next
	for round := 0; ; round++ {
		if !strings.HasPrefix(s, "/") || strings.HasPrefix(s, "//") || strings.HasPrefix(s, "/\\") ||
			strings.IndexFunc(s, unicode.IsControl) >= 0 || !utf8.ValidString(s) {
			return "/"
		}
		if round == 3 || !strings.Contains(s, "%") {
			break
		}
		var err error
		if s, err = url.PathUnescape(s); err != nil {
			return "/"
		}
	}
	if u, err := url.Parse(next); err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" {
		return "/"
	}
	return next
}

func (h *HTTP) loginPage(w http.ResponseWriter, r *http.Request) error {
	page := web.PageFor(r, "登录")
	page.Data = loginData{Next: safeNext(r.URL.Query().Get("next"))}
	return h.Render.Render(w, http.StatusOK, "login", page)
}

func (h *HTTP) login(w http.ResponseWriter, r *http.Request) error {
	name := strings.TrimSpace(r.FormValue("name"))
	next := safeNext(r.FormValue("next"))
	s, err := h.Auth.Login(r.Context(), name, r.FormValue("password"), httpx.ClientIP(r))
	if err != nil {
		e := errs.As(err)
		if e == nil || (e.Code != errs.Unauthorized && e.Code != errs.TooMany) {
			return err
		}
		page := web.PageFor(r, "登录")
		page.Data = loginData{Name: name, Next: next, Error: e.Message}
		return h.Render.Render(w, errs.Status(e.Code), "login", page)
	}
	web.SetSession(w, r, s.Token)
	http.Redirect(w, r, next, http.StatusSeeOther)
	return nil
}

func (h *HTTP) logout(w http.ResponseWriter, r *http.Request) error {
	if c, err := r.Cookie(web.CookieName); err == nil {
		h.Auth.Logout(r.Context(), c.Value)
	}
	web.ClearSession(w, r)
	http.Redirect(w, r, "/login", http.StatusSeeOther)
	return nil
}

type usersData struct {
	Users    []auth.User
	Roles    []auth.Role
	Created  *auth.User
	Password string
	Error    *errs.Error
}

func (h *HTTP) usersPage(w http.ResponseWriter, r *http.Request) error {
	return h.renderUsers(w, r, usersData{}, http.StatusOK)
}

func (h *HTTP) renderUsers(w http.ResponseWriter, r *http.Request, d usersData, status int) error {
	p, err := web.Require(r)
	if err != nil {
		return err
	}
	if d.Users, err = h.Auth.ListUsers(r.Context(), p); err != nil {
		return err
	}
	d.Roles = auth.Roles
	page := web.PageFor(r, "账号管理")
	page.Data = d
	return h.Render.Render(w, status, "users", page)
}

func (h *HTTP) createUser(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Require(r)
	if err != nil {
		return err
	}
	u, pw, err := h.Auth.CreateUser(r.Context(), p, auth.NewUser{Name: r.FormValue("name"), Display: r.FormValue("display_name"),
		Role: auth.Role(r.FormValue("role")), Division: strings.TrimSpace(r.FormValue("division"))})
	if err != nil {
		e := errs.As(err)
		if e == nil || e.Code != errs.Invalid {
			return err
		}
		return h.renderUsers(w, r, usersData{Error: e}, http.StatusUnprocessableEntity)
	}
	return h.renderUsers(w, r, usersData{Created: &u, Password: pw}, http.StatusOK)
}

func (h *HTTP) exportUsers(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Require(r)
	if err != nil {
		return err
	}
	us, err := h.Auth.ListUsers(r.Context(), p)
	if err != nil {
		return err
	}
	rows := make([][]string, 0, len(us))
	for _, u := range us {
		rows = append(rows, []string{u.Name, u.Display, u.Role.Label(), u.Division, h.Divisions.Tree.FullName(u.Division), u.CreatedAt.Format("2006-01-02 15:04")})
	}
	w.Header().Set("Content-Type", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
	w.Header().Set("Content-Disposition", `attachment; filename="users.xlsx"`)
	return tabular.WriteXLSX(w, "工作人员账号", []string{"用户名", "姓名", "角色", "辖区代码", "辖区", "创建时间"}, rows)
}

type auditData struct {
	Entries []audit.Entry
	Filter  audit.Filter
	Older   int64
}

func (h *HTTP) requireAudit(r *http.Request) (auth.Principal, error) {
	p, err := web.Require(r)
	if err != nil {
		return p, err
	}
	if !p.Can(auth.AuditRead) {
		return p, errs.E(errs.Forbidden, "您的角色无权查看审计日志")
	}
	if !p.Scope().CityWide() {
		// Entries are not tagged with a district yet, so a district-level
		// account would see the whole city's log.
		return p, errs.E(errs.Forbidden, "审计日志目前只对全市范围的审计员和市管理员开放")
	}
	return p, nil
}

func auditFilter(r *http.Request) audit.Filter {
	q := r.URL.Query()
	before, _ := strconv.ParseInt(q.Get("before"), 10, 64)
	limit, _ := strconv.Atoi(q.Get("limit"))
	return audit.Filter{Actor: q.Get("actor"), Action: q.Get("action"), Entity: q.Get("entity"), EntityID: q.Get("entity_id"), BeforeID: before, Limit: limit}
}

func (h *HTTP) auditPage(w http.ResponseWriter, r *http.Request) error {
	if _, err := h.requireAudit(r); err != nil {
		return err
	}
	f := auditFilter(r)
	entries, err := h.Audit.List(r.Context(), f)
	if err != nil {
		return err
	}
	d := auditData{Entries: entries, Filter: f}
	if n := len(entries); n > 0 && entries[n-1].ID > 1 {
		d.Older = entries[n-1].ID
	}
	page := web.PageFor(r, "审计日志")
	page.Data = d
	return h.Render.Render(w, http.StatusOK, "audit", page)
}

func (h *HTTP) verify(ctx context.Context, p auth.Principal) (audit.Result, error) {
	res, err := h.Audit.Verify(ctx)
	if err != nil {
		return res, err
	}
	detail := "审计日志哈希链校验：完整"
	if !res.OK {
		detail = "审计日志哈希链校验：" + res.Reason
	}
	err = h.Audit.Record(ctx, audit.Entry{Actor: p.Name, Role: string(p.Role), Action: "audit.verify", Entity: "audit_log", EntityID: "*", Detail: detail, Remote: p.Remote})
	return res, err
}

func (h *HTTP) verifyFragment(w http.ResponseWriter, r *http.Request) error {
	p, err := h.requireAudit(r)
	if err != nil {
		return err
	}
	res, err := h.verify(r.Context(), p)
	if err != nil {
		return err
	}
	page := web.PageFor(r, "")
	page.Data = res
	return h.Render.Fragment(w, "audit", "verify", page)
}

func (h *HTTP) apiMe(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Require(r)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, map[string]any{"name": p.Name, "role": p.Role, "division": p.Division,
		"division_name": h.Divisions.Tree.Name(p.Division)})
	return nil
}

func (h *HTTP) apiUsers(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Require(r)
	if err != nil {
		return err
	}
	us, err := h.Auth.ListUsers(r.Context(), p)
	if err != nil {
		return err
	}
	if us == nil {
		us = []auth.User{}
	}
	httpx.WriteJSON(w, http.StatusOK, map[string]any{"total": len(us), "items": us})
	return nil
}

func (h *HTTP) apiCreateUser(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Require(r)
	if err != nil {
		return err
	}
	var nu auth.NewUser
	if err := httpx.DecodeJSON(r, &nu); err != nil {
		return err
	}
	u, pw, err := h.Auth.CreateUser(r.Context(), p, nu)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusCreated, map[string]any{"user": u, "password": pw})
	return nil
}

func (h *HTTP) apiAudit(w http.ResponseWriter, r *http.Request) error {
	if _, err := h.requireAudit(r); err != nil {
		return err
	}
	entries, err := h.Audit.List(r.Context(), auditFilter(r))
	if err != nil {
		return err
	}
	if entries == nil {
		entries = []audit.Entry{}
	}
	httpx.WriteJSON(w, http.StatusOK, map[string]any{"items": entries})
	return nil
}

func (h *HTTP) apiVerify(w http.ResponseWriter, r *http.Request) error {
	p, err := h.requireAudit(r)
	if err != nil {
		return err
	}
	res, err := h.verify(r.Context(), p)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, res)
	return nil
}
