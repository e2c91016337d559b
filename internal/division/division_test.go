package division_test

import (
	"context"
	"testing"

	"minzheng/internal/auth"
	"minzheng/internal/db"
	"minzheng/internal/db/dbtest"
	"minzheng/internal/division"
	"minzheng/internal/errs"
)

func TestShanghaiTree(t *testing.T) {
	tree, err := division.Shanghai()
	if err != nil {
		t.Fatal(err)
	}
	for level, want := range map[division.Level]int{division.City: 1, division.District: 16, division.Street: 234, division.Committee: 6509} {
		if got := tree.Count(level); got != want {
			t.Errorf("%s: %d, want %d", level, got, want)
		}
	}
	if got := tree.FullName("310104003"); got != "徐汇区天平路街道" {
		t.Errorf("FullName = %q", got)
	}
	if got := tree.FullName("310000"); got != "上海市" {
		t.Errorf("FullName(city) = %q", got)
	}
	path := tree.Path("310104003")
	if len(path) != 3 || path[0].Name != "上海市" || path[1].Name != "徐汇区" {
		t.Errorf("Path = %+v", path)
	}
	if len(tree.Children("310000")) != 16 {
		t.Errorf("city has %d children", len(tree.Children("310000")))
	}
}

func TestNodeCounts(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		tree, _ := division.Shanghai()
		svc := division.NewService(d, tree)
		if err := svc.Seed(ctx); err != nil {
			t.Fatal(err)
		}
		if err := svc.Seed(ctx); err != nil { // idempotent
			t.Fatal(err)
		}
		// Two households in 徐汇 (one at street level), one in 浦东, one dead person.
		rows := []struct {
			hukou string
			dead  bool
		}{{"310104003001", false}, {"310104003001", false}, {"310104003", false}, {"310115004001", false}, {"310115004001", true}}
		for i, r := range rows {
			var hid int64
			if err := d.QueryRowContext(ctx, `INSERT INTO households (hukou_division, residence_division, created_at) VALUES ($1, $1, 'x') RETURNING id`, r.hukou).Scan(&hid); err != nil {
				t.Fatal(err)
			}
			var death any
			if r.dead {
				death = "2025-01-01"
			}
			if _, err := d.ExecContext(ctx, `INSERT INTO persons (household_id, name, id_hash, id_enc, id_masked, birth_date, sex, hukou_division, residence_division, death_date, created_at, updated_at)
				VALUES ($1, 'x', $2, $2, 'm', '1950-01-01', 'M', $3, $3, $4, 'x', 'x')`, hid, []byte{byte(i)}, r.hukou, death); err != nil {
				t.Fatal(err)
			}
		}
		city := auth.System()
		xuhui := auth.Principal{Role: auth.Reviewer, Division: "310104"}
		tests := []struct {
			name       string
			p          auth.Principal
			code       string
			persons    int64
			households int64
		}{
			{"city at city", city, "310000", 4, 5},
			{"city at xuhui", city, "310104", 3, 3},
			{"city at street", city, "310104003", 3, 3},
			{"xuhui reviewer at city sees only xuhui", xuhui, "310000", 3, 3},
			{"xuhui reviewer at pudong sees nothing", xuhui, "310115", 0, 0},
		}
		for _, tt := range tests {
			n, err := svc.Node(ctx, tt.p, tt.code)
			if err != nil {
				t.Fatalf("%s: %v", tt.name, err)
			}
			if n.Persons != tt.persons || n.Households != tt.households {
				t.Errorf("%s: persons %d households %d, want %d %d", tt.name, n.Persons, n.Households, tt.persons, tt.households)
			}
		}
		n, _ := svc.Node(ctx, city, "310000")
		var xh division.Stat
		for _, s := range n.ChildStats {
			if s.Code == "310104" {
				xh = s
			}
		}
		if xh.Persons != 3 || xh.Households != 3 || len(n.Children) != 16 {
			t.Errorf("xuhui child stat %+v, %d children", xh, len(n.Children))
		}
		st, _ := svc.Node(ctx, city, "310104003")
		var sum int64
		for _, s := range st.ChildStats {
			sum += s.Persons
		}
		if sum != 2 { // the street-level person is in no committee
			t.Errorf("committee sum %d, want 2", sum)
		}
		if _, err := svc.Node(ctx, city, "999999"); !errs.IsNotFound(err) {
			t.Errorf("unknown code: %v", err)
		}
	})
}
