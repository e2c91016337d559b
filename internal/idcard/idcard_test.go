package idcard

import (
	"errors"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// shanghai is China Standard Time without needing the tz database.
var shanghai = time.FixedZone("CST", 8*3600)

// today is the reference "today" of these tests.
var today = time.Date(2026, time.November, 28, 10, 0, 0, 0, shanghai)

func date(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

// withCheck returns body (17 digits) plus its correct check character.
func withCheck(body string) string { return body + string(CheckChar(body)) }

// withWrongCheck returns body plus a check character that is wrong.
func withWrongCheck(body string) string {
	c := CheckChar(body)
	if c == '5' {
		return body + "6"
	}
	return body + "5"
}

func TestParseValid(t *testing.T) {
	tests := []struct {
		name   string
		input  string
		region string
		birth  time.Time
		seq    int
	}{
		{"current district", Build("310104", date(1990, 3, 7), 121), "310104", date(1990, 3, 7), 121},
		{"upper-case X", "31010419900307123X", "310104", date(1990, 3, 7), 123},
		{"lower-case x", "31010419900307123x", "310104", date(1990, 3, 7), 123},
		{"surrounding spaces and tab", " \t31010419900307123X \n", "310104", date(1990, 3, 7), 123},
		{"full-width digits", "３１０１０４１９９００３０７１２３ｘ", "310104", date(1990, 3, 7), 123},
		{"ideographic space", "\u300031010419900307123X\u3000", "310104", date(1990, 3, 7), 123},
		{"卢湾区, merged 2011", Build("310103", date(1962, 10, 1), 42), "310103", date(1962, 10, 1), 42},
		{"闸北区, merged 2015", Build("310108", date(1985, 6, 15), 7), "310108", date(1985, 6, 15), 7},
		{"崇明县, a district since 2016", Build("310230", date(1970, 1, 1), 11), "310230", date(1970, 1, 1), 11},
		{"南汇县", Build("310225", date(1951, 5, 20), 300), "310225", date(1951, 5, 20), 300},
		{"南汇区, merged 2009", Build("310119", date(2002, 8, 8), 999), "310119", date(2002, 8, 8), 999},
		{"上海县, 1980s", Build("310221", date(1935, 12, 31), 1), "310221", date(1935, 12, 31), 1},
		{"prefecture without counties", Build("441900", date(1999, 9, 9), 2), "441900", date(1999, 9, 9), 2},
		{"Hong Kong residence permit", Build("810000", date(1988, 4, 1), 5), "810000", date(1988, 4, 1), 5},
		{"born 29 Feb", Build("310115", date(2000, 2, 29), 10), "310115", date(2000, 2, 29), 10},
		{"born 1900-01-01", Build("310101", date(1900, 1, 1), 0), "310101", date(1900, 1, 1), 0},
		{"born today", Build("310151", date(2026, 11, 28), 20), "310151", date(2026, 11, 28), 20},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, err := Parse(tt.input, today)
			if err != nil {
				t.Fatalf("Parse(%q) error: %v", tt.input, err)
			}
			if id.Region != tt.region || !id.Birth.Equal(tt.birth) || id.Seq != tt.seq || id.Male != (tt.seq%2 == 1) {
				t.Errorf("Parse(%q) = %+v, want region %s birth %s seq %d", tt.input, id, tt.region, tt.birth, tt.seq)
			}
			if id.Birth.Location() != time.UTC {
				t.Errorf("Birth location = %v, want UTC", id.Birth.Location())
			}
			if want := Build(tt.region, tt.birth, tt.seq); id.Number != want {
				t.Errorf("Number = %q, want %q", id.Number, want)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name  string
		input string
		code  string
		msg   string // a part of the message
	}{
		{"empty", "", CodeLength, "请填写身份证号码"},
		{"blank", "   ", CodeLength, "请填写身份证号码"},
		{"17 digits", "31010419900307123", CodeLength, "应为 18 位，实为 17 位"},
		{"19 digits", "310104199003071234X", CodeLength, "实为 19 位"},
		{"old 15-digit number", "310104900307123", CodeLength, "15 位号码"},
		{"Chinese characters count as one each", "上海310104199003071", CodeLength, "实为 17 位"},
		{"letter in body", "3101041990O307123X", CodeChars, "第 11 位“O”，应为数字"},
		{"inner space", "310104 9900307123X", CodeChars, "第 7 位是空格"},
		{"control character", "310104\x0099003071234", CodeChars, "不可见字符 U+0000"},
		{"bad check character", "31010419900307123A", CodeChars, "第 18 位“A”，应为数字或 X"},
		{"X not last", "3101041990030712X3", CodeChars, "第 17 位“X”"},
		{"non-ASCII in 18 bytes", "3101041990030712é", CodeLength, "实为 17 位"},
		{"Chinese character, 18 runes", "31010419900307123号", CodeChars, "第 18 位“号”"},
		{"wrong checksum", "310104199003071235", CodeChecksum, "身份证号码校验位错误：应为 X，实为 5"},
		{"wrong checksum, X given", "31010419900307121X", CodeChecksum, "实为 X"},
		{"30 February", withCheck("31010419900230123"), CodeBirthDate, "出生日期 19900230 不是有效日期"},
		{"29 Feb in a common year", withCheck("31010419000229123"), CodeBirthDate, "19000229"},
		{"month 13", withCheck("31010419901301123"), CodeBirthDate, "19901301"},
		{"day 00", withCheck("31010419900100123"), CodeBirthDate, "19900100"},
		{"year 0000", withCheck("31010400000101123"), CodeEarlyBirth, "0年1月1日"},
		{"before 1900", withCheck("31010418991231123"), CodeEarlyBirth, "1899年12月31日 早于 1900 年 1 月 1 日"},
		{"tomorrow", withCheck("31010420261129123"), CodeFutureBirth, "2026年11月29日 晚于今天"},
		{"far future", withCheck("31010499991231123"), CodeFutureBirth, "晚于今天"},
		{"unknown region", withCheck("99999919900307123"), CodeRegion, "地址码 999999 不是已知的行政区划代码"},
		{"province-level code", withCheck("31000019900307123"), CodeRegion, "310000"},
		{"placeholder 市辖区 of a municipality", withCheck("31010019900307123"), CodeRegion, "310100"},
		{"NBS-only economic zone", withCheck("13017119900307123"), CodeRegion, "130171"},
		{"checksum reported before date", withWrongCheck("31010419900230123"), CodeChecksum, "校验位错误"},
		{"date reported before region", withCheck("99999919900230123"), CodeBirthDate, "19900230"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, err := Parse(tt.input, today)
			if err == nil {
				t.Fatalf("Parse(%q) = %+v, want error %s", tt.input, id, tt.code)
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("Parse(%q) error %T %v, want *Error", tt.input, err, err)
			}
			if e.Code != tt.code {
				t.Errorf("Code = %q, want %q (message %s)", e.Code, tt.code, e.Message)
			}
			if !strings.Contains(e.Message, tt.msg) {
				t.Errorf("Message = %q, want it to contain %q", e.Message, tt.msg)
			}
			if !strings.HasPrefix(err.Error(), "idcard: "+tt.code+": ") {
				t.Errorf("Error() = %q", err.Error())
			}
			if id != (ID{}) {
				t.Errorf("Parse returned %+v with an error, want zero ID", id)
			}
		})
	}
}

func TestParseTodayIsACalendarDate(t *testing.T) {
	n := Build("310104", date(2026, 11, 28), 1)
	// 2026-11-28 00:30 in Shanghai is still 2026-11-27 in UTC; the local
	// calendar date counts, so a baby born on the 28th is not in the future.
	early := time.Date(2026, 11, 28, 0, 30, 0, 0, shanghai)
	if _, err := Parse(n, early); err != nil {
		t.Errorf("Parse at %v: %v", early, err)
	}
	if _, err := Parse(n, early.UTC()); err == nil {
		t.Errorf("Parse at %v: want future_birth", early.UTC())
	}
}

func TestRegionName(t *testing.T) {
	tests := []struct {
		code, name string
		ok         bool
	}{
		{"310101", "上海市黄浦区", true},
		{"310103", "上海市卢湾区", true},
		{"310108", "上海市闸北区", true},
		{"310119", "上海市南汇区", true},
		{"310225", "上海市南汇县", true},
		{"310230", "上海市崇明县", true},
		{"310151", "上海市崇明区", true},
		{"110105", "北京市朝阳区", true},
		{"220104", "吉林省长春市朝阳区", true},
		{"429004", "湖北省仙桃市", true},
		{"320101", "江苏省南京市市辖区", true},
		{"441900", "广东省东莞市", true},
		{"830000", "台湾地区", true},
		{"310000", "", false},
		{"310100", "", false},
		{"999999", "", false},
		{"31010", "", false},
		{"", "", false},
	}
	for _, tt := range tests {
		name, ok := RegionName(tt.code)
		if name != tt.name || ok != tt.ok {
			t.Errorf("RegionName(%q) = %q, %v; want %q, %v", tt.code, name, ok, tt.name, tt.ok)
		}
	}
}

func TestRegionsFile(t *testing.T) {
	lines := strings.Split(strings.TrimSuffix(regionsCSV, "\n"), "\n")
	if lines[0] != "code,name" {
		t.Fatalf("header = %q", lines[0])
	}
	prev := ""
	for _, line := range lines[1:] {
		code, name, ok := strings.Cut(line, ",")
		if !ok || len(code) != 6 || strings.Trim(code, "0123456789") != "" || name == "" || strings.ContainsAny(name, ",\"\r") {
			t.Errorf("bad line %q", line)
			continue
		}
		if code <= prev {
			t.Errorf("%s after %s: not sorted or duplicate", code, prev)
		}
		prev = code
	}
	if n := len(regions()); n != len(lines)-1 || n < 7000 {
		t.Errorf("%d regions from %d lines", n, len(lines)-1)
	}
}

func TestBuild(t *testing.T) {
	tests := []struct {
		region string
		birth  time.Time
		seq    int
		want   string
	}{
		{"310104", date(1990, 3, 7), 123, "31010419900307123X"},
		{"310103", date(1962, 10, 1), 42, "310103196210010421"},
		{"310103", date(1962, 10, 1), 1042, "310103196210010421"}, // modulo 1000
		{"310103", date(1962, 10, 1), -958, "310103196210010421"}, // never negative
		{"310104", time.Date(1990, 3, 7, 23, 0, 0, 0, shanghai), 123, "31010419900307123X"},
	}
	for _, tt := range tests {
		if got := Build(tt.region, tt.birth, tt.seq); got != tt.want {
			t.Errorf("Build(%s, %s, %d) = %s, want %s", tt.region, tt.birth, tt.seq, got, tt.want)
		}
	}
	for _, region := range []string{"3101", "31010A", "3101041"} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("Build(%q) did not panic", region)
				}
			}()
			Build(region, date(1990, 1, 1), 1)
		}()
	}
}

func TestCheckChar(t *testing.T) {
	// Worked example: Σ digit×weight for 11010519491231002 is 167, 167 mod 11 = 2 → X.
	if got := CheckChar("11010519491231002"); got != 'X' {
		t.Errorf("CheckChar = %c, want X", got)
	}
	// Every remainder maps to a distinct character: changing any one digit
	// changes the check character.
	body := []byte("31010419900307123")
	base := CheckChar(string(body))
	for i := range body {
		orig := body[i]
		for c := byte('0'); c <= '9'; c++ {
			if c == orig {
				continue
			}
			body[i] = c
			if CheckChar(string(body)) == base {
				t.Errorf("changing position %d to %c keeps check character %c", i+1, c, base)
			}
		}
		body[i] = orig
	}
}

func TestMask(t *testing.T) {
	tests := []struct{ in, want string }{
		{"310104199003071234", "310104********1234"},
		{"31010419900307123X", "310104********123X"},
		{" 31010419900307123x ", "310104********123x"},
		{"310104900307123", "310104******123"},
		{"3101041990030712", "****************"},
		{"3101041990030712345", "*******************"},
		{"3101041990O3071234", "******************"},
		{"上海市310104199003071", "******************"},
		{"３１０１０４１９９００３０７１２３４", "******************"},
		{"", ""},
		{"abc", "***"},
	}
	for _, tt := range tests {
		if got := Mask(tt.in); got != tt.want {
			t.Errorf("Mask(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestAge(t *testing.T) {
	tests := []struct {
		name  string
		birth time.Time
		on    time.Time
		want  int
	}{
		{"day before 60th birthday", date(1966, 5, 10), date(2026, 5, 9), 59},
		{"60th birthday", date(1966, 5, 10), date(2026, 5, 10), 60},
		{"day after", date(1966, 5, 10), date(2026, 5, 11), 60},
		{"earlier month", date(1966, 5, 10), date(2026, 4, 30), 59},
		{"later month", date(1966, 5, 10), date(2026, 6, 1), 60},
		{"birth day", date(2026, 11, 28), date(2026, 11, 28), 0},
		{"before birth", date(2026, 11, 28), date(2026, 11, 27), -1},
		{"29 Feb, leap year, day before", date(2000, 2, 29), date(2024, 2, 28), 23},
		{"29 Feb, leap year, birthday", date(2000, 2, 29), date(2024, 2, 29), 24},
		{"29 Feb, common year, 27 Feb", date(2000, 2, 29), date(2022, 2, 27), 21},
		{"29 Feb, common year, 28 Feb", date(2000, 2, 29), date(2022, 2, 28), 22},
		{"29 Feb, common year, 1 Mar", date(2000, 2, 29), date(2022, 3, 1), 22},
		{"29 Feb, 2100 is not leap", date(2000, 2, 29), date(2100, 2, 28), 100},
		{"28 Feb birth, leap year", date(2001, 2, 28), date(2024, 2, 28), 23},
		{"on is read in its own zone", date(2008, 11, 28), time.Date(2026, 11, 28, 1, 0, 0, 0, shanghai), 18},
		{"same instant in UTC is the day before", date(2008, 11, 28), time.Date(2026, 11, 28, 1, 0, 0, 0, shanghai).UTC(), 17},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := (ID{Birth: tt.birth}).Age(tt.on); got != tt.want {
				t.Errorf("Age(%s) for birth %s = %d, want %d", tt.on, tt.birth.Format(time.DateOnly), got, tt.want)
			}
		})
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"31010419900307123X", "31010419900307123x", " 310103196210010421 ",
		"310104199003071235", "310104900307123", "", "X", "３１０１０４１９９００３０７１２３ｘ",
		withCheck("31010419900230123"), withCheck("99999919900307123"), withCheck("31010420261129123"),
		"3101041990030712é", "31010419900307123号", "\xff\xfe31010419900307123",
		Build("810000", date(1988, 4, 1), 5), Build("310151", date(2026, 11, 28), 20),
	} {
		f.Add(s)
	}
	lo := date(1900, 1, 1)
	hi := date(2026, 11, 28)
	check := func(t *testing.T, s string) {
		if m := Mask(s); utf8.RuneCountInString(m) != utf8.RuneCountInString(strings.TrimSpace(s)) {
			t.Errorf("Mask(%q) = %q changes the length", s, m)
		}
		id, err := Parse(s, today)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Code == "" || e.Message == "" {
				t.Fatalf("Parse(%q) error %#v is not a complete *Error", s, err)
			}
			return
		}
		if len(id.Number) != 18 {
			t.Fatalf("Parse(%q).Number = %q, not 18 bytes", s, id.Number)
		}
		if c := CheckChar(id.Number[:17]); c != id.Number[17] {
			t.Fatalf("Parse(%q).Number = %q, check character should be %c", s, id.Number, c)
		}
		if id.Birth.Before(lo) || id.Birth.After(hi) {
			t.Fatalf("Parse(%q).Birth = %s out of range", s, id.Birth)
		}
		if _, ok := RegionName(id.Region); !ok {
			t.Fatalf("Parse(%q).Region = %s is unknown", s, id.Region)
		}
		if id.Male != (id.Seq%2 == 1) {
			t.Fatalf("Parse(%q): Male = %v for Seq %d", s, id.Male, id.Seq)
		}
		if b := Build(id.Region, id.Birth, id.Seq); b != id.Number {
			t.Fatalf("Build(%s, %s, %d) = %s, want %s", id.Region, id.Birth, id.Seq, b, id.Number)
		}
	}
	f.Fuzz(func(t *testing.T, s string) {
		check(t, s)
		// Random strings rarely pass the checksum; repair it so that the
		// date and region checks and the success path get fuzzed too.
		if len(s) >= 17 && allDigits(s[:17]) {
			check(t, withCheck(s[:17]))
		}
	})
}

func BenchmarkParse(b *testing.B) {
	numbers := []string{
		"31010419900307123X",
		Build("310103", date(1962, 10, 1), 42),
		Build("440305", date(1995, 12, 31), 871),
		Build("652901", date(1978, 2, 28), 36),
	}
	RegionName("310104") // build the table outside the loop
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := Parse(numbers[i%len(numbers)], today); err != nil {
			b.Fatal(err)
		}
		i++
	}
}
