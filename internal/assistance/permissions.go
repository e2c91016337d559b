package assistance

import "minzheng/internal/auth"

// The social assistance line's permissions (社会救助), granted by Grants.
// Who may move a case from one state to another is data (Transitions);
// these say who may read cases, start them, add materials, file
// verification data and put their relatives on file.
const (
	PermRead      auth.Permission = "application.read"
	PermCreate    auth.Permission = "application.create"
	PermMaterial  auth.Permission = "application.material"
	PermVerify    auth.Permission = "application.verify" // file department data (经济状况核对)
	PermRelatives auth.Permission = "relative.register"  // 经办人员亲属备案
)

// Grants says which roles hold the line's permissions; the module declares
// them and the app registers them at start.
var Grants = auth.Grants{
	auth.Clerk:         {PermRead, PermCreate, PermMaterial, PermVerify, PermRelatives},
	auth.Adviser:       {PermRead, PermMaterial, PermRelatives},
	auth.Reviewer:      {PermRead, PermRelatives},
	auth.Approver:      {PermRead, PermRelatives},
	auth.DistrictAdmin: {PermRead, PermVerify},
	auth.CityAdmin:     {PermRead, PermVerify},
	auth.Auditor:       {PermRead},
}
