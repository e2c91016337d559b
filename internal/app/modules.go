package app

import (
	"context"
	"io/fs"
	"time"

	"minzheng/internal/admin"
	"minzheng/internal/assistance"
	"minzheng/internal/auth"
	"minzheng/internal/division"
	"minzheng/internal/eligibility"
	"minzheng/internal/errs"
	"minzheng/internal/module"
	"minzheng/internal/monitor"
	"minzheng/internal/payroll"
	"minzheng/internal/registry"
)

// modules is the explicit list of business lines: their routes, navigation,
// templates, migrations, jobs and event consumers. A new line adds its
// service in Open and one entry here.
func (a *App) modules() []module.Module {
	return []module.Module{
		admin.Module(a.Auth, a.Audit, a.Divisions),
		division.Module(a.Divisions),
		registry.Module(a.Registry),
		monitor.Module(a.Monitor, a.Registry, a.drainSoon, a.drain),
		assistance.Module(a.Assistance),
		payroll.Module(a.Payroll, a.districtName),
		eligibility.Module(a.Eligibility, a.Proactive, a.districtName),
	}
}

// drain delivers the outbox's pending events (a nil-safe method value for
// Declared).
func (a *App) drain(ctx context.Context) (int, error) { return a.Events.Drain(ctx) }

// districtName names a division code (for the lines' pages).
func (a *App) districtName(code string) string { return a.Divisions.Tree.Name(code) }

// Declared returns the modules as declarations, without an open app:
// building a module only declares it (no service is called), so their
// names, navigation, templates, migrations, job flags and API parts can be
// read before the app is open (serve's flags) or without one (tests); their
// routes, jobs and consumers must not be run.
func Declared() []module.Module {
	mods := (&App{}).modules()
	registerPermissions(mods)
	return mods
}

// registerPermissions registers the lines' grants (auth.Register; again is
// harmless): the navigation and the pages ask for them.
func registerPermissions(mods []module.Module) {
	for _, m := range mods {
		auth.Register(m.Permissions)
	}
}

// declaredJobs lists the lines' scheduled jobs, so serve can take a flag for
// each before the app is open.
func declaredJobs() []module.Job {
	var out []module.Job
	for _, m := range Declared() {
		out = append(out, m.Jobs...)
	}
	return out
}

// scheduleJobs starts the lines' scheduled jobs with serve's flag values
// (by flag name), each in one process of those sharing the database.
func (a *App) scheduleJobs(ctx context.Context, values map[string]string) error {
	shanghai := time.FixedZone("CST", 8*3600)
	for _, m := range a.Modules {
		for _, j := range m.Jobs {
			day, hour, minute, off, err := j.Schedule(values[j.Flag])
			if err != nil {
				return errs.Field(j.Flag, "%s", err.Error())
			}
			if off {
				continue
			}
			run := j.Run
			if j.Monthly {
				run = func(ctx context.Context, on time.Time) error {
					if on.Day() != day {
						return nil
					}
					return j.Run(ctx, on)
				}
			}
			go a.Leases.Daily(ctx, a.Log, j.Name, hour, minute, shanghai, j.TTL, run)
		}
	}
	return nil
}

// wireLines connects the calls one line makes into another, each through
// the other's service.
func (a *App) wireLines() {
	// A change of income, disability or death re-decides the household's
	// entitlements at once (the incremental path of the proactive grant).
	a.Registry.OnChange = a.Proactive.RedecidePerson
	// A visit that ends "referred" (转入救助申请) opens an assistance
	// application for the household.
	a.Monitor.ReferApplication = func(ctx context.Context, _ auth.Principal, r monitor.Referral) (string, error) {
		return a.Assistance.OpenReferral(ctx, r.TaskID, r.PersonID, r.Rule)
	}
}

// schema returns the migrations folders of the lines, for db.Migrate.
func (a *App) schema() []fs.FS {
	var out []fs.FS
	for _, m := range a.Modules {
		if m.Migrations != nil {
			out = append(out, m.Migrations)
		}
	}
	return out
}
