package assistance

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"strconv"
	"time"

	"minzheng/internal/auth"
	"minzheng/internal/errs"
	"minzheng/internal/httpx"
	"minzheng/internal/jobs"
	"minzheng/internal/module"
	"minzheng/internal/web"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed migrations
var migrationFS embed.FS

// Module declares the social assistance line (社会救助) to the application:
// its pages and API, navigation, templates, migrations and the daily
// re-check job.
func Module(s *Service) module.Module {
	return module.Module{
		Name: "assistance",
		Routes: func(r *httpx.Router, render *web.Renderer) {
			(&HTTP{Service: s, Render: render}).Routes(r)
		},
		Nav: []web.NavEntry{
			{Order: 50, Href: "/applications", Label: "社会救助", Show: web.CanNav(PermRead)},
			{Order: 51, Href: "/relatives", Label: "亲属备案", Show: web.CanNav(PermRelatives)},
		},
		Permissions: Grants,
		Templates:   module.Sub(templateFS, "templates"),
		Migrations:  module.Sub(migrationFS, "migrations"),
		OpenAPI:     OpenAPI,
		Commands:    commands(s),
		Jobs: []module.Job{{
			Name: RecheckJob + "-daily", Flag: "recheck-at", Default: "03:00", TTL: time.Hour,
			Usage: "每天几点（上海时间 HH:MM）发起到期的社会救助年度复核；off 为不运行",
			Run: func(ctx context.Context, day time.Time) error {
				_, err := s.RunRechecks(ctx, day)
				return err
			},
		}},
	}
}

// RecheckJob is the name of the annual re-check job's lease.
const RecheckJob = "assistance-recheck"

// RunRechecks opens the re-checks due on a date under its lease, so that two
// processes never open them twice at once.
func (s *Service) RunRechecks(ctx context.Context, on time.Time) (RecheckStats, error) {
	if _, err := s.Leases.Acquire(ctx, RecheckJob, time.Hour); errors.Is(err, jobs.ErrHeld) {
		return RecheckStats{}, errs.E(errs.Conflict, "年度复核正在另一进程中运行，请稍后再试")
	} else if err != nil {
		return RecheckStats{}, err
	}
	defer s.Leases.Release(context.WithoutCancel(ctx), RecheckJob, "")
	return s.OpenRechecks(ctx, auth.System(), on)
}

// OpenReferral opens an application for the household of a monitoring task
// whose visit ended "referred" (转入救助申请): 临时救助, and 刚性支出困难
// when a rigid-expense warning led to the visit. The adviser may not open
// applications at the window, so the platform opens it (actor "system",
// the adviser named in the audit trail through the task's visit); it starts
// in 受理 for the clerk of the household's 户籍地, who completes the
// declaration. It returns the application's reference.
func (s *Service) OpenReferral(ctx context.Context, taskID, personID int64, rule string) (string, error) {
	programs := []string{"temporary"}
	if rule == "rigid_expense" {
		programs = []string{"rigid_expense", "temporary"}
	}
	// The platform at the window (受理), city-wide: the clerk role is the
	// one that opens applications.
	sys := auth.Principal{Name: "system", Role: auth.Clerk, Division: "310000", Remote: "monitor-task-" + strconv.FormatInt(taskID, 10)}
	app, err := s.Create(ctx, sys, NewApplication{PersonID: personID, Programs: programs})
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("救助申请 %d", app.ID), nil
}
