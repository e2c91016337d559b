package registry

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"minzheng/internal/db"
)

// registeredAt returns the registered address and residence of the person
// whose ID number has the keyed hash hash, and whether there is one.
func registeredAt(ctx context.Context, q db.Queryer, hash []byte) (hukou, residence string, ok bool, err error) {
	err = q.QueryRowContext(ctx, `SELECT hukou_division, residence_division FROM persons WHERE id_hash = $1`, hash).Scan(&hukou, &residence)
	if errors.Is(err, sql.ErrNoRows) {
		return "", "", false, nil
	}
	if err != nil {
		return "", "", false, fmt.Errorf("registry: find registered id number: %w", err)
	}
	return hukou, residence, true, nil
}
