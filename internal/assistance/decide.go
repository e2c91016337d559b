package assistance

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"minzheng/internal/auth"
	"minzheng/internal/eligibility"
	"minzheng/internal/errs"
)

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// requirements checks that what the transition requires is recorded, and
// returns the approved amounts of an approval.
func (s *Service) requirements(ctx context.Context, tx *sql.Tx, t Transition, a Application, m Move, reasons []string, pre []Precheck, today time.Time) (map[string]int64, error) {
	var fe errs.Fields
	if utf8.RuneCountInString(m.Note) > 2000 {
		fe.Add("note", "意见过长（最多 2000 字）")
	}
	if t.Needs(NeedNote) && m.Note == "" {
		fe.Add("note", "请填写意见（%s）", t.Label)
	}
	if t.Needs(NeedReasons) && len(reasons) == 0 {
		fe.Add("reasons", "请填写不予批准的理由")
	}
	if t.Needs(NeedVerification) {
		var until sql.NullString
		err := tx.QueryRowContext(ctx, `SELECT MAX(valid_until) FROM verification_batches WHERE application_id = $1`, a.ID).Scan(&until)
		if err != nil {
			return nil, err
		}
		switch {
		case !until.Valid:
			fe.Add("verification", "尚无经济状况核对数据，请先导入各部门核对结果")
		case until.String < today.Format(dateFmt):
			fe.Add("verification", "经济状况核对报告已于 %s 过期，请重新核对", until.String)
		}
	}
	if t.Needs(NeedVisit) {
		if m.Note == "" {
			fe.Add("note", "请填写入户调查记录")
		}
		var photos int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM application_materials WHERE application_id = $1 AND kind = 'visit_photo'`, a.ID).Scan(&photos); err != nil {
			return nil, err
		}
		if photos == 0 {
			fe.Add("materials", "请先上传入户调查照片（材料类型 visit_photo）")
		}
	}
	if t.Needs(NeedNoticeOver) {
		if a.NoticeUntil != "" && today.Format(dateFmt) < a.NoticeUntil {
			fe.Add("notice_until", "公示期至 %s 止，期满后方可提交区审核", a.NoticeUntil)
		}
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM objections WHERE application_id = $1`, a.ID).Scan(&n); err != nil {
			return nil, err
		}
		if n > 0 && m.Note == "" {
			fe.Add("note", "公示期间收到 %d 条异议，请说明核实处理情况", n)
		}
	}
	var amounts map[string]int64
	if t.Needs(NeedAmounts) {
		amounts = map[string]int64{}
		engine := map[string]Precheck{}
		for _, x := range pre {
			engine[x.Program] = x
		}
		var some bool
		for k := range m.Amounts {
			if !slices.ContainsFunc(a.Programs, func(x ProgramStatus) bool { return x.Program == k }) {
				fe.Add("amounts_fen."+k, "申请中没有救助项目“%s”", k)
			}
		}
		for _, pr := range a.Programs {
			v, given := m.Amounts[pr.Program]
			switch {
			case given && v < 0:
				fe.Add("amounts_fen."+pr.Program, "%s的金额不能为负数", pr.Label)
			case given && v > 100_000_000:
				fe.Add("amounts_fen."+pr.Program, "%s的金额 %s 元超出合理范围", pr.Label, yuan(v))
			case given:
				amounts[pr.Program] = v
			case engine[pr.Program].Eligible:
				amounts[pr.Program] = engine[pr.Program].MonthlyFen
			default:
				fe.Add("amounts_fen."+pr.Program, "请核定%s的金额（规则引擎未认定符合条件；填 0 表示该项目不予批准）", pr.Label)
			}
			if amounts[pr.Program] > 0 {
				some = true
			}
		}
		if len(fe) == 0 && !some {
			fe.Add("amounts_fen", "批准时至少一个项目的金额应大于 0；全部不予批准请选择“不予批准”")
		}
	}
	return amounts, fe.Err()
}

func yuan(fen int64) string { return fmt.Sprintf("%d.%02d", fen/100, fen%100) }

// grant writes what an approval decides: for each recurring programme a
// decision and the household head's entitlement (since the first day of
// the next month), for temporary aid the one-off amount on the
// application. It returns a sentence for the audit entry.
func (s *Service) grant(ctx context.Context, tx *sql.Tx, p auth.Principal, a Application, amounts map[string]int64, pre []Precheck, today, now time.Time) (string, error) {
	head := a.ApplicantID
	if err := tx.QueryRowContext(ctx, `SELECT person_id FROM application_members WHERE application_id = $1 AND relation = 'head' ORDER BY person_id LIMIT 1`, a.ID).Scan(&head); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return "", err
	}
	since := time.Date(today.Year(), today.Month()+1, 1, 0, 0, 0, 0, time.UTC).Format(dateFmt)
	engine := map[string]Precheck{}
	for _, x := range pre {
		engine[x.Program] = x
	}
	var parts []string
	for _, pr := range a.Programs {
		fen := amounts[pr.Program]
		prog, _ := ProgramByID(pr.Program)
		if fen == 0 {
			if _, err := tx.ExecContext(ctx, `UPDATE application_programs SET status = 'refused' WHERE application_id = $1 AND program = $2`, a.ID, pr.Program); err != nil {
				return "", err
			}
			parts = append(parts, pr.Label+"不予批准")
			continue
		}
		if !prog.Recurring {
			if _, err := tx.ExecContext(ctx, `UPDATE application_programs SET status = 'granted', one_off_fen = $1 WHERE application_id = $2 AND program = $3`, fen, a.ID, pr.Program); err != nil {
				return "", err
			}
			parts = append(parts, fmt.Sprintf("%s一次性 %s 元", pr.Label, yuan(fen)))
			continue
		}
		expl, _ := json.Marshal(map[string]any{"application_id": a.ID, "kind": a.Kind, "approved_by": p.Name, "monthly_fen": fen, "precheck": engine[pr.Program]})
		version := engine[pr.Program].PolicyVersion
		if version == "" {
			version = "application"
		}
		did, err := eligibility.ApplyGrant(ctx, tx, eligibility.Grant{Program: pr.Program, PersonID: head, HouseholdID: a.HouseholdID, MonthlyFen: fen,
			AsOf: today.Format(dateFmt), Since: since, PolicyVersion: version, Explanation: expl}, now)
		if err != nil {
			return "", fmt.Errorf("assistance: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE application_programs SET status = 'granted', monthly_fen = $1, decision_id = $2 WHERE application_id = $3 AND program = $4`,
			fen, did, a.ID, pr.Program); err != nil {
			return "", err
		}
		parts = append(parts, fmt.Sprintf("%s每月 %s 元（自 %s 起）", pr.Label, yuan(fen), since))
	}
	return strings.Join(parts, "、"), nil
}

// stopOnRecheck stops, at the end of the month, the entitlements that a
// refused annual re-check (复核) no longer supports.
func (s *Service) stopOnRecheck(ctx context.Context, tx *sql.Tx, a Application, today, now time.Time) error {
	until := time.Date(today.Year(), today.Month()+1, 0, 0, 0, 0, 0, time.UTC).Format(dateFmt)
	for _, pr := range a.Programs {
		expl, _ := json.Marshal(map[string]any{"application_id": a.ID, "kind": "recheck", "stopped": true})
		if _, err := eligibility.ApplyStop(ctx, tx, eligibility.Stop{Program: pr.Program, HouseholdID: a.HouseholdID,
			AsOf: today.Format(dateFmt), Until: until, Explanation: expl}, now); err != nil {
			return err
		}
	}
	return nil
}
