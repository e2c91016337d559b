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
	http.SetCookie(w, &http.Cookie{Name: CookieName, Value: token, Path: "/", HttpOnly: true, Secure: httpx.Secure(r),
		SameSite: http.SameSiteLaxMode, Expires: time.Now().Add(auth.SessionTTL)})
}

// ClearSession removes the session cookie.
func ClearSession(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{Name: CookieName, Value: "", Path: "/", HttpOnly: true, Secure: httpx.Secure(r),
		SameSite: http.SameSiteLaxMode, MaxAge: -1})
}

// PageFor starts a Page for the request: the caller, the CSRF token and the
// language (?lang=zh|en, else the lang cookie that Language sets, else
// Chinese). Render adds the caller's navigation.
func PageFor(r *http.Request, title string) *Page {
	p := &Page{Title: title, CSRF: CSRF(r.Context()), Lang: requestLang(r)}
	if u, ok := auth.FromContext(r.Context()); ok {
		p.User = &u
	}
	return p
}
