package monitor

import (
	"context"
	"database/sql"
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/vm"

	"minzheng/internal/audit"
	"minzheng/internal/auth"
	"minzheng/internal/db"
	"minzheng/internal/errs"
)

// Env is what a rule's expression sees. Field names in expressions are
// the expr tags: person.age, household.medical_3m, meter.silent_hours …
type Env struct {
	Feed          string        `expr:"feed"`
	Person        PersonEnv     `expr:"person"`
	Household     HouseholdEnv  `expr:"household"`
	Unemployed    bool          `expr:"unemployed"` // a registration open in the last 90 days
	Arrears       ArrearsEnv    `expr:"arrears"`
	Meter         MeterEnv      `expr:"meter"`
	DibaoStandard float64       `expr:"dibao_standard"` // 低保标准 in force (yuan per person per month)
	Disability    DisabilityEnv `expr:"disability"`
}

// PersonEnv is the person a feed row is about.
type PersonEnv struct {
	Age             int     `expr:"age"`
	Alive           bool    `expr:"alive"`
	LivesAlone      bool    `expr:"lives_alone"`
	MonthlyIncome   float64 `expr:"monthly_income"`
	DisabilityGrade int     `expr:"disability_grade"`
}

// HouseholdEnv is the person's household.
type HouseholdEnv struct {
	Members         int     `expr:"members"` // living members
	MonthlyIncome   float64 `expr:"monthly_income"`
	PerCapitaIncome float64 `expr:"per_capita_income"`
	Dibao           bool    `expr:"dibao"`      // an active 低保 entitlement
	Edge            bool    `expr:"edge"`       // an active 低保边缘 entitlement
	Recipient       bool    `expr:"recipient"`  // any active entitlement
	Medical3M       float64 `expr:"medical_3m"` // medical bills of the members in the last 3 months (yuan)
}

// ArrearsEnv is the latest utility arrears of the person.
type ArrearsEnv struct {
	Amount float64 `expr:"amount"`
	Months int     `expr:"months"`
}

// MeterEnv is a water meter's state, learnt from its own history.
type MeterEnv struct {
	SilentHours float64 `expr:"silent_hours"` // hours since the last hour with use
	HistoryDays int     `expr:"history_days"` // complete days observed
	UseShare    float64 `expr:"use_share"`    // share of those days with any use
}

// DisabilityEnv is the certificate just received.
type DisabilityEnv struct {
	Grade int `expr:"grade"`
}

// compiled is a rule with its program.
type compiled struct {
	Rule
	prog *vm.Program
}

var codePattern = regexp.MustCompile(`^[a-z][a-z0-9_]{1,39}$`)

// compile type-checks a rule; the error names the rule and the field.
func compile(r Rule) (*compiled, error) {
	var fe errs.Fields
	if !codePattern.MatchString(r.Code) {
		fe.Add("code", "规则编码“%s”应为 2–40 位小写字母、数字或下划线，以字母开头", r.Code)
	}
	if n := utf8.RuneCountInString(strings.TrimSpace(r.Name)); n == 0 || n > 40 {
		fe.Add("name", "规则名称不能为空，最多 40 个字")
	}
	if r.Severity.Label() == string(r.Severity) {
		fe.Add("severity", "严重程度“%s”无法识别，可选 urgent、high、medium、low", r.Severity)
	}
	if r.Population.Label() == string(r.Population) {
		fe.Add("population", "监测人群“%s”无法识别，可选 all、recipients、dibao_edge、elders_alone", r.Population)
	}
	if r.Feed.Columns() == nil {
		fe.Add("feed_type", "触发数据“%s”无法识别", r.Feed)
	}
	if r.SuppressDays < 0 || r.SuppressDays > 3650 {
		fe.Add("suppress_days", "抑制期应为 0–3650 天")
	}
	var prog *vm.Program
	if strings.TrimSpace(r.Expression) == "" {
		fe.Add("expression", "规则“%s”的表达式不能为空", r.Name)
	} else {
		var err error
		prog, err = expr.Compile(r.Expression, expr.Env(Env{}), expr.AsBool())
		if err != nil {
			fe.Add("expression", "规则“%s”的表达式有误：%s", r.Name, firstLine(err.Error()))
		}
	}
	if err := fe.Err(); err != nil {
		return nil, err
	}
	return &compiled{Rule: r, prog: prog}, nil
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}

// match runs the rule on env.
func (c *compiled) match(env *Env) (bool, error) {
	out, err := expr.Run(c.prog, env)
	if err != nil {
		return false, fmt.Errorf("规则“%s”运行出错：%w", c.Name, err)
	}
	b, _ := out.(bool)
	return b, nil
}

// SeedRules adds the default rules missing from the database, so a new
// database starts with the examples.
func (s *Service) SeedRules(ctx context.Context) error {
	for _, r := range DefaultRules {
		if _, err := s.DB.ExecContext(ctx, `INSERT INTO monitor_rules (code, name, severity, population, feed_type, expression, suppress_days, enabled, updated_by, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, 1, 'system', $8) ON CONFLICT (code) DO NOTHING`,
			r.Code, r.Name, string(r.Severity), string(r.Population), string(r.Feed), r.Expression, r.SuppressDays, db.Now(s.now())); err != nil {
			return fmt.Errorf("monitor: seed rules: %w", err)
		}
	}
	return nil
}

// Rules lists the rules.
func (s *Service) Rules(ctx context.Context, p auth.Principal) ([]Rule, error) {
	if !p.Can(PermRead) {
		return nil, errs.E(errs.Forbidden, "您的角色无权查看预警规则")
	}
	return s.rules(ctx, s.DB, "")
}

func (s *Service) rules(ctx context.Context, q db.Queryer, feed FeedType) ([]Rule, error) {
	query := `SELECT id, code, name, severity, population, feed_type, expression, suppress_days, enabled FROM monitor_rules`
	var args []any
	if feed != "" {
		query += ` WHERE feed_type = $1 AND enabled = 1`
		args = append(args, string(feed))
	}
	rows, err := q.QueryContext(ctx, query+` ORDER BY id`, args...)
	if err != nil {
		return nil, fmt.Errorf("monitor: rules: %w", err)
	}
	defer rows.Close()
	var out []Rule
	for rows.Next() {
		var r Rule
		var sev, pop, ft string
		var en int
		if err := rows.Scan(&r.ID, &r.Code, &r.Name, &sev, &pop, &ft, &r.Expression, &r.SuppressDays, &en); err != nil {
			return nil, err
		}
		r.Severity, r.Population, r.Feed, r.Enabled = Severity(sev), Population(pop), FeedType(ft), en != 0
		out = append(out, r)
	}
	return out, rows.Err()
}

// compiledRules returns the enabled rules triggered by a feed, compiled.
// A stored rule that no longer compiles is an error naming it.
func (s *Service) compiledRules(ctx context.Context, q db.Queryer, feed FeedType) ([]*compiled, error) {
	rs, err := s.rules(ctx, q, feed)
	if err != nil {
		return nil, err
	}
	out := make([]*compiled, 0, len(rs))
	for _, r := range rs {
		c, err := compile(r)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

// SaveRule creates or changes a rule (by code). The expression is
// type-checked first; an error names the rule and the field.
func (s *Service) SaveRule(ctx context.Context, p auth.Principal, r Rule) (Rule, error) {
	if !p.Can(PermRules) || !p.Scope().CityWide() {
		return Rule{}, errs.E(errs.Forbidden, "只有市级管理员可以配置预警规则")
	}
	r.Name = strings.TrimSpace(r.Name)
	r.Code = strings.TrimSpace(r.Code)
	if _, err := compile(r); err != nil {
		return Rule{}, err
	}
	err := s.DB.Tx(ctx, func(tx *sql.Tx) error {
		now := db.Now(s.now())
		err := tx.QueryRowContext(ctx, `INSERT INTO monitor_rules (code, name, severity, population, feed_type, expression, suppress_days, enabled, updated_by, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
			ON CONFLICT (code) DO UPDATE SET name = excluded.name, severity = excluded.severity, population = excluded.population, feed_type = excluded.feed_type,
			expression = excluded.expression, suppress_days = excluded.suppress_days, enabled = excluded.enabled, updated_by = excluded.updated_by, updated_at = excluded.updated_at
			RETURNING id`, r.Code, r.Name, string(r.Severity), string(r.Population), string(r.Feed), r.Expression, r.SuppressDays, boolInt(r.Enabled), p.Name, now).Scan(&r.ID)
		if err != nil {
			return fmt.Errorf("monitor: save rule: %w", err)
		}
		return s.Audit.Append(ctx, tx, audit.Entry{Actor: p.Name, Role: string(p.Role), Action: "monitor.rule", Entity: "monitor_rule", EntityID: r.Code,
			Detail: fmt.Sprintf("保存预警规则“%s”：%s", r.Name, r.Expression), Remote: p.Remote})
	})
	return r, err
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
