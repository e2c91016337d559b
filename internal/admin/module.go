package admin

import (
	"embed"

	"minzheng/internal/audit"
	"minzheng/internal/auth"
	"minzheng/internal/division"
	"minzheng/internal/httpx"
	"minzheng/internal/module"
	"minzheng/internal/web"
)

//go:embed templates/*.html
var templateFS embed.FS

// Module declares the administration pages (login, home, staff accounts,
// API tokens, the audit viewer) to the application. Their tables are the
// platform's (internal/db's first migration).
func Module(a *auth.Service, log *audit.Log, divisions *division.Service) module.Module {
	return module.Module{
		Name: "admin",
		Routes: func(r *httpx.Router, render *web.Renderer) {
			(&HTTP{Auth: a, Audit: log, Divisions: divisions, Render: render}).Routes(r)
		},
		Nav: []web.NavEntry{
			{Order: 10, Href: "/", Label: "首页"},
			{Order: 60, Href: "/users", Label: "账号管理", Show: web.CanNav(auth.UserAdmin)},
			{Order: 61, Href: "/audit", Label: "审计日志", Show: web.CanNav(auth.AuditRead)},
		},
		Templates: module.Sub(templateFS, "templates"),
		OpenAPI:   OpenAPI,
	}
}
