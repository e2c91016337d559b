package tabular

import (
	"bytes"
	"fmt"
	"testing"

	"golang.org/x/text/encoding/simplifiedchinese"
)

// peopleFile returns a CSV of n people: name, ID number, birth date.
func peopleFile(n int) []byte {
	var b bytes.Buffer
	b.WriteString("姓名,身份证号,出生日期\r\n")
	names := []string{"张三", "李四", "欧阳娜娜", "王五"}
	for i := range n {
		fmt.Fprintf(&b, "%s,3101041980%08d,19%02d-%02d-%02d\r\n", names[i%len(names)], i, i%100, i%12+1, i%28+1)
	}
	return b.Bytes()
}

func benchmarkRead(b *testing.B, data []byte, name string, rows int) {
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		t, err := Read(bytes.NewReader(data), name, 0)
		if err != nil {
			b.Fatal(err)
		}
		if len(t.Rows) != rows {
			b.Fatalf("read %d rows, want %d", len(t.Rows), rows)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(rows), "ns/row")
}

func BenchmarkReadCSV(b *testing.B) {
	const n = 1_000_000
	benchmarkRead(b, peopleFile(n), "a.csv", n)
}

func BenchmarkReadCSVGBK(b *testing.B) {
	const n = 1_000_000
	data, err := simplifiedchinese.GBK.NewEncoder().Bytes(peopleFile(n))
	if err != nil {
		b.Fatal(err)
	}
	benchmarkRead(b, data, "a.csv", n)
}

func BenchmarkReadXLSX(b *testing.B) {
	const n = 100_000
	t, err := Read(bytes.NewReader(peopleFile(n)), "a.csv", 0)
	if err != nil {
		b.Fatal(err)
	}
	rows := make([][]string, len(t.Rows))
	for i, r := range t.Rows {
		rows[i] = r.Cells
	}
	benchmarkRead(b, xlsxBytes(b, t.Header, rows), "a.xlsx", n)
}

func BenchmarkWriteXLSX(b *testing.B) {
	const n = 100_000
	t, err := Read(bytes.NewReader(peopleFile(n)), "a.csv", 0)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	var buf bytes.Buffer
	for b.Loop() {
		buf.Reset()
		w, err := NewXLSXWriter(&buf, "名单", t.Header)
		if err != nil {
			b.Fatal(err)
		}
		for _, r := range t.Rows {
			if err := w.Write(r.Cells); err != nil {
				b.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/row")
}
