package policy

import (
	"fmt"
	"math"
	"reflect"
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
		c.cols[f] = make([]float64, n)
	}
	return c, nil
}

// Column returns the column of a field, for filling it directly.
func (c *Columns) Column(field string) []float64 { return c.cols[field] }

// Set fills row i from derived facts.
func (c *Columns) Set(i int, f *Facts, head bool) {
	for name, col := range c.cols {
		col[i] = factFields[name](f)
	}
	c.Head[i] = head
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

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
	Policy *Policy
	AsOf   time.Time
	conds  []node
	amount node
	fields map[string]bool
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
	c := &planCompiler{set: s, on: on, over: over, fields: pl.fields}
	for _, cc := range p.conds {
		n, err := c.compileExpr(cc.Expr)
		if err != nil {
			return nil, fmt.Errorf("policy %s: condition %s: %w", id, cc.ID, err)
		}
		pl.conds = append(pl.conds, n)
	}
	n, err := c.compileExpr(p.Amount)
	if err != nil {
		return nil, fmt.Errorf("policy %s: amount: %w", id, err)
	}
	pl.amount = n
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
	return c.compile(tree.Node)
}

// scalar returns a node whose value is x on every row: a constant vector,
// so that every operator runs one tight loop over two vectors.
func scalar(x float64) node {
	c := make([]float64, Chunk)
	for i := range c {
		c[i] = x
	}
	return func(_ *env, _, k int) vec { return vec{v: c[:k]} }
}

func (c *planCompiler) compile(n ast.Node) (node, error) {
	switch n := n.(type) {
	case *ast.IntegerNode:
		return scalar(float64(n.Value)), nil
	case *ast.FloatNode:
		return scalar(n.Value), nil
	case *ast.BoolNode:
		return scalar(b2f(n.Value)), nil
	case *ast.MemberNode:
		id, ok1 := n.Node.(*ast.IdentifierNode)
		prop, ok2 := n.Property.(*ast.StringNode)
		if !ok1 || !ok2 {
			return nil, fmt.Errorf("batch plan: unsupported member access")
		}
		name := id.Value + "." + prop.Value
		if _, isPolicy := c.set.Policies[id.Value]; isPolicy {
			if v, ok := c.over[name]; ok {
				return scalar(v), nil
			}
			v, _, ok := c.set.value(name, c.on)
			if !ok {
				return nil, fmt.Errorf("parameter %s has no value on %s", name, c.on.Format(time.DateOnly))
			}
			return scalar(v.Value), nil
		}
		if _, ok := factFields[name]; !ok {
			return nil, fmt.Errorf("batch plan: fact %s is not numeric", name)
		}
		c.fields[name] = true
		return func(e *env, lo, k int) vec { return vec{v: e.cols.cols[name][lo : lo+k]} }, nil
	case *ast.UnaryNode:
		x, err := c.compile(n.Node)
		if err != nil {
			return nil, err
		}
		switch n.Operator {
		case "!", "not", "-":
			return unary(x, n.Operator), nil
		case "+":
			return x, nil
		}
		return nil, fmt.Errorf("batch plan: unsupported operator %s", n.Operator)
	case *ast.BinaryNode:
		l, err := c.compile(n.Left)
		if err != nil {
			return nil, err
		}
		r, err := c.compile(n.Right)
		if err != nil {
			return nil, err
		}
		if !binops[n.Operator] {
			return nil, fmt.Errorf("batch plan: unsupported operator %s", n.Operator)
		}
		return binary(l, r, n.Operator), nil
	case *ast.ConditionalNode:
		cond, err := c.compile(n.Cond)
		if err != nil {
			return nil, err
		}
		a, err := c.compile(n.Exp1)
		if err != nil {
			return nil, err
		}
		b, err := c.compile(n.Exp2)
		if err != nil {
			return nil, err
		}
		return func(e *env, lo, k int) vec {
			cv, av, bv := cond(e, lo, k), a(e, lo, k), b(e, lo, k)
			out := e.buf(k)
			o, cs, as, bs := out.v, cv.v[:k], av.v[:k], bv.v[:k]
			for i := range o {
				if cs[i] != 0 {
					o[i] = as[i]
				} else {
					o[i] = bs[i]
				}
			}
			e.free(cv)
			e.free(av)
			e.free(bv)
			return out
		}, nil
	case *ast.BuiltinNode:
		if (n.Name == "max" || n.Name == "min") && len(n.Arguments) == 2 {
			a, err := c.compile(n.Arguments[0])
			if err != nil {
				return nil, err
			}
			b, err := c.compile(n.Arguments[1])
			if err != nil {
				return nil, err
			}
			return binary(a, b, n.Name), nil
		}
	}
	return nil, fmt.Errorf("batch plan: unsupported expression %T", n)
}

// binops are the binary operators the batch plan supports.
var binops = map[string]bool{"+": true, "-": true, "*": true, "/": true, "<": true, "<=": true, ">": true, ">=": true,
	"==": true, "!=": true, "&&": true, "and": true, "||": true, "or": true}

func unary(x node, op string) node {
	return func(e *env, lo, k int) vec {
		xv := x(e, lo, k)
		out := e.buf(k)
		o, a := out.v, xv.v[:len(out.v)]
		switch op {
		case "!", "not":
			for i := range o {
				o[i] = 1 - a[i]
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

// binary runs one operator over two vectors, with a loop per operator so
// that the compiler keeps each loop free of calls.
func binary(l, r node, op string) node {
	return func(e *env, lo, k int) vec {
		lv, rv := l(e, lo, k), r(e, lo, k)
		out := e.buf(k)
		o := out.v
		a, b := lv.v[:len(o)], rv.v[:len(o)]
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
				o[i] = b2f(a[i] != 0 && b[i] != 0)
			}
		case "||", "or":
			for i := range o {
				o[i] = b2f(a[i] != 0 || b[i] != 0)
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
		e.free(lv)
		e.free(rv)
		return out
	}
}

// Run evaluates the plan for every row: eligible[i] and amount[i] (0 when
// not eligible). Household programmes decide only on head rows.
func (p *Plan) Run(c *Columns, eligible []bool, amount []float64) {
	e := &env{cols: c}
	household := p.Policy.Entity == "household"
	for lo := 0; lo < c.N; lo += Chunk {
		k := min(Chunk, c.N-lo)
		ok := eligible[lo : lo+k]
		for i := range ok {
			ok[i] = !household || c.Head[lo+i]
		}
		for _, cond := range p.conds {
			v := cond(e, lo, k)
			cv := v.v[:k]
			for i := range ok {
				ok[i] = ok[i] && cv[i] != 0
			}
			e.free(v)
		}
		av := p.amount(e, lo, k)
		am, a := amount[lo:lo+k], av.v[:k]
		for i := range am {
			if ok[i] && !math.IsNaN(a[i]) && !math.IsInf(a[i], 0) {
				am[i] = round2(max(0, a[i]))
			} else {
				am[i] = 0
			}
		}
		e.free(av)
	}
}
