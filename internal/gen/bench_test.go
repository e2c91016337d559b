package gen

import "testing"

// BenchmarkGenerate measures the generator alone, one person per b.N.
func BenchmarkGenerate(b *testing.B) {
	g := New(Config{Persons: int64(b.N), Seed: 1, Committees: testCommittees()})
	b.ReportAllocs()
	b.ResetTimer()
	n := 0
	for {
		_, ms, ok := g.Next()
		if !ok {
			break
		}
		n += len(ms)
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "persons/s")
}
