package assistance_test

import (
	"bytes"
	"context"
	"testing"

	"minzheng/internal/assistance"
	"minzheng/internal/db/dbtest"
	"minzheng/internal/errs"
	"minzheng/internal/tabular"
)

// FuzzVerifyTable feeds department files to the verification import: it
// never panics, a refused file writes nothing and names rows, and an
// accepted one is stored whole.
func FuzzVerifyTable(f *testing.F) {
	d := dbtest.SQLite(f)
	fx := newFixture(f, d)
	ctx := context.Background()
	a, err := fx.svc.Create(ctx, fx.clerk, assistance.NewApplication{PersonID: fx.headID, Programs: []string{"dibao"}})
	if err != nil {
		f.Fatal(err)
	}
	if _, err := fx.svc.Move(ctx, fx.clerk, a.ID, assistance.Move{To: assistance.Verifying}); err != nil {
		f.Fatal(err)
	}
	head := fx.headNo
	for _, seed := range []string{
		"身份证号,数据来源,金额\n" + head + ",工资收入,900\n",
		"身份证号,数据来源,金额,说明,核对日期\n" + head + ",银行存款,\"1,000.5\",工行,2025-07-01\n" + head + ",不动产,,房产,\n",
		"id_number,source,amount\n" + head + ",wage,-1\n123,彩票,x\n",
		"标题\n身份证号,来源\n" + head + ",养老金\n",
		"",
		"身份证号,数据来源,金额\n" + head + ",wage,1e400\n",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		tab, err := tabular.Read(bytes.NewReader(data), "f.csv", 1<<20)
		if err != nil {
			return
		}
		var before int
		d.QueryRow(`SELECT COUNT(*) FROM verification_records`).Scan(&before)
		rep, err := fx.svc.VerifyTable(ctx, fx.clerk, a.ID, tab, "f.csv")
		var after int
		d.QueryRow(`SELECT COUNT(*) FROM verification_records`).Scan(&after)
		switch {
		case err == nil:
			if after-before != len(tab.Rows) || rep.Rows != len(tab.Rows) {
				t.Fatalf("accepted %d rows, stored %d, report %d", len(tab.Rows), after-before, rep.Rows)
			}
		case errs.Code(err) == errs.Invalid:
			if after != before {
				t.Fatalf("refused file wrote %d records: %v", after-before, err)
			}
		default:
			t.Fatalf("unexpected error: %v", err)
		}
	})
}
