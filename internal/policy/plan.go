package policy

import (
	"fmt"
	"math"
	"reflect"
	"runtime"
	"sort"
	"sync"
	"time"
	"unsafe"

	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/parser"
)

// This file is the batch path: a policy's expressions compiled into a plan
// that runs over typed columns a chunk of rows at a time, instead of
// interpreting the expressions once per person. Parameters are resolved to
// constants for the date when the plan is made. Booleans are 0/1 in float64
// vectors. Single cases keep the interpreted, explained path (Evaluate);
// a property test keeps the two in agreement.

// Chunk is how many rows a plan processes per step: small enough for the
// vectors of one expression to stay in the CPU cache.
const Chunk = 1024

// Columns holds the facts of many subjects, one row per person; household
// facts are repeated on every member's row. Head marks the rows of
// household heads, the subjects of household programmes.
type Columns struct {
	N    int
	cols map[string][]float64
	Head []bool
	// set lists the columns with their readers, for Set.
	set []struct {
		col []float64
		get func(*Facts) float64
	}
}

// factFields maps each numeric or boolean fact ("person.age") to a reader
// of that field from a *Facts, built once from the struct layout so that
// filling columns needs no reflection per row.
var factFields = func() map[string]func(*Facts) float64 {
	out := map[string]func(*Facts) float64{}
	ft := reflect.TypeOf(Facts{})
	for _, outer := range []struct {
		name  string
		field int
	}{{"person", 0}, {"household", 1}} {
		of := ft.Field(outer.field)
		for i := 0; i < of.Type.NumField(); i++ {
			f := of.Type.Field(i)
			off := of.Offset + f.Offset
			var get func(*Facts) float64
			switch f.Type.Kind() {
			case reflect.Int:
				get = func(x *Facts) float64 { return float64(*(*int)(unsafe.Add(unsafe.Pointer(x), off))) }
			case reflect.Float64:
				get = func(x *Facts) float64 { return *(*float64)(unsafe.Add(unsafe.Pointer(x), off)) }
			case reflect.Bool:
				get = func(x *Facts) float64 { return b2f(*(*bool)(unsafe.Add(unsafe.Pointer(x), off))) }
			default:
				continue
			}
			out[outer.name+"."+f.Tag.Get("expr")] = get
		}
	}
	return out
}()

// NewColumns makes room for n rows of the named fact fields
// ("person.age", …); Fields of a Set lists those its plans read.
func NewColumns(n int, fields []string) (*Columns, error) {
	c := &Columns{N: n, cols: map[string][]float64{}, Head: make([]bool, n)}
	for _, f := range fields {
		if _, ok := factFields[f]; !ok {
			return nil, fmt.Errorf("policy: no numeric fact %s", f)
		}
		col := make([]float64, n)
		c.cols[f] = col
		c.set = append(c.set, struct {
			col []float64
			get func(*Facts) float64
		}{col, factFields[f]})
	}
	return c, nil
}

// Column returns the column of a field, for filling it directly.
func (c *Columns) Column(field string) []float64 { return c.cols[field] }

// Set fills row i from derived facts.
func (c *Columns) Set(i int, f *Facts, head bool) {
	for _, x := range c.set {
		x.col[i] = x.get(f)
	}
	c.Head[i] = head
}

// b2u converts a bool to 0 or 1 without a branch.
func b2u(b bool) uint8 { return *(*uint8)(unsafe.Pointer(&b)) }

// b2f converts a bool to 0 or 1 without a branch.
func b2f(b bool) float64 { return float64(*(*uint8)(unsafe.Pointer(&b))) }

// vec is a node's value for one chunk. Owned vectors come from the pool
// and go back to it; others (columns, constants) are borrowed.
type vec struct {
	v     []float64
	owned bool
}

// node computes its value for rows [lo, lo+n).
type node func(e *env, lo, n int) vec

type env struct {
	cols *Columns
	pool [][]float64
}

func (e *env) buf(n int) vec {
	if k := len(e.pool); k > 0 {
		b := e.pool[k-1]
		e.pool = e.pool[:k-1]
		return vec{v: b[:n], owned: true}
	}
	return vec{v: make([]float64, n, Chunk), owned: true}
}

func (e *env) free(x vec) {
	if x.owned {
		e.pool = append(e.pool, x.v)
	}
}

// Plan is a policy compiled for the batch path on one date.
type Plan struct {
	Policy     *Policy
	AsOf       time.Time
	conds      []node
	condFields [][]string // the facts each condition reads
	amount     node
	amountF    []string // the facts the amount reads
	fields     map[string]bool
}

// Fields lists the fact columns the plan reads.
func (p *Plan) Fields() []string {
	out := make([]string, 0, len(p.fields))
	for f := range p.fields {
		out = append(out, f)
	}
	return out
}

// Plan compiles a policy for the batch path as of a date, with parameter
// overrides. It fails for expressions the batch path does not support
// (strings, calls other than max/min); those policies use Evaluate.
func (s *Set) Plan(id string, on time.Time, over Overrides) (*Plan, error) {
	p, ok := s.Policies[id]
	if !ok {
		return nil, fmt.Errorf("policy: no policy %s", id)
	}
	pl := &Plan{Policy: p, AsOf: on, fields: map[string]bool{}}
	compile := func(code string) (node, []string, error) {
		c := &planCompiler{set: s, on: on, over: over, fields: map[string]bool{}}
		n, err := c.compileExpr(code)
		var fs []string
		for f := range c.fields {
			fs = append(fs, f)
			pl.fields[f] = true
		}
		return n, fs, err
	}
	for _, cc := range p.conds {
		n, fs, err := compile(cc.Expr)
		if err != nil {
			return nil, fmt.Errorf("policy %s: condition %s: %w", id, cc.ID, err)
		}
		pl.conds = append(pl.conds, n)
		pl.condFields = append(pl.condFields, fs)
	}
	n, fs, err := compile(p.Amount)
	if err != nil {
		return nil, fmt.Errorf("policy %s: amount: %w", id, err)
	}
	pl.amount, pl.amountF = n, fs
	return pl, nil
}

type planCompiler struct {
	set    *Set
	on     time.Time
	over   Overrides
	fields map[string]bool
}

func (c *planCompiler) compileExpr(code string) (node, error) {
	tree, err := parser.Parse(code)
	if err != nil {
		return nil, err
	}
	x, err := c.compile(tree.Node)
	if err != nil {
		return nil, err
	}
	return x.node(), nil
}

// cexpr is a compiled expression: a constant (parameters and literals are
// constants once the date is fixed) or a node computing a vector.
type cexpr struct {
	f       node
	isConst bool
	c       float64
}

func constant(x float64) cexpr { return cexpr{isConst: true, c: x} }

// node returns e as a node; a constant becomes a constant vector.
func (e cexpr) node() node {
	if !e.isConst {
		return e.f
	}
	v := make([]float64, Chunk)
	for i := range v {
		v[i] = e.c
	}
	return func(_ *env, _, k int) vec { return vec{v: v[:k]} }
}

func (c *planCompiler) compile(n ast.Node) (cexpr, error) {
	switch n := n.(type) {
	case *ast.IntegerNode:
		return constant(float64(n.Value)), nil
	case *ast.FloatNode:
		return constant(n.Value), nil
	case *ast.BoolNode:
		return constant(b2f(n.Value)), nil
	case *ast.MemberNode:
		id, ok1 := n.Node.(*ast.IdentifierNode)
		prop, ok2 := n.Property.(*ast.StringNode)
		if !ok1 || !ok2 {
			return cexpr{}, fmt.Errorf("batch plan: unsupported member access")
		}
		name := id.Value + "." + prop.Value
		if _, isPolicy := c.set.Policies[id.Value]; isPolicy {
			if v, ok := c.over[name]; ok {
				return constant(v), nil
			}
			v, _, ok := c.set.value(name, c.on)
			if !ok {
				return cexpr{}, fmt.Errorf("parameter %s has no value on %s", name, c.on.Format(time.DateOnly))
			}
			return constant(v.Value), nil
		}
		if _, ok := factFields[name]; !ok {
			return cexpr{}, fmt.Errorf("batch plan: fact %s is not numeric", name)
		}
		c.fields[name] = true
		return cexpr{f: func(e *env, lo, k int) vec { return vec{v: e.cols.cols[name][lo : lo+k]} }}, nil
	case *ast.UnaryNode:
		x, err := c.compile(n.Node)
		if err != nil {
			return cexpr{}, err
		}
		switch n.Operator {
		case "+":
			return x, nil
		case "!", "not", "-":
			if x.isConst {
				if n.Operator == "-" {
					return constant(-x.c), nil
				}
				return constant(1 - truth(x.c)), nil
			}
			return cexpr{f: unary(x.f, n.Operator)}, nil
		}
		return cexpr{}, fmt.Errorf("batch plan: unsupported operator %s", n.Operator)
	case *ast.BinaryNode:
		l, err := c.compile(n.Left)
		if err != nil {
			return cexpr{}, err
		}
		r, err := c.compile(n.Right)
		if err != nil {
			return cexpr{}, err
		}
		if !binops[n.Operator] {
			return cexpr{}, fmt.Errorf("batch plan: unsupported operator %s", n.Operator)
		}
		return binary(l, r, n.Operator), nil
	case *ast.ConditionalNode:
		cond, err := c.compile(n.Cond)
		if err != nil {
			return cexpr{}, err
		}
		a, err := c.compile(n.Exp1)
		if err != nil {
			return cexpr{}, err
		}
		b, err := c.compile(n.Exp2)
		if err != nil {
			return cexpr{}, err
		}
		if cond.isConst {
			if cond.c != 0 {
				return a, nil
			}
			return b, nil
		}
		cf, af, bf := cond.f, a.node(), b.node()
		return cexpr{f: func(e *env, lo, k int) vec {
			cv, av, bv := cf(e, lo, k), af(e, lo, k), bf(e, lo, k)
			out := e.buf(k)
			o, cs, as, bs := out.v, cv.v[:k], av.v[:k], bv.v[:k]
			for i := range o {
				// Branchless select: conditions are 0 or 1.
				t := truth(cs[i])
				o[i] = bs[i] + t*(as[i]-bs[i])
			}
			e.free(cv)
			e.free(av)
			e.free(bv)
			return out
		}}, nil
	case *ast.BuiltinNode:
		if (n.Name == "max" || n.Name == "min") && len(n.Arguments) == 2 {
			a, err := c.compile(n.Arguments[0])
			if err != nil {
				return cexpr{}, err
			}
			b, err := c.compile(n.Arguments[1])
			if err != nil {
				return cexpr{}, err
			}
			return binary(a, b, n.Name), nil
		}
	}
	return cexpr{}, fmt.Errorf("batch plan: unsupported expression %T", n)
}

// binops are the binary operators the batch plan supports.
var binops = map[string]bool{"+": true, "-": true, "*": true, "/": true, "<": true, "<=": true, ">": true, ">=": true,
	"==": true, "!=": true, "&&": true, "and": true, "||": true, "or": true}

// truth maps any number to 0 or 1 (non-zero is true), without a branch
// the processor could mispredict on data.
func truth(x float64) float64 { return b2f(x != 0) }

// apply computes one operator on two numbers; constants fold through it.
func apply(op string, a, b float64) float64 {
	switch op {
	case "+":
		return a + b
	case "-":
		return a - b
	case "*":
		return a * b
	case "/":
		return a / b
	case "<":
		return b2f(a < b)
	case "<=":
		return b2f(a <= b)
	case ">":
		return b2f(a > b)
	case ">=":
		return b2f(a >= b)
	case "==":
		return b2f(a == b)
	case "!=":
		return b2f(a != b)
	case "&&", "and":
		return min(truth(a), truth(b))
	case "||", "or":
		return max(truth(a), truth(b))
	case "max":
		return max(a, b)
	case "min":
		return min(a, b)
	}
	panic("batch plan: operator " + op)
}

func unary(x node, op string) node {
	return func(e *env, lo, k int) vec {
		xv := x(e, lo, k)
		out := e.buf(k)
		o, a := out.v, xv.v[:len(out.v)]
		switch op {
		case "!", "not":
			for i := range o {
				o[i] = 1 - truth(a[i])
			}
		case "-":
			for i := range o {
				o[i] = -a[i]
			}
		}
		e.free(xv)
		return out
	}
}

// binary compiles one operator. Two constants fold; a vector against a
// constant runs a loop that keeps the constant in a register; two vectors
// run a loop over both. Each operator has its own loop so that the loops
// hold no calls and no data-dependent branches.
func binary(l, r cexpr, op string) cexpr {
	if l.isConst && r.isConst {
		return constant(apply(op, l.c, r.c))
	}
	if r.isConst {
		lf, c := l.f, r.c
		return cexpr{f: func(e *env, lo, k int) vec {
			lv := lf(e, lo, k)
			out := e.buf(k)
			vecConst(op, out.v, lv.v[:k], c)
			e.free(lv)
			return out
		}}
	}
	if l.isConst {
		rf, c := r.f, l.c
		return cexpr{f: func(e *env, lo, k int) vec {
			rv := rf(e, lo, k)
			out := e.buf(k)
			constVec(op, out.v, c, rv.v[:k])
			e.free(rv)
			return out
		}}
	}
	lf, rf := l.f, r.f
	return cexpr{f: func(e *env, lo, k int) vec {
		lv, rv := lf(e, lo, k), rf(e, lo, k)
		out := e.buf(k)
		vecVec(op, out.v, lv.v[:k], rv.v[:k])
		e.free(lv)
		e.free(rv)
		return out
	}}
}

func vecVec(op string, o, a, b []float64) {
	b = b[:len(a)]
	o = o[:len(a)]
	switch op {
	case "+":
		for i := range o {
			o[i] = a[i] + b[i]
		}
	case "-":
		for i := range o {
			o[i] = a[i] - b[i]
		}
	case "*":
		for i := range o {
			o[i] = a[i] * b[i]
		}
	case "/":
		for i := range o {
			o[i] = a[i] / b[i]
		}
	case "<":
		for i := range o {
			o[i] = b2f(a[i] < b[i])
		}
	case "<=":
		for i := range o {
			o[i] = b2f(a[i] <= b[i])
		}
	case ">":
		for i := range o {
			o[i] = b2f(a[i] > b[i])
		}
	case ">=":
		for i := range o {
			o[i] = b2f(a[i] >= b[i])
		}
	case "==":
		for i := range o {
			o[i] = b2f(a[i] == b[i])
		}
	case "!=":
		for i := range o {
			o[i] = b2f(a[i] != b[i])
		}
	case "&&", "and":
		for i := range o {
			o[i] = min(truth(a[i]), truth(b[i]))
		}
	case "||", "or":
		for i := range o {
			o[i] = max(truth(a[i]), truth(b[i]))
		}
	case "max":
		for i := range o {
			o[i] = max(a[i], b[i])
		}
	case "min":
		for i := range o {
			o[i] = min(a[i], b[i])
		}
	}
}

func vecConst(op string, o, a []float64, c float64) {
	o = o[:len(a)]
	switch op {
	case "+":
		for i := range o {
			o[i] = a[i] + c
		}
	case "-":
		for i := range o {
			o[i] = a[i] - c
		}
	case "*":
		for i := range o {
			o[i] = a[i] * c
		}
	case "/":
		for i := range o {
			o[i] = a[i] / c
		}
	case "<":
		for i := range o {
			o[i] = b2f(a[i] < c)
		}
	case "<=":
		for i := range o {
			o[i] = b2f(a[i] <= c)
		}
	case ">":
		for i := range o {
			o[i] = b2f(a[i] > c)
		}
	case ">=":
		for i := range o {
			o[i] = b2f(a[i] >= c)
		}
	case "==":
		for i := range o {
			o[i] = b2f(a[i] == c)
		}
	case "!=":
		for i := range o {
			o[i] = b2f(a[i] != c)
		}
	default:
		for i := range o {
			o[i] = apply(op, a[i], c)
		}
	}
}

func constVec(op string, o []float64, c float64, b []float64) {
	o = o[:len(b)]
	switch op {
	case "+", "*", "==", "!=", "&&", "and", "||", "or", "max", "min":
		vecConst(op, o, b, c) // commutative
	case "-":
		for i := range o {
			o[i] = c - b[i]
		}
	case "<":
		vecConst(">", o, b, c)
	case "<=":
		vecConst(">=", o, b, c)
	case ">":
		vecConst("<", o, b, c)
	case ">=":
		vecConst("<=", o, b, c)
	default:
		for i := range o {
			o[i] = apply(op, c, b[i])
		}
	}
}

// Run evaluates the plan for every row: eligible[i] and amount[i] (0 when
// not eligible). Household programmes decide only on head rows. Large
// inputs are split across the processors, each part a run of whole chunks.
func (p *Plan) Run(c *Columns, eligible []bool, amount []float64) {
	RunAll([]*Plan{p}, c, [][]bool{eligible}, [][]float64{amount})
}

// RunAll evaluates several plans over the same columns in one pass:
// eligible[j] and amount[j] receive plan j's results. Each chunk of rows
// is run through every plan before the next chunk is read, so its facts
// are read from memory once and stay in the CPU cache for all plans —
// the evaluation step of a proactive run. Large inputs are split across
// the processors, each part a run of whole chunks.
func RunAll(plans []*Plan, c *Columns, eligible [][]bool, amount [][]float64) {
	chunks := (c.N + Chunk - 1) / Chunk
	workers := min(runtime.GOMAXPROCS(0), chunks/4)
	if workers <= 1 {
		runPart(plans, c, 0, c.N, eligible, amount)
		return
	}
	var wg sync.WaitGroup
	per := (chunks + workers - 1) / workers * Chunk
	for lo := 0; lo < c.N; lo += per {
		hi := min(lo+per, c.N)
		wg.Add(1)
		go func() {
			defer wg.Done()
			runPart(plans, c, lo, hi, eligible, amount)
		}()
	}
	wg.Wait()
}

// runPart evaluates rows [from, to), from a multiple of Chunk, chunk by
// chunk through every plan.
func runPart(plans []*Plan, c *Columns, from, to int, eligible [][]bool, amount [][]float64) {
	states := make([]*planState, len(plans))
	for j, p := range plans {
		states[j] = p.newState(c)
	}
	for lo := from; lo < to; lo += Chunk {
		k := min(Chunk, to-lo)
		for j, s := range states {
			s.chunk(lo, k, eligible[j][lo:lo+k], amount[j][lo:lo+k])
		}
	}
}

// planState is one worker's scratch space for one plan. Conditions run on
// the rows still eligible: after each one the survivors' facts that later
// steps read are gathered into a compact chunk, so later conditions and
// the amount only touch the few rows that can still qualify (a selection
// vector, as column stores do). Conditions are all required, so their
// order is free: after the first chunk they run most selective first.
type planState struct {
	p         *Plan
	c         *Columns
	full, sub *env
	compact   *Columns
	household bool
	rows      []int
	order     []int
	need      [][]string
	ordered   bool
}

func (p *Plan) newState(c *Columns) *planState {
	s := &planState{p: p, c: c, full: &env{cols: c}, compact: &Columns{cols: map[string][]float64{}},
		household: p.Policy.Entity == "household", rows: make([]int, 0, Chunk), order: make([]int, len(p.conds))}
	for f := range p.fields {
		s.compact.cols[f] = make([]float64, Chunk)
	}
	s.sub = &env{cols: s.compact}
	for i := range s.order {
		s.order[i] = i
	}
	s.need = p.gatherSets(s.order)
	return s
}

// chunk evaluates rows [lo, lo+k) into ok and am.
func (s *planState) chunk(lo, k int, ok []bool, am []float64) {
	p, c := s.p, s.c
	clear(ok)
	clear(am)
	if !s.ordered && len(p.conds) > 1 {
		s.order = p.selectiveFirst(s.full, lo, k)
		s.need = p.gatherSets(s.order)
		s.ordered = true
	}
	rows := s.rows
	n := 0
	for step, ci := range s.order {
		cond := p.conds[ci]
		if step == 0 {
			// The selection vector is built without a branch on the data:
			// every row is written, and the count moves on only for those
			// that pass.
			v := cond(s.full, lo, k)
			rows = rows[:k]
			j := 0
			if s.household {
				head := c.Head[lo : lo+k]
				for i, x := range v.v[:k] {
					rows[j] = i
					j += int(b2u(x != 0) & b2u(head[i]))
				}
			} else {
				for i, x := range v.v[:k] {
					rows[j] = i
					j += int(b2u(x != 0))
				}
			}
			rows = rows[:j]
			s.full.free(v)
		} else {
			v := cond(s.sub, 0, n)
			j := 0
			for i, x := range v.v[:n] {
				rows[j] = rows[i]
				j += int(b2u(x != 0))
			}
			rows = rows[:j]
			s.sub.free(v)
		}
		n = len(rows)
		if n == 0 {
			break
		}
		for _, f := range s.need[step] {
			col, src := s.compact.cols[f], c.cols[f][lo:]
			for j, r := range rows {
				col[j] = src[r]
			}
		}
	}
	s.rows = rows
	if n == 0 {
		return
	}
	av := p.amount(s.sub, 0, n)
	for j, r := range rows {
		ok[r] = true
		if x := av.v[j]; !math.IsNaN(x) && !math.IsInf(x, 0) {
			am[r] = round2(max(0, x))
		}
	}
	s.sub.free(av)
}

// gatherSets returns, for each step of order, the facts the later
// conditions and the amount read: what must be gathered after that step.
func (p *Plan) gatherSets(order []int) [][]string {
	out := make([][]string, len(order))
	later := map[string]bool{}
	for _, f := range p.amountF {
		later[f] = true
	}
	for step := len(order) - 1; step >= 0; step-- {
		for f := range later {
			out[step] = append(out[step], f)
		}
		for _, f := range p.condFields[order[step]] {
			later[f] = true
		}
	}
	return out
}

// selectiveFirst orders the conditions by how many rows of one chunk pass
// each, fewest first.
func (p *Plan) selectiveFirst(e *env, lo, k int) []int {
	pass := make([]int, len(p.conds))
	for i, cond := range p.conds {
		v := cond(e, lo, k)
		for _, x := range v.v[:k] {
			if x != 0 {
				pass[i]++
			}
		}
		e.free(v)
	}
	order := make([]int, len(p.conds))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return pass[order[a]] < pass[order[b]] })
	return order
}
