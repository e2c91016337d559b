package payroll

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"minzheng/internal/audit"
	"minzheng/internal/auth"
	"minzheng/internal/db"
	"minzheng/internal/errs"
)

// personDivision returns the 户籍地 division of a person's household, or
// NotFound when the person is not in the caller's jurisdiction (not
// revealing that they exist).
func (s *Service) personDivision(ctx context.Context, q db.Queryer, by auth.Principal, person int64) (string, error) {
	var div string
	err := q.QueryRowContext(ctx, `SELECT h.hukou_division FROM persons p JOIN households h ON h.id = p.household_id WHERE p.id = $1`, person).Scan(&div)
	if err == sql.ErrNoRows || err == nil && !by.Scope().Covers(div) {
		return "", errs.E(errs.NotFound, "找不到编号为 %d 的人员", person)
	}
	return div, err
}

// SetAccount records where a beneficiary is paid: a bank account, or a
// custodial account (资金卡折代管) held by a custodian on their behalf.
func (s *Service) SetAccount(ctx context.Context, by auth.Principal, a Account) (Account, error) {
	if !by.Can(PermAccount) {
		return Account{}, errs.E(errs.Forbidden, "您的角色无权登记发放账户")
	}
	a.Bank, a.Holder, a.Custodian = strings.TrimSpace(a.Bank), strings.TrimSpace(a.Holder), strings.TrimSpace(a.Custodian)
	a.Number = strings.ReplaceAll(strings.TrimSpace(a.Number), " ", "")
	var fe errs.Fields
	if a.Bank == "" || strings.ContainsAny(a.Bank, "/\\:") || a.Bank == SocialSecurityCard {
		fe.Add("bank", "请填写开户银行名称")
	}
	if len(a.Number) < 8 || len(a.Number) > 32 || strings.IndexFunc(a.Number, func(r rune) bool { return r < '0' || r > '9' }) >= 0 {
		fe.Add("account", "银行账号应为 8–32 位数字（半角 0–9）")
	}
	switch {
	case a.Holder == "":
		fe.Add("holder", "请填写户名")
	case strings.IndexByte("=+-@\t\r", a.Holder[0]) >= 0:
		// It goes into the bank file, where a spreadsheet would take it
		// for a formula (the file's writer escapes it too).
		fe.Add("holder", "户名不能以 =、+、-、@ 开头")
	}
	if a.Custodial && a.Custodian == "" {
		fe.Add("custodian", "代管账户须填写代管人（姓名与关系，或代管机构）")
	}
	if !a.Custodial {
		a.Custodian = ""
	}
	if err := fe.Err(); err != nil {
		return Account{}, err
	}
	now := db.Now(s.now())
	masked := maskAccount(a.Number)
	err := s.DB.Tx(ctx, func(tx *sql.Tx) error {
		if _, err := s.personDivision(ctx, tx, by, a.PersonID); err != nil {
			return err
		}
		custodial := 0
		if a.Custodial {
			custodial = 1
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO payee_accounts (person_id, bank, account_enc, account_masked, holder, custodial, custodian, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
			ON CONFLICT (person_id) DO UPDATE SET bank = excluded.bank, account_enc = excluded.account_enc, account_masked = excluded.account_masked,
				holder = excluded.holder, custodial = excluded.custodial, custodian = excluded.custodian, updated_at = excluded.updated_at`,
			a.PersonID, a.Bank, s.Suite.Seal([]byte(a.Number)), masked, a.Holder, custodial, a.Custodian, now); err != nil {
			return fmt.Errorf("payroll: account: %w", err)
		}
		detail := fmt.Sprintf("%s %s", a.Bank, masked)
		if a.Custodial {
			detail += "，代管人 " + a.Custodian
		}
		return s.Audit.Append(ctx, tx, audit.Entry{Actor: by.Name, Role: string(by.Role), Action: "payroll.account", Entity: "person", EntityID: fmt.Sprint(a.PersonID), Detail: detail, Remote: by.Remote})
	})
	if err != nil {
		return Account{}, err
	}
	a.Number, a.UpdatedAt = masked, now
	return a, nil
}

// maskAccount shows the last four digits of an account number, and the
// first four too when at least eight others stay hidden.
func maskAccount(n string) string {
	if len(n) >= 16 {
		return n[:4] + strings.Repeat("*", len(n)-8) + n[len(n)-4:]
	}
	return strings.Repeat("*", len(n)-4) + n[len(n)-4:]
}

// GetAccount returns a beneficiary's account, masked; without one, the
// social security card (社保卡) they are paid to by ID number.
func (s *Service) GetAccount(ctx context.Context, by auth.Principal, person int64) (Account, error) {
	if !by.Can(PermRead) && !by.Can(PermAccount) {
		return Account{}, errs.E(errs.Forbidden, "您的角色无权查看发放账户")
	}
	if _, err := s.personDivision(ctx, s.DB, by, person); err != nil {
		return Account{}, err
	}
	a := Account{PersonID: person, Bank: SocialSecurityCard}
	var custodial int
	err := s.DB.QueryRowContext(ctx, `SELECT bank, account_masked, holder, custodial, custodian, updated_at FROM payee_accounts WHERE person_id = $1`, person).
		Scan(&a.Bank, &a.Number, &a.Holder, &custodial, &a.Custodian, &a.UpdatedAt)
	if err == sql.ErrNoRows {
		return a, nil
	}
	a.Custodial = custodial == 1
	return a, err
}
