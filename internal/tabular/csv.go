package tabular

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/unicode"
)

const (
	msgEncoding = "无法识别的字符编码（既不是 UTF-8 也不是 GBK）"
	msgNUL      = "含有空字符（0x00），这不是 CSV 文本文件；请在 Excel 中“另存为” CSV 或 Excel 工作簿（.xlsx）后再上传"
	msgQuoteEOF = "引号不匹配，文件可能被截断"
	msgQuote    = "引号不匹配：引号括起的单元格（从第 %d 行开始）在右引号后还有其他字符"
)

var (
	bomUTF8    = []byte("\xEF\xBB\xBF")
	bomUTF16LE = []byte("\xFF\xFE")
	bomUTF16BE = []byte("\xFE\xFF")
)

// readCSV decodes data and parses it as CSV.
func readCSV(data []byte) (*Table, error) {
	text, err := decodeText(data)
	if err != nil {
		return nil, err
	}
	p := parser{s: text, line: 1, sep: detectSeparator(text)}
	// One row per line is an upper bound that rarely wastes much, and it
	// spares the growth copies of a million-row slice.
	t := &Table{Rows: make([]Row, 0, strings.Count(text, "\n")+1)}
	for p.pos < len(p.s) {
		line, err := p.record()
		if err != nil {
			return nil, err
		}
		cells := dropTrailingEmpty(p.fields)
		if len(cells) == 0 {
			continue
		}
		if t.Header == nil {
			t.Header, t.HeaderLine = p.keep(cells), line
			continue
		}
		t.Rows = append(t.Rows, Row{Line: line, Cells: p.keep(cells)})
	}
	if t.Header == nil {
		return nil, &Error{Message: msgEmpty}
	}
	return t, nil
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
			return "", &Error{Line: lineAt(data, i), Message: msgEncoding}
		}
	case bytes.HasPrefix(data, bomUTF16LE):
		enc = unicode.UTF16(unicode.LittleEndian, unicode.ExpectBOM)
	case bytes.HasPrefix(data, bomUTF16BE):
		enc = unicode.UTF16(unicode.BigEndian, unicode.ExpectBOM)
	case utf8.Valid(data):
	default:
		if good, bad := countUTF8(data); good > bad {
			return "", &Error{Line: lineAt(data, invalidUTF8(data)), Message: msgEncoding}
		}
		enc = simplifiedchinese.GB18030
	}
	if enc != nil {
		decoded, err := enc.NewDecoder().Bytes(data)
		if err != nil {
			return "", &Error{Message: msgEncoding, Err: err}
		}
		// Both decoders write U+FFFD for bytes they cannot decode. They
		// never swallow a line break, so lines count the same after
		// decoding.
		if i := bytes.IndexRune(decoded, utf8.RuneError); i >= 0 {
			return "", &Error{Line: lineAt(decoded, i), Message: msgEncoding}
		}
		data = decoded
	}
	if i := bytes.IndexByte(data, 0); i >= 0 {
		return "", &Error{Line: lineAt(data, i), Message: msgNUL}
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

// parser splits CSV text into records. It follows RFC 4180 as Excel writes
// it, and reads what people type by hand the way Excel does: a quote inside
// an unquoted cell is an ordinary character, spaces around a quoted cell are
// ignored, and a lone "\r" ends a line as in old Mac files. Unquoted cells
// and most quoted ones are substrings of s, so parsing allocates only the
// cell slices.
type parser struct {
	s      string
	pos    int
	line   int
	sep    byte
	fields []string // the current record; reused
	arena  []string // backing store that keep carves cell slices from
}

// record parses the record at p.pos into p.fields, leaving p.pos after its
// line break, and returns the line it starts on.
func (p *parser) record() (int, error) {
	start := p.line
	p.fields = p.fields[:0]
	s := p.s
	for {
		i := p.pos
		for i < len(s) && s[i] == ' ' {
			i++
		}
		var field string
		if i < len(s) && s[i] == '"' {
			f, err := p.quoted(i + 1)
			if err != nil {
				return 0, err
			}
			field = f
		} else {
			j := p.pos
			for j < len(s) && s[j] != p.sep && s[j] != '\n' && s[j] != '\r' {
				j++
			}
			field, p.pos = s[p.pos:j], j
		}
		p.fields = append(p.fields, trimCell(field))
		// p.pos is now at a separator, a line break or the end.
		if p.pos == len(s) {
			return start, nil
		}
		switch s[p.pos] {
		case '\n':
			p.pos++
			p.line++
			return start, nil
		case '\r':
			p.pos++
			if p.pos < len(s) && s[p.pos] == '\n' {
				p.pos++
			}
			p.line++
			return start, nil
		}
		p.pos++ // separator
	}
}

// quoted parses a quoted cell whose content starts at i, leaving p.pos at
// the separator, line break or end after it.
func (p *parser) quoted(i int) (string, error) {
	s, open := p.s, p.line
	var b *strings.Builder // set once the cell differs from its source text
	from := i              // start of the text not yet copied to b
	for {
		j := strings.IndexByte(s[i:], '"')
		if j < 0 {
			return "", &Error{Line: open, Message: msgQuoteEOF}
		}
		j += i
		// Count the line breaks inside the cell; make "\r\n" a plain "\n"
		// as encoding/csv does.
		for k := i; k < j; k++ {
			switch s[k] {
			case '\n':
				p.line++
			case '\r':
				p.line++
				if k+1 < j && s[k+1] == '\n' {
					if b == nil {
						b = new(strings.Builder)
					}
					b.WriteString(s[from:k])
					from = k + 1
					k++
				}
			}
		}
		if j+1 < len(s) && s[j+1] == '"' { // "" stands for one quote
			if b == nil {
				b = new(strings.Builder)
			}
			b.WriteString(s[from : j+1])
			i, from = j+2, j+2
			continue
		}
		// Closing quote: only spaces may follow before the separator.
		k := j + 1
		for k < len(s) && (s[k] == ' ' || s[k] == '\t' && p.sep != '\t') {
			k++
		}
		if k < len(s) && s[k] != p.sep && s[k] != '\n' && s[k] != '\r' {
			return "", &Error{Line: p.line, Message: fmt.Sprintf(msgQuote, open)}
		}
		p.pos = k
		if b == nil {
			return s[from:j], nil
		}
		b.WriteString(s[from:j])
		return b.String(), nil
	}
}

// keep copies cells into the arena and returns the copy, capped so that an
// append by the caller cannot overwrite the next row.
func (p *parser) keep(cells []string) []string {
	n := len(cells)
	if cap(p.arena)-len(p.arena) < n {
		p.arena = make([]string, 0, max(4096, n))
	}
	start := len(p.arena)
	p.arena = append(p.arena, cells...)
	return p.arena[start : start+n : start+n]
}

// WriteCSV writes header (unless nil) and rows as CSV with CRLF line
// breaks, the way Excel writes it. With bom set it starts with a UTF-8 BOM,
// without which Excel on Chinese Windows takes the file for GBK and garbles
// it. Cells are written as they are: see the package comment for why a file
// meant for people is better written with [WriteXLSX].
func WriteCSV(w io.Writer, header []string, rows [][]string, bom bool) error {
	if bom {
		if _, err := w.Write(bomUTF8); err != nil {
			return err
		}
	}
	cw := csv.NewWriter(w)
	cw.UseCRLF = true
	if header != nil {
		if err := cw.Write(header); err != nil {
			return err
		}
	}
	if err := cw.WriteAll(rows); err != nil { // WriteAll flushes
		return err
	}
	return cw.Error()
}
