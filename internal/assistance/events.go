package assistance

// Events of the social assistance line, appended in the transaction of the
// change (the outbox, internal/events).
const (
	ApplicationMoved    = "application.moved"    // a case moved from one state to another
	ApplicationDecided  = "application.decided"  // 审批: a case was approved or refused
	ApplicationObjected = "application.objected" // 公示异议: someone objected to a case under public notice
)

// Moved is the payload of ApplicationMoved, and of ApplicationDecided
// (the move that decided the case). From is empty for a new case.
type Moved struct {
	ApplicationID int64  `json:"application_id"`
	From          State  `json:"from"`
	To            State  `json:"to"`
	Actor         string `json:"actor,omitempty"`
	HouseholdID   int64  `json:"household_id,omitempty"`
	RecheckOf     int64  `json:"recheck_of,omitempty"` // the case an annual re-check follows
}

// Objected is the payload of ApplicationObjected.
type Objected struct {
	ApplicationID int64 `json:"application_id"`
	ObjectionID   int64 `json:"objection_id"`
}
