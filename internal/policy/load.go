package policy

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"text/template"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/parser"
	"github.com/expr-lang/expr/vm"
	"go.yaml.in/yaml/v3"
)

//go:embed policies/*.yaml
var embedded embed.FS

// LoadError says which file, line and reason a policy was refused for.
type LoadError struct {
	File    string
	Line    int
	Message string
}

func (e *LoadError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Message)
	}
	return fmt.Sprintf("%s: %s", e.File, e.Message)
}

// Policy is a loaded, checked policy.
type Policy struct {
	File
	Path    string
	Version string // first 12 hex digits of the file's SHA-256
	src     []byte
	conds   []compiled
	amount  *vm.Program
	amountT *template.Template
	amountR []string              // the parameters the amount uses
	params  map[string]*Parameter // by local name
}

type compiled struct {
	Condition
	prog    *vm.Program
	explain *template.Template
	refs    []string // the parameters the expression uses
}

// Set is every policy, keyed by ID.
type Set struct {
	Policies map[string]*Policy
	order    []string
	// params caches, per date, the parameter values every policy sees
	// (time.Time → *paramsOn), for evaluations without overrides; at most
	// maxCachedDates dates, so that callers asking about many dates do not
	// grow it without end.
	params  sync.Map
	nParams atomic.Int32
}

// maxCachedDates bounds Set.params.
const maxCachedDates = 256

// IDs returns the policy IDs in order.
func (s *Set) IDs() []string { return s.order }

// Get returns a policy by ID.
func (s *Set) Get(id string) (*Policy, bool) { p, ok := s.Policies[id]; return p, ok }

// Embedded loads the policies compiled into the binary.
func Embedded() (*Set, error) {
	sub, _ := fs.Sub(embedded, "policies")
	return LoadFS(sub, "policies")
}

// LoadDir loads every *.yaml file in dir (the --policy-dir override).
func LoadDir(dir string) (*Set, error) { return LoadFS(os.DirFS(dir), dir) }

// LoadFS loads every *.yaml file of fsys; prefix names files in errors.
func LoadFS(fsys fs.FS, prefix string) (*Set, error) {
	names, err := fs.Glob(fsys, "*.yaml")
	if err != nil {
		return nil, err
	}
	if len(names) == 0 {
		return nil, &LoadError{File: prefix, Message: "没有找到政策文件（*.yaml）"}
	}
	sources := map[string][]byte{}
	for _, n := range names {
		b, err := fs.ReadFile(fsys, n)
		if err != nil {
			return nil, err
		}
		sources[filepath.Join(prefix, n)] = b
	}
	return Load(sources)
}

// Load parses and checks policy files given as path → content.
func Load(sources map[string][]byte) (*Set, error) {
	set := &Set{Policies: map[string]*Policy{}}
	paths := make([]string, 0, len(sources))
	for p := range sources {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, path := range paths {
		p, err := parseFile(path, sources[path])
		if err != nil {
			return nil, err
		}
		if other, dup := set.Policies[p.ID]; dup {
			return nil, &LoadError{File: path, Message: fmt.Sprintf("政策 id “%s” 与 %s 重复", p.ID, other.Path)}
		}
		set.Policies[p.ID] = p
		set.order = append(set.order, p.ID)
	}
	for _, id := range set.order {
		if err := set.compile(set.Policies[id]); err != nil {
			return nil, err
		}
	}
	return set, nil
}

func parseFile(path string, src []byte) (*Policy, error) {
	dec := yaml.NewDecoder(bytes.NewReader(src))
	dec.KnownFields(true)
	p := &Policy{Path: path, src: src}
	if err := dec.Decode(&p.File); err != nil {
		return nil, yamlError(path, err)
	}
	sum := sha256.Sum256(src)
	p.Version = hex.EncodeToString(sum[:6])
	le := func(format string, args ...any) error {
		return &LoadError{File: path, Line: lineOf(src, p.ID), Message: fmt.Sprintf(format, args...)}
	}
	if !isIdent(p.ID) {
		return nil, le("id “%s” 应为小写字母、数字和下划线", p.ID)
	}
	if p.ID == "person" || p.ID == "household" {
		return nil, le("id 不能是 %s：该名称留给表达式中的事实", p.ID)
	}
	if p.Entity != "person" && p.Entity != "household" {
		return nil, &LoadError{File: path, Line: lineOf(src, "entity:"), Message: fmt.Sprintf("entity 应为 person 或 household，实为“%s”", p.Entity)}
	}
	if len(p.Names) == 0 {
		return nil, le("缺少 names（政策名称）")
	}
	if p.Amount == "" {
		return nil, le("缺少 amount（月发放金额表达式）")
	}
	if len(p.Conditions) == 0 {
		return nil, le("缺少 conditions（条件）")
	}
	p.params = map[string]*Parameter{}
	for i := range p.Parameters {
		prm := &p.Parameters[i]
		lerr := func(format string, args ...any) error {
			return &LoadError{File: path, Line: lineOf(src, "name: "+prm.Name), Message: fmt.Sprintf(format, args...)}
		}
		if !isIdent(prm.Name) {
			return nil, lerr("参数名“%s”应为小写字母、数字和下划线", prm.Name)
		}
		if p.params[prm.Name] != nil {
			return nil, lerr("参数“%s”重复", prm.Name)
		}
		if len(prm.Values) == 0 {
			return nil, lerr("参数“%s”没有取值", prm.Name)
		}
		for j, v := range prm.Values {
			if v.From.IsZero() {
				return nil, lerr("参数“%s”的第 %d 个取值缺少生效日期 from", prm.Name, j+1)
			}
		}
		sort.SliceStable(prm.Values, func(a, b int) bool { return prm.Values[a].From.Before(prm.Values[b].From.Time) })
		for j, v := range prm.Values {
			if j > 0 && v.From.Equal(prm.Values[j-1].From.Time) {
				return nil, lerr("参数“%s”在 %s 有两个取值", prm.Name, v.From)
			}
			if v.Source == "" {
				return nil, lerr("参数“%s”在 %s 的取值没有注明来源 source", prm.Name, v.From)
			}
		}
		p.params[prm.Name] = prm
	}
	ids := map[string]bool{}
	for _, c := range p.Conditions {
		if !isIdent(c.ID) || ids[c.ID] {
			return nil, &LoadError{File: path, Line: lineOf(src, "id: "+c.ID), Message: fmt.Sprintf("条件 id “%s” 无效或重复", c.ID)}
		}
		ids[c.ID] = true
		if c.Label == "" || c.Expr == "" {
			return nil, &LoadError{File: path, Line: lineOf(src, "id: "+c.ID), Message: fmt.Sprintf("条件“%s”缺少 label 或 expr", c.ID)}
		}
	}
	return p, nil
}

func isIdent(s string) bool {
	if s == "" || !(s[0] >= 'a' && s[0] <= 'z') {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z') && !(c >= '0' && c <= '9') && c != '_' {
			return false
		}
	}
	return true
}

// yamlError turns a YAML error into a LoadError with its line.
func yamlError(path string, err error) error {
	var te *yaml.TypeError
	msg := err.Error()
	if errors.As(err, &te) && len(te.Errors) > 0 {
		msg = te.Errors[0]
	}
	line := 0
	if i := strings.Index(msg, "line "); i >= 0 {
		fmt.Sscanf(msg[i+5:], "%d", &line)
	}
	msg = strings.TrimPrefix(msg, "yaml: ")
	if strings.Contains(msg, "not found in type") {
		msg = "未知字段：" + msg
	}
	return &LoadError{File: path, Line: line, Message: msg}
}

// lineOf returns the 1-based line of the first occurrence of s in src.
func lineOf(src []byte, s string) int {
	i := bytes.Index(src, []byte(s))
	if i < 0 || s == "" {
		return 0
	}
	return bytes.Count(src[:i], []byte("\n")) + 1
}

// env is the expression environment shape used for type checks: the facts
// and every policy's parameters as policy_id.param_name.
func (s *Set) env() map[string]any {
	env := map[string]any{"person": PersonFacts{}, "household": HouseholdFacts{}}
	for id, p := range s.Policies {
		m := map[string]float64{}
		for name := range p.params {
			m[name] = 0
		}
		env[id] = m
	}
	return env
}

// paramRefs checks that every policy_id.param in an expression names a
// declared parameter, and returns them.
func (s *Set) paramRefs(tree *parser.Tree) ([]string, error) {
	v := &refVisitor{set: s}
	ast.Walk(&tree.Node, v)
	return v.refs, v.err
}

type refVisitor struct {
	set  *Set
	refs []string
	err  error
}

func (v *refVisitor) Visit(node *ast.Node) {
	m, ok := (*node).(*ast.MemberNode)
	if !ok || v.err != nil {
		return
	}
	id, ok := m.Node.(*ast.IdentifierNode)
	if !ok {
		return
	}
	p, ok := v.set.Policies[id.Value]
	if !ok {
		return
	}
	prop, ok := m.Property.(*ast.StringNode)
	if !ok {
		v.err = fmt.Errorf("参数须写成 %s.参数名", id.Value)
		return
	}
	if _, ok := p.params[prop.Value]; !ok {
		v.err = fmt.Errorf("未知参数 %s.%s", id.Value, prop.Value)
		return
	}
	v.refs = append(v.refs, id.Value+"."+prop.Value)
}

func (s *Set) compile(p *Policy) error {
	src := p.Path
	exprErr := func(what, code string, err error) error {
		line := lineAfter(p.src, anchorOf(what), firstLine(code))
		var fe *file.Error
		if errors.As(err, &fe) {
			return &LoadError{File: src, Line: line, Message: fmt.Sprintf("%s 的表达式有误（第 %d 列）：%s；表达式：%s", what, fe.Column+1, fe.Message, code)}
		}
		return &LoadError{File: src, Line: line, Message: fmt.Sprintf("%s 的表达式有误：%v；表达式：%s", what, err, code)}
	}
	env := s.env()
	check := func(what, code string, opts ...expr.Option) (*vm.Program, []string, error) {
		tree, err := parser.Parse(code)
		if err != nil {
			return nil, nil, exprErr(what, code, err)
		}
		refs, err := s.paramRefs(tree)
		if err != nil {
			return nil, nil, exprErr(what, code, err)
		}
		prog, err := expr.Compile(code, append([]expr.Option{expr.Env(env)}, opts...)...)
		if err != nil {
			return nil, nil, exprErr(what, code, err)
		}
		return prog, refs, nil
	}
	for _, c := range p.Conditions {
		prog, refs, err := check("条件 "+c.ID, c.Expr, expr.AsBool())
		if err != nil {
			return err
		}
		cc := compiled{Condition: c, prog: prog, refs: refs}
		if c.Explain != "" {
			if cc.explain, err = s.parseExplain(p, "条件 "+c.ID, c.Explain); err != nil {
				return err
			}
		}
		p.conds = append(p.conds, cc)
	}
	prog, refs, err := check("amount", p.Amount, expr.AsFloat64())
	if err != nil {
		return err
	}
	p.amount, p.amountR = prog, refs
	if p.AmountExplain != "" {
		if p.amountT, err = s.parseExplain(p, "amount_explain", p.AmountExplain); err != nil {
			return err
		}
	}
	return nil
}

// explainFuncs are the functions explanation templates may call.
var explainFuncs = template.FuncMap{"yuan": Yuan}

func (s *Set) parseExplain(p *Policy, what, text string) (*template.Template, error) {
	line := lineAfter(p.src, anchorOf(what), firstLine(text))
	t, err := template.New(what).Option("missingkey=error").Funcs(explainFuncs).Parse(text)
	if err != nil {
		return nil, &LoadError{File: p.Path, Line: line, Message: fmt.Sprintf("%s 的说明模板有误：%v", what, err)}
	}
	// Execute once on empty facts so unknown fields and parameters fail now.
	d := &explainData{Person: structMap(PersonFacts{}), Household: structMap(HouseholdFacts{}), set: s}
	if err := t.Execute(new(bytes.Buffer), d); err != nil {
		return nil, &LoadError{File: p.Path, Line: line, Message: fmt.Sprintf("%s 的说明模板有误：%v", what, err)}
	}
	return t, nil
}

// structMap returns a struct's fields keyed by their expr tags.
func structMap(v any) map[string]any {
	rv := reflect.ValueOf(v)
	rt := rv.Type()
	m := make(map[string]any, rt.NumField())
	for i := 0; i < rt.NumField(); i++ {
		m[rt.Field(i).Tag.Get("expr")] = rv.Field(i).Interface()
	}
	return m
}

// HasParameter reports whether "policy.param" names a parameter.
func (s *Set) HasParameter(name string) bool {
	id, param, ok := strings.Cut(name, ".")
	if !ok {
		return false
	}
	p, ok := s.Policies[id]
	return ok && p.params[param] != nil
}

// ParameterNames lists every parameter as "policy.param", sorted.
func (s *Set) ParameterNames() []string {
	var out []string
	for _, id := range s.order {
		for _, prm := range s.Policies[id].Parameters {
			out = append(out, id+"."+prm.Name)
		}
	}
	return out
}

// firstLine returns the first non-empty line of text, trimmed, to find an
// expression or template in its file.
func firstLine(text string) string {
	for _, l := range strings.Split(text, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			if len(l) > 40 {
				l = l[:40]
			}
			return l
		}
	}
	return ""
}

// anchorOf returns the text in a policy file after which the expression or
// template named what is written: its condition's id, or the amount key.
func anchorOf(what string) string {
	if id, ok := strings.CutPrefix(what, "条件 "); ok {
		return "id: " + id
	}
	return what + ":"
}

// lineAfter returns the line of the first occurrence of text after anchor
// (or anywhere, when the anchor is not found).
func lineAfter(src []byte, anchor, text string) int {
	start := 0
	if i := bytes.Index(src, []byte(anchor)); i >= 0 {
		start = i
	}
	i := bytes.Index(src[start:], []byte(text))
	if i < 0 || text == "" {
		return lineOf(src, text)
	}
	return bytes.Count(src[:start+i], []byte("\n")) + 1
}
