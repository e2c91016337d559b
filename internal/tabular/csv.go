package tabular

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/unicode"
)

const (
	msgEncoding  = "无法识别的字符编码（既不是 UTF-8 也不是 GBK）"
	msgNUL       = "含有空字符（0x00），这不是 CSV 文本文件；请在 Excel 中“另存为” CSV 或 Excel 工作簿（.xlsx）后再上传"
	msgQuoteEOF  = "引号不匹配，文件可能被截断"
	msgQuote     = "引号不匹配：引号括起的单元格（从第 %d 行开始）在右引号后还有其他字符"
	msgBareQuote = "引号不匹配：不是以引号开头的单元格里有引号（引号前也不能有空格）；单元格里有引号时，要把整个单元格用引号括起来，并把其中的引号写成两个（\"\"）"
)

var (
	bomUTF8    = []byte("\xEF\xBB\xBF")
	bomUTF16LE = []byte("\xFF\xFE")
	bomUTF16BE = []byte("\xFE\xFF")
)

// readCSV decodes data and parses it with encoding/csv, which reads RFC 4180
// as Excel writes it and is strict about quotes. Blank rows are skipped;
// every row keeps the line it starts on.
func readCSV(data []byte) (*Table, error) {
	text, err := decodeText(data)
	if err != nil {
		return nil, err
	}
	text = lineFeeds(text)
	r := csv.NewReader(strings.NewReader(text))
	r.Comma = rune(detectSeparator(text))
	r.FieldsPerRecord = -1 // ragged rows are kept
	r.ReuseRecord = true   // the cells are copied to the arena below
	// One row per line is an upper bound that rarely wastes much, and it
	// spares the growth copies of a million-row slice.
	t := &Table{Rows: make([]Row, 0, strings.Count(text, "\n")+1)}
	var arena []string // backing store of the cell slices
	for {
		fields, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, csvError(err, text, byte(r.Comma))
		}
		for i, f := range fields {
			fields[i] = trimCell(f)
		}
		cells := dropTrailingEmpty(fields)
		if len(cells) == 0 {
			continue
		}
		if cap(arena)-len(arena) < len(cells) {
			arena = make([]string, 0, max(4096, len(cells)))
		}
		n := len(arena)
		arena = append(arena, cells...)
		cells = arena[n:len(arena):len(arena)] // capped: an append must not overwrite the next row
		line, _ := r.FieldPos(0)
		if t.Header == nil {
			t.Header, t.HeaderLine = cells, line
			continue
		}
		t.Rows = append(t.Rows, Row{Line: line, Cells: cells})
	}
	if t.Header == nil {
		return nil, &Error{Message: msgEmpty}
	}
	return t, nil
}

// lineFeeds turns each lone "\r", the line break of old Mac files, into
// "\n": encoding/csv knows only "\n" and "\r\n", and lineAt counts lines
// this way too.
func lineFeeds(s string) string {
	if strings.Count(s, "\r") == strings.Count(s, "\r\n") {
		return s
	}
	return strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\r", "\n")
}

// csvError turns an error of encoding/csv reading text into an *Error
// naming the row and the cell.
func csvError(err error, text string, sep byte) error {
	var pe *csv.ParseError
	if !errors.As(err, &pe) {
		return &Error{Message: msgReadFailed, Err: err} // not reached: text is in memory
	}
	col := cellOf(text, pe.StartLine, offsetOf(text, pe.Line, pe.Column), sep)
	switch {
	case pe.Err == csv.ErrBareQuote:
		return lineError(pe.Line, col, msgBareQuote, err)
	case pe.Err == csv.ErrQuote && quoteOpenAtEnd(pe, text):
		return lineError(pe.StartLine, col, msgQuoteEOF, err)
	case pe.Err == csv.ErrQuote:
		return lineError(pe.Line, col, fmt.Sprintf(msgQuote, pe.StartLine), err)
	}
	return lineError(pe.Line, 0, msgReadFailed, err) // not reached
}

// offsetOf returns the offset in text of the 1-based byte column col of
// the 1-based line, or the end of text.
func offsetOf(text string, line, col int) int {
	i := 0
	for l := 1; l < line; l++ {
		j := strings.IndexByte(text[i:], '\n')
		if j < 0 {
			return len(text)
		}
		i += j + 1
	}
	return min(i+max(col-1, 0), len(text))
}

// cellOf returns the 1-based cell, in the record that starts on line
// start, that offset end of text falls in: one more than the separators
// outside quotes between the two.
func cellOf(text string, start, end int, sep byte) int {
	from := offsetOf(text, start, 1)
	cell, quoted := 1, false
	for i := from; i < end && i < len(text); i++ {
		switch text[i] {
		case '"':
			quoted = !quoted
		case sep:
			if !quoted {
				cell++
			}
		case '\n':
			if !quoted { // a new record: not reached for a record's own lines
				cell = 1
			}
		}
	}
	return cell
}

// columnAt returns the 1-based cell of data's line that offset i falls in,
// counted in the raw bytes: separators and quotes are ASCII, which neither
// UTF-8 nor GBK uses inside a multi-byte character.
func columnAt(data []byte, i int) int {
	start := max(bytes.LastIndexByte(data[:i], '\n'), bytes.LastIndexByte(data[:i], '\r')) + 1
	line := string(data[start:i])
	return cellOf(line, 1, len(line), detectSeparator(string(data[:min(len(data), 64<<10)])))
}

// quoteOpenAtEnd reports whether pe, a csv.ErrQuote, is for a quoted cell
// that text ends in rather than for a character after a closing quote.
// encoding/csv reports both alike, but for the first the column is past the
// end of the last line, whereas for the second it is that of the closing
// quote.
func quoteOpenAtEnd(pe *csv.ParseError, text string) bool {
	text = strings.TrimSuffix(strings.TrimSuffix(text, "\n"), "\r")
	last := text[strings.LastIndexByte(text, '\n')+1:]
	return pe.Line == 1+strings.Count(text, "\n") && pe.Column > len(last)
}

// decodeText returns data as UTF-8 text without BOM. Text with no BOM that
// is not valid UTF-8 is taken for GB18030, the superset of the GBK that
// Excel writes on Chinese Windows, unless it is mostly valid UTF-8: then it
// is UTF-8 with damaged bytes, and decoding it as GB18030 would turn every
// Chinese character into a wrong one without any replacement character to
// tell.
func decodeText(data []byte) (string, error) {
	var enc encoding.Encoding
	switch {
	case bytes.HasPrefix(data, bomUTF8):
		data = data[len(bomUTF8):]
		if i := invalidUTF8(data); i >= 0 {
			return "", lineError(lineAt(data, i), columnAt(data, i), msgEncoding, nil)
		}
	case bytes.HasPrefix(data, bomUTF16LE):
		enc = unicode.UTF16(unicode.LittleEndian, unicode.ExpectBOM)
	case bytes.HasPrefix(data, bomUTF16BE):
		enc = unicode.UTF16(unicode.BigEndian, unicode.ExpectBOM)
	case utf8.Valid(data):
	default:
		if good, bad := countUTF8(data); good > bad {
			i := invalidUTF8(data)
			return "", lineError(lineAt(data, i), columnAt(data, i), msgEncoding, nil)
		}
		enc = simplifiedchinese.GB18030
	}
	if enc != nil {
		decoded, err := enc.NewDecoder().Bytes(data)
		if err != nil {
			return "", &Error{Message: msgEncoding, Err: err} // not reached: both decoders replace bad bytes
		}
		// Both decoders write U+FFFD for bytes they cannot decode. They
		// never swallow a line break, so lines count the same after
		// decoding.
		if i := bytes.IndexRune(decoded, utf8.RuneError); i >= 0 {
			return "", lineError(lineAt(decoded, i), columnAt(decoded, i), msgEncoding, nil)
		}
		data = decoded
	}
	if i := bytes.IndexByte(data, 0); i >= 0 {
		return "", lineError(lineAt(data, i), columnAt(data, i), msgNUL, nil)
	}
	return string(data), nil
}

// invalidUTF8 returns the offset of the first byte of data that is not
// valid UTF-8, or -1.
func invalidUTF8(data []byte) int {
	for i := 0; i < len(data); {
		if data[i] < utf8.RuneSelf {
			i++
			continue
		}
		r, n := utf8.DecodeRune(data[i:])
		if r == utf8.RuneError && n == 1 {
			return i
		}
		i += n
	}
	return -1
}

// countUTF8 counts the valid multi-byte UTF-8 sequences and the invalid
// bytes in data. In GBK text valid sequences arise only by chance, far less
// often than invalid bytes.
func countUTF8(data []byte) (good, bad int) {
	for i := 0; i < len(data); {
		if data[i] < utf8.RuneSelf {
			i++
			continue
		}
		r, n := utf8.DecodeRune(data[i:])
		if r == utf8.RuneError && n == 1 {
			bad++
		} else {
			good++
		}
		i += n
	}
	return good, bad
}

// lineAt returns the 1-based line of offset i in data, counting "\n",
// "\r\n" and a lone "\r" as one line break each.
func lineAt(data []byte, i int) int {
	n := 1 + bytes.Count(data[:i], []byte("\n"))
	for j := 0; ; {
		k := bytes.IndexByte(data[j:i], '\r')
		if k < 0 {
			return n
		}
		j += k + 1
		if j == len(data) || data[j] != '\n' {
			n++
		}
	}
}

// detectSeparator picks comma, tab or semicolon, whichever occurs most often
// outside quotes in the first line that has any content; comma on a tie.
// Lines holding nothing but separators, which Excel writes for formatted
// empty rows, do not count.
func detectSeparator(s string) byte {
	for s != "" {
		line := s
		if i := strings.IndexAny(s, "\r\n"); i >= 0 {
			line, s = s[:i], s[i+1:]
		} else {
			s = ""
		}
		if strings.Trim(line, " \t,;\"") == "" {
			continue
		}
		var comma, tab, semi int
		quoted := false
		for i := 0; i < len(line); i++ {
			switch c := line[i]; {
			case c == '"':
				quoted = !quoted
			case quoted:
			case c == ',':
				comma++
			case c == '\t':
				tab++
			case c == ';':
				semi++
			}
		}
		switch {
		case tab > comma && tab >= semi:
			return '\t'
		case semi > comma && semi > tab:
			return ';'
		}
		return ','
	}
	return ','
}

// WriteCSV writes header (unless nil) and rows as CSV with CRLF line
// breaks, the way Excel writes it. With bom set it starts with a UTF-8 BOM,
// without which Excel on Chinese Windows takes the file for GBK and garbles
// it. Cells are written as they are, except that text a spreadsheet would
// take for a formula gets a "'" in front ([EscapeFormula]); see the package
// comment for why a file meant for people is better written with
// [WriteXLSX].
func WriteCSV(w io.Writer, header []string, rows [][]string, bom bool) error {
	if bom {
		if _, err := w.Write(bomUTF8); err != nil {
			return err
		}
	}
	cw := csv.NewWriter(w)
	cw.UseCRLF = true
	if header != nil {
		if err := cw.Write(escapeRow(header)); err != nil {
			return err
		}
	}
	for _, r := range rows {
		if err := cw.Write(escapeRow(r)); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}
