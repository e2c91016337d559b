package payroll

import (
	"context"
	"embed"
	"io"
	"time"

	"minzheng/internal/auth"
	"minzheng/internal/httpx"
	"minzheng/internal/module"
	"minzheng/internal/web"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed migrations
var migrationFS embed.FS

// Module declares the payroll (待遇发放) to the application: pages and API,
// navigation, templates, migrations and the monthly computation (bank
// files wait for each district approver's sign-off, 签发, in the UI).
// districtName names a district code on the pages.
func Module(s *Service, districtName func(string) string) module.Module {
	return module.Module{
		Name: "payroll",
		Routes: func(r *httpx.Router, render *web.Renderer) {
			(&HTTP{Service: s, Render: render, DistrictName: districtName}).Routes(r)
		},
		Nav:         []web.NavEntry{{Order: 80, Href: "/payroll", Label: "待遇发放", Show: web.CanNav(PermRead)}},
		Permissions: Grants,
		Templates:   module.Sub(templateFS, "templates"),
		Migrations:  module.Sub(migrationFS, "migrations"),
		OpenAPI:     OpenAPI,
		Commands:    commands(s),
		Jobs: []module.Job{{
			Name: Job + "-monthly", Flag: "payroll-day", Default: "1", Monthly: true, At: "03:00", TTL: 2 * time.Hour,
			Usage: "每月几号（上海时间 03:00）计算当月发放，待各区签发；0 为不运行",
			Run: func(ctx context.Context, on time.Time) error {
				res, err := s.Run(ctx, auth.System(), on.Format("2006-01"), Options{}, io.Discard)
				if err == nil && s.Log != nil {
					s.Log.Info("payroll computed", "period", res.Period, "lines", res.Lines, "new_lines", res.NewLines, "amount_total", res.AmountTotal)
				}
				return err
			},
		}},
	}
}
