package payroll

import "minzheng/internal/auth"

// The payroll's permissions (待遇发放), granted by Grants.
const (
	PermRead    auth.Permission = "payroll.read"    // the ledger, bank files and figures in scope
	PermRun     auth.Permission = "payroll.run"     // run the city's payroll and campaigns
	PermSign    auth.Permission = "payroll.signoff" // 签发: release a district's bank files
	PermAccount auth.Permission = "payroll.account" // record where a beneficiary is paid
)

// Grants says which roles hold the payroll's permissions; the module
// declares them and the app registers them at start.
var Grants = auth.Grants{
	auth.Clerk:         {PermAccount},
	auth.Reviewer:      {PermRead},
	auth.Approver:      {PermRead, PermSign},
	auth.DistrictAdmin: {PermRead, PermAccount},
	auth.CityAdmin:     {PermRead, PermRun, PermAccount},
	auth.Auditor:       {PermRead},
}
