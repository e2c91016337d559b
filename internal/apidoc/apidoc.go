// Package apidoc assembles the OpenAPI document from fragments: a base
// document (info, servers, security, what every line shares) and one part
// per business line holding the paths it registers and the components it
// owns. Merging refuses a path, component or tag defined twice and a $ref
// that nothing defines, naming the part at fault.
package apidoc

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
)

// Part is one fragment of the document.
type Part struct {
	Name string // who keeps it (a package name), used in errors
	Doc  []byte // a JSON object with only paths, components and tags
}

// baseName names the base document in errors.
const baseName = "base"

// partKeys are the top-level keys a part may have; everything else
// (openapi, info, servers, security) belongs to the base.
var partKeys = []string{"paths", "components", "tags"}

// Merge returns base with the paths, components and tags of every part
// added, indented, object keys sorted (so the output depends only on the
// content). Tags keep their order: the base's, then each part's in turn.
// It fails, naming the part, on invalid JSON, on a key that appears twice
// in one object, on a top-level key a part may not set, on a path, a
// component or a tag defined twice, and on a $ref that resolves to nothing
// in the merged document.
func Merge(base []byte, parts ...Part) ([]byte, error) {
	doc, err := decode(base)
	if err != nil {
		return nil, fmt.Errorf("apidoc: %s: %w", baseName, err)
	}
	docs := []named{{baseName, doc}}
	for _, p := range parts {
		who := fmt.Sprintf("part %q", p.Name)
		d, err := decode(p.Doc)
		if err != nil {
			return nil, fmt.Errorf("apidoc: %s: %w", who, err)
		}
		docs = append(docs, named{who, d})
	}

	m := merger{out: map[string]any{}, paths: map[string]string{}, components: map[string]string{}, tags: map[string]string{}}
	for k, v := range doc {
		if !slices.Contains(partKeys, k) {
			m.out[k] = v
		}
	}
	for _, d := range docs {
		m.add(d)
	}
	if len(m.errs) > 0 {
		return nil, errors.Join(m.errs...)
	}
	for _, d := range docs {
		m.checkRefs(d.name, nil, d.doc)
	}
	if len(m.errs) > 0 {
		return nil, errors.Join(m.errs...)
	}

	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(m.out); err != nil {
		return nil, fmt.Errorf("apidoc: %w", err)
	}
	return buf.Bytes(), nil
}

type named struct {
	name string // "base" or `part "registry"`
	doc  map[string]any
}

// merger accumulates the merged document and who defined what.
type merger struct {
	out        map[string]any
	paths      map[string]string // path → who defined it
	components map[string]string // "schemas/Person" → who defined it
	tags       map[string]string // tag name → who defined it
	errs       []error
}

func (m *merger) fail(who, format string, args ...any) {
	m.errs = append(m.errs, fmt.Errorf("apidoc: %s: %s", who, fmt.Sprintf(format, args...)))
}

func (m *merger) add(d named) {
	if d.name != baseName {
		for _, k := range sortedKeys(d.doc) {
			if !slices.Contains(partKeys, k) {
				m.fail(d.name, "top-level %q belongs in the base document (a part has only %s)", k, strings.Join(partKeys, ", "))
			}
		}
	}
	if v, ok := d.doc["paths"]; ok {
		paths, ok := v.(map[string]any)
		if !ok {
			m.fail(d.name, "paths is not an object")
		}
		out := m.section(m.out, "paths")
		for _, p := range sortedKeys(paths) {
			if other, dup := m.paths[p]; dup {
				m.fail(d.name, "path %s is also defined by %s", p, other)
				continue
			}
			m.paths[p] = d.name
			out[p] = paths[p]
		}
	}
	if v, ok := d.doc["components"]; ok {
		comps, ok := v.(map[string]any)
		if !ok {
			m.fail(d.name, "components is not an object")
		}
		outComps := m.section(m.out, "components")
		for _, kind := range sortedKeys(comps) {
			items, ok := comps[kind].(map[string]any)
			if !ok {
				m.fail(d.name, "components.%s is not an object", kind)
				continue
			}
			out := m.section(outComps, kind)
			for _, name := range sortedKeys(items) {
				key := kind + "/" + name
				if other, dup := m.components[key]; dup {
					m.fail(d.name, "component #/components/%s is also defined by %s", key, other)
					continue
				}
				m.components[key] = d.name
				out[name] = items[name]
			}
		}
	}
	if v, ok := d.doc["tags"]; ok {
		tags, ok := v.([]any)
		if !ok {
			m.fail(d.name, "tags is not an array")
		}
		out, _ := m.out["tags"].([]any)
		for i, t := range tags {
			obj, _ := t.(map[string]any)
			name, _ := obj["name"].(string)
			if name == "" {
				m.fail(d.name, "tags[%d] has no name", i)
				continue
			}
			if other, dup := m.tags[name]; dup {
				m.fail(d.name, "tag %q is also defined by %s", name, other)
				continue
			}
			m.tags[name] = d.name
			out = append(out, t)
		}
		if out != nil {
			m.out["tags"] = out
		}
	}
}

// section returns parent[key] as an object, creating it.
func (m *merger) section(parent map[string]any, key string) map[string]any {
	if s, ok := parent[key].(map[string]any); ok {
		return s
	}
	s := map[string]any{}
	parent[key] = s
	return s
}

// checkRefs reports every $ref under v (at the JSON pointer at) that does
// not resolve in the merged document.
func (m *merger) checkRefs(who string, at []string, v any) {
	switch v := v.(type) {
	case map[string]any:
		if ref, ok := v["$ref"].(string); ok {
			where := "#/" + strings.Join(at, "/")
			if !strings.HasPrefix(ref, "#/") {
				m.fail(who, "$ref %s at %s is not a reference into this document", ref, where)
			} else if !resolves(m.out, ref) {
				m.fail(who, "$ref %s at %s: no part defines it", ref, where)
			}
		}
		for _, k := range sortedKeys(v) {
			m.checkRefs(who, append(at, escape(k)), v[k])
		}
	case []any:
		for i, x := range v {
			m.checkRefs(who, append(at, fmt.Sprint(i)), x)
		}
	}
}

// resolves reports whether the local reference ref ("#/components/schemas/X")
// names a value in doc.
func resolves(doc map[string]any, ref string) bool {
	var cur any = doc
	for _, tok := range strings.Split(strings.TrimPrefix(ref, "#/"), "/") {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		switch c := cur.(type) {
		case map[string]any:
			var ok bool
			if cur, ok = c[tok]; !ok {
				return false
			}
		case []any:
			i := -1
			fmt.Sscan(tok, &i)
			if i < 0 || i >= len(c) || fmt.Sprint(i) != tok {
				return false
			}
			cur = c[i]
		default:
			return false
		}
	}
	return true
}

// escape encodes a key as a JSON pointer token.
func escape(k string) string {
	return strings.ReplaceAll(strings.ReplaceAll(k, "~", "~0"), "/", "~1")
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// decode parses one JSON object, keeping numbers as written and refusing a
// key that appears twice in an object (encoding/json would keep the last
// silently, losing a path or a schema).
func decode(b []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	v, err := value(dec, nil)
	if err == nil {
		if _, end := dec.Token(); end != io.EOF {
			err = errors.New("data after the document")
		}
	}
	if err != nil {
		line := 1 + bytes.Count(b[:min(int(dec.InputOffset()), len(b))], []byte("\n"))
		return nil, fmt.Errorf("invalid JSON at line %d: %w", line, err)
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, errors.New("not a JSON object")
	}
	return obj, nil
}

// value reads the next value from dec; at is where it is, for errors.
func value(dec *json.Decoder, at []string) (any, error) {
	tok, err := dec.Token()
	if err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	switch tok {
	case json.Delim('{'):
		obj := map[string]any{}
		for dec.More() {
			kt, err := dec.Token()
			if err != nil {
				return nil, err
			}
			k := kt.(string) // the decoder only yields strings for keys
			if _, dup := obj[k]; dup {
				return nil, fmt.Errorf("key %q appears twice in #/%s", k, strings.Join(at, "/"))
			}
			if obj[k], err = value(dec, append(at, escape(k))); err != nil {
				return nil, err
			}
		}
		if _, err := dec.Token(); err != nil { // }
			return nil, err
		}
		return obj, nil
	case json.Delim('['):
		arr := []any{}
		for dec.More() {
			x, err := value(dec, append(at, fmt.Sprint(len(arr))))
			if err != nil {
				return nil, err
			}
			arr = append(arr, x)
		}
		if _, err := dec.Token(); err != nil { // ]
			return nil, err
		}
		return arr, nil
	}
	return tok, nil
}
