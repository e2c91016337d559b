package tabular

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"runtime"
	"strings"
	"testing"
	"time"
)

// The parts of a minimal workbook around its first sheet.
var bombParts = map[string]string{
	"[Content_Types].xml": `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/><Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>`,
	"_rels/.rels": `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>`,
	"xl/workbook.xml": `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>`,
	"xl/_rels/workbook.xml.rels": `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>`,
}

const (
	sheetStart = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>`
	sheetEnd = `</sheetData></worksheet>`
	header   = `<row r="1"><c r="A1" t="inlineStr"><is><t>姓名</t></is></c><c r="B1" t="inlineStr"><is><t>身份证号</t></is></c></row>`
)

// bomb returns a workbook whose sheet is written by sheet and whose shared
// strings are shared, compressed as hard as deflate can.
func bomb(t testing.TB, sheet func(w io.Writer), shared string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	zw.RegisterCompressor(zip.Deflate, func(w io.Writer) (io.WriteCloser, error) {
		return flate.NewWriter(w, flate.BestCompression)
	})
	add := func(name string, write func(io.Writer)) {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		write(w)
	}
	for name, content := range bombParts {
		add(name, func(w io.Writer) { io.WriteString(w, content) })
	}
	add("xl/sharedStrings.xml", func(w io.Writer) {
		io.WriteString(w, `<?xml version="1.0" encoding="UTF-8" standalone="yes"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">`+shared+`</sst>`)
	})
	add("xl/worksheets/sheet1.xml", func(w io.Writer) {
		io.WriteString(w, sheetStart+header)
		sheet(w)
		io.WriteString(w, sheetEnd)
	})
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// bounded reads data as an upload of at most 64 MB (the registry's limit)
// and fails unless Read refuses it with a message containing want, within
// a second and allocating less than 64 MB.
func bounded(t *testing.T, data []byte, want string) {
	t.Helper()
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	start := time.Now()
	_, err := Read(bytes.NewReader(data), "bomb.xlsx", 64<<20)
	took := time.Since(start)
	runtime.ReadMemStats(&after)
	alloc := after.TotalAlloc - before.TotalAlloc
	t.Logf("%d KB file: %v in %v, %d MB allocated", len(data)>>10, err, took, alloc>>20)
	var e *Error
	if !errors.As(err, &e) || !strings.Contains(e.Error(), want) {
		t.Errorf("Read = %v, want an *Error saying %q", err, want)
	}
	if took > time.Second {
		t.Errorf("took %v, want under a second", took)
	}
	if alloc > 64<<20 {
		t.Errorf("allocated %d MB, want under 64 MB", alloc>>20)
	}
}

// TestXLSXZipBomb: a small .xlsx that unzips to a huge sheet (issue 11,
// finding 4: 402 KB unzipping to 151 MB took 81 s and 260 MB) is refused
// fast and in bounded memory.
func TestXLSXZipBomb(t *testing.T) {
	row := strings.Repeat(`<row><c t="inlineStr"><is><t>张三</t></is></c><c t="inlineStr"><is><t>310104195001011234</t></is></c></row>`, 1000)
	data := bomb(t, func(w io.Writer) {
		for written := 0; written < 150<<20; written += len(row) {
			io.WriteString(w, row)
		}
	}, "")
	bounded(t, data, "解压后")
}

// TestXLSXWideRows: rows whose only cell sits in the last column (XFD) are
// cheap in the file but each made a 16,384-cell row in memory.
func TestXLSXWideRows(t *testing.T) {
	data := bomb(t, func(w io.Writer) {
		for n := 2; n < 5000; n++ {
			fmt.Fprintf(w, `<row r="%d"><c r="XFD%d"><v>1</v></c></row>`, n, n)
		}
	}, "")
	bounded(t, data, "第 2 行（XFD 列）")
}

// TestXLSXSharedStringBomb: one long shared string referenced by many
// cells, each reference a fresh copy.
func TestXLSXSharedStringBomb(t *testing.T) {
	shared := `<si><t>` + strings.Repeat("很长", 1<<20) + `</t></si>`
	data := bomb(t, func(w io.Writer) {
		for n := 2; n < 100; n++ {
			fmt.Fprintf(w, `<row r="%d"><c r="A%d" t="s"><v>0</v></c><c r="B%d" t="s"><v>0</v></c></row>`, n, n, n)
		}
	}, shared)
	bounded(t, data, "32767")
}

// TestXLSXLyingSizes: the sizes a zip declares are not believed; reading
// stops at the cap however small the entry claims to be.
func TestXLSXLyingSizes(t *testing.T) {
	var sheet bytes.Buffer
	sheet.WriteString(sheetStart + header)
	row := strings.Repeat(`<row><c t="inlineStr"><is><t>张三</t></is></c></row>`, 1000)
	for sheet.Len() < 64<<20 {
		sheet.WriteString(row)
	}
	sheet.WriteString(sheetEnd)
	var deflated bytes.Buffer
	fw, _ := flate.NewWriter(&deflated, flate.BestCompression)
	fw.Write(sheet.Bytes())
	fw.Close()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, content := range bombParts {
		w, _ := zw.Create(name)
		io.WriteString(w, content)
	}
	w, err := zw.CreateRaw(&zip.FileHeader{Name: "xl/worksheets/sheet1.xml", Method: zip.Deflate,
		CRC32: crc32.ChecksumIEEE(sheet.Bytes()), CompressedSize64: uint64(deflated.Len()), UncompressedSize64: 1000})
	if err != nil {
		t.Fatal(err)
	}
	w.Write(deflated.Bytes())
	zw.Close()
	sheet.Reset()
	bounded(t, buf.Bytes(), "Excel")
}

func TestXLSXLimits(t *testing.T) {
	wide := make([]string, maxColumns+1)
	for i := range wide {
		wide[i] = "列"
	}
	if _, err := Read(bytes.NewReader(xlsxBytes(t, wide, nil)), "a.xlsx", 0); err == nil || !strings.Contains(err.Error(), "表头有 513 列") {
		t.Errorf("wide header: %v", err)
	}
	far := make([]string, 2+extraColumns+1)
	far[len(far)-1] = "备注"
	if _, err := Read(bytes.NewReader(xlsxBytes(t, []string{"a", "b"}, [][]string{{"1", "2"}, far})), "a.xlsx", 0); err == nil || !strings.HasPrefix(err.Error(), "第 3 行（BO 列）：") {
		t.Errorf("row far beyond the header: %v", err)
	}
	near := make([]string, 2+extraColumns)
	near[len(near)-1] = "备注"
	if _, err := Read(bytes.NewReader(xlsxBytes(t, []string{"a", "b"}, [][]string{near})), "a.xlsx", 0); err != nil {
		t.Errorf("row just within the reach beyond the header: %v", err)
	}
	defer func(n int) { maxCells = n }(maxCells)
	maxCells = 100
	rows := make([][]string, 60)
	for i := range rows {
		rows[i] = []string{"1", "2"}
	}
	if _, err := Read(bytes.NewReader(xlsxBytes(t, []string{"a", "b"}, rows)), "a.xlsx", 0); err == nil || !strings.Contains(err.Error(), "单元格") {
		t.Errorf("too many cells: %v", err)
	}
	if _, err := Read(bytes.NewReader(xlsxBytes(t, []string{"a", "b"}, rows[:40])), "a.xlsx", 0); err != nil {
		t.Errorf("within the cells: %v", err)
	}
}

// TestReadSlots: a third file waits for one of the two being read, and
// gives up with a message after readWait.
func TestReadSlots(t *testing.T) {
	defer func(d time.Duration) { readWait = d }(readWait)
	readWait = 50 * time.Millisecond
	for range cap(readSlots) {
		readSlots <- struct{}{}
	}
	_, err := Read(strings.NewReader("a\n1\n"), "a.csv", 0)
	for range cap(readSlots) {
		<-readSlots
	}
	if err == nil || err.Error() != msgBusy {
		t.Fatalf("Read with every slot taken = %v", err)
	}
	if _, err := Read(strings.NewReader("a\n1\n"), "a.csv", 0); err != nil {
		t.Fatal(err)
	}
}
