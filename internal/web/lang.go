package web

import (
	"net/http"

	"minzheng/internal/httpx"
)

// LangCookie is the cookie that remembers the UI language ("zh" or "en").
const LangCookie = "lang"

// langCookieAge is how long the language choice is remembered.
const langCookieAge = 365 * 24 * 60 * 60

// queryLang returns the language asked for with ?lang=zh or ?lang=en.
func queryLang(r *http.Request) (string, bool) {
	switch l := r.URL.Query().Get("lang"); l {
	case "zh", "en":
		return l, true
	}
	return "", false
}

// requestLang is the language of the page for r: ?lang=zh|en, else the
// lang cookie, else Chinese.
func requestLang(r *http.Request) string {
	if l, ok := queryLang(r); ok {
		return l
	}
	if c, err := r.Cookie(LangCookie); err == nil && c.Value == "en" {
		return "en"
	}
	return "zh"
}

// Language remembers an explicit ?lang=zh or ?lang=en in the lang cookie,
// so that the choice holds on the following pages, on htmx requests (which
// carry no ?lang) and after form posts. The page itself is rendered in the
// requested language by PageFor. API requests are left alone.
func Language(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if l, ok := queryLang(r); ok && !httpx.IsAPI(r) {
			if c, err := r.Cookie(LangCookie); err != nil || c.Value != l {
				http.SetCookie(w, &http.Cookie{Name: LangCookie, Value: l, Path: "/", MaxAge: langCookieAge,
					HttpOnly: true, Secure: httpx.Secure(r), SameSite: http.SameSiteLaxMode})
			}
		}
		next.ServeHTTP(w, r)
	})
}
