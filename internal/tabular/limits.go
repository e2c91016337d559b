package tabular

import (
	"archive/zip"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"
	"time"
	"unicode/utf8"
)

// The bounds on what an .xlsx may make of itself when read. A spreadsheet
// is a zip of XML; what it unzips to, and what excelize builds from that
// XML, can be far larger than the file (issue 11, finding 4: 402 KB that
// unzipped to 151 MB took 81 s and 260 MB). Each bound below is checked
// before the work it bounds, or while doing it, never after.
var (
	// unzipRatio bounds the unzipped size relative to the file. Worksheets
	// written by Excel or by this package unzip to 5 to 20 times the file;
	// a zip bomb to hundreds or thousands of times.
	unzipRatio int64 = 100
	// unzipFloor is the unzipped size always allowed, for small files.
	unzipFloor int64 = 16 << 20
	// unzipMax bounds the unzipped size whatever the file: about a full
	// sheet of Excel (1,048,576 rows) of short cells.
	unzipMax int64 = 512 << 20
	// partMax bounds each XML part other than worksheets and the shared
	// strings, which excelize reads whole into memory: styles, the
	// workbook, relationships.
	partMax int64 = 32 << 20
	// maxColumns bounds the header's width.
	maxColumns = 512
	// extraColumns is how many columns beyond the header a row may reach.
	extraColumns = 64
	// maxCells bounds rows × columns (the header's width, at least one).
	maxCells = 20_000_000
	// maxText bounds the text of all cells together, which shared strings
	// (each reference a copy) can make larger than the file.
	maxText = 1 << 30
	// maxCellRunes is Excel's limit on a cell's text, 32,767 characters;
	// a longer shared string is not from Excel.
	maxCellRunes = 32767
)

const (
	msgXLSXTooLarge = "Excel 文件解压后太大（超过 %s，是文件本身的 %d 倍以上），可能是恶意构造的压缩包；请检查文件，或拆分后再上传"
	msgXLSXPart     = "Excel 文件中的 %s 解压后太大（超过 %s），可能是恶意构造的文件"
	msgXLSXSize     = "Excel 文件中的 %s 实际大小与声明不符，文件已损坏或被篡改"
	msgLongText     = "Excel 文件中有超过 32767 个字符的文本（Excel 单元格的上限），文件可能被篡改"
	msgWideHeader   = "表头有 %d 列，超过上限 %d 列；请删除多余的列后再上传"
	msgWideRow      = "这一行有内容的单元格到 %s 列，超出表头（%d 列）太远；请删除表头以外的内容后再上传"
	msgTooManyCells = "Excel 工作表太大（超过 %d 万个单元格），请拆分后再上传"
	msgTooMuchText  = "Excel 工作表的文字太多（超过 %s），请拆分后再上传"
	msgBusy         = "服务器正在处理其他导入文件，请稍后再试"
)

// unzipLimit is how large an .xlsx of size bytes may grow when unzipped.
func unzipLimit(size int64) int64 {
	return min(max(size*unzipRatio, unzipFloor), unzipMax)
}

// checkZip checks an .xlsx before excelize opens it: the sizes its entries
// declare, then the sizes they really inflate to, reading each only up to
// what is left of the limit, so a lying header costs no more than an
// honest one. It checks the shared strings on the way (maxCellRunes).
func checkZip(zr *zip.Reader, limit int64) error {
	var declared uint64
	for _, f := range zr.File {
		declared += f.UncompressedSize64
		if declared > uint64(limit) {
			return &Error{Message: fmt.Sprintf(msgXLSXTooLarge, formatSize(limit), unzipRatio)}
		}
	}
	left := limit
	for _, f := range zr.File {
		if f.FileInfo().IsDir() {
			continue
		}
		name := strings.ToLower(strings.ReplaceAll(f.Name, `\`, "/"))
		budget := left
		sheet := strings.HasPrefix(name, "xl/worksheets/sheet")
		shared := name == "xl/sharedstrings.xml"
		if !sheet && !shared && (path.Ext(name) == ".xml" || path.Ext(name) == ".rels") {
			budget = min(budget, partMax)
		}
		rc, err := f.Open()
		if err != nil {
			return &Error{Message: msgBadXLSX, Err: err}
		}
		lr := &io.LimitedReader{R: rc, N: budget + 1}
		if shared {
			err = checkSharedStrings(lr)
		} else {
			_, err = io.Copy(io.Discard, lr)
		}
		rc.Close()
		n := budget + 1 - lr.N
		switch {
		case n > budget && budget < left:
			return &Error{Message: fmt.Sprintf(msgXLSXPart, f.Name, formatSize(budget))}
		case n > budget:
			return &Error{Message: fmt.Sprintf(msgXLSXTooLarge, formatSize(limit), unzipRatio)}
		case errors.Is(err, zip.ErrFormat) || errors.Is(err, zip.ErrChecksum):
			return &Error{Message: fmt.Sprintf(msgXLSXSize, f.Name), Err: err}
		case err != nil:
			var e *Error
			if errors.As(err, &e) {
				return e
			}
			return &Error{Message: msgBadXLSX, Err: err}
		}
		left -= n
	}
	return nil
}

// checkSharedStrings reads the shared strings table and fails on an item
// longer than Excel allows. Malformed XML is left to excelize to report.
func checkSharedStrings(r io.Reader) error {
	d := xml.NewDecoder(r)
	runes, inText := 0, false
	for {
		tok, err := d.RawToken()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			var se *xml.SyntaxError
			if errors.As(err, &se) {
				_, err = io.Copy(io.Discard, r) // count the rest; excelize reports the syntax
			}
			return err
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			switch tok.Name.Local {
			case "si":
				runes = 0
			case "t":
				inText = true
			}
		case xml.EndElement:
			if tok.Name.Local == "t" {
				inText = false
			}
		case xml.CharData:
			if inText {
				if runes += utf8.RuneCount(tok); runes > maxCellRunes {
					return &Error{Message: msgLongText}
				}
			}
		}
	}
}

// readSlots bounds how many files Read decodes at once: each may take
// hundreds of megabytes and a core while it runs. Two, for the small
// servers this runs on; an import beyond them waits up to readWait.
var readSlots = make(chan struct{}, 2)

// readWait is how long Read waits for a slot before giving up.
var readWait = 30 * time.Second

// acquire takes a slot of readSlots, or fails after readWait.
func acquire() (release func(), err error) {
	t := time.NewTimer(readWait)
	defer t.Stop()
	select {
	case readSlots <- struct{}{}:
		return func() { <-readSlots }, nil
	case <-t.C:
		return nil, &Error{Message: msgBusy}
	}
}
