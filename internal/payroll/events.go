package payroll

// PaymentHeld is the event of a payment a bank returned as failed (the
// outbox, internal/events): others may care that a family's money did not
// arrive. Its payload is Held.
const PaymentHeld = "payment.held"

// Held is the payload of PaymentHeld.
type Held struct {
	Period  string `json:"period"`
	Program string `json:"program"`
	Batch   int    `json:"batch"`
	Reason  string `json:"reason"`
}
