package payroll_test

import (
	"context"
	"path/filepath"
	"testing"

	"minzheng/internal/auth"
	"minzheng/internal/db"
	"minzheng/internal/db/dbtest"
	"minzheng/internal/errs"
	"minzheng/internal/payroll"
)

// TestBankFileFormulaInjection covers issue 11, finding 5: a holder name
// a spreadsheet would take for a formula is refused when the account is
// recorded, and one already in the database (recorded before the check)
// reaches the bank file escaped, as does a custodian; the amount stays a
// number.
func TestBankFileFormulaInjection(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d)
		elder := f.person(t, "张老", "310104003001", "1950-03-01", 11, 0)
		f.entitle(t, "elderly_allowance", elder, 15000, "2025-07-01")
		for _, holder := range []string{"=HYPERLINK(\"http://evil.example\",\"张老\")", "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(1+1)", " \t=1+1", "\u3000=1"} {
			_, err := f.pay.SetAccount(ctx, auth.System(), payroll.Account{PersonID: elder.ID, Bank: "工商银行", Number: "6222021001112222", Holder: holder})
			if errs.Code(err) != errs.Invalid || len(errs.As(err).Fields) != 1 || errs.As(err).Fields[0].Field != "holder" {
				t.Errorf("holder %q: %v, want invalid holder", holder, err)
			}
		}
		if _, err := f.pay.SetAccount(ctx, auth.System(), payroll.Account{PersonID: elder.ID, Bank: "工商银行", Number: "6222021001112222", Holder: "张老", Custodial: true, Custodian: "@SUM(1+1)"}); err != nil {
			t.Fatal(err)
		}
		if _, err := d.Exec(`UPDATE payee_accounts SET holder = $1 WHERE person_id = $2`, "=HYPERLINK(\"http://evil.example\",\"张老\")", elder.ID); err != nil {
			t.Fatal(err)
		}
		f.run(t, "2025-08")
		rows := readBank(t, filepath.Join(f.pay.Dir, "2025-08", "310104", "工商银行.csv"))
		if len(rows) != 2 {
			t.Fatalf("bank file %q", rows)
		}
		if got := rows[1][1]; got != "'=HYPERLINK(\"http://evil.example\",\"张老\")" {
			t.Errorf("holder cell %q, want it escaped with '", got)
		}
		if got := rows[1][9]; got != "'@SUM(1+1)" {
			t.Errorf("custodian cell %q, want it escaped with '", got)
		}
		if got := rows[1][5]; got != "150.00" {
			t.Errorf("amount cell %q, want 150.00", got)
		}
	})
}
