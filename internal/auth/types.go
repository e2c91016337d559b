// Package auth manages staff accounts, their roles and jurisdictions,
// sessions for the web UI and bearer tokens for the API. A Principal — the
// caller — travels in the request context; every service asks it what the
// caller may do (Can) and which records it may see (Scope).
package auth

import "context"

// Role is a staff role.
type Role string

// The roles.
const (
	Clerk         Role = "clerk"          // 受理员: window clerk at a community affairs centre
	Adviser       Role = "adviser"        // 社区救助顾问: neighbourhood assistance adviser
	Reviewer      Role = "reviewer"       // 区审核: district reviewer
	Approver      Role = "approver"       // 审批: approver
	DistrictAdmin Role = "district_admin" // 区管理员
	CityAdmin     Role = "city_admin"     // 市管理员
	Auditor       Role = "auditor"        // 审计/纪检: reads everything in scope, changes nothing
)

// Roles lists every role in display order.
var Roles = []Role{Clerk, Adviser, Reviewer, Approver, DistrictAdmin, CityAdmin, Auditor}

// Label returns the role's Chinese name.
func (r Role) Label() string {
	switch r {
	case Clerk:
		return "受理员"
	case Adviser:
		return "社区救助顾问"
	case Reviewer:
		return "区审核员"
	case Approver:
		return "审批员"
	case DistrictAdmin:
		return "区管理员"
	case CityAdmin:
		return "市管理员"
	case Auditor:
		return "审计员"
	}
	return string(r)
}

// Valid reports whether r is a known role.
func (r Role) Valid() bool {
	for _, x := range Roles {
		if x == r {
			return true
		}
	}
	return false
}

// Permission is something a role may do.
type Permission string

// The permissions.
const (
	PersonRead    Permission = "person.read"
	PersonWrite   Permission = "person.write"
	PersonImport  Permission = "person.import"
	PersonFullID  Permission = "person.full_id" // see a full ID number (audited)
	UserAdmin     Permission = "user.admin"
	AuditRead     Permission = "audit.read"
	DivisionRead  Permission = "division.read"
	ExportList    Permission = "export"
	TokenAdmin    Permission = "token.admin"
	DataGenerate  Permission = "data.generate"
	SystemOperate Permission = "system.operate"
	PayrollRead   Permission = "payroll.read"    // the ledger, bank files and figures in scope
	PayrollRun    Permission = "payroll.run"     // run the city's payroll and campaigns
	PayrollSign   Permission = "payroll.signoff" // 签发: release a district's bank files
	PayeeAccount  Permission = "payroll.account" // record where a beneficiary is paid
	// Social assistance (社会救助): who may move a case from one state to
	// another is data (assistance.Transitions); these say who may read
	// cases, start them, add materials, file verification data and put
	// their relatives on file.
	ApplicationRead     Permission = "application.read"
	ApplicationCreate   Permission = "application.create"
	ApplicationMaterial Permission = "application.material"
	ApplicationVerify   Permission = "application.verify" // file department data (经济状况核对)
	RelativeRegister    Permission = "relative.register"  // 经办人员亲属备案
	// Monitoring (低收入人口动态监测).
	MonitorRead  Permission = "monitor.read"  // warnings, tasks, dashboard in the jurisdiction
	MonitorVisit Permission = "monitor.visit" // record visits and dispositions of tasks
	MonitorPlan  Permission = "monitor.plan"  // extreme-weather sweeps for districts in the jurisdiction
	FeedImport   Permission = "feed.import"   // import departments' feeds (city-wide)
	MonitorRules Permission = "monitor.rules" // configure warning rules, run full sweeps
)

var permissions = map[Role][]Permission{
	Clerk: {DivisionRead, PersonRead, PersonWrite, PersonImport, ExportList, PayeeAccount,
		ApplicationRead, ApplicationCreate, ApplicationMaterial, ApplicationVerify, RelativeRegister},
	Adviser:  {DivisionRead, PersonRead, ExportList, ApplicationRead, ApplicationMaterial, RelativeRegister, MonitorRead, MonitorVisit},
	Reviewer: {DivisionRead, PersonRead, PersonFullID, ExportList, PayrollRead, ApplicationRead, RelativeRegister, MonitorRead},
	Approver: {DivisionRead, PersonRead, PersonFullID, ExportList, PayrollRead, PayrollSign, ApplicationRead, RelativeRegister},
	DistrictAdmin: {DivisionRead, PersonRead, PersonWrite, PersonImport, PersonFullID, ExportList, UserAdmin, PayrollRead, PayeeAccount,
		ApplicationRead, ApplicationVerify, MonitorRead, MonitorVisit, MonitorPlan},
	CityAdmin: {DivisionRead, PersonRead, PersonWrite, PersonImport, PersonFullID, ExportList, UserAdmin, AuditRead, TokenAdmin, DataGenerate, SystemOperate,
		PayrollRead, PayrollRun, PayeeAccount, ApplicationRead, ApplicationVerify, MonitorRead, MonitorVisit, MonitorPlan, FeedImport, MonitorRules},
	Auditor: {DivisionRead, PersonRead, PersonFullID, ExportList, AuditRead, PayrollRead, ApplicationRead, MonitorRead},
}

// Principal is the caller of a service: a staff member, a token acting as
// one, or the system itself.
type Principal struct {
	UserID   int64
	Name     string
	Display  string
	Role     Role
	Division string // jurisdiction: a division code; 310000 is the whole city
	Remote   string // client address, or "cli"
}

// System is the principal of the CLI and of scheduled jobs: the whole city.
func System() Principal {
	return Principal{Name: "system", Role: CityAdmin, Division: "310000", Remote: "cli"}
}

// Can reports whether p's role grants perm: in the platform's table here or
// in the grants a business line registered (Register).
func (p Principal) Can(perm Permission) bool {
	for _, x := range permissions[p.Role] {
		if x == perm {
			return true
		}
	}
	return granted(p.Role, perm)
}

type ctxKey struct{}

// WithPrincipal returns ctx carrying p.
func WithPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, ctxKey{}, p)
}

// FromContext returns the principal in ctx, if any.
func FromContext(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(ctxKey{}).(Principal)
	return p, ok
}
