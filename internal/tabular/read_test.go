package tabular

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/unicode"
)

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustEncode(t testing.TB, s string, enc interface{ Bytes([]byte) ([]byte, error) }) []byte {
	t.Helper()
	b, err := enc.Bytes([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// people is the table every people fixture holds.
var people = &Table{
	Header:     []string{"姓名", "身份证号", "出生日期"},
	HeaderLine: 1,
	Rows: []Row{
		{Line: 2, Cells: []string{"张三", "11010519491231002X", "1949-12-31"}},
		{Line: 3, Cells: []string{"李四", "310104198001011234", "1980/1/1"}},
	},
}

const peopleCSV = "姓名,身份证号,出生日期\r\n张三,11010519491231002X,1949-12-31\r\n李四,310104198001011234,1980/1/1\r\n"

func TestRead(t *testing.T) {
	gbk := simplifiedchinese.GBK.NewEncoder()
	gb18030 := simplifiedchinese.GB18030.NewEncoder()
	// 𠮷 (U+20BB7) and € are not in GBK: only GB18030 encodes them.
	rare := "姓名,备注\n吉𠮷,€100\n"
	tests := []struct {
		name string
		file string
		data []byte
		want *Table
	}{
		{name: "utf8", file: "a.csv", data: fixture(t, "utf8.csv"), want: people},
		{name: "utf8 bom", file: "a.csv", data: fixture(t, "utf8_bom.csv"), want: people},
		{name: "upper-case extension", file: "A.CSV", data: fixture(t, "utf8.csv"), want: people},
		{name: "windows path", file: `C:\Users\x\桌面\名单.v2.csv`, data: fixture(t, "utf8.csv"), want: people},
		{name: "gbk", file: "a.csv", data: mustEncode(t, peopleCSV, gbk), want: people},
		{name: "gb18030", file: "a.csv", data: mustEncode(t, rare, gb18030), want: &Table{
			Header: []string{"姓名", "备注"}, HeaderLine: 1,
			Rows: []Row{{Line: 2, Cells: []string{"吉𠮷", "€100"}}},
		}},
		{name: "utf16 from Excel's Unicode text", file: "a.txt",
			data: mustEncode(t, strings.ReplaceAll(peopleCSV, ",", "\t"), unicode.UTF16(unicode.LittleEndian, unicode.UseBOM).NewEncoder()),
			want: people},
		{name: "tab", file: "a.txt", data: fixture(t, "tab.txt"), want: people},
		{name: "tab in .csv", file: "a.csv", data: fixture(t, "tab.txt"), want: people},
		{name: "semicolon", file: "a.csv", data: fixture(t, "semicolon.csv"), want: people},
		{name: "blank lines keep numbering", file: "a.csv", data: fixture(t, "blank_lines.csv"), want: &Table{
			Header: people.Header, HeaderLine: 2,
			Rows: []Row{
				{Line: 4, Cells: people.Rows[0].Cells},
				{Line: 8, Cells: people.Rows[1].Cells},
			},
		}},
		{name: "quoted cells", file: "a.csv", data: fixture(t, "quoted.csv"), want: &Table{
			Header: []string{"姓名", "地址", "备注"}, HeaderLine: 1,
			Rows: []Row{
				{Line: 2, Cells: []string{"张三", "北京市\n朝阳区", `他说"好"`}},
				{Line: 4, Cells: []string{"王五", "上海, 黄浦"}},
				{Line: 5, Cells: []string{"赵六", `5"软盘`, "x"}},
			},
		}},
		{name: "header only", file: "a.csv", data: fixture(t, "header_only.csv"), want: &Table{
			Header: people.Header, HeaderLine: 1, Rows: []Row{},
		}},
		{name: "ragged rows kept", file: "a.csv", data: []byte("a,b,c\n1,2\n1,2,3,4\n"), want: &Table{
			Header: []string{"a", "b", "c"}, HeaderLine: 1,
			Rows: []Row{{Line: 2, Cells: []string{"1", "2"}}, {Line: 3, Cells: []string{"1", "2", "3", "4"}}},
		}},
		{name: "trimmed", file: "a.csv",
			data: []byte("\ufeff\u200b姓名 , 身份证号\t\n\u3000张三\u3000,\u00a011010519491231002X\u200b ,,\n"),
			want: &Table{
				Header: []string{"姓名", "身份证号"}, HeaderLine: 1,
				Rows: []Row{{Line: 2, Cells: []string{"张三", "11010519491231002X"}}},
			}},
		{name: "old Mac line breaks", file: "a.csv", data: []byte("a,b\r1,2\r\r3,4"), want: &Table{
			Header: []string{"a", "b"}, HeaderLine: 1,
			Rows: []Row{{Line: 2, Cells: []string{"1", "2"}}, {Line: 4, Cells: []string{"3", "4"}}},
		}},
		{name: "no final line break", file: "a.csv", data: []byte("a,b\n1,\"2\""), want: &Table{
			Header: []string{"a", "b"}, HeaderLine: 1,
			Rows: []Row{{Line: 2, Cells: []string{"1", "2"}}},
		}},
		{name: "xlsx renamed to csv", file: "a.csv", data: xlsxBytes(t, people.Header, [][]string{people.Rows[0].Cells, people.Rows[1].Cells}), want: people},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Read(bytes.NewReader(tt.data), tt.file, 1<<20)
			if err != nil {
				t.Fatalf("Read: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Read =\n%#v\nwant\n%#v", got, tt.want)
			}
		})
	}
}

func TestReadErrors(t *testing.T) {
	gbk := mustEncode(t, peopleCSV, simplifiedchinese.GBK.NewEncoder())
	badGBK := append(append(bytes.Clone(gbk), "x,\xff\xff\xff,2000-01-01\n"...), gbk[bytes.IndexByte(gbk, '\n')+1:]...)
	badUTF8 := []byte(peopleCSV + "王五,1\xff\xff2,2000-01-01\n")
	tests := []struct {
		name  string
		file  string
		data  []byte
		limit int64
		line  int
		msg   string
	}{
		{name: "empty", file: "a.csv", data: fixture(t, "empty.csv"), msg: "文件为空"},
		{name: "only a BOM and blank lines", file: "a.csv", data: []byte("\ufeff\r\n ,,\r\n\r\n"), msg: "文件为空"},
		{name: "truncated quoted cell", file: "a.csv", data: fixture(t, "truncated.csv"), line: 3,
			msg: "第 3 行（B 列）：引号不匹配，文件可能被截断"},
		{name: "text after closing quote", file: "a.csv", data: []byte("a,b\n1,\"x\"y\n"), line: 2,
			msg: "第 2 行（B 列）：引号不匹配：引号括起的单元格（从第 2 行开始）在右引号后还有其他字符"},
		{name: "space after closing quote", file: "a.csv", data: []byte("a,b\n1,\"x\" \n"), line: 2,
			msg: "第 2 行（B 列）：引号不匹配：引号括起的单元格（从第 2 行开始）在右引号后还有其他字符"},
		{name: "space before opening quote", file: "a.csv", data: []byte("a,b\n1, \"x\"\n"), line: 2,
			msg: "第 2 行（B 列）：" + msgBareQuote},
		{name: "quote inside unquoted cell", file: "a.csv", data: []byte("a,b\n1,5\"软盘\n"), line: 2,
			msg: "第 2 行（B 列）：" + msgBareQuote},
		{name: "truncated row spanning lines", file: "a.csv", data: []byte("a,b\n\"1\n2\",\"x\ny"), line: 2,
			msg: "第 2 行（B 列）：引号不匹配，文件可能被截断"},
		{name: "undecodable bytes in GBK", file: "a.csv", data: badGBK, line: 4,
			msg: "第 4 行（B 列）：无法识别的字符编码（既不是 UTF-8 也不是 GBK）"},
		{name: "damaged UTF-8", file: "a.csv", data: badUTF8, line: 4,
			msg: "第 4 行（B 列）：无法识别的字符编码（既不是 UTF-8 也不是 GBK）"},
		{name: "damaged UTF-8 with BOM", file: "a.csv", data: append([]byte("\ufeffa\nb\n"), 0xC0), line: 3,
			msg: "第 3 行（A 列）：无法识别的字符编码（既不是 UTF-8 也不是 GBK）"},
		{name: "NUL byte", file: "a.csv", data: []byte("a,b\n1,2\n\x003,4\n"), line: 3,
			msg: "第 3 行（A 列）：含有空字符（0x00），这不是 CSV 文本文件；请在 Excel 中“另存为” CSV 或 Excel 工作簿（.xlsx）后再上传"},
		{name: "wrong extension", file: "名单.doc", data: []byte("a"),
			msg: "不支持的文件类型 .doc，请上传 CSV 或 Excel（.xlsx）文件"},
		{name: "no extension", file: "名单", data: []byte("a"),
			msg: "无法识别文件类型（文件名没有扩展名），请上传 CSV 或 Excel（.xlsx）文件"},
		{name: "xls", file: "名单.xls", data: []byte("\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1rest"),
			msg: "这是旧版 Excel（.xls）文件或加密的 Excel 文件，请在 Excel 中“另存为” Excel 工作簿（.xlsx）或 CSV 后再上传"},
		{name: "xls renamed to xlsx", file: "名单.xlsx", data: []byte("\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1rest"),
			msg: "这是旧版 Excel（.xls）文件或加密的 Excel 文件，请在 Excel 中“另存为” Excel 工作簿（.xlsx）或 CSV 后再上传"},
		{name: "fake xlsx", file: "名单.xlsx", data: fixture(t, "fake.xlsx"),
			msg: "文件不是有效的 Excel（.xlsx）文件，可能已损坏，或只是把扩展名改成了 .xlsx"},
		{name: "csv named xlsx", file: "名单.xlsx", data: []byte(peopleCSV),
			msg: "文件不是有效的 Excel（.xlsx）文件，可能已损坏，或只是把扩展名改成了 .xlsx"},
		{name: "zip that is not xlsx", file: "名单.xlsx", data: zipOf(t, map[string]string{"a.txt": "hello"}),
			msg: "文件不是有效的 Excel（.xlsx）文件，可能已损坏，或只是把扩展名改成了 .xlsx"},
		{name: "truncated xlsx", file: "名单.xlsx", data: xlsxBytes(t, people.Header, nil)[:300],
			msg: "文件不是有效的 Excel（.xlsx）文件，可能已损坏，或只是把扩展名改成了 .xlsx"},
		{name: "limit exceeded", file: "a.csv", data: fixture(t, "utf8.csv"), limit: 100,
			msg: "文件太大（超过 100 字节），请拆分后再上传"},
		{name: "limit exceeded MB", file: "a.csv", data: make([]byte, 10<<20+1), limit: 10 << 20,
			msg: "文件太大（超过 10 MB），请拆分后再上传"},
		{name: "zip bomb", file: "a.xlsx", data: zipOf(t, map[string]string{"xl/worksheets/sheet1.xml": strings.Repeat(" ", 65<<20)}), limit: 200 << 10,
			msg: "Excel 文件解压后太大（超过 16 MB，是文件本身的 100 倍以上），可能是恶意构造的压缩包；请检查文件，或拆分后再上传"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			limit := tt.limit
			if limit == 0 {
				limit = 1 << 20
			}
			_, err := Read(bytes.NewReader(tt.data), tt.file, limit)
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("Read error = %v (%T), want *Error", err, err)
			}
			if e.Line != tt.line || err.Error() != tt.msg {
				t.Errorf("Read error = line %d %q, want line %d %q", e.Line, err.Error(), tt.line, tt.msg)
			}
		})
	}
}

func TestReadLimitExact(t *testing.T) {
	data := fixture(t, "utf8.csv")
	if _, err := Read(bytes.NewReader(data), "a.csv", int64(len(data))); err != nil {
		t.Errorf("Read at exactly the limit: %v", err)
	}
	if _, err := Read(bytes.NewReader(data), "a.csv", 0); err != nil {
		t.Errorf("Read without limit: %v", err)
	}
}

func TestReadIOError(t *testing.T) {
	cause := errors.New("connection reset")
	_, err := Read(errReader{cause}, "a.csv", 0)
	var e *Error
	if !errors.As(err, &e) || !errors.Is(err, cause) || e.Message != "读取文件失败" {
		t.Errorf("Read error = %#v, want *Error wrapping the cause", err)
	}
}

type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }

func TestRowGet(t *testing.T) {
	r := Row{Cells: []string{"a", "b"}}
	for col, want := range map[int]string{-1: "", 0: "a", 1: "b", 2: ""} {
		if got := r.Get(col); got != want {
			t.Errorf("Get(%d) = %q, want %q", col, got, want)
		}
	}
}

func TestLineAt(t *testing.T) {
	data := []byte("a\r\nb\rc\nd")
	for i, want := range []int{1, 1, 1, 2, 2, 3, 3, 4} {
		if got := lineAt(data, i); got != want {
			t.Errorf("lineAt(%d) = %d, want %d", i, got, want)
		}
	}
}
