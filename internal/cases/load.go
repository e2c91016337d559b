package cases

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

//go:embed services/*.yaml
var embedded embed.FS

// LoadError says which file, line and field a definition was refused for,
// and why, in Chinese.
type LoadError struct {
	File    string
	Line    int    // 1-based; 0 when no line applies
	Field   string // the path of the field, e.g. chain.transitions[2].to
	Message string
}

// Error formats the error as file:line: field: message.
func (e *LoadError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	if e.Field != "" {
		b.WriteString(": ")
		b.WriteString(e.Field)
	}
	b.WriteString(": ")
	b.WriteString(e.Message)
	return b.String()
}

// Catalogue is every loaded service and bundle (事项目录), keyed by code.
type Catalogue struct {
	byCode map[string]*Service
	order  []string
}

// Get returns a service or bundle by code.
func (c *Catalogue) Get(code string) (*Service, bool) { s, ok := c.byCode[code]; return s, ok }

// Codes returns the codes in file order.
func (c *Catalogue) Codes() []string { return c.order }

// All returns the services and bundles in file order.
func (c *Catalogue) All() []*Service {
	out := make([]*Service, len(c.order))
	for i, code := range c.order {
		out[i] = c.byCode[code]
	}
	return out
}

// Embedded loads the definitions compiled into the binary.
func Embedded() (*Catalogue, error) {
	sub, _ := fs.Sub(embedded, "services")
	return LoadFS(sub, "services")
}

// LoadDir loads every *.yaml file in dir (an override of the embedded catalogue).
func LoadDir(dir string) (*Catalogue, error) { return LoadFS(os.DirFS(dir), dir) }

// LoadFS loads every *.yaml file of fsys; prefix names the files in errors.
func LoadFS(fsys fs.FS, prefix string) (*Catalogue, error) {
	names, err := fs.Glob(fsys, "*.yaml")
	if err != nil {
		return nil, err
	}
	if len(names) == 0 {
		return nil, &LoadError{File: prefix, Message: "没有找到事项定义文件（*.yaml）"}
	}
	sources := map[string][]byte{}
	for _, n := range names {
		b, err := fs.ReadFile(fsys, n)
		if err != nil {
			return nil, err
		}
		sources[filepath.ToSlash(filepath.Join(prefix, n))] = b
	}
	return Load(sources)
}

// Load parses and checks definition files given as path → content. It
// refuses the first problem it finds with a *LoadError and never panics.
func Load(sources map[string][]byte) (cat *Catalogue, err error) {
	paths := make([]string, 0, len(sources))
	for p := range sources {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	current := ""
	defer func() {
		if r := recover(); r != nil { // a bug in a check, or in the YAML library, on odd input
			cat, err = nil, &LoadError{File: current, Message: fmt.Sprintf("无法读取定义文件：%v", r)}
		}
	}()
	cat = &Catalogue{byCode: map[string]*Service{}}
	files := map[string]*file{}
	for _, path := range paths {
		current = path
		f, err := parseFile(path, sources[path])
		if err != nil {
			return nil, err
		}
		if err := f.checkOwn(); err != nil {
			return nil, err
		}
		if other, dup := cat.byCode[f.svc.Code]; dup {
			return nil, f.errAt(at("code"), "事项编码“%s”与 %s 重复", f.svc.Code, other.Path)
		}
		cat.byCode[f.svc.Code] = f.svc
		cat.order = append(cat.order, f.svc.Code)
		files[f.svc.Code] = f
	}
	// Links between files: chains borrowed, bundles' members.
	for _, code := range cat.order {
		current = files[code].path
		if err := files[code].link(cat); err != nil {
			return nil, err
		}
	}
	return cat, nil
}

// file is one definition file being checked: the service, the YAML tree
// (for lines) and the source.
type file struct {
	path string
	src  []byte
	root *yaml.Node // the document's top mapping
	svc  *Service
}

func parseFile(path string, src []byte) (*file, error) {
	f := &file{path: path, src: src}
	var doc yaml.Node
	if err := yaml.Unmarshal(src, &doc); err != nil {
		return nil, f.yamlError(err)
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		return nil, &LoadError{File: path, Message: "文件为空"}
	}
	f.root = doc.Content[0]
	if f.root.Kind != yaml.MappingNode {
		return nil, &LoadError{File: path, Line: f.root.Line, Message: "文件应为一个映射（code: …、name: … 等字段）"}
	}
	dec := yaml.NewDecoder(bytes.NewReader(src))
	dec.KnownFields(true)
	f.svc = &Service{Path: path}
	if err := dec.Decode(&f.svc.Definition); err != nil {
		return nil, f.yamlError(err)
	}
	var more yaml.Node
	if err := dec.Decode(&more); !errors.Is(err, io.EOF) {
		line := 0
		if err == nil {
			line = more.Line
		}
		return nil, &LoadError{File: path, Line: line, Message: "一个文件只能有一个定义（发现第二个 YAML 文档）"}
	}
	sum := sha256.Sum256(src)
	f.svc.Version = hex.EncodeToString(sum[:6])
	return f, nil
}

var (
	yamlLine     = regexp.MustCompile(`line (\d+): `)
	unknownField = regexp.MustCompile(`field (\S+) not found in type`)
	cannot       = regexp.MustCompile("cannot unmarshal !!(\\w+) `?(.*?)`? into (\\S+)")
)

// yamlError turns a YAML syntax or type error into a LoadError naming the
// line and, where it can be found, the field.
func (f *file) yamlError(err error) error {
	msg := err.Error()
	var te *yaml.TypeError
	if errors.As(err, &te) && len(te.Errors) > 0 {
		msg = te.Errors[0]
	}
	le := &LoadError{File: f.path}
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		le.Line, _ = strconv.Atoi(m[1])
	}
	switch {
	case unknownField.MatchString(msg):
		name := unknownField.FindStringSubmatch(msg)[1]
		le.Message = fmt.Sprintf("未知字段“%s”", name)
		le.Field = f.pathOfKey(le.Line, name)
	case cannot.MatchString(msg):
		m := cannot.FindStringSubmatch(msg)
		le.Message = typeMessage(m[1], m[2], m[3])
		le.Field = f.pathOfValue(le.Line, m[2])
	default:
		msg = strings.TrimPrefix(msg, "yaml: ")
		msg = yamlLine.ReplaceAllString(msg, "")
		le.Message = "YAML 格式错误：" + msg
	}
	return le
}

// typeMessage says in Chinese what a value should have been.
func typeMessage(tag, value, goType string) string {
	got := "“" + value + "”"
	if value == "" || strings.ContainsAny(value, "\n") {
		got = map[string]string{"map": "一个映射", "seq": "一个列表"}[tag]
		if got == "" {
			got = "“" + value + "”"
		}
	}
	var want string
	switch {
	case strings.HasPrefix(goType, "[]"):
		want = "一个列表"
	case goType == "int":
		want = "整数"
	case goType == "float64":
		want = "数字"
	case goType == "bool":
		want = "true 或 false"
	case goType == "string" || goType == "auth.Role" || strings.HasPrefix(goType, "cases.") && isStringType(goType):
		want = "文字"
	default:
		want = "一个映射（key: value）"
	}
	return fmt.Sprintf("应为%s，实为%s", want, got)
}

func isStringType(goType string) bool {
	switch goType {
	case "cases.Level", "cases.Applicant", "cases.FieldType":
		return true
	}
	return false
}

// pathOfKey returns the path of the mapping key named name on line.
func (f *file) pathOfKey(line int, name string) string {
	var found string
	walk(f.root, nil, func(path []any, key, value *yaml.Node) bool {
		if key != nil && key.Line == line && key.Value == name {
			found = fieldPath(path)
			return true
		}
		return false
	})
	return found
}

// pathOfValue returns the path of the value that starts on line: the
// scalar reading text if there is one, else the first node on the line.
func (f *file) pathOfValue(line int, text string) string {
	var exact, first string
	walk(f.root, nil, func(path []any, key, value *yaml.Node) bool {
		if value.Line != line {
			return false
		}
		if first == "" {
			first = fieldPath(path)
		}
		if value.Kind == yaml.ScalarNode && value.Value == text {
			exact = fieldPath(path)
			return true
		}
		return false
	})
	if exact != "" {
		return exact
	}
	return first
}

// walk visits every node under n depth first with its path; key is nil for
// sequence items. It stops when visit returns true.
func walk(n *yaml.Node, path []any, visit func(path []any, key, value *yaml.Node) bool) bool {
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			p := append(path[:len(path):len(path)], k.Value)
			if visit(p, k, v) || walk(v, p, visit) {
				return true
			}
		}
	case yaml.SequenceNode:
		for i, v := range n.Content {
			p := append(path[:len(path):len(path)], i)
			if visit(p, nil, v) || walk(v, p, visit) {
				return true
			}
		}
	}
	return false
}

// at builds a path: keys (string) and sequence indexes (int).
func at(parts ...any) []any { return parts }

// fieldPath formats a path as chain.transitions[2].to.
func fieldPath(path []any) string {
	var b strings.Builder
	for _, p := range path {
		switch p := p.(type) {
		case int:
			fmt.Fprintf(&b, "[%d]", p)
		case string:
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(p)
		}
	}
	return b.String()
}

// node returns the node at path and, when the path ends with a mapping
// key, the key's node; nil when the file lacks it.
func (f *file) node(path []any) (key, value *yaml.Node) {
	value = f.root
	for _, p := range path {
		if value == nil {
			return nil, nil
		}
		key = nil
		switch p := p.(type) {
		case string:
			var next *yaml.Node
			if value.Kind == yaml.MappingNode {
				for i := 0; i+1 < len(value.Content); i += 2 {
					if value.Content[i].Value == p {
						key, next = value.Content[i], value.Content[i+1]
						break
					}
				}
			}
			value = next
		case int:
			if value.Kind != yaml.SequenceNode || p < 0 || p >= len(value.Content) {
				return nil, nil
			}
			value = value.Content[p]
		}
	}
	return key, value
}

// has reports whether the file spells out the key at path.
func (f *file) has(path ...any) bool { _, v := f.node(path); return v != nil }

// lineOf returns the line of the key (or sequence item) at path, or of its
// nearest ancestor that the file has.
func (f *file) lineOf(path []any) int {
	for i := len(path); i >= 0; i-- {
		if k, v := f.node(path[:i]); k != nil {
			return k.Line
		} else if v != nil {
			return v.Line
		}
	}
	return 0
}

// errAt returns a LoadError at path.
func (f *file) errAt(path []any, format string, args ...any) *LoadError {
	return &LoadError{File: f.path, Line: f.lineOf(path), Field: fieldPath(path), Message: fmt.Sprintf(format, args...)}
}
