package db

import "testing"

func TestPositional(t *testing.T) {
	for q, want := range map[string]string{
		`INSERT INTO t (a, b) VALUES ($1, $2)`:                      `INSERT INTO t (a, b) VALUES (?, ?)`,
		`UPDATE t SET a = $1, b = 'x' WHERE id = $2`:                `UPDATE t SET a = ?, b = 'x' WHERE id = ?`,
		`UPDATE t SET a = $2 WHERE id = $1`:                         `UPDATE t SET a = $2 WHERE id = $1`,
		`SELECT $1, $1`:                                             `SELECT $1, $1`,
		`SELECT 1`:                                                  `SELECT 1`,
		`INSERT INTO t VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11)`: `INSERT INTO t VALUES (?,?,?,?,?,?,?,?,?,?,?)`,
	} {
		if got := Positional(q); got != want {
			t.Errorf("Positional(%q) = %q, want %q", q, got, want)
		}
	}
}
