package archtest

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// layer is a package's rank in the import order. A package imports packages of lower layers;
// a package of its own layer, or (for the two business layers) one business line another,
// only through an edge listed in edges.
type layer int

const (
	leaf     layer = iota + 1 // utilities: the standard library and third-party libraries, nothing of ours but other leaves
	platform                  // infrastructure every line uses: database, audit, accounts, jobs, outbox, HTTP, pages
	owner                     // shared owners: business lines whose Go API other lines may use, since they own what others decide on
	line                      // business lines: each owns its tables, rules and pages; nothing but app imports them
	wiring                    // internal/app: config → db → services → HTTP; may import anything
	command                   // cmd/…: main calls app
)

// String names the layer in failure messages.
func (l layer) String() string {
	switch l {
	case leaf:
		return "leaf"
	case platform:
		return "platform"
	case owner:
		return "shared owner"
	case line:
		return "business line"
	case wiring:
		return "wiring"
	case command:
		return "command"
	}
	return "layer " + strconv.Itoa(int(l))
}

// business reports whether l is one of the two layers of business lines.
func (l layer) business() bool { return l == owner || l == line }

// layers gives every package directory its layer. A sub-package (internal/division/data,
// internal/db/dbtest, internal/payroll/migrations) takes the layer of the longest listed
// prefix, unless listed itself. A new folder under internal/ fails the test until it is
// listed here. Packages whose name ends in "test" (dbtest, apptest, archtest) are test
// harnesses: they may import anything, and only tests and other harnesses import them.
var layers = map[string]layer{
	"cmd/minzheng": command,
	"internal/app": wiring,

	// Business lines. A future line goes here; it may use the shared owners below through
	// an edge in edges, and no other line unless an edge says why.
	"internal/admin":      line, // the web face of auth and audit: login, home, staff accounts, audit viewer
	"internal/payroll":    line,
	"internal/assistance": line,
	"internal/monitor":    line,

	// Shared owners: the business lines that today's imports show others depend on. They
	// own facts the other lines decide on, and they import no ordinary line. Chosen from
	// the real imports: no line imports eligibility, payroll, assistance, monitor or admin.
	"internal/division": owner, // the division tree: jurisdictions, district and street names, the pickers
	"internal/registry": owner, // persons and households: the register every decision reads, through its Service
	"internal/policy":   owner, // the rules engine: policy files evaluated on facts, no database, no HTTP
	// entitlements and decisions (待遇与决定): the proactive run writes them, a decision taken on an
	// application goes through ApplyGrant/ApplyStop, the rules that watch recipients read ActivePrograms
	"internal/eligibility": owner,
	"internal/cases":       owner, // the case engine: service definitions (事项), their chains, the working-day calendar

	// Platform.
	"internal/db":     platform,
	"internal/audit":  platform,
	"internal/auth":   platform,
	"internal/jobs":   platform,
	"internal/events": platform,
	"internal/httpx":  platform,
	"internal/web":    platform,
	"internal/secret": platform,
	"internal/errs":   platform,
	"internal/module": platform, // what a business line declares to app: routes, nav, templates, migrations, jobs

	// Leaves.
	"internal/idcard":  leaf,
	"internal/tabular": leaf,
	"internal/pdfdoc":  leaf,
	"internal/gen":     leaf,
	"internal/apidoc":  leaf, // merges the OpenAPI fragments of app and the lines
}

// edge is an import from one listed package (or its sub-packages) to another.
type edge struct{ from, to string }

// edges lists, with the reason, every import between two packages of the same layer and
// every import from one business line to another; all of them exist today (the test fails
// on an edge nobody uses any more). An edge never goes up a layer.
var edges = map[edge]string{
	// Business lines → shared owners.
	{"internal/admin", "internal/division"}:         "the staff account form picks the account's jurisdiction from the tree",
	{"internal/assistance", "internal/division"}:    "cases are filtered and counted by the household's district and street",
	{"internal/assistance", "internal/policy"}:      "the pre-check evaluates the policy files on the declared and verified figures",
	{"internal/assistance", "internal/eligibility"}: "an approval or a refused re-check records its decision and entitlement through the owner of both",
	{"internal/monitor", "internal/eligibility"}:    "the rules that watch recipients read the households' active entitlements",
	{"internal/assistance", "internal/registry"}:    "a case is opened for a registered household; AddMember registers a member the register lacks",
	{"internal/eligibility", "internal/policy"}:     "entitlements are the policy files evaluated (Evaluate) and planned (Plan) on the register",
	{"internal/eligibility", "internal/registry"}:   "the proactive run streams the register; single cases read a person and household",
	{"internal/monitor", "internal/division"}:       "tasks are routed to the adviser whose jurisdiction is closest above the household's committee",
	{"internal/monitor", "internal/registry"}:       "import devices finds the person a device is bound to by ID number",
	// Between shared owners.
	{"internal/registry", "internal/division"}: "persons carry division codes, checked against and named from the tree",

	// Inside the platform: db at the bottom; audit over db; auth over audit; the HTTP side
	// (httpx, web) over auth and errs only, so auth never imports web.
	{"internal/audit", "internal/db"}:      "the audit log is a table written in the caller's transaction",
	{"internal/audit", "internal/secret"}:  "entries are chained with the suite's hash",
	{"internal/auth", "internal/audit"}:    "account and session changes are audited",
	{"internal/auth", "internal/db"}:       "accounts, sessions and tokens are tables",
	{"internal/auth", "internal/errs"}:     "permission and login failures are errs codes",
	{"internal/events", "internal/db"}:     "the outbox is a table written in the change's transaction",
	{"internal/jobs", "internal/db"}:       "leases are rows in the database",
	{"internal/jobs", "internal/errs"}:     "a held lease is an errs conflict",
	{"internal/httpx", "internal/errs"}:    "handlers return errors; httpx maps errs codes to status",
	{"internal/web", "internal/auth"}:      "the session middleware turns a cookie into an auth.Principal",
	{"internal/web", "internal/errs"}:      "pages render errs messages",
	{"internal/web", "internal/httpx"}:     "page handlers are httpx handlers",
	{"internal/module", "internal/auth"}:   "nav entries are shown by the caller's permissions",
	{"internal/module", "internal/errs"}:   "a command's bad date names its flag",
	{"internal/module", "internal/events"}: "a module's consumers are outbox handlers",
	{"internal/module", "internal/httpx"}:  "a module registers its routes on the router",
	{"internal/module", "internal/web"}:    "a module's routes render pages; its nav entries are web's",

	// Between leaves.
	{"internal/gen", "internal/idcard"}: "synthetic people get valid GB 11643 ID numbers",
}

// isHarness reports whether the package at dir is a test harness (dbtest, apptest, archtest).
func isHarness(dir string) bool {
	i := strings.LastIndex(dir, "/")
	return strings.HasSuffix(dir[i+1:], "test")
}

// layerOf returns the layers entry that covers the package at dir: itself or its longest
// listed parent.
func layerOf(dir string) (key string, l layer, ok bool) {
	for p := dir; ; {
		if l, ok := layers[p]; ok {
			return p, l, true
		}
		i := strings.LastIndex(p, "/")
		if i < 0 {
			return "", 0, false
		}
		p = p[:i]
	}
}

// TestLayerTable checks that the tables agree with each other: every edge joins listed
// packages, has a reason, and does not go up; every edge joins the same layer or two
// business lines (any other import needs no edge).
func TestLayerTable(t *testing.T) {
	for e, why := range edges {
		lf, okf := layers[e.from]
		lt, okt := layers[e.to]
		switch {
		case !okf || !okt:
			t.Errorf("edge %s → %s: both ends must be listed in layers", e.from, e.to)
		case lt > lf:
			t.Errorf("edge %s → %s goes up from %s to %s: no edge may", e.from, e.to, lf, lt)
		case lf != lt && !(lf.business() && lt.business()):
			t.Errorf("edge %s → %s is from %s to a lower %s, which needs no edge: remove it", e.from, e.to, lf, lt)
		case strings.TrimSpace(why) == "":
			t.Errorf("edge %s → %s has no reason", e.from, e.to)
		}
	}
}

// TestImportDirection checks every import of every non-test file against the layers and
// edges (test files are exempt, and so are harness packages).
func TestImportDirection(t *testing.T) {
	tr := loadTree(t)
	prefix := tr.module + "/"
	used := map[edge]bool{}
	unknown := map[string]bool{}
	for _, f := range tr.files {
		if f.test {
			continue
		}
		harness := isHarness(f.dir)
		fromKey, from, ok := layerOf(f.dir)
		if !ok && !harness {
			if !unknown[f.dir] {
				unknown[f.dir] = true
				t.Errorf("%s: package %s has no layer: add it to the layers table in internal/archtest/layers_test.go (and to the layer table in docs/ARCHITECTURE.md)", f.path, f.dir)
			}
			continue
		}
		for _, imp := range f.file.Imports {
			ipath, err := strconv.Unquote(imp.Path.Value)
			if err != nil || !strings.HasPrefix(ipath, prefix) {
				continue
			}
			target := strings.TrimPrefix(ipath, prefix)
			at := fmt.Sprintf("%s:%d: imports %q", f.path, f.fset.Position(imp.Pos()).Line, ipath)
			if isHarness(target) {
				if !harness {
					t.Errorf("%s: %s is a test harness; only tests and other harnesses import it", at, target)
				}
				continue
			}
			if harness {
				continue
			}
			toKey, to, ok := layerOf(target)
			switch {
			case !ok:
				t.Errorf("%s: %s has no layer: add it to the layers table in internal/archtest/layers_test.go", at, target)
			case fromKey == toKey:
				// A package and its sub-packages (division → division/data).
			case to > from:
				t.Errorf("%s: %s (%s) may not import %s (%s): a package imports only layers below its own", at, fromKey, from, toKey, to)
			case to == from || (from.business() && to.business()):
				e := edge{fromKey, toKey}
				used[e] = true
				if _, ok := edges[e]; !ok {
					rule := "packages of one layer import each other only through an edge listed in edges"
					if from.business() {
						rule = "a business line imports another business line only through an edge listed in edges"
					}
					t.Errorf("%s: %s (%s) → %s (%s): %s (internal/archtest/layers_test.go); add the edge with its reason, or move the code", at, fromKey, from, toKey, to, rule)
				}
			}
		}
	}
	if *update {
		printEdges(used)
	}
	for e := range edges {
		if !used[e] {
			t.Errorf("edge %s → %s is listed in edges, but no non-test file of %s imports %s any more: remove it", e.from, e.to, e.from, e.to)
		}
	}
}

// printEdges prints the edges the tree uses, with the listed reasons, in Go syntax.
func printEdges(used map[edge]bool) {
	list := make([]edge, 0, len(used))
	for e := range used {
		list = append(list, e)
	}
	sort.Slice(list, func(i, j int) bool {
		if list[i].from != list[j].from {
			return list[i].from < list[j].from
		}
		return list[i].to < list[j].to
	})
	fmt.Println("var edges = map[edge]string{")
	for _, e := range list {
		why, ok := edges[e]
		if !ok {
			why = "TODO: why"
		}
		fmt.Printf("\t{%q, %q}: %q,\n", e.from, e.to, why)
	}
	fmt.Printf("}\n\n")
}
