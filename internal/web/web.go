// Package web renders the server-side HTML of the staff and resident UI:
// the layout, the page templates of every business line (embedded, parsed
// once at start so a missing template fails at boot), the static assets
// (htmx, styles) and the message catalogue for English (i18n: the Chinese
// text is the key; English is looked up from messages_en.json).
package web

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"path"
	"strings"
	"time"

	"minzheng/internal/auth"
	"minzheng/internal/errs"
)

//go:embed templates/*.html
var templateFS embed.FS // the layout and the error page; lines bring their pages

//go:embed static
var staticFS embed.FS

//go:embed messages_en.json
var messagesEN []byte

// Static serves the embedded assets under /static/: files only, a folder
// (or anything that is not a file) is 404, never a listing.
func Static() http.Handler {
	sub, _ := fs.Sub(staticFS, "static")
	fsrv := http.StripPrefix("/static/", http.FileServer(http.FS(sub)))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimPrefix(r.URL.Path, "/static/")
		if fi, err := fs.Stat(sub, name); err != nil || !fi.Mode().IsRegular() {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Cache-Control", "public, max-age=3600")
		fsrv.ServeHTTP(w, r)
	})
}

// NavItem is a link in the top navigation.
type NavItem struct {
	Href  string
	Label string
}

// NavEntry is a business line's entry in the top navigation: shown to the
// callers Show accepts (everyone when nil), at its Order among all entries.
type NavEntry struct {
	Order   int
	Href    string
	HrefFor func(auth.Principal) string // the link for the caller, when it depends on them
	Label   string                      // Chinese; translated through the catalogue
	Show    func(auth.Principal) bool
}

// CanNav returns a Show that accepts the callers holding perm.
func CanNav(perm auth.Permission) func(auth.Principal) bool {
	return func(p auth.Principal) bool { return p.Can(perm) }
}

// Page is what every template receives.
type Page struct {
	Title string
	Lang  string
	User  *auth.Principal
	CSRF  string
	Nav   []NavItem
	Flash string
	Data  any
	Now   time.Time
}

// Renderer renders named pages inside the layout.
type Renderer struct {
	pages map[string]*template.Template
	en    map[string]string
	log   *slog.Logger
	// DivisionName resolves a division code for templates.
	DivisionName func(code string) string
	// Nav gives the top navigation of a signed-in caller.
	Nav func(auth.Principal) []NavItem
}

// NewRenderer parses the layout, the error page and the page templates of
// each of pages (an FS with *.html at its root, one per business line); it
// fails when one is broken or two pages share a name.
func NewRenderer(log *slog.Logger, divisionName func(string) string, pages ...fs.FS) (*Renderer, error) {
	r := &Renderer{pages: map[string]*template.Template{}, log: log, DivisionName: divisionName}
	if err := json.Unmarshal(messagesEN, &r.en); err != nil {
		return nil, fmt.Errorf("web: messages_en.json: %w", err)
	}
	funcs := template.FuncMap{
		"t":         func(lang, s string) string { return r.translate(lang, s) },
		"division":  func(code string) string { return r.divisionName(code) },
		"roleLabel": func(role auth.Role) string { return role.Label() },
		"date": func(t time.Time) string {
			if t.IsZero() {
				return ""
			}
			return t.In(shanghai).Format("2006-01-02 15:04")
		},
		"add":       func(a, b int) int { return a + b },
		"can":       func(p *auth.Principal, perm string) bool { return p != nil && p.Can(auth.Permission(perm)) },
		"query":     func(s string) template.URL { return template.URL(template.URLQueryEscaper(s)) },
		"thousands": thousands,
		"yuan":      yuan,
	}
	layout, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html")
	if err != nil {
		return nil, fmt.Errorf("web: layout: %w", err)
	}
	own, _ := fs.Sub(templateFS, "templates")
	for _, fsys := range append([]fs.FS{own}, pages...) {
		names, err := fs.Glob(fsys, "*.html")
		if err != nil {
			return nil, fmt.Errorf("web: templates: %w", err)
		}
		for _, n := range names {
			base := path.Base(n)
			if base == "layout.html" {
				continue
			}
			name := strings.TrimSuffix(base, ".html")
			if _, dup := r.pages[name]; dup {
				return nil, fmt.Errorf("web: two page templates are named %s", base)
			}
			t, err := template.Must(layout.Clone()).ParseFS(fsys, n)
			if err != nil {
				return nil, fmt.Errorf("web: template %s: %w", base, err)
			}
			r.pages[name] = t
		}
	}
	return r, nil
}

var shanghai = time.FixedZone("CST", 8*3600)

func (r *Renderer) divisionName(code string) string {
	if r.DivisionName == nil || code == "" {
		return code
	}
	if n := r.DivisionName(code); n != "" {
		return n
	}
	return code
}

func (r *Renderer) translate(lang, s string) string {
	if lang == "en" {
		if v, ok := r.en[s]; ok {
			return v
		}
	}
	return s
}

// Render writes page name with data; fragment renders only the block
// "content", for htmx requests.
func (r *Renderer) Render(w http.ResponseWriter, status int, name string, p *Page) error {
	t, ok := r.pages[name]
	if !ok {
		return fmt.Errorf("web: no template %q", name)
	}
	if p.Lang == "" {
		p.Lang = "zh"
	}
	if p.User != nil && p.Nav == nil && r.Nav != nil {
		p.Nav = r.Nav(*p.User)
	}
	p.Now = time.Now()
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout.html", p); err != nil {
		return fmt.Errorf("web: render %s: %w", name, err)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, err := buf.WriteTo(w)
	return err
}

// Fragment renders one named template of a page without the layout, for
// htmx swaps.
func (r *Renderer) Fragment(w http.ResponseWriter, page, block string, p *Page) error {
	t, ok := r.pages[page]
	if !ok {
		return fmt.Errorf("web: no template %q", page)
	}
	if p.Lang == "" {
		p.Lang = "zh"
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, block, p); err != nil {
		return fmt.Errorf("web: render %s/%s: %w", page, block, err)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, err := buf.WriteTo(w)
	return err
}

// ErrorPage renders an error for a browser.
func (r *Renderer) ErrorPage(w http.ResponseWriter, req *http.Request, status int, e *errs.Error) {
	if status == http.StatusUnauthorized {
		http.Redirect(w, req, "/login?next="+template.URLQueryEscaper(req.URL.RequestURI()), http.StatusSeeOther)
		return
	}
	p := PageFor(req, "出错了")
	p.Data = e
	if err := r.Render(w, status, "error", p); err != nil {
		r.log.Error("render error page", "err", err)
		http.Error(w, e.Message, status)
	}
}

// yuan formats an amount in fen as yuan with two decimals: 123456 → 1234.56.
func yuan(fen int64) string {
	sign := ""
	if fen < 0 {
		sign, fen = "-", -fen
	}
	return fmt.Sprintf("%s%d.%02d", sign, fen/100, fen%100)
}

func thousands(n int64) string {
	s := fmt.Sprint(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}
