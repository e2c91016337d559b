package monitor

import "minzheng/internal/auth"

// The monitoring line's permissions (低收入人口动态监测), granted by Grants.
const (
	PermRead       auth.Permission = "monitor.read"  // warnings, tasks, dashboard in the jurisdiction
	PermVisit      auth.Permission = "monitor.visit" // record visits and dispositions of tasks
	PermPlan       auth.Permission = "monitor.plan"  // extreme-weather sweeps for districts in the jurisdiction
	PermFeedImport auth.Permission = "feed.import"   // import departments' feeds (city-wide)
	PermRules      auth.Permission = "monitor.rules" // configure warning rules, run full sweeps
)

// Grants says which roles hold the line's permissions; the module declares
// them and the app registers them at start.
var Grants = auth.Grants{
	auth.Adviser:       {PermRead, PermVisit},
	auth.Reviewer:      {PermRead},
	auth.DistrictAdmin: {PermRead, PermVisit, PermPlan},
	auth.CityAdmin:     {PermRead, PermVisit, PermPlan, PermFeedImport, PermRules},
	auth.Auditor:       {PermRead},
}
