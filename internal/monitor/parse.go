package monitor

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"minzheng/internal/errs"
	"minzheng/internal/idcard"
	"minzheng/internal/tabular"
)

// maxRows caps a batch: a larger delivery is split by the sender.
const maxRows = 5_000_000

// sortProblems orders problems by row.
func sortProblems(ps []RowProblem) {
	sort.SliceStable(ps, func(i, j int) bool { return ps[i].Line < ps[j].Line })
}

// Parse reads the rows of a feed from a table (a file, or a JSON batch made
// into one by TableOf). It returns the good records and a problem for every
// bad row: a missing value, a date or number that cannot be read, an ID
// number that fails its checksum, a row that repeats an earlier one. A table
// without the feed's required columns is an error naming them.
func Parse(t FeedType, tab *tabular.Table, now time.Time) ([]Record, []RowProblem, error) {
	spec := t.Columns()
	if spec == nil {
		return nil, nil, errs.Field("type", "未知的数据类型“%s”", t)
	}
	cols, err := tab.Columns(spec)
	if err != nil {
		return nil, nil, errs.E(errs.Invalid, "%s", tableMessage(err))
	}
	if len(tab.Rows) > maxRows {
		return nil, nil, errs.E(errs.Invalid, "一批最多 %d 行，本批 %d 行，请拆分后再发送", maxRows, len(tab.Rows))
	}
	recs := make([]Record, 0, len(tab.Rows))
	var probs []RowProblem
	// Device feeds (720,000 rows a day for the meters) key duplicates by
	// device and time without building a string per row.
	type devKey struct {
		id   string
		unix int64
	}
	var seen map[string]int
	var seenDev map[devKey]int
	if t.ByDevice() {
		seenDev = make(map[devKey]int, len(tab.Rows))
	} else {
		seen = make(map[string]int, len(tab.Rows))
	}
	today := now.In(shanghai).Format(time.DateOnly) // the feeds' dates are Shanghai dates
	p := rowParser{t: t, cols: cols, today: today, now: now}
	for _, row := range tab.Rows {
		p.row, p.probs = row, p.probs[:0]
		r := p.parse()
		if len(p.probs) > 0 {
			probs = append(probs, p.probs...)
			continue
		}
		var first int
		var dup bool
		if seenDev != nil {
			k := devKey{r.Key, r.Hour.Unix()}
			if first, dup = seenDev[k]; !dup {
				seenDev[k] = row.Line
			}
		} else {
			k := r.naturalKey(t)
			if first, dup = seen[k]; !dup {
				seen[k] = row.Line
			}
		}
		if dup {
			probs = append(probs, RowProblem{Line: row.Line, Kind: "rejected", Message: fmt.Sprintf("与第 %d 行重复", first)})
			continue
		}
		recs = append(recs, r)
	}
	return recs, probs, nil
}

type rowParser struct {
	t     FeedType
	row   tabular.Row
	cols  map[string]int
	today string
	now   time.Time
	probs []RowProblem
}

func (p *rowParser) fail(field, format string, args ...any) {
	p.probs = append(p.probs, RowProblem{Line: p.row.Line, Field: field, Column: p.t.columnLabel(field), Kind: "rejected", Message: fmt.Sprintf(format, args...)})
}

func (p *rowParser) get(key string) string { return strings.TrimSpace(p.row.Get(p.cols[key])) }

// required returns the value, or records that it is missing.
func (p *rowParser) required(key string) (string, bool) {
	v := p.get(key)
	if v == "" {
		p.fail(key, "%s不能为空", p.t.columnLabel(key))
		return "", false
	}
	return v, true
}

func (p *rowParser) date(key string, required bool) string {
	v := p.get(key)
	if v == "" {
		if required {
			p.fail(key, "%s不能为空", p.t.columnLabel(key))
		}
		return ""
	}
	d, ok := tabular.ParseDate(v)
	if !ok {
		p.fail(key, "%s“%s”不是有效日期（应为 YYYY-MM-DD）", p.t.columnLabel(key), v)
		return ""
	}
	s := d.Format(time.DateOnly)
	if d.Year() < 1900 {
		p.fail(key, "%s %s 早于 1900 年", p.t.columnLabel(key), s)
		return ""
	}
	return s
}

func (p *rowParser) number(key string, lo, hi float64) float64 {
	v, ok := p.required(key)
	if !ok {
		return 0
	}
	f, err := strconv.ParseFloat(strings.ReplaceAll(v, ",", ""), 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		p.fail(key, "%s“%s”不是数字", p.t.columnLabel(key), v)
		return 0
	}
	if f < lo || f > hi {
		p.fail(key, "%s %s 超出范围（%g–%g）", p.t.columnLabel(key), v, lo, hi)
		return 0
	}
	return f
}

// moment reads a date with a time of day: 2025-01-02 13:00, 2025-01-02T13:00:00, 2025/1/2 13:05.
func (p *rowParser) moment(key string) time.Time {
	v, ok := p.required(key)
	if !ok {
		return time.Time{}
	}
	if t, ok := fastMoment(v); ok {
		return t
	}
	s := strings.Replace(strings.ReplaceAll(v, "/", "-"), " ", "T", 1)
	for _, layout := range []string{"2006-1-2T15:04:05", "2006-1-2T15:04", "2006-1-2T15", "2006-1-2T15:04:05Z07:00"} {
		if t, err := time.ParseInLocation(layout, s, shanghai); err == nil && t.Year() >= 2000 {
			return t
		}
	}
	p.fail(key, "%s“%s”不是有效时间（应为 YYYY-MM-DD HH:MM）", p.t.columnLabel(key), v)
	return time.Time{}
}

// fastMoment reads the common form "2006-01-02 15:04" (or with "T", or
// with ":05" seconds) without time.Parse, which dominates reading hourly
// meter feeds; anything else is left to the general path.
func fastMoment(v string) (time.Time, bool) {
	if len(v) != 16 && len(v) != 19 {
		return time.Time{}, false
	}
	if v[4] != '-' || v[7] != '-' || (v[10] != ' ' && v[10] != 'T') || v[13] != ':' || (len(v) == 19 && v[16] != ':') {
		return time.Time{}, false
	}
	num := func(s string) (int, bool) {
		n := 0
		for i := 0; i < len(s); i++ {
			if s[i] < '0' || s[i] > '9' {
				return 0, false
			}
			n = n*10 + int(s[i]-'0')
		}
		return n, true
	}
	y, ok1 := num(v[0:4])
	mo, ok2 := num(v[5:7])
	d, ok3 := num(v[8:10])
	h, ok4 := num(v[11:13])
	mi, ok5 := num(v[14:16])
	sec, ok6 := 0, true
	if len(v) == 19 {
		sec, ok6 = num(v[17:19])
	}
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) || y < 2000 || mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || sec > 59 {
		return time.Time{}, false
	}
	t := time.Date(y, time.Month(mo), d, h, mi, sec, 0, shanghai)
	if t.Day() != d {
		return time.Time{}, false // 2025-02-30
	}
	return t, true
}

// shanghai is the time zone feeds' local times are in.
var shanghai = time.FixedZone("CST", 8*3600)

func (p *rowParser) idNumber() string {
	v, ok := p.required("id_number")
	if !ok {
		return ""
	}
	id, err := idcard.Parse(v, p.now)
	if err != nil {
		msg := err.Error()
		var ie *idcard.Error
		if errors.As(err, &ie) {
			msg = ie.Message
		}
		p.fail("id_number", "身份证号码：%s", msg)
		return ""
	}
	return id.Number
}

func (p *rowParser) parse() Record {
	r := Record{Line: p.row.Line}
	switch p.t {
	case Water:
		r.Key, _ = p.required("meter_id")
		r.Hour = p.moment("hour").Truncate(time.Hour)
		r.Amount = p.number("volume", 0, 1e6)
		r.ValidFrom = r.Hour.Format(time.DateOnly)
		return r
	case Call:
		r.Key, _ = p.required("device_id")
		r.Hour = p.moment("called_at")
		r.Detail = p.get("call_type")
		r.ValidFrom = r.Hour.Format(time.DateOnly)
		return r
	}
	r.Key = p.idNumber()
	switch p.t {
	case Death:
		r.ValidFrom = p.date("death_date", true)
		if r.ValidFrom > p.today {
			p.fail("death_date", "死亡日期 %s 晚于今天", r.ValidFrom)
		}
	case Medical:
		r.ValidFrom = p.date("bill_date", true)
		r.Amount = p.number("amount", 0, 1e8)
		r.Detail = p.get("bill_no")
	case Unemployment:
		r.ValidFrom = p.date("registered_on", true)
		r.ValidTo = p.date("ended_on", false)
	case Disability:
		r.Detail, _ = p.required("category")
		if r.Detail != "" {
			if c, ok := disabilityCategory(r.Detail); ok {
				r.Detail = c
			} else {
				p.fail("category", "残疾类别“%s”无法识别", r.Detail)
			}
		}
		r.Grade = int(p.number("grade", 1, 4))
		r.ValidFrom = p.date("issued_on", true)
		r.ValidTo = p.date("valid_until", false)
	case Arrears:
		r.Detail, _ = p.required("utility")
		r.Amount = p.number("amount", 0, 1e7)
		r.Months = int(p.number("months", 0, 600))
		r.ValidFrom = p.date("as_of", true)
	}
	if r.ValidTo != "" && r.ValidFrom != "" && r.ValidTo < r.ValidFrom {
		p.fail("valid_until", "截止日期 %s 早于开始日期 %s", r.ValidTo, r.ValidFrom)
	}
	return r
}

var disabilityNames = map[string]string{
	"visual": "视力残疾", "hearing": "听力残疾", "speech": "言语残疾", "physical": "肢体残疾",
	"intellectual": "智力残疾", "mental": "精神残疾", "multiple": "多重残疾",
}

func disabilityCategory(s string) (string, bool) {
	for k, v := range disabilityNames {
		if s == k || s == v || s+"残疾" == v {
			return k, true
		}
	}
	return "", false
}

// TableOf turns the rows of a JSON batch into a table whose header is the
// union of the rows' keys; row N of the batch is line N.
func TableOf(rows []map[string]any) (*tabular.Table, error) {
	keys := map[string]int{}
	for _, r := range rows {
		for k := range r {
			if _, ok := keys[k]; !ok {
				keys[k] = 0
			}
		}
	}
	header := make([]string, 0, len(keys))
	for k := range keys {
		header = append(header, k)
	}
	sort.Strings(header)
	for i, k := range header {
		keys[k] = i
	}
	t := &tabular.Table{Header: header, HeaderLine: 0, Rows: make([]tabular.Row, len(rows))}
	for i, r := range rows {
		cells := make([]string, len(header))
		for k, v := range r {
			switch v := v.(type) {
			case nil:
			case string:
				cells[keys[k]] = strings.TrimSpace(v)
			case float64:
				cells[keys[k]] = strconv.FormatFloat(v, 'f', -1, 64)
			case json.Number:
				cells[keys[k]] = v.String()
			case int:
				cells[keys[k]] = strconv.Itoa(v)
			case int64:
				cells[keys[k]] = strconv.FormatInt(v, 10)
			case bool:
				cells[keys[k]] = strconv.FormatBool(v)
			default:
				return nil, errs.Field(fmt.Sprintf("rows[%d].%s", i, k), "第 %d 行的“%s”应为文字或数字", i+1, k)
			}
		}
		t.Rows[i] = tabular.Row{Line: i + 1, Cells: cells}
	}
	return t, nil
}

func tableMessage(err error) string {
	var te *tabular.Error
	if errors.As(err, &te) {
		return te.Error()
	}
	if e := errs.As(err); e != nil {
		return e.Message
	}
	return err.Error()
}
