package web_test

import (
	"bytes"
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"text/template/parse"
	"unicode"

	"minzheng/internal/app"
	"minzheng/internal/assistance"
	"minzheng/internal/auth"
	"minzheng/internal/division"
	"minzheng/internal/module"
	"minzheng/internal/monitor"
	"minzheng/internal/registry"
)

// The English catalogue is keyed by the Chinese text. These tests keep it in
// step with the templates: every string a template passes to t has an
// English entry, and every entry is used by a template or is a label that
// Go code hands to a template (roles, division levels, relations, sex,
// navigation, page titles).

// mayBeEmpty lists catalogue entries whose English is deliberately empty:
// 行 is the counter word in both "共 N 行" and "第 N 行"; no one English word
// fits both ("Total 10 rows" / "Row 5 rows"), so English drops it.
var mayBeEmpty = map[string]bool{"行": true}

// untranslatedText lists Chinese text that may stand in a template outside
// t: the language switch names Chinese in Chinese.
var untranslatedText = map[string]bool{"中文": true}

// knownDynamic lists the non-literal arguments templates pass to t. Each
// must evaluate to one of the labels goLabels collects; when a template
// starts translating something new, add its source to goLabels and the
// expression here.
var knownDynamic = map[string]bool{
	".Title":               true, // page titles: PageFor's title argument
	".Label":               true, // nav items, roles (users), relations (person_new)
	".Level.Label":         true, // division levels
	".SexLabel":            true, // 男/女
	".Relation.Label":      true, // household members
	".Role.Label":          true, // users list
	"roleLabel .User.Role": true, // layout, home (a parenthesised pipeline prints bare)
	".StateLabel":          true, // assistance: application states
	".To.Label":            true, // assistance: the state a step moved to
	".SourceLabel":         true, // assistance: verification data sources
	".KindLabel":           true, // assistance: material kinds; monitor: task kinds
	".RelationLabel":       true, // assistance: household members (registry relations)
	".Severity.Label":      true, // monitor: warning severities
	".StatusLabel":         true, // monitor: task statuses
	".DispositionLabel":    true, // monitor: dispositions
	".Type.Label":          true, // monitor: feed types of batches
	".Feed.Label":          true, // monitor: feed types of rules
	".Population.Label":    true, // monitor: watched populations
	".Key":                 true, // monitor: names of the data behind a warning
	".Value":               true, // monitor: their values (是/否; numbers pass through)
}

// use is one place a template passes a string to t.
type use struct {
	key   string // the literal, or the expression for a dynamic argument
	where string // file:line:col
}

// templateScan is what the templates hold.
type templateScan struct {
	literals []use // t with a string literal
	dynamic  []use // t with anything else
	text     []use // Chinese in the template text, outside t
}

func scanTemplates(t *testing.T) templateScan {
	t.Helper()
	files := templateFiles(t)
	var s templateScan
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		trees := map[string]*parse.Tree{}
		tr := parse.New(f)
		tr.Mode = parse.SkipFuncCheck
		if _, err := tr.Parse(string(src), "", "", trees); err != nil {
			t.Fatalf("parse %s: %v", f, err)
		}
		names := make([]string, 0, len(trees))
		for n := range trees {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			tree := trees[n]
			if tree.Root == nil {
				continue
			}
			walkNode(tree, tree.Root, &s)
		}
	}
	return s
}

func where(tree *parse.Tree, n parse.Node) string {
	loc, _ := tree.ErrorContext(n)
	return loc
}

func walkNode(tree *parse.Tree, n parse.Node, s *templateScan) {
	switch n := n.(type) {
	case *parse.ListNode:
		if n == nil {
			return
		}
		for _, c := range n.Nodes {
			walkNode(tree, c, s)
		}
	case *parse.TextNode:
		for _, run := range hanRuns(string(n.Text)) {
			s.text = append(s.text, use{run, where(tree, n)})
		}
	case *parse.ActionNode:
		walkPipe(tree, n.Pipe, s)
	case *parse.IfNode:
		walkBranch(tree, &n.BranchNode, s)
	case *parse.RangeNode:
		walkBranch(tree, &n.BranchNode, s)
	case *parse.WithNode:
		walkBranch(tree, &n.BranchNode, s)
	case *parse.TemplateNode:
		walkPipe(tree, n.Pipe, s)
	}
}

func walkBranch(tree *parse.Tree, b *parse.BranchNode, s *templateScan) {
	walkPipe(tree, b.Pipe, s)
	walkNode(tree, b.List, s)
	if b.ElseList != nil {
		walkNode(tree, b.ElseList, s)
	}
}

func walkPipe(tree *parse.Tree, p *parse.PipeNode, s *templateScan) {
	if p == nil {
		return
	}
	for i, cmd := range p.Cmds {
		for _, a := range cmd.Args {
			switch a := a.(type) {
			case *parse.PipeNode:
				walkPipe(tree, a, s)
			case *parse.StringNode:
				// A literal passed to anything but t is fine unless it is
				// Chinese that will reach the page untranslated; report it
				// with the template text.
				if !isT(cmd) && len(hanRuns(a.Text)) > 0 {
					s.text = append(s.text, use{a.Text, where(tree, a)})
				}
			}
		}
		if !isT(cmd) {
			continue
		}
		switch {
		case len(cmd.Args) == 3: // t LANG X
			if str, ok := cmd.Args[2].(*parse.StringNode); ok {
				s.literals = append(s.literals, use{str.Text, where(tree, cmd)})
			} else {
				s.dynamic = append(s.dynamic, use{cmd.Args[2].String(), where(tree, cmd)})
			}
		case len(cmd.Args) == 2 && i > 0: // X | t LANG
			prev := p.Cmds[i-1]
			if str, ok := prev.Args[0].(*parse.StringNode); ok && len(prev.Args) == 1 {
				s.literals = append(s.literals, use{str.Text, where(tree, cmd)})
			} else {
				s.dynamic = append(s.dynamic, use{prev.String(), where(tree, cmd)})
			}
		default:
			s.dynamic = append(s.dynamic, use{cmd.String(), where(tree, cmd)})
		}
	}
}

func isT(cmd *parse.CommandNode) bool {
	id, ok := cmd.Args[0].(*parse.IdentifierNode)
	return ok && id.Ident == "t"
}

// hanRuns returns the runs of Chinese characters in s.
func hanRuns(s string) []string {
	var runs []string
	start := -1
	for i, r := range s {
		if unicode.Is(unicode.Han, r) {
			if start < 0 {
				start = i
			}
			continue
		}
		if start >= 0 {
			runs = append(runs, s[start:i])
			start = -1
		}
	}
	if start >= 0 {
		runs = append(runs, s[start:])
	}
	return runs
}

// goLabels returns the Chinese labels Go code hands to templates through a
// dynamic t call, each with where it comes from.
func goLabels(t *testing.T) map[string]string {
	t.Helper()
	labels := map[string]string{}
	add := func(label, from string) {
		if label == "" {
			return
		}
		if _, ok := labels[label]; !ok {
			labels[label] = from
		}
	}
	for _, r := range auth.Roles {
		add(r.Label(), "auth.Role("+string(r)+").Label")
		// The navigation depends on the role's permissions.
		for _, n := range module.Nav(app.Declared(), auth.Principal{Name: "x", Role: r, Division: "310000"}) {
			add(n.Label, "web nav "+n.Href)
		}
	}
	for _, l := range []division.Level{division.City, division.District, division.Street, division.Committee} {
		add(l.Label(), "division.Level("+string(l)+").Label")
	}
	for _, r := range []registry.Relation{registry.Head, registry.Spouse, registry.Child, registry.Parent, registry.Grandchild, registry.Other} {
		add(r.Label(), "registry.Relation("+string(r)+").Label")
	}
	for _, sex := range []string{"M", "F"} {
		add(registry.Person{Sex: sex}.SexLabel(), "registry.Person.SexLabel")
	}
	// Social assistance: states, transitions, programmes, data sources and
	// kinds of material (applications, application, letter templates).
	for _, x := range assistance.States {
		add(x.Label, "assistance.States")
	}
	for _, x := range assistance.Transitions {
		add(x.Label, "assistance.Transitions")
	}
	for _, x := range assistance.Programs {
		add(x.Label, "assistance.Programs")
	}
	for _, x := range assistance.Sources {
		add(x.Label, "assistance.Sources")
	}
	for _, x := range assistance.MaterialKindList {
		add(x.Label, "assistance.MaterialKindList")
	}
	for _, l := range monitor.Labels() {
		add(l, "monitor.Labels")
	}
	for title, from := range pageTitles(t) {
		add(title, from)
	}
	return labels
}

// pageTitles finds the string literals passed as the title to PageFor
// anywhere under internal/ (the layout translates the title).
func pageTitles(t *testing.T) map[string]string {
	t.Helper()
	titles := map[string]string{}
	fset := token.NewFileSet()
	err := filepath.WalkDir("..", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return nil
		}
		src, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if !bytes.Contains(src, []byte("PageFor(")) {
			return nil
		}
		f, err := parser.ParseFile(fset, p, src, 0)
		if err != nil {
			t.Logf("skipping %s: %v", p, err)
			return nil
		}
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok || len(call.Args) != 2 {
				return true
			}
			var name string
			switch fn := call.Fun.(type) {
			case *ast.Ident:
				name = fn.Name
			case *ast.SelectorExpr:
				name = fn.Sel.Name
			}
			if name != "PageFor" {
				return true
			}
			if lit, ok := call.Args[1].(*ast.BasicLit); ok && lit.Kind == token.STRING {
				if s, err := strconv.Unquote(lit.Value); err == nil && s != "" {
					titles[s] = "page title at " + fset.Position(lit.Pos()).String()
				}
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(titles) == 0 {
		t.Fatal("found no PageFor titles under internal/")
	}
	return titles
}

// catalogue reads messages_en.json, failing on duplicate keys (which
// encoding/json would silently merge).
func catalogue(t *testing.T) map[string]string {
	t.Helper()
	src, err := os.ReadFile("messages_en.json")
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(src))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		t.Fatalf("messages_en.json: want an object, got %v %v", tok, err)
	}
	m := map[string]string{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			t.Fatalf("messages_en.json: %v", err)
		}
		key := tok.(string)
		var v string
		if err := dec.Decode(&v); err != nil {
			t.Fatalf("messages_en.json: %q: %v", key, err)
		}
		if _, dup := m[key]; dup {
			t.Errorf("messages_en.json: duplicate key %q", key)
		}
		m[key] = v
	}
	return m
}

func TestCatalogueCoversTemplates(t *testing.T) {
	en := catalogue(t)
	s := scanTemplates(t)
	if len(s.literals) == 0 {
		t.Fatal("found no t calls in the templates; is the scanner broken?")
	}
	at := map[string][]string{} // missing key -> where it is used
	for _, u := range s.literals {
		if _, ok := en[u.key]; !ok {
			at[u.key] = append(at[u.key], u.where)
		}
	}
	for label, from := range goLabels(t) {
		if _, ok := en[label]; !ok {
			at[label] = append(at[label], from)
		}
	}
	var missing []string
	for k, ws := range at {
		missing = append(missing, strconv.Quote(k)+" ("+strings.Join(ws, ", ")+")")
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("%d strings have no English in messages_en.json:\n%s", len(missing), strings.Join(missing, "\n"))
	}
}

func TestCatalogueHasNoStaleEntries(t *testing.T) {
	en := catalogue(t)
	used := map[string]bool{}
	for _, u := range scanTemplates(t).literals {
		used[u.key] = true
	}
	for label := range goLabels(t) {
		used[label] = true
	}
	var stale []string
	for k := range en {
		if !used[k] {
			stale = append(stale, strconv.Quote(k))
		}
	}
	sort.Strings(stale)
	if len(stale) > 0 {
		t.Errorf("%d entries in messages_en.json are used by no template and no Go label:\n%s", len(stale), strings.Join(stale, "\n"))
	}
}

func TestCatalogueEntriesAreEnglish(t *testing.T) {
	for k, v := range catalogue(t) {
		switch {
		case strings.TrimSpace(v) == "" && !mayBeEmpty[k]:
			t.Errorf("%q: empty English", k)
		case len(hanRuns(v)) > 0:
			t.Errorf("%q: English %q still holds Chinese", k, v)
		case v != strings.TrimSpace(v):
			t.Errorf("%q: English %q has leading or trailing space", k, v)
		}
	}
}

func TestTemplatesTranslateChineseText(t *testing.T) {
	var bad []string
	for _, u := range scanTemplates(t).text {
		if !untranslatedText[u.key] {
			bad = append(bad, u.where+": "+strconv.Quote(u.key))
		}
	}
	if len(bad) > 0 {
		t.Errorf("Chinese text outside t (English pages would show it as is):\n%s", strings.Join(bad, "\n"))
	}
}

func TestDynamicTranslationsAreKnown(t *testing.T) {
	for _, u := range scanTemplates(t).dynamic {
		if !knownDynamic[u.key] {
			t.Errorf("%s: t with %s: add where its values come from to goLabels and the expression to knownDynamic", u.where, u.key)
		}
	}
}
