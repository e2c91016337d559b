// Package pdfdoc writes simple PDF documents of Chinese text — decision
// letters, notices — without embedding a font: the text is set in the
// standard Chinese font STSong-Light (Adobe-GB1, encoding UniGB-UCS2-H),
// which PDF readers supply themselves. A CJK font embedded in the binary
// would weigh megabytes; the libraries at hand (fpdf, pdfcpu) need one for
// Chinese, so this ~150-line writer does the one thing needed.
package pdfdoc

import (
	"bytes"
	"fmt"
	"io"
	"unicode/utf16"
)

// A4 in points.
const (
	PageWidth  = 595.0
	PageHeight = 842.0
	margin     = 72.0
)

// Doc is a document being built, page by page, top to bottom.
type Doc struct {
	pages []*bytes.Buffer
	y     float64 // baseline of the next line on the current page
}

// New returns an empty document with one page.
func New() *Doc {
	d := &Doc{}
	d.newPage()
	return d
}

func (d *Doc) newPage() {
	d.pages = append(d.pages, &bytes.Buffer{})
	d.y = PageHeight - margin
}

// Line writes text at size points, wrapped to the page width (every
// character is taken as one em wide, which holds for Chinese and errs wide
// for Latin), centred if center. A new page starts when the page is full.
func (d *Doc) Line(text string, size float64, center bool) {
	width := PageWidth - 2*margin
	perLine := int(width / size)
	runes := []rune(text)
	if len(runes) == 0 {
		d.y -= size * 1.6
		return
	}
	for len(runes) > 0 {
		n := min(perLine, len(runes))
		part := runes[:n]
		runes = runes[n:]
		if d.y < margin {
			d.newPage()
		}
		x := margin
		if center {
			x = (PageWidth - float64(len(part))*size) / 2
		}
		fmt.Fprintf(d.pages[len(d.pages)-1], "BT /F1 %.1f Tf %.1f %.1f Td <%s> Tj ET\n", size, x, d.y, hexUTF16(string(part)))
		d.y -= size * 1.6
	}
}

// Space leaves points of blank space.
func (d *Doc) Space(points float64) { d.y -= points }

// hexUTF16 encodes s as big-endian UTF-16 in hex, the encoding UniGB-UCS2-H
// takes (characters outside the BMP become surrogate pairs, which it maps
// to nothing; letters of that plane do not occur in these documents).
func hexUTF16(s string) string {
	var b bytes.Buffer
	for _, u := range utf16.Encode([]rune(s)) {
		fmt.Fprintf(&b, "%04X", u)
	}
	return b.String()
}

// WriteTo writes the document as PDF 1.4.
func (d *Doc) WriteTo(w io.Writer) (int64, error) {
	var out bytes.Buffer
	var offsets []int
	obj := func(body string) {
		offsets = append(offsets, out.Len())
		fmt.Fprintf(&out, "%d 0 obj\n%s\nendobj\n", len(offsets), body)
	}
	out.WriteString("%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
	// 1 catalog, 2 pages, 3 font, 4 CID font, 5 descriptor, then page and
	// content pairs.
	n := len(d.pages)
	kids := ""
	for i := range n {
		kids += fmt.Sprintf("%d 0 R ", 6+2*i)
	}
	obj("<< /Type /Catalog /Pages 2 0 R >>")
	obj(fmt.Sprintf("<< /Type /Pages /Kids [%s] /Count %d >>", kids, n))
	obj("<< /Type /Font /Subtype /Type0 /BaseFont /STSong-Light /Encoding /UniGB-UCS2-H /DescendantFonts [4 0 R] >>")
	obj("<< /Type /Font /Subtype /CIDFontType0 /BaseFont /STSong-Light /CIDSystemInfo << /Registry (Adobe) /Ordering (GB1) /Supplement 2 >> /FontDescriptor 5 0 R /DW 1000 /W [1 95 500] >>")
	obj("<< /Type /FontDescriptor /FontName /STSong-Light /Flags 6 /FontBBox [-25 -254 1000 880] /ItalicAngle 0 /Ascent 880 /Descent -120 /CapHeight 880 /StemV 93 >>")
	for i, p := range d.pages {
		obj(fmt.Sprintf("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %.0f %.0f] /Resources << /Font << /F1 3 0 R >> >> /Contents %d 0 R >>", PageWidth, PageHeight, 7+2*i))
		obj(fmt.Sprintf("<< /Length %d >>\nstream\n%sendstream", p.Len(), p.String()))
	}
	xref := out.Len()
	fmt.Fprintf(&out, "xref\n0 %d\n0000000000 65535 f \n", len(offsets)+1)
	for _, o := range offsets {
		fmt.Fprintf(&out, "%010d 00000 n \n", o)
	}
	fmt.Fprintf(&out, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(offsets)+1, xref)
	k, err := w.Write(out.Bytes())
	return int64(k), err
}
