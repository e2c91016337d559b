package registry_test

import (
	"context"
	"database/sql"
	"fmt"
	"testing"

	"minzheng/internal/auth"
	"minzheng/internal/db"
	"minzheng/internal/db/dbtest"
	"minzheng/internal/registry"
)

// TestHouseholdFactsCache checks households.facts, the per-household cache
// of the members' decision facts: the loader writes it, any change to a
// member (through the service or plain SQL) makes it stale, the stream
// then reads that household from persons, and RefreshFacts writes it again
// — and what the stream returns is always what persons holds.
func TestHouseholdFactsCache(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		ctx := context.Background()
		l, err := f.svc.NewLoader(ctx, auth.System())
		if err != nil {
			t.Fatal(err)
		}
		seq := 0
		for i := 0; i < 40; i++ {
			code := []string{"310104003001", "310115003001"}[i%2]
			var ms []registry.Person
			var nums []string
			for j := 0; j <= i%3; j++ {
				p := registry.Person{Relation: []registry.Relation{registry.Head, "spouse", "child"}[j], Name: "测试", BirthDate: fmt.Sprintf("19%02d-0%d-1%d", 40+i, 1+j, j),
					Sex: "MF"[j%2 : j%2+1], HukouDivision: code, ResidenceDivision: code, MonthlyIncome: int64(i * 100 * j), DisabilityGrade: i % 5, MonthlyMedicalExpense: float64(i*j) * 12.5}
				if p.DisabilityGrade > 0 {
					p.DisabilityCategory = "physical"
				}
				if i%7 == 3 && j == 0 {
					p.DeathDate = "2024-02-29"
				}
				if j == 2 {
					p.HukouDivision = "" // a child registered elsewhere
				}
				seq++
				ms = append(ms, p)
				nums = append(nums, id(code[:6], p.BirthDate, seq))
			}
			if _, err := l.Add(registry.Household{HukouDivision: code, ResidenceDivision: code}, ms, nums); err != nil {
				t.Fatal(err)
			}
		}
		if err := l.Close("test"); err != nil {
			t.Fatal(err)
		}
		check := func(wantStale map[int64]bool) {
			t.Helper()
			fromPersons := map[int64][]registry.Person{}
			err := d.Tx(ctx, func(tx *sql.Tx) error {
				return registry.StreamPersonsForTest(ctx, tx, 0, 1<<40, func(hid int64, ms []registry.Person) error {
					fromPersons[hid] = append([]registry.Person(nil), ms...)
					return nil
				})
			})
			if err != nil {
				t.Fatal(err)
			}
			seen := 0
			err = f.svc.StreamHouseholds(ctx, auth.System(), func(hid int64, ms []registry.Person, stale bool) error {
				seen++
				if stale != wantStale[hid] {
					t.Errorf("household %d: stale %v, want %v", hid, stale, wantStale[hid])
				}
				want := fromPersons[hid]
				if fmt.Sprint(ms) != fmt.Sprint(want) {
					t.Errorf("household %d from the cache:\n%v\nfrom persons:\n%v", hid, ms, want)
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if seen != len(fromPersons) {
				t.Errorf("streamed %d households, persons has %d", seen, len(fromPersons))
			}
		}
		check(nil)

		// A change through the service and one in plain SQL both mark
		// their household stale.
		inc := int64(777)
		if _, err := f.svc.UpdateFacts(ctx, xuhuiClerk, 1, registry.FactsUpdate{MonthlyIncome: &inc}); err != nil {
			t.Fatal(err)
		}
		if _, err := d.ExecContext(ctx, `UPDATE persons SET death_date = '2025-01-01' WHERE household_id = 6`); err != nil {
			t.Fatal(err)
		}
		// So does a new member (a newborn registered into household 9).
		if _, err := f.svc.Create(ctx, xuhuiClerk, registry.NewPerson{Name: "新生儿", IDNumber: id("310104", "2025-07-01", 900), HukouDivision: "310104003001",
			ResidenceDivision: "310104003001", HouseholdID: 9, Relation: "child"}); err != nil {
			t.Fatal(err)
		}
		check(map[int64]bool{1: true, 6: true, 9: true})

		// Medical spending (person_medical, which feeds write) is read
		// beside the cache: a new figure shows without making it stale.
		if _, err := d.ExecContext(ctx, `INSERT INTO person_medical (household_id, person_id, monthly, as_of) SELECT household_id, id, 321.5, '2025-07-31' FROM persons WHERE household_id IN (2, 3)
			ON CONFLICT (household_id, person_id) DO UPDATE SET monthly = excluded.monthly`); err != nil {
			t.Fatal(err)
		}
		n := 0
		if err := f.svc.StreamHouseholds(ctx, auth.System(), func(hid int64, ms []registry.Person, stale bool) error {
			for _, m := range ms {
				if m.MonthlyMedicalExpense == 321.5 {
					n++
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			t.Error("the new medical spending is not in the stream")
		}
		check(map[int64]bool{1: true, 6: true, 9: true})

		if err := d.Tx(ctx, func(tx *sql.Tx) error {
			return f.svc.RefreshFacts(ctx, tx, auth.System(), []int64{1, 6, 9})
		}); err != nil {
			t.Fatal(err)
		}
		check(nil)
	})
}

// FuzzDecodeFacts feeds arbitrary records to the decoder (it must not
// panic) and checks that what it encodes, it reads back.
func FuzzDecodeFacts(f *testing.F) {
	f.Add([]byte{1, 0}, "1950-05-01", "310104003001", int64(1000))
	f.Add([]byte{1, 200, 1}, "", "", int64(-5))
	f.Fuzz(func(t *testing.T, rec []byte, s1, s2 string, n int64) {
		registry.DecodeFacts(nil, 1, string(rec))
		ms := []registry.Person{{ID: n, HouseholdID: 9, Relation: registry.Relation(s1), BirthDate: s2, Sex: s1, HukouDivision: s2, ResidenceDivision: s1,
			MonthlyIncome: -n, DisabilityCategory: s2, DisabilityGrade: int(n % 5), DeathDate: s1}}
		enc := registry.EncodeFacts(nil, ms)
		got, ok := registry.DecodeFacts(nil, 9, string(enc))
		if !ok || fmt.Sprint(got) != fmt.Sprint(ms) {
			t.Fatalf("round trip: %v, %v", got, ok)
		}
		// A version 1 record (each member followed by 8 bytes of medical
		// spending) reads as the same members.
		v1 := append([]byte{1}, enc[1:]...)
		v1 = append(v1, 1, 2, 3, 4, 5, 6, 7, 8)
		if got, ok := registry.DecodeFacts(nil, 9, string(v1)); !ok || fmt.Sprint(got) != fmt.Sprint(ms) {
			t.Fatalf("version 1: %v, %v", got, ok)
		}
	})
}
