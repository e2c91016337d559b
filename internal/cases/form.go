package cases

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"minzheng/internal/errs"
	"minzheng/internal/idcard"
)

// Value is one validated field of a submission.
type Value struct {
	Type FieldType
	// Text is the canonical text: the trimmed text, the ID number (upper-case
	// X), the date as YYYY-MM-DD, the number or amount as written back by
	// strconv, "true"/"false", the choice values or file hashes joined by ",".
	Text   string
	Number float64   // number; money in yuan
	Fen    int64     // money in fen (分)
	Date   time.Time // date, midnight UTC
	Bool   bool
	List   []string  // choice values or file hashes, in the order given
	ID     idcard.ID // id_number
}

// Clean is a validated submission: field name → value, only the fields
// filled in.
type Clean map[string]Value

// Only returns the part of a bundle's submission that a member service's
// form has.
func (c Clean) Only(s *Service) Clean {
	out := Clean{}
	for _, f := range s.form {
		if v, ok := c[f.Name]; ok {
			out[f.Name] = v
		}
	}
	return out
}

// maxText is the longest text a field takes when its definition sets no max.
const maxText = 1000

var shanghai = time.FixedZone("CST", 8*3600)

// Validate checks a submission of the service's form (field name → the text
// the applicant entered; "" counts as not filled in) as of today in
// Shanghai. See ValidateOn.
func (s *Service) Validate(values map[string]string) (Clean, error) {
	return s.ValidateOn(values, time.Now().In(shanghai))
}

// ValidateOn checks a submission as of the given day (for "today" bounds
// and ID numbers' birth dates). On any problem it returns an errs.Error of
// code invalid whose Fields name every wrong field, form fields in form
// order and then unknown ones (a key the form lacks, with a value), each
// with a Chinese message; nothing is returned half-validated.
func (s *Service) ValidateOn(values map[string]string, today time.Time) (Clean, error) {
	var fe errs.Fields
	clean := Clean{}
	for i := range s.form {
		f := &s.form[i]
		raw, given := values[f.Name]
		raw = strings.TrimSpace(raw)
		if f.Staff {
			if raw != "" {
				fe.Add(f.Name, "“%s”由工作人员在办理中填写，申请时不能填写", f.Label)
			}
			continue
		}
		if !given || raw == "" {
			if f.Required {
				if f.Type == File {
					fe.Add(f.Name, "请上传“%s”", f.Label)
				} else {
					fe.Add(f.Name, "请填写“%s”", f.Label)
				}
			}
			continue
		}
		v, msg := f.parse(raw, today)
		if msg != "" {
			fe.Add(f.Name, "%s", msg)
			continue
		}
		clean[f.Name] = v
	}
	var unknown []string
	for k, v := range values {
		if _, ok := s.Field(k); !ok && strings.TrimSpace(v) != "" { // an empty value is no value
			unknown = append(unknown, k)
		}
	}
	slices.Sort(unknown)
	for _, k := range unknown {
		name := k
		if len(name) > 64 || !utf8.ValidString(name) {
			name = strings.ToValidUTF8(truncate(name, 64), "?")
		}
		if name == "" {
			name = "（无名称）"
		}
		fe.Add(name, "表单没有“%s”这一项", name)
	}
	if err := fe.Err(); err != nil {
		return nil, err
	}
	return clean, nil
}

// parse checks one filled-in value; msg is the Chinese message when it is wrong.
func (f *Field) parse(raw string, today time.Time) (v Value, msg string) {
	v.Type = f.Type
	if !utf8.ValidString(raw) {
		return v, fmt.Sprintf("“%s”含有无法识别的字符", f.Label)
	}
	switch f.Type {
	case Text:
		for _, r := range raw {
			if unicode.IsControl(r) && r != '\n' && r != '\t' {
				return v, fmt.Sprintf("“%s”含有控制字符", f.Label)
			}
		}
		n := utf8.RuneCountInString(raw)
		if f.min.set && float64(n) < f.min.num {
			return v, fmt.Sprintf("“%s”至少 %d 个字，实为 %d 个字", f.Label, int(f.min.num), n)
		}
		max := maxText
		if f.max.set {
			max = int(f.max.num)
		}
		if n > max {
			return v, fmt.Sprintf("“%s”最多 %d 个字，实为 %d 个字", f.Label, max, n)
		}
		if f.pattern != nil && !f.pattern.MatchString(raw) {
			if f.Help != "" {
				return v, fmt.Sprintf("“%s”格式不正确：%s", f.Label, f.Help)
			}
			return v, fmt.Sprintf("“%s”格式不正确", f.Label)
		}
		v.Text = raw
	case Number, Money:
		s := foldDigits(raw)
		decimals := -1
		if f.Type == Money {
			decimals = 2
		} else if f.Integer {
			decimals = 0
		}
		x, ok := parseDecimal(s, decimals)
		if !ok {
			switch {
			case f.Type == Money:
				return v, fmt.Sprintf("“%s”应为金额（元），最多两位小数，如 1234.50", f.Label)
			case f.Integer:
				return v, fmt.Sprintf("“%s”应为整数", f.Label)
			}
			return v, fmt.Sprintf("“%s”应为数字", f.Label)
		}
		if f.min.set && x < f.min.num {
			return v, fmt.Sprintf("“%s”不能小于 %s", f.Label, fmtNum(f.min.num))
		}
		if f.max.set && x > f.max.num {
			return v, fmt.Sprintf("“%s”不能大于 %s", f.Label, fmtNum(f.max.num))
		}
		v.Number, v.Text = x, fmtNum(x)
		if f.Type == Money {
			if !f.min.set && x < 0 {
				return v, fmt.Sprintf("“%s”不能为负数", f.Label)
			}
			if math.Abs(x) > 1e13 { // beyond any amount, and beyond what int64 fen holds exactly
				return v, fmt.Sprintf("“%s”金额过大", f.Label)
			}
			v.Fen = int64(math.Round(x * 100))
			v.Text = strconv.FormatFloat(float64(v.Fen)/100, 'f', 2, 64)
		}
	case Date:
		d, err := time.Parse(time.DateOnly, foldDigits(raw))
		if err != nil {
			return v, fmt.Sprintf("“%s”应为日期，格式 YYYY-MM-DD，如 2025-01-26", f.Label)
		}
		y, m, dd := today.Date()
		t0 := time.Date(y, m, dd, 0, 0, 0, 0, time.UTC)
		if lo := f.min.date; f.min.set && (f.min.today && d.Before(t0) || !f.min.today && d.Before(lo)) {
			return v, fmt.Sprintf("“%s”不能早于%s", f.Label, boundText(f.min))
		}
		if hi := f.max.date; f.max.set && (f.max.today && d.After(t0) || !f.max.today && d.After(hi)) {
			return v, fmt.Sprintf("“%s”不能晚于%s", f.Label, boundText(f.max))
		}
		v.Date, v.Text = d, d.Format(time.DateOnly)
	case IDNumber:
		id, err := idcard.Parse(raw, today)
		if err != nil {
			var ie *idcard.Error
			if errors.As(err, &ie) {
				return v, fmt.Sprintf("“%s”：%s", f.Label, ie.Message)
			}
			return v, fmt.Sprintf("“%s”不是有效的身份证号码", f.Label)
		}
		v.ID, v.Text = id, id.Number
	case Bool:
		switch strings.ToLower(raw) {
		case "true", "1", "yes", "on", "是":
			v.Bool = true
		case "false", "0", "no", "off", "否":
		default:
			return v, fmt.Sprintf("“%s”应为“是”或“否”", f.Label)
		}
		if f.Required && !v.Bool {
			return v, fmt.Sprintf("请确认“%s”", f.Label)
		}
		v.Text = strconv.FormatBool(v.Bool)
	case Choice, File:
		parts := strings.FieldsFunc(raw, func(r rune) bool { return r == ',' || r == '，' || r == '、' })
		if len(parts) > 1 && !f.Multiple {
			return v, fmt.Sprintf("“%s”只能选一项", f.Label)
		}
		for _, p := range parts {
			p = strings.TrimSpace(p)
			if p == "" {
				continue
			}
			var val string
			if f.Type == Choice {
				i := slices.IndexFunc(f.Options, func(o Option) bool { return o.Value == p || o.Label == p })
				if i < 0 {
					return v, fmt.Sprintf("“%s”没有“%s”这一选项，可选：%s", f.Label, truncate(p, 20), optionLabels(f.Options))
				}
				val = f.Options[i].Value
			} else {
				if !isSHA256(p) {
					return v, fmt.Sprintf("“%s”应为已上传文件的 SHA-256 编号（64 位十六进制）", f.Label)
				}
				val = strings.ToLower(p)
			}
			if !slices.Contains(v.List, val) {
				v.List = append(v.List, val)
			}
		}
		if len(v.List) == 0 {
			return v, fmt.Sprintf("请填写“%s”", f.Label)
		}
		v.Text = strings.Join(v.List, ",")
	}
	return v, ""
}

// parseDecimal parses an optional minus sign, digits and at most decimals
// digits after a point (any number when decimals < 0). It refuses
// exponents, hexadecimal, Inf and NaN, which strconv would take.
func parseDecimal(s string, decimals int) (float64, bool) {
	body := strings.TrimPrefix(s, "-")
	intPart, frac, hasPoint := strings.Cut(body, ".")
	if intPart == "" || len(body) > 40 || !allDigits(intPart) || hasPoint && (frac == "" || !allDigits(frac)) {
		return 0, false
	}
	if decimals >= 0 && len(frac) > decimals {
		return 0, false
	}
	x, err := strconv.ParseFloat(s, 64)
	return x, err == nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// foldDigits turns full-width digits, point and minus (as typed with a
// Chinese input method) into ASCII.
func foldDigits(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= '０' && r <= '９':
			return '0' + (r - '０')
		case r == '．':
			return '.'
		case r == '－':
			return '-'
		}
		return r
	}, s)
}

func fmtNum(x float64) string { return strconv.FormatFloat(x, 'f', -1, 64) }

func boundText(b bound) string {
	if b.today {
		return "今天"
	}
	return " " + b.date.Format(time.DateOnly)
}

func optionLabels(os []Option) string {
	labels := make([]string, len(os))
	for i, o := range os {
		labels[i] = o.Label
	}
	return strings.Join(labels, "、")
}

func isSHA256(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9') && !(c >= 'a' && c <= 'f') && !(c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

// truncate cuts s to at most n bytes without splitting a character.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
