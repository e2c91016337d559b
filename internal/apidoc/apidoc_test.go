package apidoc

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

const base = `{
  "openapi": "3.0.3",
  "info": {"title": "t", "version": "1"},
  "security": [{"bearerAuth": []}],
  "tags": [{"name": "meta"}],
  "paths": {"/doc": {"get": {"responses": {"401": {"$ref": "#/components/responses/Unauthorized"}}}}},
  "components": {
    "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}},
    "responses": {"Unauthorized": {"description": "no", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}},
    "schemas": {"Error": {"type": "object"}}
  }
}`

const persons = `{
  "tags": [{"name": "persons", "description": "人员 <people> & households"}],
  "paths": {"/persons/{id}": {"get": {"responses": {"200": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Person"}}}}}}}},
  "components": {"schemas": {"Person": {"type": "object", "properties": {"id": {"type": "integer", "maximum": 9007199254740993}}}}}
}`

const payroll = `{
  "tags": [{"name": "payroll"}],
  "paths": {"/persons/{id}/account": {"get": {"parameters": [{"$ref": "#/components/parameters/PersonID"}],
    "responses": {"200": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Account"}}}}}}}},
  "components": {
    "parameters": {"PersonID": {"name": "id", "in": "path", "required": true}},
    "schemas": {"Account": {"type": "object", "properties": {"person": {"$ref": "#/components/schemas/Person"}}}}
  }
}`

func parse(t *testing.T, b []byte) any {
	t.Helper()
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, b)
	}
	return v
}

func TestMerge(t *testing.T) {
	out, err := Merge([]byte(base), Part{"registry", []byte(persons)}, Part{"payroll", []byte(payroll)})
	if err != nil {
		t.Fatal(err)
	}
	got := parse(t, out).(map[string]any)
	for _, k := range []string{"openapi", "info", "security"} {
		if !reflect.DeepEqual(got[k], parse(t, []byte(base)).(map[string]any)[k]) {
			t.Errorf("%s = %v, want the base's", k, got[k])
		}
	}
	paths := got["paths"].(map[string]any)
	for _, p := range []string{"/doc", "/persons/{id}", "/persons/{id}/account"} {
		if _, ok := paths[p]; !ok {
			t.Errorf("no path %s", p)
		}
	}
	comps := got["components"].(map[string]any)
	for kind, names := range map[string][]string{
		"schemas":         {"Error", "Person", "Account"},
		"parameters":      {"PersonID"},
		"responses":       {"Unauthorized"},
		"securitySchemes": {"bearerAuth"},
	} {
		for _, n := range names {
			if _, ok := comps[kind].(map[string]any)[n]; !ok {
				t.Errorf("no #/components/%s/%s", kind, n)
			}
		}
	}
	var tags []string
	for _, tag := range got["tags"].([]any) {
		tags = append(tags, tag.(map[string]any)["name"].(string))
	}
	if want := []string{"meta", "persons", "payroll"}; !reflect.DeepEqual(tags, want) {
		t.Errorf("tags %v, want %v (the base's, then each part's in order)", tags, want)
	}

	// Numbers are kept as written, text is not HTML-escaped, the output is
	// indented and ends with a newline.
	for _, s := range []string{`9007199254740993`, `人员 <people> & households`, "{\n  \"components\": {\n", "}\n"} {
		if !bytes.Contains(out, []byte(s)) {
			t.Errorf("output lacks %q", s)
		}
	}
	// The output depends only on the content.
	again, err := Merge([]byte(base), Part{"registry", []byte(persons)}, Part{"payroll", []byte(payroll)})
	if err != nil || !bytes.Equal(out, again) {
		t.Errorf("a second merge differs (%v)", err)
	}
	// Merging a merged document with nothing changes nothing.
	if same, err := Merge(out); err != nil || !bytes.Equal(same, out) {
		t.Errorf("merging the output alone: %v, equal %v", err, bytes.Equal(same, out))
	}
}

func TestMergeFails(t *testing.T) {
	cases := []struct {
		name  string
		base  string
		parts []Part
		want  []string // all in the error
	}{
		{"invalid base", `{"openapi": `, nil, []string{"base", "invalid JSON at line 1"}},
		{"invalid part", base, []Part{{"registry", []byte(persons)}, {"payroll", []byte("{\n\"paths\": {,}\n}")}},
			[]string{`part "payroll"`, "invalid JSON at line 2"}},
		{"trailing data", base, []Part{{"registry", []byte(persons + "}")}}, []string{`part "registry"`, "data after the document"}},
		{"not an object", base, []Part{{"registry", []byte(`[]`)}}, []string{`part "registry"`, "not a JSON object"}},
		{"path twice", base, []Part{{"registry", []byte(persons)}, {"eligibility", []byte(`{"paths": {"/persons/{id}": {}}}`)}},
			[]string{`part "eligibility"`, "path /persons/{id} is also defined by part \"registry\""}},
		{"path of the base", base, []Part{{"admin", []byte(`{"paths": {"/doc": {}}}`)}},
			[]string{`part "admin"`, "path /doc is also defined by base"}},
		{"component twice", base, []Part{{"registry", []byte(persons)}, {"monitor", []byte(`{"components": {"schemas": {"Person": {}}}}`)}},
			[]string{`part "monitor"`, "#/components/schemas/Person is also defined by part \"registry\""}},
		{"shared component again", base, []Part{{"admin", []byte(`{"components": {"responses": {"Unauthorized": {}}}}`)}},
			[]string{`part "admin"`, "#/components/responses/Unauthorized is also defined by base"}},
		{"key twice in one part", base, []Part{{"registry", []byte(`{"paths": {"/a": {}, "/b": {}, "/a": {"get": {}}}}`)}},
			[]string{`part "registry"`, `key "/a" appears twice in #/paths`}},
		{"tag twice", base, []Part{{"registry", []byte(persons)}, {"eligibility", []byte(`{"tags": [{"name": "persons"}]}`)}},
			[]string{`part "eligibility"`, `tag "persons" is also defined by part "registry"`}},
		{"unknown component", base, []Part{{"payroll", []byte(payroll)}},
			[]string{`part "payroll"`, "$ref #/components/schemas/Person at #/components/schemas/Account/properties/person: no part defines it"}},
		{"unknown component in the base", strings.Replace(base, `"Error": {"type": "object"}`, `"Fault": {}`, 1), nil,
			[]string{"base", "$ref #/components/schemas/Error", "no part defines it"}},
		{"reference outside the document", base, []Part{{"registry", []byte(`{"components": {"schemas": {"P": {"$ref": "person.json#/P"}}}}`)}},
			[]string{`part "registry"`, "person.json#/P", "not a reference into this document"}},
		{"top-level key of the base", base, []Part{{"registry", []byte(`{"info": {"title": "x"}, "paths": {}}`)}},
			[]string{`part "registry"`, `top-level "info" belongs in the base document`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out, err := Merge([]byte(tc.base), tc.parts...)
			if err == nil {
				t.Fatalf("no error; output %s", out)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
}

func TestMergeReportsEveryProblem(t *testing.T) {
	_, err := Merge([]byte(base),
		Part{"registry", []byte(persons)},
		Part{"monitor", []byte(`{"paths": {"/persons/{id}": {}}, "components": {"schemas": {"Person": {}, "Task": {"$ref": "#/components/schemas/Nope"}}}}`)})
	if err == nil {
		t.Fatal("no error")
	}
	// The definitions clash; references are checked once they do not.
	for _, w := range []string{"path /persons/{id}", "#/components/schemas/Person"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not say %q", err, w)
		}
	}
}
