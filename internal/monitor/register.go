package monitor

import (
	"fmt"
	"math"
	"sort"
	"time"

	"minzheng/internal/registry"
)

// deaths records each matched death in the register, which appends a
// person.died event whose consumer re-decides the household's
// entitlements (stopping the dead person's).
func (w *writer) deaths(ms []match) error {
	for _, m := range ms {
		if _, err := w.register.RecordDeath(m.person, m.residence, m.rec.ValidFrom); err != nil {
			return err
		}
	}
	return nil
}

// disabilities applies the certificates valid on the import date to the
// register: a person's disability category and grade change when they
// differ from the certificate's; the register audits each change with the
// feed's source and batch and appends a person.changed event, whose
// consumer (eligibility's monitor.redecide) re-decides the household's
// entitlements — a newly certified grade-1 person is granted 重度残疾人护理
// 补贴 without applying. A certificate not yet or no longer valid is kept
// as a fact only.
func (w *writer) disabilities(ms []match) error {
	today := w.now.In(shanghai).Format(time.DateOnly)
	for _, m := range ms {
		if m.rec.ValidFrom > today || (m.rec.ValidTo != "" && m.rec.ValidTo < today) {
			continue
		}
		changed, err := w.register.SetDisability(m.person, m.residence, m.rec.Detail, m.rec.Grade, m.rec.ValidFrom, m.rec.ValidTo)
		if err != nil {
			return err
		}
		if changed {
			w.registered++
		}
	}
	return nil
}

// MedicalMonths is the window of 医保 bills that a person's monthly medical
// expense averages over.
const MedicalMonths = 3

// medicalExpenses refreshes person_medical, the monthly medical spending
// of the people a medical feed touched: the self-paid amounts of their
// bills dated in the last MedicalMonths months up to the import date,
// divided by MedicalMonths, in yuan rounded to the fen. The policy case
// reads it as necessary spending (刚性支出). It is an assumption that the
// figure is refreshed when bills arrive, not as time passes: a person
// without new bills keeps the figure of their last batch until the next
// one. Only changed figures are written, each with the import date. No
// event follows, so that a feed of a million bills does not queue a
// million re-decisions: the daily proactive run, and any re-decision of
// the household, reads the new figure.
func (w *writer) medicalExpenses(ms []match) error {
	from, to := medicalWindow(w.now)
	w.medical3m = make(map[int64]float64, len(ms))
	type person struct{ household, id int64 }
	var persons []person
	seen := make(map[int64]bool, len(ms))
	for _, m := range ms {
		if !seen[m.person] {
			seen[m.person] = true
			persons = append(persons, person{m.household, m.person})
		}
	}
	// In household order, the sums read feed_facts and the figures are
	// written into person_medical from one end to the other.
	sort.Slice(persons, func(i, j int) bool {
		if persons[i].household != persons[j].household {
			return persons[i].household < persons[j].household
		}
		return persons[i].id < persons[j].id
	})
	// Each household is summed once, with the first chunk that has one
	// of its persons (a household can straddle two).
	sums := make(map[int64]float64, len(persons))
	summed := make(map[int64]bool, len(persons))
	for start := 0; start < len(persons); start += chunk {
		part := persons[start:min(start+chunk, len(persons))]
		args := make([]any, 0, len(part)+2)
		args = append(args, from, to)
		for _, p := range part {
			if !summed[p.household] {
				summed[p.household] = true
				args = append(args, p.household)
			}
		}
		if err := w.sumMedical(args, sums); err != nil {
			return err
		}
		rows := make([]registry.Medical, len(part))
		for i, p := range part {
			rows[i] = registry.Medical{Household: p.household, Person: p.id, Monthly: math.Round(sums[p.id]/MedicalMonths*100) / 100}
		}
		n, err := w.register.SetMedical(rows, to)
		if err != nil {
			return err
		}
		w.medical += int(n)
	}
	return nil
}

// sumMedical adds the medical spending in the window of the households in
// args (after the window's two dates) to sums, by person, and to
// w.medical3m, by household.
func (w *writer) sumMedical(args []any, sums map[int64]float64) error {
	if len(args) == 2 {
		return nil
	}
	// Through the index on (household_id, feed_type, valid_from). The
	// numbered parameters come first in the text: SQLite numbers each "?"
	// after the largest number seen before it.
	rows, err := w.query(`SELECT person_id, household_id, SUM(amount) FROM feed_facts WHERE valid_from >= $1 AND valid_from <= $2 AND feed_type = 'medical'
		AND household_id IN (`+ph(w.s.DB.Dialect, 3, len(args)-2)+`) GROUP BY person_id, household_id`, args...)
	if err != nil {
		return fmt.Errorf("monitor: medical expenses: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, household int64
		var sum float64
		if err := rows.Scan(&id, &household, &sum); err != nil {
			return err
		}
		sums[id] = sum
		w.medical3m[household] += sum
	}
	return rows.Err()
}
