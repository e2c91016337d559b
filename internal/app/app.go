// Package app wires minzheng together: configuration → database → services
// → HTTP, and the command-line commands that run on the same services. It is
// the only package that imports every other.
package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"minzheng/internal/admin"
	"minzheng/internal/assistance"
	"minzheng/internal/audit"
	"minzheng/internal/auth"
	"minzheng/internal/db"
	"minzheng/internal/division"
	"minzheng/internal/eligibility"
	"minzheng/internal/errs"
	"minzheng/internal/events"
	"minzheng/internal/httpx"
	"minzheng/internal/jobs"
	"minzheng/internal/monitor"
	"minzheng/internal/payroll"
	"minzheng/internal/policy"
	"minzheng/internal/registry"
	"minzheng/internal/secret"
	"minzheng/internal/web"
)

// Config is what every command needs: where the data lives.
type Config struct {
	DataDir   string // data folder: SQLite file, secret key, uploads
	DB        string // "" for SQLite in DataDir, or a postgres:// URL
	PolicyDir string // "" for the embedded policies, or a folder of policy files
}

// App holds the open database and the services.
type App struct {
	Config      Config
	Log         *slog.Logger
	DB          *db.DB
	Suite       secret.Suite
	Audit       *audit.Log
	Auth        *auth.Service
	Divisions   *division.Service
	Registry    *registry.Service
	Policies    *policy.Set
	Eligibility *eligibility.Service
	Proactive   *eligibility.Proactive
	Leases      *jobs.Leases
	Monitor     *monitor.Service
	Assistance  *assistance.Service
	Payroll     *payroll.Service
	// Events delivers the outbox to the consumers registered in Open;
	// serve runs it, the CLI drains it after a command that writes events.
	Events *events.Dispatcher
	Now    func() time.Time
	// KeyCreated reports that this start created the secret key.
	KeyCreated bool
}

// Open opens the database (applying migrations), loads the key and the
// division tree, and builds the services.
func Open(ctx context.Context, cfg Config, log *slog.Logger) (*App, error) {
	if cfg.DataDir == "" {
		cfg.DataDir = "minzheng-data"
	}
	key, created, err := secret.LoadKey(cfg.DataDir)
	if err != nil {
		return nil, err
	}
	suite, err := secret.NewStandard(key)
	if err != nil {
		return nil, err
	}
	d, err := db.Open(ctx, cfg.DB, cfg.DataDir)
	if err != nil {
		return nil, err
	}
	tree, err := division.Shanghai()
	if err != nil {
		d.Close()
		return nil, err
	}
	policies, err := loadPolicies(cfg.PolicyDir)
	if err != nil {
		d.Close()
		return nil, err
	}
	a := &App{Config: cfg, Log: log, DB: d, Suite: suite, Now: time.Now, KeyCreated: created}
	a.Audit = audit.New(d, suite, a.Now)
	a.Auth = auth.NewService(d, a.Audit, a.Now)
	a.Divisions = division.NewService(d, tree)
	a.Registry = registry.NewService(d, suite, a.Audit, tree, a.Now)
	a.Policies = policies
	a.Eligibility = &eligibility.Service{Registry: a.Registry, Policies: policies, Now: func() time.Time { return a.Now() }}
	a.Leases = jobs.NewLeases(d, func() time.Time { return a.Now() })
	a.Proactive = &eligibility.Proactive{DB: d, Registry: a.Registry, Policies: policies, Audit: a.Audit, Now: func() time.Time { return a.Now() }}
	a.Assistance = &assistance.Service{DB: d, Registry: a.Registry, Policies: policies, Audit: a.Audit, Suite: suite, Tree: tree,
		DataDir: cfg.DataDir, Now: func() time.Time { return a.Now() }}
	a.Payroll = &payroll.Service{DB: d, Suite: suite, Audit: a.Audit, Leases: a.Leases, Dir: filepath.Join(cfg.DataDir, "payroll"),
		Now: func() time.Time { return a.Now() }, ProgramName: a.programName, HouseholdPrograms: map[string]bool{}}
	for _, id := range policies.IDs() {
		if p, _ := policies.Get(id); p.Entity == "household" {
			a.Payroll.HouseholdPrograms[id] = true
		}
	}
	// A change of income, disability or death re-decides the household's
	// entitlements at once (the incremental path of the proactive grant).
	a.Registry.OnChange = func(ctx context.Context, personID int64) error {
		now := a.Now()
		_, err := a.Proactive.Household(ctx, auth.System(), personID, time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC))
		return err
	}
	a.Monitor = &monitor.Service{DB: d, Suite: suite, Audit: a.Audit, Tree: tree, Now: func() time.Time { return a.Now() },
		DibaoStandard: func(on time.Time) float64 { v, _ := policies.Param("dibao.standard", on); return v }}
	// A visit that ends "referred" (转入救助申请) opens an assistance
	// application for the household.
	a.Monitor.ReferApplication = a.referApplication
	a.Events = &events.Dispatcher{DB: d, Log: log, Now: func() time.Time { return a.Now() }}
	// A death or a disability certificate from a department feed
	// re-decides the household's entitlements: a dead person's stop.
	a.Events.Handle("monitor.redecide", func(ctx context.Context, e events.Event) error {
		now := a.Now()
		_, err := a.Proactive.Household(ctx, auth.System(), e.SubjectID, time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC))
		if errs.IsNotFound(err) {
			return nil
		}
		return err
	}, events.PersonDied, events.PersonChanged)
	if err := a.Divisions.Seed(ctx); err != nil {
		d.Close()
		return nil, err
	}
	if err := a.Monitor.SeedRules(ctx); err != nil {
		d.Close()
		return nil, err
	}
	// A bulk load killed before its end leaves indexes dropped; rebuild them.
	if err := registry.RestoreIndexes(ctx, d); err != nil {
		d.Close()
		return nil, err
	}
	return a, nil
}

// programName names a programme (its current name) or a campaign.
func (a *App) programName(id string) string {
	if p, ok := a.Policies.Get(id); ok {
		return p.NameOn(a.Now())
	}
	var name string
	if a.DB.QueryRow(`SELECT name FROM campaigns WHERE id = $1`, id).Scan(&name) == nil {
		return name
	}
	return id
}

// Close closes the database.
func (a *App) Close() error { return a.DB.Close() }

// Handler builds the HTTP handler with every route. It also returns the
// router so tests can walk the routes.
func (a *App) Handler() (http.Handler, *httpx.Router, error) {
	render, err := web.NewRenderer(a.Log, a.Divisions.Tree.FullName)
	if err != nil {
		return nil, nil, err
	}
	x := httpx.Errors{Log: a.Log, Page: render.ErrorPage}
	r := httpx.NewRouter(x)
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	metrics := httpx.NewMetrics(reg)

	(&admin.HTTP{Auth: a.Auth, Audit: a.Audit, Divisions: a.Divisions, Render: render}).Routes(r)
	(&division.HTTP{Service: a.Divisions, Render: render}).Routes(r)
	(&registry.HTTP{Service: a.Registry, Render: render}).Routes(r)
	(&monitor.HTTP{Service: a.Monitor, Render: render, AfterImport: a.drainSoon}).Routes(r)
	(&assistance.HTTP{Service: a.Assistance, Render: render}).Routes(r)
	(&payroll.HTTP{Service: a.Payroll, Render: render, DistrictName: a.Divisions.Tree.Name}).Routes(r)
	(&eligibility.HTTP{Service: a.Eligibility, Proactive: a.Proactive, RunProactive: a.RunProactive, Render: render, DistrictName: a.Divisions.Tree.Name}).Routes(r)

	r.Handle("GET /static/", web.Static())
	r.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	r.H("GET /healthz", a.healthz)
	r.H("GET /api/v1/openapi.json", func(w http.ResponseWriter, req *http.Request) error {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		_, err := w.Write(openapiJSON)
		return err
	})
	r.H("/api/", func(w http.ResponseWriter, req *http.Request) error {
		return notFoundAPI(req)
	})
	var h http.Handler = r
	h = web.Language(h)
	h = web.Authenticate(a.Auth, x, h)
	h = httpx.SecurityHeaders(h)
	h = httpx.Observe(a.Log, metrics, x, h)
	return h, r, nil
}

func (a *App) healthz(w http.ResponseWriter, r *http.Request) error {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := a.DB.PingContext(ctx); err != nil {
		httpx.WriteJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "database": err.Error()})
		return nil
	}
	httpx.WriteJSON(w, http.StatusOK, map[string]string{"status": "ok", "database": string(a.DB.Dialect)})
	return nil
}

// Serve runs the HTTP server on addr until ctx is cancelled, then shuts
// down gracefully, letting requests in flight finish.
func (a *App) Serve(ctx context.Context, addr string, ready func(addr string)) error {
	h, _, err := a.Handler()
	if err != nil {
		return err
	}
	srv := &http.Server{Addr: addr, Handler: h, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	if ready != nil {
		ready(addr)
	}
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	a.Log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	return srv.Shutdown(sctx)
}

// referApplication opens a social assistance application (社会救助申请)
// for the household of a monitoring task whose visit ended "referred": 临时
// 救助, and 刚性支出困难 when a rigid-expense warning led to the visit. The
// adviser may not open applications at the window, so the platform opens
// it (actor "system", the adviser named in the audit trail through the
// task's visit); it starts in 受理 for the clerk of the household's 户籍地,
// who completes the declaration. It returns the application's reference.
func (a *App) referApplication(ctx context.Context, by auth.Principal, r monitor.Referral) (string, error) {
	programs := []string{"temporary"}
	if r.Rule == "rigid_expense" {
		programs = []string{"rigid_expense", "temporary"}
	}
	// The platform at the window (受理), city-wide: the clerk role is the
	// one that opens applications.
	sys := auth.Principal{Name: "system", Role: auth.Clerk, Division: "310000", Remote: "monitor-task-" + strconv.FormatInt(r.TaskID, 10)}
	app, err := a.Assistance.Create(ctx, sys, assistance.NewApplication{PersonID: r.PersonID, Programs: programs})
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("救助申请 %d", app.ID), nil
}

// drainSoon delivers the events of a batch just imported (a death stops
// entitlements) without waiting for the dispatcher's next tick.
func (a *App) drainSoon() {
	go func() {
		if _, err := a.Events.Drain(context.Background()); err != nil && a.Log != nil {
			a.Log.Error("events", "err", err)
		}
	}()
}

// loadPolicies loads the embedded policies, or those in dir.
func loadPolicies(dir string) (*policy.Set, error) {
	if dir == "" {
		return policy.Embedded()
	}
	return policy.LoadDir(dir)
}

// ProactiveJob is the name of the proactive grant's lease.
const ProactiveJob = "proactive"

// RunProactive runs the proactive grant under its lease, so that it never
// runs twice at once across processes.
func (a *App) RunProactive(ctx context.Context, by auth.Principal, on time.Time, progress io.Writer) (eligibility.RunStats, error) {
	if _, err := a.Leases.Acquire(ctx, ProactiveJob, 6*time.Hour); errors.Is(err, jobs.ErrHeld) {
		return eligibility.RunStats{}, errs.E(errs.Conflict, "免申即享正在另一进程中运行，请稍后再试")
	} else if err != nil {
		return eligibility.RunStats{}, err
	}
	defer a.Leases.Release(context.WithoutCancel(ctx), ProactiveJob, "")
	return a.Proactive.Run(ctx, by, on, progress)
}

// schedulePayroll computes each month's payroll on day of the month at
// 03:00 Shanghai time, in one process of those sharing the database. Bank
// files wait for each district approver's sign-off (签发) in the UI.
func (a *App) schedulePayroll(ctx context.Context, day int) {
	shanghai := time.FixedZone("CST", 8*3600)
	go a.Leases.Daily(ctx, a.Log, payroll.Job+"-monthly", 3, 0, shanghai, 2*time.Hour, func(ctx context.Context, on time.Time) error {
		if on.Day() != day {
			return nil
		}
		res, err := a.Payroll.Run(ctx, auth.System(), on.Format("2006-01"), payroll.Options{}, io.Discard)
		if err == nil {
			a.Log.Info("payroll computed", "period", res.Period, "lines", res.Lines, "new_lines", res.NewLines, "amount_total", res.AmountTotal)
		}
		return err
	})
}

// scheduleProactive runs the proactive grant every day at hh:mm Shanghai
// time, in one process of those sharing the database.
func (a *App) scheduleProactive(ctx context.Context, at string) error {
	var hour, minute int
	if _, err := fmt.Sscanf(at, "%d:%d", &hour, &minute); err != nil || hour > 23 || minute > 59 {
		return errs.Field("proactive-at", "时间“%s”应为 HH:MM，或 off", at)
	}
	shanghai := time.FixedZone("CST", 8*3600)
	go a.Leases.Daily(ctx, a.Log, ProactiveJob+"-daily", hour, minute, shanghai, 6*time.Hour, func(ctx context.Context, day time.Time) error {
		_, err := a.RunProactive(ctx, auth.System(), day, io.Discard)
		return err
	})
	return nil
}

// RecheckJob is the name of the annual re-check job's lease.
const RecheckJob = "assistance-recheck"

// RunRechecks opens the social assistance re-checks due on a date, under
// its lease, so that two processes never open them twice at once.
func (a *App) RunRechecks(ctx context.Context, on time.Time) (assistance.RecheckStats, error) {
	if _, err := a.Leases.Acquire(ctx, RecheckJob, time.Hour); errors.Is(err, jobs.ErrHeld) {
		return assistance.RecheckStats{}, errs.E(errs.Conflict, "年度复核正在另一进程中运行，请稍后再试")
	} else if err != nil {
		return assistance.RecheckStats{}, err
	}
	defer a.Leases.Release(context.WithoutCancel(ctx), RecheckJob, "")
	return a.Assistance.OpenRechecks(ctx, auth.System(), on)
}

// scheduleRechecks opens the due re-checks every day at hh:mm Shanghai
// time, in one process of those sharing the database.
func (a *App) scheduleRechecks(ctx context.Context, at string) error {
	var hour, minute int
	if _, err := fmt.Sscanf(at, "%d:%d", &hour, &minute); err != nil || hour > 23 || minute > 59 {
		return errs.Field("recheck-at", "时间“%s”应为 HH:MM，或 off", at)
	}
	shanghai := time.FixedZone("CST", 8*3600)
	go a.Leases.Daily(ctx, a.Log, RecheckJob+"-daily", hour, minute, shanghai, time.Hour, func(ctx context.Context, day time.Time) error {
		_, err := a.RunRechecks(ctx, day)
		return err
	})
	return nil
}
