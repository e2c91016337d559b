package division

import (
	"embed"

	"minzheng/internal/auth"
	"minzheng/internal/httpx"
	"minzheng/internal/module"
	"minzheng/internal/web"
)

//go:embed templates/*.html
var templateFS embed.FS

// Module declares the division tree (行政区划) to the application. Its
// table is the platform's (internal/db's first migration).
func Module(s *Service) module.Module {
	return module.Module{
		Name: "division",
		Routes: func(r *httpx.Router, render *web.Renderer) {
			(&HTTP{Service: s, Render: render}).Routes(r)
		},
		Nav: []web.NavEntry{{Order: 20, Label: "行政区划", Show: web.CanNav(auth.DivisionRead),
			HrefFor: func(p auth.Principal) string { return "/divisions/" + p.Division }}},
		Templates: module.Sub(templateFS, "templates"),
		OpenAPI:   OpenAPI,
	}
}
