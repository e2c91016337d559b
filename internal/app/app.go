// Package app wires minzheng together: configuration → database → services
// → HTTP, and the command-line commands that run on the same services. It is
// the only package that imports every other.
package app

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"path/filepath"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"minzheng/internal/assistance"
	"minzheng/internal/audit"
	"minzheng/internal/auth"
	"minzheng/internal/db"
	"minzheng/internal/division"
	"minzheng/internal/eligibility"
	"minzheng/internal/events"
	"minzheng/internal/httpx"
	"minzheng/internal/jobs"
	"minzheng/internal/module"
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
	// Modules are the business lines, in the order of Modules' list.
	Modules []module.Module
	Now     func() time.Time
	// KeyCreated reports that this start created the secret key.
	KeyCreated bool
	// BehindTLSProxy says clients reach serve through a TLS-terminating
	// proxy (serve --behind-tls-proxy): cookies are marked Secure and
	// answers carry Strict-Transport-Security. Set it before Handler.
	BehindTLSProxy bool
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
	d, err := db.Connect(ctx, cfg.DB, cfg.DataDir)
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
	now := func() time.Time { return a.Now() }
	a.Audit = audit.New(d, suite, a.Now)
	a.Audit.Checkpoints = checkpointPath(cfg.DataDir)
	a.Auth = auth.NewService(d, a.Audit, a.Now)
	a.Leases = jobs.NewLeases(d, now)
	a.Events = &events.Dispatcher{DB: d, Log: log, Now: now}
	a.Divisions = division.NewService(d, tree)
	a.Registry = registry.NewService(d, suite, a.Audit, tree, a.Now)
	a.Policies = policies
	a.Eligibility = &eligibility.Service{Registry: a.Registry, Policies: policies, Now: now}
	a.Proactive = &eligibility.Proactive{DB: d, Registry: a.Registry, Policies: policies, Audit: a.Audit, Leases: a.Leases, Now: now}
	a.Assistance = &assistance.Service{DB: d, Registry: a.Registry, Policies: policies, Audit: a.Audit, Suite: suite, Tree: tree,
		DataDir: cfg.DataDir, Leases: a.Leases, Now: now}
	a.Payroll = &payroll.Service{DB: d, Suite: suite, Audit: a.Audit, Leases: a.Leases, Dir: filepath.Join(cfg.DataDir, "payroll"),
		Now: now, ProgramName: a.programName, HouseholdPrograms: map[string]bool{}, Log: log}
	for _, id := range policies.IDs() {
		if p, _ := policies.Get(id); p.Entity == "household" {
			a.Payroll.HouseholdPrograms[id] = true
		}
	}
	a.Monitor = &monitor.Service{DB: d, Suite: suite, Audit: a.Audit, Tree: tree, Now: now, Registry: a.Registry,
		DibaoStandard: func(on time.Time) float64 { v, _ := policies.Param("dibao.standard", on); return v }}
	a.wireLines()
	a.Modules = a.modules()
	if err := d.Migrate(ctx, a.schema()...); err != nil {
		d.Close()
		return nil, err
	}
	registerPermissions(a.Modules)
	for _, m := range a.Modules {
		for _, c := range m.Consumers {
			a.Events.Handle(c.Name, c.Handler, c.Kinds...)
		}
	}
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

// programName names a programme by its current name ("" for an id that is
// no programme: the payroll's campaigns).
func (a *App) programName(id string) string {
	if p, ok := a.Policies.Get(id); ok {
		return p.NameOn(a.Now())
	}
	return ""
}

// Close closes the database.
func (a *App) Close() error { return a.DB.Close() }

// Handler builds the HTTP handler with every route. It also returns the
// router so tests can walk the routes.
func (a *App) Handler() (http.Handler, *httpx.Router, error) {
	var pages []fs.FS
	for _, m := range a.Modules {
		if m.Templates != nil {
			pages = append(pages, m.Templates)
		}
	}
	render, err := web.NewRenderer(a.Log, a.Divisions.Tree.FullName, pages...)
	if err != nil {
		return nil, nil, err
	}
	render.Nav = func(p auth.Principal) []web.NavItem { return module.Nav(a.Modules, p) }
	x := httpx.Errors{Log: a.Log, Page: render.ErrorPage}
	r := httpx.NewRouter(x)
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	metrics := httpx.NewMetrics(reg)

	for _, m := range a.Modules {
		if m.Routes != nil {
			r.Owner(m.Name)
			m.Routes(r, render)
		}
	}
	r.Owner("")

	r.Handle("GET /static/", web.Static())
	r.Handle("GET /metrics", a.guardMetrics(promhttp.HandlerFor(reg, promhttp.HandlerOpts{})))
	r.H("GET /healthz", a.healthz)
	r.H("GET /api/v1/openapi.json", func(w http.ResponseWriter, req *http.Request) error {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		_, err := w.Write(openapiJSON())
		return err
	})
	r.H("/api/", func(w http.ResponseWriter, req *http.Request) error {
		return notFoundAPI(req)
	})
	var h http.Handler = r
	h = web.Language(h)
	h = web.Authenticate(a.Auth, x, h)
	h = httpx.SecurityHeaders(h, a.BehindTLSProxy)
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

// MonitorJob is the name of the daily monitoring sweep's lease.
const MonitorJob = monitor.Job

// ProactiveJob is the name of the proactive grant's lease.
const ProactiveJob = eligibility.Job

// RunProactive runs the proactive grant under its lease, so that it never
// runs twice at once across processes.
func (a *App) RunProactive(ctx context.Context, by auth.Principal, on time.Time, progress io.Writer) (eligibility.RunStats, error) {
	return a.Proactive.RunExclusive(ctx, by, on, progress)
}

// RecheckJob is the name of the annual re-check job's lease.
const RecheckJob = assistance.RecheckJob

// RunRechecks opens the social assistance re-checks due on a date, under
// its lease, so that two processes never open them twice at once.
func (a *App) RunRechecks(ctx context.Context, on time.Time) (assistance.RecheckStats, error) {
	return a.Assistance.RunRechecks(ctx, on)
}
