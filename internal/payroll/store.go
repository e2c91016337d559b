package payroll

// campaignName returns the name of a campaign (a one-off payment's
// programme in the ledger).
func (s *Service) campaignName(id string) (string, bool) {
	var name string
	if s.DB.QueryRow(`SELECT name FROM campaigns WHERE id = $1`, id).Scan(&name) != nil {
		return "", false
	}
	return name, true
}
