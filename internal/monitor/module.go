package monitor

import (
	"context"
	"embed"
	"time"

	"minzheng/internal/auth"
	"minzheng/internal/httpx"
	"minzheng/internal/module"
	"minzheng/internal/registry"
	"minzheng/internal/web"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed migrations
var migrationFS embed.FS

// Job is the name of the daily monitoring sweep's lease.
const Job = "monitor-sweep"

// Module declares low-income dynamic monitoring (低收入人口动态监测) to the
// application: pages and API, navigation, templates, migrations and the
// daily sweep (every rule over everyone, then overdue tasks escalated).
// afterImport, if not nil, runs after a batch is written on a page so its
// events (a death) are delivered soon; the CLI's import drains them with
// drain before it ends. reg finds the persons devices are bound to.
func Module(s *Service, reg *registry.Service, afterImport func(), drain func(context.Context) (int, error)) module.Module {
	return module.Module{
		Name: "monitor",
		Routes: func(r *httpx.Router, render *web.Renderer) {
			(&HTTP{Service: s, Render: render, AfterImport: afterImport}).Routes(r)
		},
		Nav: []web.NavEntry{
			{Order: 40, Href: "/monitor", Label: "动态监测", Show: web.CanNav(PermRead)},
			{Order: 41, Href: "/monitor/tasks", Label: "走访任务", Show: web.CanNav(PermVisit)},
		},
		Permissions: Grants,
		Templates:   module.Sub(templateFS, "templates"),
		Migrations:  module.Sub(migrationFS, "migrations"),
		OpenAPI:     OpenAPI,
		Commands:    commands(s, reg, drain),
		Jobs: []module.Job{{
			Name: Job, Flag: "monitor-at", Default: "04:00", TTL: time.Hour,
			Usage: "每天几点（上海时间 HH:MM）运行全量预警并上报超期任务；off 为不运行",
			Run: func(ctx context.Context, _ time.Time) error {
				_, err := s.Sweep(ctx, auth.System())
				return err
			},
		}},
	}
}
