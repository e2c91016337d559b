package tabular

import (
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"
	"golang.org/x/text/width"
)

const (
	msgBadXLSX      = "文件不是有效的 Excel（.xlsx）文件，可能已损坏，或只是把扩展名改成了 .xlsx"
	msgXLSXTooLarge = "Excel 文件解压后太大（超过 %s），请拆分后再上传"
	msgNoSheet      = "Excel 文件中没有工作表"
	msgTooManyRows  = "Excel 工作表的行号超出范围"
)

// unzipRatio bounds how much larger than the limit on the file an .xlsx may
// grow when unzipped. Worksheet XML compresses well, some 10 to 30 times;
// a zip bomb compresses a thousand times.
const unzipRatio = 100

// readXLSX reads the first sheet of an .xlsx file.
func readXLSX(data []byte, limit int64) (t *Table, err error) {
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
	unzipLimit := int64(excelize.UnzipSizeLimit)
	if limit > 0 && limit <= unzipLimit/unzipRatio {
		unzipLimit = max(limit*unzipRatio, 64<<20)
	}
	var size uint64
	for _, f := range zr.File {
		size += f.UncompressedSize64
		if size > uint64(unzipLimit) {
			return nil, &Error{Message: fmt.Sprintf(msgXLSXTooLarge, formatSize(unzipLimit))}
		}
	}
	f, err := excelize.OpenReader(bytes.NewReader(data), excelize.Options{
		UnzipSizeLimit: unzipLimit,
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
	// Next yields every row number up to the last row, including those
	// absent from the file, for which Columns returns nothing; counting
	// the calls gives the row number Excel shows.
	for n := 1; rows.Next(); n++ {
		cells, err := rows.Columns()
		if err != nil {
			return nil, &Error{Line: n, Message: msgBadXLSX, Err: err}
		}
		for i, c := range cells {
			cells[i] = trimCell(c)
		}
		cells = dropTrailingEmpty(cells)
		if len(cells) == 0 {
			continue
		}
		if t.Header == nil {
			t.Header, t.HeaderLine = cells, n
			continue
		}
		t.Rows = append(t.Rows, Row{Line: n, Cells: cells})
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
	return t, nil
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
// the first 100 rows) and stores every cell as text. Nothing reaches w
// before Close.
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
			cells[i] = excelize.Cell{StyleID: x.bold, Value: h}
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
		x.values = append(x.values, c)
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
// as 3.10104E+17 and leading zeros stay. See [NewXLSXWriter] for the sheet
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
