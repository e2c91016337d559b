package pdfdoc_test

import (
	"bytes"
	"encoding/hex"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unicode/utf16"

	"minzheng/internal/pdfdoc"
)

// TestDocumentIsWellFormed writes a letter long enough for five pages and
// reads it back as a PDF reader would: the cross-reference table points at
// every object, stream lengths are right, and the text decodes to what was
// written.
func TestDocumentIsWellFormed(t *testing.T) {
	d := pdfdoc.New()
	d.Line("徐汇区民政局", 20, true)
	d.Line("社会救助批准决定书", 16, true)
	long := strings.Repeat("依据《上海市社会救助条例》，", 10)
	for range 40 {
		d.Line(long, 12, false)
	}
	d.Line("2025-08-01 ABC", 12, false)
	var out bytes.Buffer
	if _, err := d.WriteTo(&out); err != nil {
		t.Fatal(err)
	}
	pdf := out.Bytes()
	if !bytes.HasPrefix(pdf, []byte("%PDF-1.4\n")) || !bytes.HasSuffix(pdf, []byte("%%EOF\n")) {
		t.Fatalf("header or trailer missing")
	}
	m := regexp.MustCompile(`startxref\n(\d+)\n`).FindSubmatch(pdf)
	if m == nil {
		t.Fatal("no startxref")
	}
	xref, _ := strconv.Atoi(string(m[1]))
	if !bytes.HasPrefix(pdf[xref:], []byte("xref\n")) {
		t.Fatalf("startxref %d does not point at the xref table", xref)
	}
	entries := regexp.MustCompile(`(\d{10}) 00000 n `).FindAllSubmatch(pdf[xref:], -1)
	if len(entries) < 7 {
		t.Fatalf("%d objects", len(entries))
	}
	for i, e := range entries {
		off, _ := strconv.Atoi(string(e[1]))
		if want := strconv.Itoa(i+1) + " 0 obj"; !bytes.HasPrefix(pdf[off:], []byte(want)) {
			t.Errorf("object %d: offset %d points at %q", i+1, off, pdf[off:off+10])
		}
	}
	pages := regexp.MustCompile(`/Count (\d+)`).FindSubmatch(pdf)
	// 40 × 140 characters at 37 a line, 19.2 points a line, 698 points a page: 5 pages.
	if pages == nil || string(pages[1]) != "5" {
		t.Errorf("page count %s, want 5", pages)
	}
	for _, s := range regexp.MustCompile(`(?s)/Length (\d+) >>\nstream\n(.*?)endstream`).FindAllSubmatch(pdf, -1) {
		if n, _ := strconv.Atoi(string(s[1])); n != len(s[2]) {
			t.Errorf("stream /Length %d, holds %d bytes", n, len(s[2]))
		}
	}
	var text []string
	for _, h := range regexp.MustCompile(`<([0-9A-F]+)> Tj`).FindAllSubmatch(pdf, -1) {
		b, err := hex.DecodeString(string(h[1]))
		if err != nil || len(b)%2 != 0 {
			t.Fatalf("bad hex string %s", h[1])
		}
		u := make([]uint16, len(b)/2)
		for i := range u {
			u[i] = uint16(b[2*i])<<8 | uint16(b[2*i+1])
		}
		text = append(text, string(utf16.Decode(u)))
	}
	all := strings.Join(text, "")
	for _, want := range []string{"徐汇区民政局", "社会救助批准决定书", "2025-08-01 ABC", strings.Repeat(long, 40)} {
		if !strings.Contains(all, want) {
			t.Errorf("text %q not in the document", want)
		}
	}
}
