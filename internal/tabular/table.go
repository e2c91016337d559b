package tabular

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Table is a spreadsheet read by [Read]: a header and the data rows below it.
//
// Cells are trimmed of surrounding white space (including the ideographic
// space U+3000 and stray zero-width characters), trailing empty cells are
// dropped, and fully blank rows are skipped, so a row may be shorter than the
// header: use [Row.Get]. Rows with more cells than the header are kept as they
// are; it is for the caller to decide whether they are an error.
type Table struct {
	// Header holds the first non-blank row.
	Header []string
	// HeaderLine is the line of Header, 1 unless blank lines precede it
	// or [Table.Columns] found the header below a title row.
	HeaderLine int
	// Rows holds the non-blank rows below the header, in file order.
	Rows []Row
}

// Row is one data row of a [Table].
type Row struct {
	// Line is the 1-based row number as the user sees it in Excel or a text
	// editor; the header is normally row 1. For a CSV record that spans
	// several lines (a quoted cell with line breaks) it is the first line.
	Line int
	// Cells holds the trimmed cell values.
	Cells []string
}

// Get returns the cell in column col (0-based), or "" when the row has no
// such cell, including for col < 0, which [Table.Columns] returns for an
// absent optional column.
func (r Row) Get(col int) string {
	if col < 0 || col >= len(r.Cells) {
		return ""
	}
	return r.Cells[col]
}

// Error is the error type of [Read] and [Table.Columns]. Message is the
// whole Chinese sentence fit to show the user, naming the row (and the
// column where it is known) the problem is on: 「第 3 行（B 列）：引号不匹配…」,
// so that a caller showing only Message still says where.
type Error struct {
	// Line is the 1-based line or row the problem is on, or 0 when it
	// concerns the whole file.
	Line int
	// Column is the 1-based column (A is 1) the problem is in, or 0 when
	// it is not known or concerns the whole row.
	Column int
	// Message describes the problem, after 「第 N 行（X 列）：」 when Line
	// is set.
	Message string
	// Err is the underlying cause, if any, for logs; it is not meant for
	// the user.
	Err error
}

// lineError returns the *Error of a problem on line (and column col, 1-based,
// or 0) with its location in front of msg.
func lineError(line, col int, msg string, err error) *Error {
	switch {
	case line > 0 && col > 0:
		msg = fmt.Sprintf("第 %d 行（%s 列）：%s", line, columnLetter(col-1), msg)
	case line > 0:
		msg = fmt.Sprintf("第 %d 行：%s", line, msg)
	}
	return &Error{Line: line, Column: col, Message: msg, Err: err}
}

// Error returns the message.
func (e *Error) Error() string { return e.Message }

// Unwrap returns the underlying cause.
func (e *Error) Unwrap() error { return e.Err }

const (
	msgEmpty       = "文件为空"
	msgUnsupported = "不支持的文件类型 %s，请上传 CSV 或 Excel（.xlsx）文件"
	msgNoExt       = "无法识别文件类型（文件名没有扩展名），请上传 CSV 或 Excel（.xlsx）文件"
	msgXLS         = "这是旧版 Excel（.xls）文件或加密的 Excel 文件，请在 Excel 中“另存为” Excel 工作簿（.xlsx）或 CSV 后再上传"
	msgTooLarge    = "文件太大（超过 %s），请拆分后再上传"
	msgReadFailed  = "读取文件失败"
)

var (
	zipMagic = []byte("PK\x03\x04")
	oleMagic = []byte("\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1") // .xls, .et and encrypted .xlsx
)

// Read reads a CSV or .xlsx file into a Table whose header is the first
// non-blank row. filename is used only for its extension: .csv and .txt are
// read as CSV, .xlsx as Excel (its first sheet); .xls gets a message asking
// for .xlsx, and any other extension is an error. The content is sniffed
// too, so an .xlsx renamed to .csv is still read as Excel and an old .xls
// renamed to .xlsx gets the .xls message.
//
// CSV may be UTF-8 (with or without BOM), GBK/GB18030 or, as Excel's
// 「Unicode 文本」 export, UTF-16 with BOM; the separator (comma, tab or
// semicolon) is taken from the header line. Quotes are read strictly, as
// RFC 4180 has them and Excel writes them: a quote in a cell that does not
// start with one, or anything but a separator or line break after a closing
// quote, is an error, and so is a quote left open at the end of the file,
// which names the line where its row starts.
//
// From .xlsx, cells are read as Excel displays them, except that dates in
// Excel's default date format come out as 2024-07-01 whatever the locale of
// the computer that saved the file; see [ParseDate]. Formulas give their
// last computed value.
//
// limit caps the file size in bytes; limit <= 0 means no cap. An .xlsx is
// also bounded in what it may unzip to (100 times the file, at least
// 16 MB, at most 512 MB, checked while inflating), in the header's width
// (512 columns), in how far a row may reach beyond the header (64
// columns), in cells (20 million) and in text, so that a zip bomb fails
// fast and small. At most two files are read at once; a third waits up to
// 30 seconds. A header without rows is not an error; an empty file is.
// Every error is an *Error.
func Read(r io.Reader, filename string, limit int64) (*Table, error) {
	ext := extension(filename)
	switch ext {
	case ".csv", ".txt", ".xlsx", ".xls":
	case "":
		return nil, &Error{Message: msgNoExt}
	default:
		return nil, &Error{Message: fmt.Sprintf(msgUnsupported, ext)}
	}
	release, err := acquire()
	if err != nil {
		return nil, err
	}
	defer release()
	data, err := readAll(r, limit)
	if err != nil {
		return nil, err
	}
	if len(data) == 0 {
		return nil, &Error{Message: msgEmpty}
	}
	switch {
	case bytes.HasPrefix(data, zipMagic):
		return readXLSX(data)
	case bytes.HasPrefix(data, oleMagic) || ext == ".xls":
		return nil, &Error{Message: msgXLS}
	case ext == ".xlsx":
		return nil, &Error{Message: msgBadXLSX}
	}
	return readCSV(data)
}

// readAll reads r whole, failing once it has seen more than limit bytes.
func readAll(r io.Reader, limit int64) ([]byte, error) {
	var buf bytes.Buffer
	if l, ok := r.(interface{ Len() int }); ok {
		// Room for the whole file and for ReadFrom to see the end without
		// growing the buffer again.
		n := int64(l.Len())
		if limit > 0 {
			n = min(n, limit)
		}
		buf.Grow(int(n) + bytes.MinRead)
	}
	if limit > 0 {
		r = io.LimitReader(r, limit+1)
	}
	if _, err := buf.ReadFrom(r); err != nil {
		return nil, &Error{Message: msgReadFailed, Err: err}
	}
	if limit > 0 && int64(buf.Len()) > limit {
		return nil, &Error{Message: fmt.Sprintf(msgTooLarge, formatSize(limit))}
	}
	return buf.Bytes(), nil
}

// extension returns the lower-cased extension of a file name that may be a
// Windows path, as some browsers send, or "".
func extension(name string) string {
	i := strings.LastIndexByte(name, '.')
	if i < 0 || strings.ContainsAny(name[i:], `/\`) {
		return ""
	}
	return strings.ToLower(name[i:])
}

// formatSize formats a byte count the way staff would write it.
func formatSize(n int64) string {
	switch {
	case n >= 1<<20:
		return trimZero(fmt.Sprintf("%.1f", float64(n)/(1<<20))) + " MB"
	case n >= 1<<10:
		return trimZero(fmt.Sprintf("%.1f", float64(n)/(1<<10))) + " KB"
	}
	return fmt.Sprintf("%d 字节", n)
}

func trimZero(s string) string { return strings.TrimSuffix(s, ".0") }

// trimCell trims white space and the zero-width characters that copying
// from web pages and double-encoded BOMs leave at the ends of cells.
func trimCell(s string) string {
	if s == "" || !trimmableStart(s[0]) && !trimmableEnd(s) {
		return s // the common case, made fast for the million-row file
	}
	return strings.TrimFunc(s, isTrimmed)
}

func isTrimmed(r rune) bool {
	return unicode.IsSpace(r) || r == '\u200b' || r == '\ufeff'
}

// trimmableStart reports whether a string starting with byte c may start
// with a rune that trimCell removes. Beyond ASCII those are U+0085, U+00A0,
// U+1680, U+2000 to U+205F, U+3000 and U+FEFF, whose UTF-8 encodings start
// with the bytes below; Chinese characters start with 0xE4 to 0xE9.
func trimmableStart(c byte) bool {
	switch {
	case c <= ' ':
		return true
	case c < utf8.RuneSelf:
		return false
	}
	return c == 0xC2 || c == 0xE1 || c == 0xE2 || c == 0xE3 || c == 0xEF
}

func trimmableEnd(s string) bool {
	if c := s[len(s)-1]; c < utf8.RuneSelf {
		return c <= ' '
	}
	r, _ := utf8.DecodeLastRuneInString(s)
	return isTrimmed(r)
}

// dropTrailingEmpty drops empty cells at the end of cells.
func dropTrailingEmpty(cells []string) []string {
	n := len(cells)
	for n > 0 && cells[n-1] == "" {
		n--
	}
	return cells[:n]
}
