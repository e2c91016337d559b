package payroll

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
	"time"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/vm"

	"minzheng/internal/audit"
	"minzheng/internal/auth"
	"minzheng/internal/db"
	"minzheng/internal/errs"
	"minzheng/internal/jobs"
)

// Campaign is a one-off payment (帮困送温暖, a price subsidy under 条例
// Art. 20): Rule selects the recipients among the people holding an active
// entitlement on AsOf, Amount says how much each gets in yuan.
type Campaign struct {
	ID     string `json:"id"`     // e.g. 2025-spring; also the ledger period
	Name   string `json:"name"`   // e.g. 2025 年春节帮困送温暖
	Rule   string `json:"rule"`   // expr, e.g. "dibao" in programs || "tekun" in programs
	Amount string `json:"amount"` // expr giving yuan, e.g. 500 or household_size * 200
	AsOf   string `json:"as_of"`  // YYYY-MM-DD
}

// Recipient is what a campaign's rule and amount see of one person.
type Recipient struct {
	Programs        []string `expr:"programs"`         // programmes with an active entitlement
	MonthlyAmount   float64  `expr:"monthly_amount"`   // their monthly total, yuan
	Age             int      `expr:"age"`              // on AsOf
	District        string   `expr:"district"`         // 户籍地 district code
	HouseholdSize   int      `expr:"household_size"`   // living members of the household
	LivesAlone      bool     `expr:"lives_alone"`      // 独居
	DisabilityGrade int      `expr:"disability_grade"` // 0 none, 1–4
}

// compiled holds a campaign's checked programs.
type compiled struct {
	rule, amount *vm.Program
}

// Check compiles the campaign's rule and amount; errors name the field.
func (c Campaign) Check() (compiled, error) {
	var fe errs.Fields
	if c.ID == "" || strings.ContainsAny(c.ID, "/ ") || len(c.ID) > 40 {
		fe.Add("id", "活动编号应为不含空格和“/”的 1–40 个字符，如 2025-spring")
	} else if _, _, err := ParsePeriod(c.ID); err == nil {
		fe.Add("id", "活动编号 %s 与月度发放期相同，请另取，如 %s-spring", c.ID, c.ID[:4])
	}
	if strings.TrimSpace(c.Name) == "" {
		fe.Add("name", "请填写活动名称")
	}
	if _, err := time.Parse(time.DateOnly, c.AsOf); err != nil {
		fe.Add("as_of", "基准日期“%s”应为 YYYY-MM-DD", c.AsOf)
	}
	var out compiled
	var err error
	if out.rule, err = expr.Compile(c.Rule, expr.Env(Recipient{}), expr.AsBool()); err != nil {
		fe.Add("rule", "发放对象规则有误：%s", firstLine(err))
	}
	if out.amount, err = expr.Compile(c.Amount, expr.Env(Recipient{}), expr.AsFloat64()); err != nil {
		fe.Add("amount", "金额公式有误：%s", firstLine(err))
	}
	return out, fe.Err()
}

func firstLine(err error) string {
	s, _, _ := strings.Cut(err.Error(), "\n")
	return s
}

// RunCampaign pays a campaign once: every person holding an active
// entitlement on AsOf whom the rule selects gets a one-off line of the
// amount, in the same exactly-once ledger as the monthly payroll (period and
// programme are the campaign id). Running it again adds only what is
// missing; a campaign id cannot be reused with another rule or amount.
func (s *Service) RunCampaign(ctx context.Context, by auth.Principal, c Campaign, progress io.Writer) (Result, error) {
	if !by.Can(PermRun) || !by.Scope().CityWide() {
		return Result{}, errs.E(errs.Forbidden, "只有全市范围的市管理员可以运行发放")
	}
	prog, err := c.Check()
	if err != nil {
		return Result{}, err
	}
	if progress == nil {
		progress = io.Discard
	}
	on, _ := time.Parse(time.DateOnly, c.AsOf)
	if _, err := s.Leases.Acquire(ctx, Job, 2*time.Hour); errors.Is(err, jobs.ErrHeld) {
		return Result{}, errs.E(errs.Conflict, "发放正在另一进程中运行，请稍后再试")
	} else if err != nil {
		return Result{}, err
	}
	defer s.Leases.Release(context.WithoutCancel(ctx), Job, "")
	now := db.Now(s.now())
	var runID int64
	err = s.DB.Tx(ctx, func(tx *sql.Tx) error {
		var rule, amount, asOf string
		err := tx.QueryRowContext(ctx, `SELECT rule, amount, as_of FROM campaigns WHERE id = $1`, c.ID).Scan(&rule, &amount, &asOf)
		if err == sql.ErrNoRows {
			if _, err := tx.ExecContext(ctx, `INSERT INTO campaigns (id, name, rule, amount, as_of, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
				c.ID, c.Name, c.Rule, c.Amount, c.AsOf, by.Name, now); err != nil {
				return err
			}
		} else if err != nil {
			return err
		} else if rule != c.Rule || amount != c.Amount || asOf != c.AsOf {
			return errs.Field("id", "活动 %s 已按另一规则发放过，请使用新的活动编号", c.ID)
		}
		return tx.QueryRowContext(ctx, `INSERT INTO payroll_runs (period, kind, actor, started_at) VALUES ($1, 'campaign', $2, $3) RETURNING id`, c.ID, by.Name, now).Scan(&runID)
	})
	if err != nil {
		return Result{}, err
	}
	w := &writer{s: s, ctx: ctx, period: c.ID, run: runID, now: now}
	day := on.Format(time.DateOnly)
	after, selected := int64(0), 0
	for {
		rows, err := s.DB.QueryContext(ctx, `SELECT p.id, p.household_id, h.hukou_division, p.birth_date, p.lives_alone, p.disability_grade, e.program, e.monthly_fen,
				(SELECT COUNT(*) FROM persons m WHERE m.household_id = p.household_id AND (m.death_date IS NULL OR m.death_date > $2))
			FROM entitlements e JOIN persons p ON p.id = e.person_id JOIN households h ON h.id = p.household_id
			WHERE e.person_id > $1 AND e.person_id <= $1 + 20000 AND e.since <= $2 AND (e.until IS NULL OR e.until >= $2)
			ORDER BY e.person_id`, after, day)
		if err != nil {
			return Result{}, fmt.Errorf("payroll: campaign recipients: %w", err)
		}
		var cur *Recipient
		var curLine Line
		decide := func() error {
			if cur == nil {
				return nil
			}
			ok, err := expr.Run(prog.rule, *cur)
			if err != nil {
				return errs.Field("rule", "人员 %d：%s", curLine.PersonID, firstLine(err))
			}
			if !ok.(bool) {
				return nil
			}
			amt, err := expr.Run(prog.amount, *cur)
			if err != nil {
				return errs.Field("amount", "人员 %d：%s", curLine.PersonID, firstLine(err))
			}
			fen := int64(math.Round(amt.(float64) * 100))
			if fen > 0 {
				curLine.Fen = fen
				w.buf = append(w.buf, curLine)
				selected++
			}
			return nil
		}
		n := 0
		for rows.Next() {
			var id, hh, fen int64
			var div, birth, program string
			var alone bool
			var grade, size int
			if err := rows.Scan(&id, &hh, &div, &birth, &alone, &grade, &program, &fen, &size); err != nil {
				rows.Close()
				return Result{}, err
			}
			n++
			if cur != nil && curLine.PersonID == id {
				cur.Programs = append(cur.Programs, program)
				cur.MonthlyAmount += yuan(fen)
				continue
			}
			if err := decide(); err != nil {
				rows.Close()
				return Result{}, err
			}
			cur = &Recipient{Programs: []string{program}, MonthlyAmount: yuan(fen), Age: age(birth, on), District: div[:min(6, len(div))],
				HouseholdSize: size, LivesAlone: alone, DisabilityGrade: grade}
			curLine = Line{Period: c.ID, Program: c.ID, PersonID: id, Kind: OneOff, HouseholdID: hh, Division: div}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return Result{}, err
		}
		if err := decide(); err != nil {
			return Result{}, err
		}
		if err := s.DB.Tx(ctx, w.flush); err != nil {
			return Result{}, err
		}
		if n == 0 {
			var more bool
			if err := s.DB.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM entitlements WHERE person_id > $1)`, after+20000).Scan(&more); err != nil {
				return Result{}, err
			}
			if !more {
				break
			}
		}
		after += 20000
	}
	fmt.Fprintf(progress, "%s：选中 %d 人，新增 %d 行\n", c.Name, selected, w.added)
	if _, err := s.DB.ExecContext(ctx, `UPDATE payroll_runs SET finished_at = $1, new_lines = $2 WHERE id = $3`, db.Now(s.now()), w.added, runID); err != nil {
		return Result{}, err
	}
	res, err := s.totals(ctx, c.ID)
	if err != nil {
		return Result{}, err
	}
	res.NewLines = w.added
	err = s.Audit.Record(ctx, audit.Entry{Actor: by.Name, Role: string(by.Role), Action: "payroll.campaign", Entity: "campaign", EntityID: c.ID,
		Detail: fmt.Sprintf("%s：规则 %s，新增 %d 行，共 %d 行 %.2f 元", c.Name, c.Rule, res.NewLines, res.Lines, res.AmountTotal), Remote: by.Remote})
	return res, err
}

// age is the age in whole years on day of someone born on birth.
func age(birth string, on time.Time) int {
	b, err := time.Parse(time.DateOnly, birth)
	if err != nil {
		return 0
	}
	a := on.Year() - b.Year()
	if on.Month() < b.Month() || on.Month() == b.Month() && on.Day() < b.Day() {
		a--
	}
	return a
}
