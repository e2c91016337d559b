package registry

import (
	"embed"

	"minzheng/internal/auth"
	"minzheng/internal/httpx"
	"minzheng/internal/module"
	"minzheng/internal/web"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed migrations
var migrationFS embed.FS

// Module declares the people registry (人口与家庭) to the application.
func Module(s *Service) module.Module {
	return module.Module{
		Name: "registry",
		Routes: func(r *httpx.Router, render *web.Renderer) {
			(&HTTP{Service: s, Render: render}).Routes(r)
		},
		Nav: []web.NavEntry{
			{Order: 30, Href: "/persons", Label: "人员查询", Show: web.CanNav(auth.PersonRead)},
			{Order: 31, Href: "/import", Label: "批量导入", Show: web.CanNav(auth.PersonImport)},
		},
		Templates:  module.Sub(templateFS, "templates"),
		Migrations: module.Sub(migrationFS, "migrations"),
		OpenAPI:    OpenAPI,
	}
}
