package registry

import (
	"context"
	"database/sql"
	"encoding/binary"
	"fmt"

	"minzheng/internal/auth"
	"minzheng/internal/db"
	"minzheng/internal/errs"
)

// factsVersion is the first byte of an encoded facts record. Version 1
// also held each member's monthly medical spending, which now lives in
// person_medical: its records are read with that field skipped. A record
// of another version is treated as stale and written again.
const factsVersion = 2

// EncodeFacts appends to dst the members' facts that benefits are decided
// on — ID, relation, birth date, sex, divisions, income, disability and
// death — as one compact record for households.facts (a cache of persons
// that whole-city runs read instead of ten columns per person). Monthly
// medical spending is not in it: StreamHouseholdRange adds it from
// person_medical.
func EncodeFacts(dst []byte, members []Person) []byte {
	dst = append(dst, factsVersion)
	dst = binary.AppendUvarint(dst, uint64(len(members)))
	for i := range members {
		m := &members[i]
		dst = binary.AppendVarint(dst, m.ID)
		dst = appendString(dst, string(m.Relation))
		dst = appendString(dst, m.BirthDate)
		dst = appendString(dst, m.Sex)
		dst = appendString(dst, m.HukouDivision)
		dst = appendString(dst, m.ResidenceDivision)
		dst = binary.AppendVarint(dst, m.MonthlyIncome)
		dst = appendString(dst, m.DisabilityCategory)
		dst = binary.AppendVarint(dst, int64(m.DisabilityGrade))
		dst = appendString(dst, m.DeathDate)
	}
	return dst
}

func appendString(dst []byte, s string) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(s)))
	return append(dst, s...)
}

// DecodeFacts appends the members of household hid encoded in rec by
// EncodeFacts to dst. The strings of the members share rec's memory. It
// reports false for a record that is not of this version or is damaged.
func DecodeFacts(dst []Person, hid int64, rec string) ([]Person, bool) {
	d := factsDecoder{s: rec}
	version := d.byte()
	if version != factsVersion && version != 1 {
		return dst, false
	}
	n := d.uvarint()
	if n > uint64(len(rec)) {
		return dst, false
	}
	for i := uint64(0); i < n && !d.bad; i++ {
		var m Person
		m.HouseholdID = hid
		m.ID = d.varint()
		m.Relation = Relation(d.string())
		m.BirthDate = d.string()
		m.Sex = d.string()
		m.HukouDivision = d.string()
		m.ResidenceDivision = d.string()
		m.MonthlyIncome = d.varint()
		m.DisabilityCategory = d.string()
		m.DisabilityGrade = int(d.varint())
		m.DeathDate = d.string()
		if version == 1 {
			d.uint64() // the medical spending of version 1, read from person_medical now
		}
		dst = append(dst, m)
	}
	if d.bad || d.i != len(rec) {
		return dst, false
	}
	return dst, true
}

// factsDecoder reads a facts record; a read past the end sets bad.
type factsDecoder struct {
	s   string
	i   int
	bad bool
}

func (d *factsDecoder) byte() byte {
	if d.i >= len(d.s) {
		d.bad = true
		return 0
	}
	d.i++
	return d.s[d.i-1]
}

func (d *factsDecoder) uvarint() uint64 {
	var x uint64
	for shift := 0; shift < 64; shift += 7 {
		b := d.byte()
		if d.bad {
			return 0
		}
		x |= uint64(b&0x7f) << shift
		if b < 0x80 {
			return x
		}
	}
	d.bad = true
	return 0
}

func (d *factsDecoder) uint64() uint64 {
	if len(d.s)-d.i < 8 {
		d.bad = true
		return 0
	}
	var x uint64
	for k := 7; k >= 0; k-- {
		x = x<<8 | uint64(d.s[d.i+k])
	}
	d.i += 8
	return x
}

func (d *factsDecoder) varint() int64 {
	u := d.uvarint()
	return int64(u>>1) ^ -int64(u&1)
}

func (d *factsDecoder) string() string {
	n := d.uvarint()
	if d.bad || n > uint64(len(d.s)-d.i) {
		d.bad = true
		return ""
	}
	s := d.s[d.i : d.i+int(n)]
	d.i += int(n)
	return s
}

// RefreshFacts writes households.facts again for the households hids
// (sorted ascending) from their members as they are inside tx, the
// transaction of the run that found them stale. On PostgreSQL the
// households are locked first, so a change to a member made meanwhile
// waits and clears the facts after this transaction; on SQLite the single
// writer gives the same order.
func (s *Service) RefreshFacts(ctx context.Context, tx *sql.Tx, p auth.Principal, hids []int64) error {
	if len(hids) == 0 {
		return nil
	}
	if !p.Scope().CityWide() || !p.Can(auth.PersonRead) {
		return errs.E(errs.Forbidden, "只有全市范围的账号可以批量处理全部人口")
	}
	if s.db.Dialect == db.Postgres {
		if _, err := tx.ExecContext(ctx, `SELECT id FROM households WHERE id = ANY($1) ORDER BY id FOR UPDATE`, hids); err != nil {
			return fmt.Errorf("registry: lock households: %w", err)
		}
	}
	want := make(map[int64]bool, len(hids))
	for _, h := range hids {
		want[h] = true
	}
	type rec struct {
		hid   int64
		facts []byte
	}
	var recs []rec
	err := streamPersons(ctx, tx, hids[0], hids[len(hids)-1], func(hid int64, members []Person) error {
		if want[hid] {
			recs = append(recs, rec{hid, EncodeFacts(nil, members)})
		}
		return nil
	})
	if err != nil {
		return err
	}
	stmt, err := tx.PrepareContext(ctx, `UPDATE households SET facts = $1 WHERE id = $2`)
	if err != nil {
		return fmt.Errorf("registry: refresh facts: %w", err)
	}
	defer stmt.Close()
	for _, r := range recs {
		if _, err := stmt.ExecContext(ctx, r.facts, r.hid); err != nil {
			return fmt.Errorf("registry: refresh facts: %w", err)
		}
	}
	return nil
}

// querier is what streamPersons reads through: the pool or a transaction.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// streamPersons reads the members of the households with IDs in [lo, hi]
// from persons, household by household in ID order.
func streamPersons(ctx context.Context, q querier, lo, hi int64, fn func(householdID int64, members []Person) error) error {
	rows, err := q.QueryContext(ctx, `SELECT p.id, p.household_id, p.relation, p.birth_date, p.sex, p.hukou_division, p.residence_division,
		p.monthly_income, p.disability_category, p.disability_grade, p.death_date, COALESCE(m.monthly, 0) FROM persons p
		LEFT JOIN person_medical m ON m.household_id = p.household_id AND m.person_id = p.id
		WHERE p.household_id >= $1 AND p.household_id <= $2 ORDER BY p.household_id, p.id`, lo, hi)
	if err != nil {
		return fmt.Errorf("registry: stream: %w", err)
	}
	defer rows.Close()
	var cur int64
	var members []Person
	for rows.Next() {
		var x Person
		var rel string
		var death sql.NullString
		if err := rows.Scan(&x.ID, &x.HouseholdID, &rel, &x.BirthDate, &x.Sex, &x.HukouDivision, &x.ResidenceDivision,
			&x.MonthlyIncome, &x.DisabilityCategory, &x.DisabilityGrade, &death, &x.MonthlyMedicalExpense); err != nil {
			return err
		}
		x.Relation, x.DeathDate = Relation(rel), death.String
		if x.HouseholdID != cur && len(members) > 0 {
			if err := fn(cur, members); err != nil {
				return err
			}
			members = members[:0]
		}
		cur = x.HouseholdID
		members = append(members, x)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if len(members) > 0 {
		return fn(cur, members)
	}
	return nil
}
