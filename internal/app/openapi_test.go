package app_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"

	"minzheng/internal/app"
	"minzheng/internal/audit"
	"minzheng/internal/auth"
	"minzheng/internal/division"
	"minzheng/internal/eligibility"
	"minzheng/internal/errs"
	"minzheng/internal/monitor"
	"minzheng/internal/payroll"
	"minzheng/internal/policy"
	"minzheng/internal/registry"
)

// openAPIDoc is the parsed OpenAPI document.
type openAPIDoc struct {
	root map[string]any
}

// loadOpenAPI parses the document served: internal/app/openapi.json merged
// with each line's part.
func loadOpenAPI(t *testing.T) *openAPIDoc {
	t.Helper()
	return parseOpenAPI(t, "the merged document", app.OpenAPIJSON())
}

func parseOpenAPI(t *testing.T, name string, b []byte) *openAPIDoc {
	t.Helper()
	var root map[string]any
	if err := json.Unmarshal(b, &root); err != nil {
		t.Fatalf("%s is not JSON: %v", name, err)
	}
	return &openAPIDoc{root: root}
}

var httpMethods = []string{"get", "put", "post", "delete", "patch", "head", "options", "trace"}

// operations returns the document's operations keyed "METHOD /path".
func (d *openAPIDoc) operations() map[string]map[string]any {
	out := map[string]map[string]any{}
	paths, _ := d.root["paths"].(map[string]any)
	for path, item := range paths {
		item, _ := item.(map[string]any)
		for _, m := range httpMethods {
			if op, ok := item[m].(map[string]any); ok {
				out[strings.ToUpper(m)+" "+path] = op
			}
		}
	}
	return out
}

// lookup follows a local $ref ("#/components/schemas/Person").
func (d *openAPIDoc) lookup(ref string) (map[string]any, bool) {
	p, ok := strings.CutPrefix(ref, "#/")
	if !ok {
		return nil, false
	}
	var cur any = d.root
	for _, part := range strings.Split(p, "/") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		part = strings.ReplaceAll(strings.ReplaceAll(part, "~1", "/"), "~0", "~")
		if cur, ok = m[part]; !ok {
			return nil, false
		}
	}
	m, ok := cur.(map[string]any)
	return m, ok
}

// resolve follows $ref until it reaches an object without one.
func (d *openAPIDoc) resolve(s map[string]any) map[string]any {
	for i := 0; i < 10; i++ {
		ref, ok := s["$ref"].(string)
		if !ok {
			return s
		}
		if s, ok = d.lookup(ref); !ok {
			return map[string]any{}
		}
	}
	return s
}

// routePath turns a ServeMux pattern's path into an OpenAPI path.
func routePath(p string) string {
	p = strings.ReplaceAll(p, "{$}", "")
	return regexp.MustCompile(`\{([A-Za-z_][A-Za-z0-9_]*)\.\.\.\}`).ReplaceAllString(p, "{$1}")
}

// routeKey turns a ServeMux pattern into "METHOD /path" as the document
// names operations.
func routeKey(pattern string) string {
	method, path, ok := strings.Cut(pattern, " ")
	if !ok {
		return "ANY " + routePath(pattern)
	}
	return method + " " + routePath(path)
}

func TestOpenAPIDocument(t *testing.T) {
	d := loadOpenAPI(t)
	if v, _ := d.root["openapi"].(string); !strings.HasPrefix(v, "3.") {
		t.Fatalf("openapi = %q, want 3.x", v)
	}
	info, _ := d.root["info"].(map[string]any)
	if info["title"] == "" || info["version"] == "" {
		t.Errorf("info needs a title and a version: %v", info)
	}
	scheme, ok := d.lookup("#/components/securitySchemes/bearerAuth")
	if !ok || scheme["type"] != "http" || scheme["scheme"] != "bearer" {
		t.Errorf("components.securitySchemes.bearerAuth = %v, want an http bearer scheme", scheme)
	}

	// Every $ref resolves.
	var walk func(where string, v any)
	walk = func(where string, v any) {
		switch v := v.(type) {
		case map[string]any:
			if ref, ok := v["$ref"].(string); ok {
				if _, ok := d.lookup(ref); !ok {
					t.Errorf("%s: $ref %s does not resolve", where, ref)
				}
			}
			for k, x := range v {
				walk(where+"/"+k, x)
			}
		case []any:
			for i, x := range v {
				walk(fmt.Sprintf("%s/%d", where, i), x)
			}
		}
	}
	walk("#", d.root)

	ids := map[string]string{}
	for key, op := range d.operations() {
		id, _ := op["operationId"].(string)
		if id == "" {
			t.Errorf("%s: no operationId", key)
		} else if other, dup := ids[id]; dup {
			t.Errorf("%s: operationId %s is also used by %s", key, id, other)
		}
		ids[id] = key
		for _, f := range []string{"summary", "description"} {
			if s, _ := op[f].(string); !hasHan(s) {
				t.Errorf("%s: %s %q should be in Chinese", key, f, s)
			}
		}
		responses, _ := op["responses"].(map[string]any)
		if len(responses) == 0 {
			t.Errorf("%s: no responses", key)
		}
		if sec, ok := op["security"].([]any); !ok || len(sec) > 0 {
			if _, ok := responses["401"]; !ok {
				t.Errorf("%s: needs a token but does not document 401", key)
			}
		}
		for code, r := range responses {
			r := d.resolve(r.(map[string]any))
			if s, _ := r["description"].(string); s == "" {
				t.Errorf("%s: response %s has no description", key, code)
			}
			if n, _ := strconv.Atoi(code); n >= 400 && key != "POST /api/v1/persons/import" {
				if !d.isErrorResponse(r) {
					t.Errorf("%s: response %s should use the Error schema", key, code)
				}
			}
		}

		// Path parameters match the {names} in the path.
		_, path, _ := strings.Cut(key, " ")
		want := regexp.MustCompile(`\{([^}]+)\}`).FindAllStringSubmatch(path, -1)
		var inPath, declared []string
		for _, m := range want {
			inPath = append(inPath, m[1])
		}
		params, _ := op["parameters"].([]any)
		for _, p := range params {
			p := d.resolve(p.(map[string]any))
			if p["in"] == "path" {
				declared = append(declared, p["name"].(string))
				if p["required"] != true {
					t.Errorf("%s: path parameter %v must be required", key, p["name"])
				}
			}
		}
		slices.Sort(inPath)
		slices.Sort(declared)
		if !slices.Equal(inPath, declared) {
			t.Errorf("%s: path has parameters %v, operation declares %v", key, inPath, declared)
		}
	}
}

func (d *openAPIDoc) isErrorResponse(r map[string]any) bool {
	content, _ := r["content"].(map[string]any)
	mt, _ := content["application/json"].(map[string]any)
	s, _ := mt["schema"].(map[string]any)
	return s["$ref"] == "#/components/schemas/Error"
}

func hasHan(s string) bool {
	for _, r := range s {
		if unicode.Is(unicode.Han, r) {
			return true
		}
	}
	return false
}

// TestOpenAPIRoutes checks that the document describes exactly the /api/v1
// routes the router registers: a new route must be documented.
func TestOpenAPIRoutes(t *testing.T) {
	d := loadOpenAPI(t)
	s := openServer(t, app.Config{DataDir: t.TempDir()})
	routes := map[string]bool{}
	for _, p := range apiPatterns(s.Router) {
		routes[routeKey(p)] = true
		if !strings.Contains(p, " ") {
			t.Errorf("route %q has no method: register it as \"GET %s\" (or the methods it serves)", p, p)
		}
	}
	ops := d.operations()
	var undocumented, stale []string
	for r := range routes {
		if _, ok := ops[r]; !ok {
			undocumented = append(undocumented, r)
		}
	}
	for op := range ops {
		if !routes[op] {
			stale = append(stale, op)
		}
	}
	slices.Sort(undocumented)
	slices.Sort(stale)
	if len(undocumented) > 0 {
		t.Errorf("routes missing from the OpenAPI document (document each in the openapi.json of the package that registers it):\n  %s", strings.Join(undocumented, "\n  "))
	}
	if len(stale) > 0 {
		t.Errorf("the OpenAPI document describes routes that are not registered:\n  %s", strings.Join(stale, "\n  "))
	}

	// The document served is the merged one.
	rec := s.serve(newRequest("GET", "/api/v1/openapi.json", "", "", nil))
	want := app.OpenAPIJSON()
	if rec.Code != 200 || !bytes.Equal(rec.Body.Bytes(), want) || !strings.HasPrefix(rec.Header().Get("Content-Type"), "application/json") {
		t.Errorf("GET /api/v1/openapi.json: status %d, content type %q, %d bytes; want 200, JSON, the %d bytes of the merged document",
			rec.Code, rec.Header().Get("Content-Type"), rec.Body.Len(), len(want))
	}
}

// TestOpenAPIPartsOwnTheirRoutes checks that each line's openapi.json
// describes exactly the /api/v1 routes that line's module registers, and
// that internal/app/openapi.json describes only the application's own.
func TestOpenAPIPartsOwnTheirRoutes(t *testing.T) {
	s := openServer(t, app.Config{DataDir: t.TempDir()})
	routes := map[string]map[string]bool{} // owner ("" for the app) → routes
	for _, pattern := range apiPatterns(s.Router) {
		owner := s.Router.OwnerOf(pattern)
		if routes[owner] == nil {
			routes[owner] = map[string]bool{}
		}
		routes[owner][routeKey(pattern)] = true
	}
	parts := map[string]bool{}
	for _, p := range app.APIParts() {
		parts[p.Name] = true
		compareRoutes(t, "internal/"+p.Name+"/openapi.json", parseOpenAPI(t, p.Name, p.Doc), routes[p.Name])
	}
	for owner := range routes {
		if owner != "" && !parts[owner] {
			t.Errorf("module %s registers /api/v1 routes but declares no OpenAPI part", owner)
		}
	}
	base, err := os.ReadFile("openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	compareRoutes(t, "internal/app/openapi.json", parseOpenAPI(t, "openapi.json", base), routes[""])
}

// compareRoutes reports the operations of doc that are not in routes and
// the routes doc does not describe.
func compareRoutes(t *testing.T, name string, doc *openAPIDoc, routes map[string]bool) {
	t.Helper()
	ops := doc.operations()
	for _, key := range slices.Sorted(maps.Keys(ops)) {
		if !routes[key] {
			t.Errorf("%s describes %s, which its module does not register", name, key)
		}
	}
	for _, key := range slices.Sorted(maps.Keys(routes)) {
		if _, ok := ops[key]; !ok {
			t.Errorf("%s does not describe %s, which its module registers", name, key)
		}
	}
}

// jsonFields returns the JSON names of a struct type's fields (embedded
// structs flattened) and those that are always present (neither omitempty
// nor omitzero).
func jsonFields(t reflect.Type) (names, always []string) {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" || !f.IsExported() {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" && f.Type.Kind() == reflect.Struct {
			n, a := jsonFields(f.Type)
			names, always = append(names, n...), append(always, a...)
			continue
		}
		if name == "" {
			name = f.Name
		}
		names = append(names, name)
		if !strings.Contains(opts, "omitempty") && !strings.Contains(opts, "omitzero") {
			always = append(always, name)
		}
	}
	return names, always
}

// objectSchema returns the properties and required names of an object
// schema, merging allOf.
func (d *openAPIDoc) objectSchema(s map[string]any) (props map[string]any, required []string) {
	s = d.resolve(s)
	props = map[string]any{}
	if all, ok := s["allOf"].([]any); ok {
		for _, sub := range all {
			p, r := d.objectSchema(sub.(map[string]any))
			for k, v := range p {
				props[k] = v
			}
			required = append(required, r...)
		}
	}
	if p, ok := s["properties"].(map[string]any); ok {
		for k, v := range p {
			props[k] = v
		}
	}
	if r, ok := s["required"].([]any); ok {
		for _, x := range r {
			required = append(required, x.(string))
		}
	}
	return props, required
}

// TestOpenAPISchemasMatchGo checks that the schemas name exactly the JSON
// fields of the Go types, and that response schemas require exactly the
// fields that are always sent.
func TestOpenAPISchemasMatchGo(t *testing.T) {
	d := loadOpenAPI(t)
	cases := []struct {
		schema   string
		value    any
		response bool // required = the fields without omitempty
	}{
		{"Person", registry.Person{}, true},
		{"PersonList", registry.SearchResult{}, true},
		{"Profile", registry.Profile{}, true},
		{"Household", registry.Household{}, true},
		{"ImportReport", registry.ImportReport{}, true},
		{"RowError", registry.RowError{}, true},
		{"NewPerson", registry.NewPerson{}, false},
		{"FactsUpdate", registry.FactsUpdate{}, false},
		{"User", auth.User{}, true},
		{"NewUser", auth.NewUser{}, false},
		{"AuditEntry", audit.Entry{}, true},
		{"AuditVerifyResult", audit.Result{}, true},
		{"DivisionRef", division.Ref{}, true},
		{"FieldError", errs.FieldError{}, true},
		{"EligibilityResult", policy.Result{}, true},
		{"ExplanationStep", policy.Step{}, true},
		{"UsedParameter", policy.UsedValue{}, true},
		{"EvaluateRequest", eligibility.EvaluateRequest{}, false},
		{"Case", policy.Case{}, false},
		{"CaseMember", policy.Member{}, false},
		{"CaseAssets", policy.Assets{}, false},
		{"Period", payroll.Period{}, true},
		{"PayrollResult", payroll.Result{}, true},
		{"Figure", payroll.Figure{}, true},
		{"ReturnReport", payroll.ReturnReport{}, true},
		{"Account", payroll.Account{}, true},
		{"MonitorTaskDetail", monitor.TaskDetail{}, true},
		{"MonitorMember", monitor.MemberView{}, true},
		{"MonitorVisit", monitor.VisitView{}, true},
		{"MonitorWarning", monitor.WarningView{}, true},
		{"VisitRequest", monitor.VisitRequest{}, false},
		{"PhotoInput", monitor.PhotoInput{}, false},
		{"WeatherRequest", monitor.WeatherRequest{}, false},
		{"WeatherResult", monitor.WeatherResult{}, true},
		{"CallStatList", monitor.CallStatList{}, true},
	}
	for _, tc := range cases {
		s, ok := d.lookup("#/components/schemas/" + tc.schema)
		if !ok {
			t.Errorf("no schema %s", tc.schema)
			continue
		}
		props, required := d.objectSchema(s)
		names, always := jsonFields(reflect.TypeOf(tc.value))
		var documented []string
		for k := range props {
			documented = append(documented, k)
		}
		slices.Sort(documented)
		slices.Sort(names)
		if !slices.Equal(documented, names) {
			t.Errorf("schema %s has properties %v; %T has JSON fields %v", tc.schema, documented, tc.value, names)
		}
		if tc.response {
			slices.Sort(required)
			slices.Sort(always)
			if !slices.Equal(required, always) {
				t.Errorf("schema %s requires %v; %T always sends %v", tc.schema, required, tc.value, always)
			}
		}
	}

	// The error shape and its codes.
	errProps, _ := d.objectSchema(mustLookup(t, d, "#/components/schemas/Error"))
	inner, _ := errProps["error"].(map[string]any)
	props, required := d.objectSchema(inner)
	names, always := jsonFields(reflect.TypeOf(errs.Error{}))
	if got := slices.Sorted(maps.Keys(props)); !slices.Equal(got, slices.Sorted(slices.Values(names))) {
		t.Errorf("error schema has properties %v; errs.Error has %v", got, names)
	}
	if !slices.Equal(slices.Sorted(slices.Values(required)), slices.Sorted(slices.Values(always))) {
		t.Errorf("error schema requires %v; errs.Error always sends %v", required, always)
	}
	code, _ := props["code"].(map[string]any)
	var codes []string
	for _, c := range code["enum"].([]any) {
		codes = append(codes, c.(string))
	}
	wantCodes := []string{errs.Invalid, errs.NotFound, errs.Unauthorized, errs.Forbidden, errs.Conflict, errs.TooMany, errs.Internal}
	if !slices.Equal(slices.Sorted(slices.Values(codes)), slices.Sorted(slices.Values(wantCodes))) {
		t.Errorf("error codes %v, want %v", codes, wantCodes)
	}
	roles := mustLookup(t, d, "#/components/schemas/Role")["enum"].([]any)
	var roleNames []string
	for _, r := range roles {
		roleNames = append(roleNames, r.(string))
	}
	var wantRoles []string
	for _, r := range auth.Roles {
		wantRoles = append(wantRoles, string(r))
	}
	if !slices.Equal(roleNames, wantRoles) {
		t.Errorf("Role enum %v, want %v", roleNames, wantRoles)
	}
}

func mustLookup(t *testing.T, d *openAPIDoc, ref string) map[string]any {
	t.Helper()
	s, ok := d.lookup(ref)
	if !ok {
		t.Fatalf("no %s", ref)
	}
	return s
}

// validate checks v, decoded from JSON, against schema s and returns what
// is wrong. Objects with properties are treated as closed: a field the
// document does not name is an error, so the document cannot fall behind
// the code.
func (d *openAPIDoc) validate(where string, v any, s map[string]any) []string {
	s = d.resolve(s)
	if v == nil {
		if s["nullable"] == true {
			return nil
		}
		return []string{where + ": null"}
	}
	if one, ok := s["oneOf"].([]any); ok {
		var matched int
		var all []string
		for i, sub := range one {
			p := d.validate(where, v, sub.(map[string]any))
			if len(p) == 0 {
				matched++
			}
			for _, x := range p {
				all = append(all, fmt.Sprintf("oneOf[%d]: %s", i, x))
			}
		}
		if matched != 1 {
			return append([]string{fmt.Sprintf("%s: matches %d of the oneOf schemas", where, matched)}, all...)
		}
		return nil
	}
	typ, _ := s["type"].(string)
	if _, ok := s["allOf"]; ok {
		typ = "object"
	}
	var probs []string
	switch typ {
	case "object":
		obj, ok := v.(map[string]any)
		if !ok {
			return []string{fmt.Sprintf("%s: %T, want an object", where, v)}
		}
		props, required := d.objectSchema(s)
		for _, r := range required {
			if _, ok := obj[r]; !ok {
				probs = append(probs, fmt.Sprintf("%s: missing required %s", where, r))
			}
		}
		for k, x := range obj {
			ps, ok := props[k].(map[string]any)
			if !ok {
				if len(props) > 0 {
					probs = append(probs, fmt.Sprintf("%s: field %s is not in the document", where, k))
				}
				continue
			}
			probs = append(probs, d.validate(where+"."+k, x, ps)...)
		}
	case "array":
		arr, ok := v.([]any)
		if !ok {
			return []string{fmt.Sprintf("%s: %T, want an array", where, v)}
		}
		items, _ := s["items"].(map[string]any)
		for i, x := range arr {
			probs = append(probs, d.validate(fmt.Sprintf("%s[%d]", where, i), x, items)...)
		}
	case "string":
		str, ok := v.(string)
		if !ok {
			return []string{fmt.Sprintf("%s: %T, want a string", where, v)}
		}
		switch s["format"] {
		case "date":
			if _, err := time.Parse("2006-01-02", str); err != nil {
				probs = append(probs, fmt.Sprintf("%s: %q is not a date", where, str))
			}
		case "date-time":
			if _, err := time.Parse(time.RFC3339Nano, str); err != nil {
				probs = append(probs, fmt.Sprintf("%s: %q is not a date-time", where, str))
			}
		}
		if p, ok := s["pattern"].(string); ok && !regexp.MustCompile(p).MatchString(str) {
			probs = append(probs, fmt.Sprintf("%s: %q does not match %s", where, str, p))
		}
	case "integer":
		n, ok := v.(float64)
		if !ok || n != float64(int64(n)) {
			return []string{fmt.Sprintf("%s: %v, want an integer", where, v)}
		}
		if lo, ok := s["minimum"].(float64); ok && n < lo {
			probs = append(probs, fmt.Sprintf("%s: %v below the minimum %v", where, n, lo))
		}
		if hi, ok := s["maximum"].(float64); ok && n > hi {
			probs = append(probs, fmt.Sprintf("%s: %v above the maximum %v", where, n, hi))
		}
	case "number":
		if _, ok := v.(float64); !ok {
			return []string{fmt.Sprintf("%s: %T, want a number", where, v)}
		}
	case "boolean":
		if _, ok := v.(bool); !ok {
			return []string{fmt.Sprintf("%s: %T, want a boolean", where, v)}
		}
	}
	if enum, ok := s["enum"].([]any); ok && !slices.Contains(enum, v) {
		probs = append(probs, fmt.Sprintf("%s: %v is not one of %v", where, v, enum))
	}
	return probs
}
