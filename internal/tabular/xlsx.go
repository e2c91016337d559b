package tabular

import (
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"
	"golang.org/x/text/width"
)

const (
	msgBadXLSX     = "文件不是有效的 Excel（.xlsx）文件，可能已损坏，或只是把扩展名改成了 .xlsx"
	msgNoSheet     = "Excel 文件中没有工作表"
	msgTooManyRows = "Excel 工作表的行号超出范围"
)

// readXLSX reads the first sheet of an .xlsx file within the bounds of
// limits.go.
func readXLSX(data []byte) (t *Table, err error) {
	// excelize parses what the user uploaded; a panic on a crafted file
	// must not take the server down.
	defer func() {
		if r := recover(); r != nil {
			t, err = nil, &Error{Message: msgBadXLSX, Err: fmt.Errorf("excelize panic: %v", r)}
		}
	}()
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, &Error{Message: msgBadXLSX, Err: err}
	}
	unzip := unzipLimit(int64(len(data)))
	if err := checkZip(zr, unzip); err != nil {
		return nil, err
	}
	f, err := excelize.OpenReader(bytes.NewReader(data), excelize.Options{
		UnzipSizeLimit: unzip,
		// Excel stores dates as day numbers shown through a number format.
		// Its default date format (14) follows the reader's locale, which
		// excelize would render as 07-01-24; pin it to ISO instead. The
		// Chinese locale gives the built-in formats 27 to 36 and 50 to 58
		// their 2024年7月1日 meaning.
		ShortDatePattern: "yyyy-mm-dd",
		CultureInfo:      excelize.CultureNameZhCN,
	})
	if err != nil {
		return nil, &Error{Message: msgBadXLSX, Err: err}
	}
	defer f.Close() // removes the temporary files of large sheets
	sheets := f.GetSheetList()
	if len(sheets) == 0 {
		return nil, &Error{Message: msgNoSheet}
	}
	rows, err := f.Rows(sheets[0])
	if err != nil {
		return nil, &Error{Message: msgBadXLSX, Err: err}
	}
	defer rows.Close()
	t = &Table{}
	var cells, text int
	var negative []cellRef // cells a date format turned negative
	// Next yields every row number up to the last row, including those
	// absent from the file, for which Columns returns nothing; counting
	// the calls gives the row number Excel shows.
	for n := 1; rows.Next(); n++ {
		row, err := rows.Columns()
		if err != nil {
			return nil, lineError(n, 0, msgBadXLSX, err)
		}
		row = dropTrailingEmpty(row)
		if len(row) == 0 {
			continue
		}
		// The header, read first, sets how wide a row may be.
		if t.Header == nil && len(row) > maxColumns {
			return nil, lineError(n, 0, fmt.Sprintf(msgWideHeader, len(row), maxColumns), nil)
		}
		if t.Header != nil && len(row) > len(t.Header)+extraColumns {
			return nil, lineError(n, len(row), fmt.Sprintf(msgWideRow, columnLetter(len(row)-1), len(t.Header)), nil)
		}
		for i, c := range row {
			row[i] = trimCell(c)
			text += len(row[i])
			if isNegativeDate(row[i]) {
				negative = append(negative, cellRef{n, len(t.Rows), i})
			}
		}
		row = dropTrailingEmpty(row)
		if len(row) == 0 {
			continue
		}
		if cells += max(len(t.Header), len(row)); cells > maxCells {
			return nil, &Error{Message: fmt.Sprintf(msgTooManyCells, maxCells/10000)}
		}
		if text > maxText {
			return nil, &Error{Message: fmt.Sprintf(msgTooMuchText, formatSize(int64(maxText)))}
		}
		if t.Header == nil {
			t.Header, t.HeaderLine = row, n
			negative = negative[:0]
			continue
		}
		t.Rows = append(t.Rows, Row{Line: n, Cells: row})
	}
	if err := rows.Error(); err != nil {
		if errors.Is(err, excelize.ErrMaxRows) {
			return nil, &Error{Message: msgTooManyRows, Err: err}
		}
		return nil, &Error{Message: msgBadXLSX, Err: err}
	}
	if t.Header == nil {
		return nil, &Error{Message: msgEmpty}
	}
	if len(negative) > 0 {
		if err := rawValues(f, sheets[0], t, negative); err != nil {
			return nil, err
		}
	}
	return t, nil
}

// cellRef is a data cell: its line, its index in Table.Rows, its column.
type cellRef struct{ line, row, col int }

// isNegativeDate reports whether s looks like a date or time with a minus
// sign in front, as excelize renders a number too large for a date format
// (its day count overflows an int): 99999999999999999999 in a date column
// came out as -4713-11-24, and in an [h]:mm column as -2562048:00:00.
func isNegativeDate(s string) bool {
	if len(s) < 3 || s[0] != '-' || s[1] < '0' || s[1] > '9' {
		return false
	}
	return strings.ContainsAny(s[2:], "-/:年月日")
}

// rawValues reads the sheet again for the cells at refs, unformatted, and
// puts back the number where a date format made it negative.
func rawValues(f *excelize.File, sheet string, t *Table, refs []cellRef) error {
	rows, err := f.Rows(sheet)
	if err != nil {
		return &Error{Message: msgBadXLSX, Err: err}
	}
	defer rows.Close()
	for n := 1; rows.Next() && len(refs) > 0; n++ {
		if refs[0].line != n {
			continue
		}
		raw, err := rows.Columns(excelize.Options{RawCellValue: true})
		if err != nil {
			return lineError(n, 0, msgBadXLSX, err)
		}
		for len(refs) > 0 && refs[0].line == n {
			r := refs[0]
			refs = refs[1:]
			if r.col < len(raw) {
				if v, err := strconv.ParseFloat(strings.TrimSpace(raw[r.col]), 64); err == nil && v >= 0 {
					t.Rows[r.row].Cells[r.col] = strings.TrimSpace(raw[r.col])
				}
			}
		}
	}
	return rows.Error()
}

// sampleRows is how many rows XLSXWriter looks at to size the columns.
const sampleRows = 100

// Column widths in Excel's unit, the width of a digit.
const (
	minColWidth = 6
	maxColWidth = 50
)

// XLSXWriter writes a list to an .xlsx file row by row, for lists too long
// to build as [][]string: excelize spills the rows to a temporary file. Like
// [WriteXLSX] it writes a bold header, freezes it, sizes the columns (from
// the first 100 rows) and stores every cell as text, with a "'" in front of
// text a spreadsheet would take for a formula ([EscapeFormula]). Nothing
// reaches w before Close.
type XLSXWriter struct {
	w       io.Writer
	f       *excelize.File
	sw      *excelize.StreamWriter
	header  []string
	pending [][]string // rows held back until the columns are sized
	sample  int        // how many rows to hold back
	started bool       // columns sized, header written
	row     int        // the last row number written
	text    int        // style of data cells
	bold    int        // style of the header
	values  []any      // reused by writeRow
	err     error      // sticky
	closed  bool
}

// NewXLSXWriter returns a writer of a single-sheet workbook to w. The sheet
// name is made valid for Excel: characters it forbids become "_" and it is
// cut to 31 characters. header may be nil for a sheet without one.
func NewXLSXWriter(w io.Writer, sheet string, header []string) (*XLSXWriter, error) {
	return newXLSXWriter(w, sheet, header, sampleRows)
}

func newXLSXWriter(w io.Writer, sheet string, header []string, sample int) (*XLSXWriter, error) {
	x := &XLSXWriter{w: w, f: excelize.NewFile(), header: slices.Clone(header), sample: sample}
	if err := x.init(sheetName(sheet)); err != nil {
		_ = x.f.Close()
		return nil, fmt.Errorf("tabular: new xlsx writer: %w", err)
	}
	return x, nil
}

func (x *XLSXWriter) init(sheet string) error {
	if err := x.f.SetSheetName(x.f.GetSheetName(0), sheet); err != nil {
		return err
	}
	var err error
	// Number format 49 is "@", text: what the user types into these
	// columns later stays text too.
	if x.text, err = x.f.NewStyle(&excelize.Style{NumFmt: 49}); err != nil {
		return err
	}
	if x.bold, err = x.f.NewStyle(&excelize.Style{NumFmt: 49, Font: &excelize.Font{Bold: true}}); err != nil {
		return err
	}
	x.sw, err = x.f.NewStreamWriter(sheet)
	return err
}

// Write adds a row. Cells beyond the header are written too. The writer
// does not keep row.
func (x *XLSXWriter) Write(row []string) error {
	switch {
	case x.err != nil:
		return x.err
	case x.closed:
		return errors.New("tabular: write to closed xlsx writer")
	case !x.started:
		x.pending = append(x.pending, slices.Clone(row))
		if len(x.pending) >= x.sample {
			x.err = x.start()
		}
	default:
		x.err = x.writeRow(row)
	}
	return x.err
}

// start sizes the columns from the header and the pending rows, which
// excelize needs before the first row, then writes them.
func (x *XLSXWriter) start() error {
	x.started = true
	widths := make([]int, len(x.header))
	measure := func(cells []string) {
		for i, c := range cells {
			if i == len(widths) {
				widths = append(widths, 0)
			}
			widths[i] = max(widths[i], displayWidth(c))
		}
	}
	measure(x.header)
	for _, r := range x.pending {
		measure(r)
	}
	if len(widths) > excelize.MaxColumns {
		return fmt.Errorf("tabular: %d columns, more than Excel's %d", len(widths), excelize.MaxColumns)
	}
	for i, w := range widths {
		// +2 leaves room for the bold header and the filter button
		// users often add.
		w = min(max(w+2, minColWidth), maxColWidth)
		if err := x.sw.SetColWidth(i+1, i+1, float64(w)); err != nil {
			return err
		}
	}
	if len(widths) > 0 {
		if err := x.sw.SetColStyle(1, len(widths), x.text); err != nil {
			return err
		}
	}
	if len(x.header) > 0 {
		if err := x.sw.SetPanes(&excelize.Panes{
			Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft",
		}); err != nil {
			return err
		}
		cells := make([]any, len(x.header))
		for i, h := range x.header {
			cells[i] = excelize.Cell{StyleID: x.bold, Value: EscapeFormula(h)}
		}
		if err := x.sw.SetRow("A1", cells); err != nil {
			return err
		}
		x.row = 1
	}
	pending := x.pending
	x.pending = nil
	for _, r := range pending {
		if err := x.writeRow(r); err != nil {
			return err
		}
	}
	return nil
}

func (x *XLSXWriter) writeRow(row []string) error {
	if x.row >= excelize.TotalRows {
		return fmt.Errorf("tabular: more than %d rows, Excel's limit for a sheet", excelize.TotalRows)
	}
	x.values = x.values[:0]
	for _, c := range row {
		if c == "" {
			x.values = append(x.values, nil) // no cell at all
			continue
		}
		x.values = append(x.values, EscapeFormula(c))
	}
	cell, err := excelize.CoordinatesToCellName(1, x.row+1)
	if err != nil {
		return err
	}
	if err := x.sw.SetRow(cell, x.values); err != nil {
		return err
	}
	x.row++
	return nil
}

// Close writes the workbook to w and removes the temporary files. It does
// not close w.
func (x *XLSXWriter) Close() error {
	if x.closed {
		return x.err
	}
	x.closed = true
	if x.err == nil && !x.started {
		x.err = x.start()
	}
	if x.err == nil {
		x.err = x.sw.Flush()
	}
	if x.err == nil {
		_, x.err = x.f.WriteTo(x.w)
	}
	if err := x.f.Close(); x.err == nil {
		x.err = err
	}
	if x.err != nil {
		x.err = fmt.Errorf("tabular: write xlsx: %w", x.err)
	}
	return x.err
}

// WriteXLSX writes header and rows as a single-sheet workbook to w: bold
// header row, frozen so it stays in view, columns sized to their content,
// and every cell stored as text, so that an 18-digit ID number is not shown
// as 3.10104E+17 and leading zeros stay; text that would be read as a formula
// gets a "'" in front ([EscapeFormula]). See [NewXLSXWriter] for the sheet
// name.
func WriteXLSX(w io.Writer, sheet string, header []string, rows [][]string) error {
	x, err := newXLSXWriter(w, sheet, header, len(rows)+1)
	if err != nil {
		return err
	}
	x.pending = rows // read, never modified
	return x.Close()
}

// sheetName makes s a valid Excel sheet name.
func sheetName(s string) string {
	s = strings.Map(func(r rune) rune {
		if strings.ContainsRune(`[]:*?/\`, r) || r < ' ' {
			return '_'
		}
		return r
	}, strings.TrimSpace(s))
	if utf8.RuneCountInString(s) > 31 {
		s = string([]rune(s)[:31])
	}
	s = strings.Trim(s, "'") // Excel forbids a leading or trailing apostrophe
	if s == "" {
		return "Sheet1"
	}
	return s
}

// displayWidth approximates the width of s in Excel's unit, the width of a
// digit: a Chinese character takes two. For a cell with line breaks it is
// the width of the longest line.
func displayWidth(s string) int {
	widest, n := 0, 0
	for _, r := range s {
		switch {
		case r == '\n':
			n = 0
			continue
		case width.LookupRune(r).Kind() == width.EastAsianWide,
			width.LookupRune(r).Kind() == width.EastAsianFullwidth:
			n += 2
		default:
			n++
		}
		widest = max(widest, n)
		if widest >= maxColWidth {
			break
		}
	}
	return widest
}
