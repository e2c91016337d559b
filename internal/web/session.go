package web

import (
	"context"
	"crypto/subtle"
	"net/http"
	"strings"
	"time"

	"minzheng/internal/auth"
	"minzheng/internal/errs"
	"minzheng/internal/httpx"
)

// CookieName is the session cookie.
const CookieName = "mz_session"

type csrfKey struct{}

// CSRF returns the session's CSRF token in ctx.
func CSRF(ctx context.Context) string {
	s, _ := ctx.Value(csrfKey{}).(string)
	return s
}

// Authenticate puts the caller's principal in the request context: from a
// bearer token on /api/, from the session cookie elsewhere. Unsafe methods
// with a session must carry the CSRF token (form field csrf or header
// X-CSRF-Token). Requests without credentials pass through anonymous;
// handlers that need a principal call Require.
func Authenticate(svc *auth.Service, x httpx.Errors, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		remote := httpx.ClientIP(r)
		if httpx.IsAPI(r) {
			if h := r.Header.Get("Authorization"); h != "" {
				scheme, token, ok := strings.Cut(h, " ")
				if !ok || !strings.EqualFold(scheme, "Bearer") {
					x.Write(w, r, errs.E(errs.Unauthorized, "Authorization 头应为 Bearer 令牌"))
					return
				}
				u, err := svc.UserByToken(ctx, strings.TrimSpace(token))
				if err != nil {
					x.Write(w, r, err)
					return
				}
				ctx = auth.WithPrincipal(ctx, u.Principal(remote))
			}
			next.ServeHTTP(w, r.WithContext(ctx))
			return
		}
		if c, err := r.Cookie(CookieName); err == nil && c.Value != "" {
			if s, err := svc.SessionByToken(ctx, c.Value); err == nil {
				ctx = auth.WithPrincipal(ctx, s.User.Principal(remote))
				ctx = context.WithValue(ctx, csrfKey{}, s.CSRF)
				if r.Method != http.MethodGet && r.Method != http.MethodHead {
					got := r.Header.Get("X-CSRF-Token")
					if got == "" {
						got = r.FormValue("csrf")
					}
					if subtle.ConstantTimeCompare([]byte(got), []byte(s.CSRF)) != 1 {
						x.Write(w, r, errs.E(errs.Forbidden, "页面已过期（CSRF 校验失败），请刷新后重试"))
						return
					}
				}
			}
		}
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// Require returns the caller or an Unauthorized error.
func Require(r *http.Request) (auth.Principal, error) {
	p, ok := auth.FromContext(r.Context())
	if !ok {
		return auth.Principal{}, errs.E(errs.Unauthorized, "请先登录，或在 Authorization 头中提供接口令牌")
	}
	return p, nil
}

// SetSession sets the session cookie.
func SetSession(w http.ResponseWriter, r *http.Request, token string) {
	http.SetCookie(w, &http.Cookie{Name: CookieName, Value: token, Path: "/", HttpOnly: true, Secure: r.TLS != nil,
		SameSite: http.SameSiteLaxMode, Expires: time.Now().Add(auth.SessionTTL)})
}

// ClearSession removes the session cookie.
func ClearSession(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: CookieName, Value: "", Path: "/", HttpOnly: true, MaxAge: -1})
}

// PageFor starts a Page for the request: the caller, the CSRF token, the
// navigation for the caller's role and the language (?lang=zh|en, else the
// lang cookie that Language sets, else Chinese).
func PageFor(r *http.Request, title string) *Page {
	p := &Page{Title: title, CSRF: CSRF(r.Context()), Lang: requestLang(r)}
	if u, ok := auth.FromContext(r.Context()); ok {
		p.User = &u
		p.Nav = navFor(u)
	}
	return p
}

func navFor(u auth.Principal) []NavItem {
	nav := []NavItem{{"/", "首页"}}
	if u.Can(auth.DivisionRead) {
		nav = append(nav, NavItem{"/divisions/" + u.Division, "行政区划"})
	}
	if u.Can(auth.PersonRead) {
		nav = append(nav, NavItem{"/persons", "人员查询"})
	}
	if u.Can(auth.PersonImport) {
		nav = append(nav, NavItem{"/import", "批量导入"})
	}
	if u.Can(auth.MonitorRead) {
		nav = append(nav, NavItem{"/monitor", "动态监测"})
	}
	if u.Can(auth.MonitorVisit) {
		nav = append(nav, NavItem{"/monitor/tasks", "走访任务"})
	}
	if u.Can(auth.ApplicationRead) {
		nav = append(nav, NavItem{"/applications", "社会救助"})
	}
	if u.Can(auth.RelativeRegister) {
		nav = append(nav, NavItem{"/relatives", "亲属备案"})
	}
	if u.Can(auth.UserAdmin) {
		nav = append(nav, NavItem{"/users", "账号管理"})
	}
	if u.Can(auth.AuditRead) {
		nav = append(nav, NavItem{"/audit", "审计日志"})
	}
	if u.Can(auth.DivisionRead) {
		nav = append(nav, NavItem{"/policies", "政策参数"})
	}
	if u.Can(auth.PayrollRead) {
		nav = append(nav, NavItem{"/payroll", "待遇发放"})
	}
	if u.Can(auth.SystemOperate) && u.Prefix() == "31" {
		nav = append(nav, NavItem{"/proactive", "免申即享"})
		nav = append(nav, NavItem{"/simulate", "政策模拟"})
	}
	return nav
}
