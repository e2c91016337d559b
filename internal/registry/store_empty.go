package registry

import "context"

// Empty reports whether the register holds no person (a new installation,
// where serve --demo generates the demo city).
func (s *Service) Empty(ctx context.Context) (bool, error) {
	var some bool
	err := s.db.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM persons)`).Scan(&some)
	return !some, err
}
