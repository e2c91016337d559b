package monitor

// WarningRaised is the event of a warning raised by a rule (预警), appended
// with the warning (the outbox, internal/events). Its payload is Raised.
const WarningRaised = "warning.raised"

// Raised is the payload of WarningRaised.
type Raised struct {
	Warning  int64  `json:"warning"`
	Rule     string `json:"rule"`
	Severity string `json:"severity"`
}
