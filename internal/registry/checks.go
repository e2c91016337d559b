package registry

import (
	"context"
	"errors"
	"math"
	"strconv"
	"unicode/utf8"

	"minzheng/internal/auth"
	"minzheng/internal/db"
	"minzheng/internal/division"
	"minzheng/internal/errs"
)

// checkIncome adds the income error to fe when v is out of bounds.
func checkIncome(fe *errs.Fields, v int64) {
	if v < 0 || v > MaxMonthlyIncome {
		fe.Add("monthly_income", "%s", msgIncome)
	}
}

// parseIncome reads a monthly income in yuan as a file or a form gives it
// (decimals are rounded to whole yuan). It reports a message when v is not
// a number or is out of bounds — overlong numbers included, which do not
// fit a float64 or an int64.
func parseIncome(v string) (int64, string) {
	f, err := strconv.ParseFloat(v, 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return 0, "月收入“" + v + "”不是数字"
	}
	if err != nil || math.IsNaN(f) || f < 0 || f+0.5 >= MaxMonthlyIncome+1 {
		return 0, msgIncome
	}
	return int64(f + 0.5), ""
}

// checkText adds an error to fe for each field whose value is not valid
// UTF-8: a page's form values and a file's cells arrive as bytes, and
// storing them would give U+FFFD (or, on PostgreSQL, a failed write).
// JSON bodies are checked before decoding (httpx.DecodeJSON), which would
// replace the bytes silently.
func checkText(fe *errs.Fields, fields ...[2]string) {
	for _, f := range fields {
		if !utf8.ValidString(f[1]) {
			fe.Add(f[0], "%s含有无效字符（不是有效的 UTF-8 文本），请检查输入或文件编码", fieldLabel(f[0]))
		}
	}
}

// fieldLabel names a field of a person in Chinese.
func fieldLabel(field string) string {
	if l := columnLabel(field); l != field {
		return l
	}
	switch field {
	case "household_no":
		return "户号"
	}
	return field
}

// alreadyRegistered returns the error for registering the ID number with
// the keyed hash hash (masked as masked) when it is registered, nil when
// it is not. Inside p's jurisdiction the clerk is told it is registered;
// outside, only that it cannot be registered here and whom to ask, so
// that the answer reveals neither the masked number nor where the person
// is (see refusedHere).
func (s *Service) alreadyRegistered(ctx context.Context, q db.Queryer, p auth.Principal, hash []byte, masked string) error {
	hukou, residence, ok, err := registeredAt(ctx, q, hash)
	if err != nil || !ok {
		return err
	}
	if p.Scope().Covers(hukou, residence) {
		return errs.Field("id_number", "身份证号码 %s 已登记", masked)
	}
	return errs.Field("id_number", "%s", s.refusedHere(p))
}

// refusedHere is the message for an ID number that cannot be registered
// in p's jurisdiction because it is registered elsewhere. It names the
// office that can look further: the civil-affairs bureau of p's own
// district for street and committee accounts, the city's bureau for
// district accounts. Both are the caller's own superiors, so the message
// is the same wherever the person is registered and names no district
// but the caller's.
func (s *Service) refusedHere(p auth.Principal) string {
	ask := "市民政局"
	for _, r := range s.tree.Path(p.Division) {
		if d, ok := s.tree.Get(r.Code); ok && d.Level == division.District && r.Code != p.Division {
			ask = r.Name + "民政局"
		}
	}
	return "该身份证号码不能在本辖区登记，请联系" + ask + "核实"
}
