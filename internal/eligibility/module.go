package eligibility

import (
	"context"
	"embed"
	"io"
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

// Module declares entitlements (待遇资格: evaluation, the proactive grant
// 免申即享, re-decisions, simulation, the policy catalogue) to the
// application: pages and API, navigation, templates, migrations, the daily
// proactive run and the consumer that re-decides a household when a feed
// records a death or a changed fact. districtName names a district code.
func Module(s *Service, p *Proactive, districtName func(string) string) module.Module {
	return module.Module{
		Name: "eligibility",
		Routes: func(r *httpx.Router, render *web.Renderer) {
			(&HTTP{Service: s, Proactive: p, RunProactive: p.RunExclusive, Render: render, DistrictName: districtName}).Routes(r)
		},
		Nav: []web.NavEntry{
			{Order: 70, Href: "/policies", Label: "政策参数", Show: web.CanNav(auth.DivisionRead)},
			{Order: 90, Href: "/proactive", Label: "免申即享", Show: func(u auth.Principal) bool { return MayRun(u) == nil }},
			{Order: 91, Href: "/simulate", Label: "政策模拟", Show: func(u auth.Principal) bool { return MaySimulate(u) == nil }},
		},
		Templates:  module.Sub(templateFS, "templates"),
		Migrations: module.Sub(migrationFS, "migrations"),
		OpenAPI:    OpenAPI,
		Jobs: []module.Job{{
			Name: Job + "-daily", Flag: "proactive-at", Default: "02:00", TTL: 6 * time.Hour,
			Usage: "每天几点（上海时间 HH:MM）运行免申即享；off 为不运行",
			Run: func(ctx context.Context, day time.Time) error {
				_, err := p.RunExclusive(ctx, auth.System(), day, io.Discard)
				return err
			},
		}},
		Commands: commands(s, p, districtName),
		// The name is the consumer's offset in the outbox: kept from when
		// the handler was wired in app under monitor's name.
		Consumers: []module.Consumer{{Name: "monitor.redecide", Kinds: []string{registry.PersonDied, registry.PersonChanged}, Handler: p.Redecide}},
	}
}
