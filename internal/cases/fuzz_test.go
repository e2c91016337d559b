package cases

import (
	"errors"
	"sort"
	"strings"
	"testing"
	"unicode/utf8"

	"minzheng/internal/errs"
)

// FuzzValidate feeds submissions to every form of the catalogue (and the
// all-types form): Validate must never panic, must refuse with an errs
// invalid naming fields, and what it accepts must validate again, unchanged,
// from its canonical text.
//
// A submission is written as lines "key=value".
func FuzzValidate(f *testing.F) {
	cat, err := Embedded()
	if err != nil {
		f.Fatal(err)
	}
	services := append(cat.All(), formService(f))
	f.Add(uint8(0), encode(goodSubmission()))
	f.Add(uint8(len(services)-1), encode(goodSubmission()))
	for i, s := range services {
		sub := map[string]string{}
		for _, fl := range s.Fields() {
			switch fl.Type {
			case IDNumber:
				sub[fl.Name] = validID()
			case Money, Number:
				sub[fl.Name] = "1"
			case Date:
				sub[fl.Name] = "2025-06-16"
			case Bool:
				sub[fl.Name] = "true"
			case Choice:
				sub[fl.Name] = fl.Options[0].Label
			case File:
				sub[fl.Name] = strings.Repeat("0", 64)
			default:
				sub[fl.Name] = "文字"
			}
		}
		f.Add(uint8(i), encode(sub))
	}
	f.Add(uint8(3), "applicant_id=11010519491231002X\nphone=13800000000\nx=\xff")
	f.Fuzz(func(t *testing.T, which uint8, data string) {
		s := services[int(which)%len(services)]
		values := decode(data)
		clean, err := s.ValidateOn(values, today)
		if err != nil {
			e := errs.As(err)
			if e == nil || e.Code != errs.Invalid || len(e.Fields) == 0 || clean != nil {
				t.Fatalf("refusal %v is not an errs invalid with fields", err)
			}
			for _, fe := range e.Fields {
				if fe.Field == "" || fe.Message == "" || !utf8.ValidString(fe.Message) || !utf8.ValidString(fe.Field) {
					t.Fatalf("field error %+v", fe)
				}
			}
			return
		}
		again := map[string]string{}
		for k, v := range clean {
			again[k] = v.Text
		}
		clean2, err := s.ValidateOn(again, today)
		if err != nil {
			t.Fatalf("canonical values %v refused: %v", again, err)
		}
		for k, v := range clean {
			if clean2[k].Text != v.Text || clean2[k].Fen != v.Fen {
				t.Fatalf("%s: %q became %q", k, v.Text, clean2[k].Text)
			}
		}
	})
}

func encode(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		b.WriteString(k + "=" + m[k] + "\n")
	}
	return b.String()
}

func decode(data string) map[string]string {
	m := map[string]string{}
	for _, line := range strings.Split(data, "\n") {
		k, v, _ := strings.Cut(line, "=")
		m[k] = v
	}
	return m
}

// FuzzLoad replaces one definition file of the catalogue with arbitrary
// bytes: loading must never panic, and a refusal must be a *LoadError that
// names a file. What loads must validate an empty submission without
// panicking.
func FuzzLoad(f *testing.F) {
	src := embeddedSources(f)
	names := make([]string, 0, len(src))
	for n := range src {
		names = append(names, n)
	}
	sort.Strings(names)
	for i, n := range names {
		f.Add(uint8(i), src[n])
	}
	f.Add(uint8(0), []byte(minimal))
	f.Add(uint8(1), []byte(allTypes))
	f.Add(uint8(2), []byte("code: [\n"))
	f.Add(uint8(3), []byte("a: &a [*a, *a]\nb: *a\n"))
	f.Fuzz(func(t *testing.T, which uint8, data []byte) {
		files := make(map[string][]byte, len(src))
		for k, v := range src {
			files[k] = v
		}
		files[names[int(which)%len(names)]] = data
		cat, err := Load(files)
		if err != nil {
			var le *LoadError
			if !errors.As(err, &le) || le.File == "" || le.Message == "" {
				t.Fatalf("refusal %v is not a *LoadError naming a file", err)
			}
			if strings.Contains(le.Message, "无法读取定义文件") {
				t.Fatalf("a check panicked: %v", err)
			}
			return
		}
		for _, s := range cat.All() {
			_, _ = s.ValidateOn(map[string]string{}, today)
			if ch := s.Flow(); ch != nil {
				_ = ch.ShortestDays()
				_ = s.Initial()
			}
		}
	})
}
