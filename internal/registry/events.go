package registry

// Events of the register, appended in the transaction of the change (the
// outbox, internal/events) for the lines that act on them: eligibility
// re-decides the household's entitlements on both.
const (
	PersonDied    = "person.died"    // 死亡: a person was recorded dead
	PersonChanged = "person.changed" // facts of a person changed (disability from a certificate)
)

// Died is the payload of PersonDied.
type Died struct {
	DeathDate string `json:"death_date"`
	Source    string `json:"source"` // the department whose feed said so
	Batch     string `json:"batch"`
}

// DisabilityChanged is the payload of PersonChanged when a certificate
// changed the person's disability.
type DisabilityChanged struct {
	Category  string `json:"disability_category"`
	Grade     int    `json:"disability_grade"`
	Source    string `json:"source"`
	Batch     string `json:"batch"`
	ValidFrom string `json:"valid_from"`
	ValidTo   string `json:"valid_to"`
}
