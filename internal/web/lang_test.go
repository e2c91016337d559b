package web_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"minzheng/internal/web"
)

func TestLanguage(t *testing.T) {
	for _, c := range []struct {
		name       string
		target     string
		cookie     string // lang cookie sent; "" for none
		wantLang   string // PageFor's language
		wantCookie string // lang cookie set; "" for none
	}{
		{"default", "/persons", "", "zh", ""},
		{"ask for English", "/persons?lang=en", "", "en", "en"},
		{"ask for Chinese", "/persons?q=x&lang=zh", "", "zh", "zh"},
		{"remembered English", "/persons", "en", "en", ""},
		{"remembered Chinese", "/persons", "zh", "zh", ""},
		{"switch back to Chinese", "/persons?lang=zh", "en", "zh", "zh"},
		{"switch to English", "/persons?lang=en", "zh", "en", "en"},
		{"same choice again", "/persons?lang=en", "en", "en", ""},
		{"unknown language", "/persons?lang=fr", "", "zh", ""},
		{"unknown language keeps the cookie", "/persons?lang=fr", "en", "en", ""},
		{"unknown cookie", "/persons", "fr", "zh", ""},
		{"API", "/api/v1/persons?lang=en", "", "en", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			req := httptest.NewRequest("GET", c.target, nil)
			if c.cookie != "" {
				req.AddCookie(&http.Cookie{Name: web.LangCookie, Value: c.cookie})
			}
			var lang string
			h := web.Language(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				lang = web.PageFor(r, "首页").Lang
			}))
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			if lang != c.wantLang {
				t.Errorf("PageFor: Lang = %q, want %q", lang, c.wantLang)
			}
			var set *http.Cookie
			for _, k := range w.Result().Cookies() {
				if k.Name == web.LangCookie {
					set = k
				}
			}
			switch {
			case c.wantCookie == "" && set != nil:
				t.Errorf("set cookie %v, want none", set)
			case c.wantCookie != "" && set == nil:
				t.Errorf("no lang cookie, want %q", c.wantCookie)
			case set != nil:
				if set.Value != c.wantCookie || set.Path != "/" || set.MaxAge <= 0 || set.SameSite != http.SameSiteLaxMode || !set.HttpOnly {
					t.Errorf("cookie %v, want %s=%s; Path=/; Max-Age>0; HttpOnly; SameSite=Lax", set, web.LangCookie, c.wantCookie)
				}
			}
		})
	}
}
