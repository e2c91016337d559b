// Package policy is rules as code: every benefit programme is a policy file
// (YAML, embedded in the binary or read from a folder) with its conditions,
// its monthly amount and its parameters, whose values carry effective dates
// and the document that set them. Conditions and amounts are expressions
// in expr (github.com/expr-lang/expr), type-checked at load. The engine
// evaluates one case as of a date with a full explanation in Chinese.
package policy

import (
	"fmt"
	"time"

	"go.yaml.in/yaml/v3"
)

// Date is a calendar date in a policy file (YYYY-MM-DD).
type Date struct{ time.Time }

// UnmarshalYAML parses YYYY-MM-DD, naming the line of a bad date.
func (d *Date) UnmarshalYAML(n *yaml.Node) error {
	t, err := time.Parse(time.DateOnly, n.Value)
	if err != nil {
		return fmt.Errorf("line %d: 日期“%s”应为 YYYY-MM-DD", n.Line, n.Value)
	}
	d.Time = t
	return nil
}

// String formats the date as YYYY-MM-DD.
func (d Date) String() string { return d.Format(time.DateOnly) }

// File is the content of one policy file.
type File struct {
	ID         string      `yaml:"id"`
	Names      []Name      `yaml:"names"`
	Entity     string      `yaml:"entity"` // person or household
	Basis      string      `yaml:"basis"`  // the legal basis, e.g. 《上海市社会救助条例》第十条
	Note       string      `yaml:"note"`
	Parameters []Parameter `yaml:"parameters"`
	Conditions []Condition `yaml:"conditions"`
	Amount     string      `yaml:"amount"` // expression: monthly amount in yuan when eligible
	// AmountExplain is a text/template sentence explaining the amount.
	AmountExplain string `yaml:"amount_explain"`
}

// Name is the programme's Chinese name from a date on (names change, e.g.
// 低收入困难家庭 became 最低生活保障边缘家庭 on 2024-12-31).
type Name struct {
	From Date   `yaml:"from"`
	Name string `yaml:"name"`
}

// Parameter is a named number whose value changes over time.
type Parameter struct {
	Name   string  `yaml:"name"`
	Label  string  `yaml:"label"`
	Unit   string  `yaml:"unit"`
	Values []Value `yaml:"values"`
}

// Value is a parameter's value from a date on, with its source.
type Value struct {
	From      Date    `yaml:"from"`
	Value     float64 `yaml:"value"`
	Source    string  `yaml:"source"`
	Confirmed bool    `yaml:"confirmed"` // false: an assumption awaiting the official text
	Note      string  `yaml:"note"`
}

// Condition is one test a case must pass.
type Condition struct {
	ID      string `yaml:"id"`
	Label   string `yaml:"label"`   // Chinese, e.g. 本市户籍
	Expr    string `yaml:"expr"`    // boolean expression
	Explain string `yaml:"explain"` // text/template sentence; see Explain data
}

// Result is the decision on one case.
type Result struct {
	Program       string         `json:"program"`
	Name          string         `json:"name"`
	AsOf          string         `json:"as_of"`
	Subject       string         `json:"subject"`
	Eligible      bool           `json:"eligible"`
	MonthlyAmount float64        `json:"monthly_amount"`
	Explanation   []Step         `json:"explanation"`
	Parameters    []UsedValue    `json:"parameters"`
	Version       string         `json:"policy_version"`
	Facts         map[string]any `json:"facts,omitempty"`
}

// Step explains one condition, or the amount.
type Step struct {
	ID     string `json:"id"`
	Label  string `json:"label"`
	Passed bool   `json:"passed"`
	Detail string `json:"detail"`
}

// UsedValue is a parameter value a decision used, with its source.
type UsedValue struct {
	Name      string  `json:"name"` // policy.parameter, e.g. dibao.standard
	Label     string  `json:"label"`
	Value     float64 `json:"value"`
	From      string  `json:"from"`
	Source    string  `json:"source"`
	Confirmed bool    `json:"confirmed"`
}
