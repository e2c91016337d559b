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

// The platform's permissions: the register, divisions, accounts, audit and
// operation. A business line declares its own (assistance.PermRead,
// payroll.PermSign, …) with their grants in its module, and the app
// registers them (Register).
const (
	PersonRead         Permission = "person.read"
	PersonWrite        Permission = "person.write"
	PersonImport       Permission = "person.import"
	PersonFullID       Permission = "person.full_id"      // see a full ID number (audited)
	PersonGuardianship Permission = "person.guardianship" // mark or clear 弱监护 (an adviser after a visit)
	UserAdmin          Permission = "user.admin"
	AuditRead          Permission = "audit.read"
	DivisionRead       Permission = "division.read"
	ExportList         Permission = "export"
	TokenAdmin         Permission = "token.admin"
	DataGenerate       Permission = "data.generate"
	SystemOperate      Permission = "system.operate"
)

var permissions = map[Role][]Permission{
	Clerk:         {DivisionRead, PersonRead, PersonWrite, PersonImport, ExportList},
	Adviser:       {DivisionRead, PersonRead, ExportList, PersonGuardianship},
	Reviewer:      {DivisionRead, PersonRead, PersonFullID, ExportList},
	Approver:      {DivisionRead, PersonRead, PersonFullID, ExportList},
	DistrictAdmin: {DivisionRead, PersonRead, PersonWrite, PersonImport, PersonFullID, ExportList, UserAdmin, PersonGuardianship},
	CityAdmin: {DivisionRead, PersonRead, PersonWrite, PersonImport, PersonFullID, ExportList, UserAdmin, AuditRead, TokenAdmin, DataGenerate, SystemOperate,
		PersonGuardianship},
	Auditor: {DivisionRead, PersonRead, PersonFullID, ExportList, AuditRead},
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
