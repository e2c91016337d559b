// Package payroll is the business line that pays (发放): the monthly
// payroll of every active entitlement, back payments (补发), recoveries of
// overpayments (追缴) and their deduction from later payments (抵扣),
// one-off campaigns (帮困送温暖, price subsidies), bank disbursement files
// per bank and the bank's return files, district sign-off (签发) and the
// monthly figures.
//
// Every amount due is a line of an append-only ledger whose natural key
// (period, programme, beneficiary, kind) is unique. A run computes the lines
// in batches, each in one transaction that inserts them with ON CONFLICT DO
// NOTHING, so a run killed at any point and started again adds exactly the
// lines still missing: nobody is paid twice and nobody is forgotten. Bank
// files are written from the ledger at the end, so they can always be
// written again.
package payroll

import (
	"fmt"
	"time"
)

// Kinds of ledger lines.
const (
	Regular   = "regular"   // 月度发放
	BackPay   = "back_pay"  // 补发
	Recovery  = "recovery"  // 追缴: overpaid for a period, to be recovered (negative)
	Deduction = "deduction" // 抵扣: recovered from this period's payment (negative)
	OneOff    = "one_off"   // 一次性发放 (campaigns)
)

// KindLabel returns the Chinese name of a ledger line kind.
func KindLabel(kind string) string {
	switch kind {
	case Regular:
		return "月度发放"
	case BackPay:
		return "补发"
	case Recovery:
		return "追缴"
	case Deduction:
		return "抵扣"
	case OneOff:
		return "一次性发放"
	}
	return kind
}

// SocialSecurityCard is the bank file of payments to people without a
// recorded account: the card bank credits the social security card (敬老卡
// for the elderly allowance) by ID number.
const SocialSecurityCard = "社保卡"

// Result is what a run leaves in the ledger for its period. The CLI prints
// it as one JSON line.
type Result struct {
	Period      string  `json:"period"`
	Lines       int64   `json:"lines"`        // lines of the period's ledger after the run
	NewLines    int64   `json:"new_lines"`    // lines this run added
	AmountTotal float64 `json:"amount_total"` // sum of the period's lines, yuan
}

// Options tune a run.
type Options struct {
	// Batch is how many entitlements go in one transaction (default 20,000).
	Batch int
	// Files writes the bank files of every district after the run (the CLI
	// does; the scheduled job waits for each district's sign-off).
	Files bool
}

// Line is one ledger line.
type Line struct {
	ID          int64     `json:"id"`
	Period      string    `json:"period"`
	Program     string    `json:"program"`
	PersonID    int64     `json:"person_id"`
	Kind        string    `json:"kind"`
	Fen         int64     `json:"fen"`
	HouseholdID int64     `json:"household_id"`
	Division    string    `json:"division"`
	CreatedAt   time.Time `json:"created_at"`
}

// Account is where a beneficiary's money goes.
type Account struct {
	PersonID  int64  `json:"person_id"`
	Bank      string `json:"bank"`
	Number    string `json:"account"`   // in: the full number; out: masked
	Holder    string `json:"holder"`    // the account holder
	Custodial bool   `json:"custodial"` // 资金卡折代管
	Custodian string `json:"custodian"` // 代管人, when custodial
	UpdatedAt string `json:"updated_at,omitempty"`
}

// ParsePeriod checks a YYYY-MM period and returns its first and last day.
func ParsePeriod(s string) (first, last time.Time, err error) {
	t, perr := time.Parse("2006-01", s)
	if perr != nil || len(s) != 7 {
		return time.Time{}, time.Time{}, fmt.Errorf("发放期“%s”应为 YYYY-MM，如 2025-08", s)
	}
	return t, t.AddDate(0, 1, -1), nil
}

// Due is what an entitlement of monthly fen, running from since until
// until ("" while active), pays for the month [first, last]. The month a
// grant starts is paid in full; the month it stops is paid by the day up to
// and including the stop date (停发当月按日计发). Both are assumptions
// awaiting the official payment rules, listed in docs/ARCHITECTURE.md.
func Due(monthly int64, since, until string, first, last time.Time) int64 {
	if since > last.Format(time.DateOnly) {
		return 0
	}
	if until == "" || until >= last.Format(time.DateOnly) {
		return monthly
	}
	u, err := time.Parse(time.DateOnly, until)
	if err != nil || u.Before(first) {
		return 0
	}
	days := int64(last.Day())
	return (monthly*int64(u.Day()) + days/2) / days
}

// yuan converts fen to yuan.
func yuan(fen int64) float64 { return float64(fen) / 100 }
