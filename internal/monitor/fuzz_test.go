package monitor_test

import (
	"bytes"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"minzheng/internal/monitor"
	"minzheng/internal/tabular"
)

// FuzzParse feeds arbitrary files to every feed parser: reading and
// parsing must never panic, every problem names a row of the file and says
// what is wrong in Chinese, and every record that passes has what its type
// needs.
func FuzzParse(f *testing.F) {
	seeds := []string{
		"id_number,death_date\n310104194005010015,2025-07-20\n",
		"身份证号,死亡日期\n310104194005010015,2025/7/20\n310104194005010015,2025/7/20\n",
		"身份证号,结算日期,自付金额\n310104194005010015,2025-07-10,1500.5\n",
		"水表编号,读数时间,用水量\nWM-1,2025-07-20 13:00,12\nWM-1,2025-07-20T14:00,0\n",
		"设备编号,呼叫时间,呼叫类型\nYJT-9,2025-08-01 16:40,跌倒求助\n",
		"id_number,category,grade,issued_on,valid_until\n310104194005010015,肢体,2,2020-01-01,2019-01-01\n",
		"id_number,utility,amount,months,as_of\nx,电,NaN,1e9,2025-13-01\n",
		"\"unterminated\n",
		"id_number\n\xff\xfe\n",
	}
	for _, s := range seeds {
		f.Add([]byte(s), uint8(0))
	}
	today := time.Date(2025, 8, 1, 9, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, data []byte, which uint8) {
		typ := monitor.FeedTypes[int(which)%len(monitor.FeedTypes)]
		tab, err := tabular.Read(bytes.NewReader(data), "feed.csv", 1<<20)
		if err != nil {
			return
		}
		lines := map[int]bool{}
		for _, r := range tab.Rows {
			lines[r.Line] = true
		}
		recs, probs, err := monitor.Parse(typ, tab, today)
		if err != nil {
			if !strings.ContainsFunc(err.Error(), func(r rune) bool { return r > 0x2e80 }) {
				t.Errorf("error not in Chinese: %v", err)
			}
			return
		}
		bad := map[int]bool{}
		for _, p := range probs {
			if !lines[p.Line] {
				t.Errorf("problem on line %d, which is no data row", p.Line)
			}
			if p.Message == "" || !utf8.ValidString(p.Message) || p.Kind != "rejected" {
				t.Errorf("problem %+v", p)
			}
			bad[p.Line] = true
		}
		if len(recs)+len(bad) != len(tab.Rows) {
			t.Errorf("%d records + %d bad rows != %d rows", len(recs), len(bad), len(tab.Rows))
		}
		for _, r := range recs {
			if bad[r.Line] || r.Key == "" {
				t.Errorf("record %+v", r)
			}
			if typ.ByDevice() && r.Hour.IsZero() {
				t.Errorf("device record without a time: %+v", r)
			}
			if !typ.ByDevice() && (len(r.Key) != 18 || len(r.ValidFrom) != 10 || r.ValidFrom > "2025-08-01" && typ == monitor.Death) {
				t.Errorf("record %+v", r)
			}
		}
	})
}

// FuzzTableOf checks that any JSON batch rows make a table whose rows
// carry their position.
func FuzzTableOf(f *testing.F) {
	f.Add("id_number", "310104194005010015", "death_date", "2025-07-20")
	f.Fuzz(func(t *testing.T, k1, v1, k2, v2 string) {
		tab, err := monitor.TableOf([]map[string]any{{k1: v1, k2: v2}, {k1: 1.5}})
		if err != nil {
			t.Fatal(err)
		}
		if len(tab.Rows) != 2 || tab.Rows[0].Line != 1 || tab.Rows[1].Line != 2 {
			t.Errorf("rows %+v", tab.Rows)
		}
	})
}

// FuzzMoment checks the fast path for "2006-01-02 15:04" against
// time.Parse: both accept the same strings and agree on the time.
func FuzzMoment(f *testing.F) {
	for _, s := range []string{"2025-07-20 13:00", "2025-07-20T13:05:09", "2025-02-30 10:00", "2025-13-01 00:00", "1999-01-01 00:00", "2025-07-20 24:00"} {
		f.Add(s)
	}
	cst := time.FixedZone("CST", 8*3600)
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := monitor.FastMoment(s)
		if !ok {
			return
		}
		layout := "2006-01-02 15:04"
		if len(s) == 19 {
			layout = "2006-01-02 15:04:05"
		}
		want, err := time.ParseInLocation(layout, strings.Replace(s, "T", " ", 1), cst)
		if err != nil || !want.Equal(got) {
			t.Errorf("%q: fast %v, time.Parse %v %v", s, got, want, err)
		}
	})
}
