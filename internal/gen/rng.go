package gen

import "math"

// rng is a SplitMix64 generator: tiny, fast, and good enough for synthetic
// data. Each household gets its own rng seeded from (Seed, household index),
// which is what makes households independent of each other.
type rng struct{ s uint64 }

// mix is the SplitMix64 finaliser, a bijective 64-bit hash.
func mix(z uint64) uint64 {
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// householdRNG returns the random stream of household i under seed.
func householdRNG(seed int64, i int64) rng {
	return rng{s: mix(uint64(seed)^0x5851f42d4c957f2d) ^ mix(uint64(i)*0x9e3779b97f4a7c15+1)}
}

func (r *rng) next() uint64 {
	r.s += 0x9e3779b97f4a7c15
	return mix(r.s)
}

// float returns a uniform float64 in [0, 1).
func (r *rng) float() float64 { return float64(r.next()>>11) * (1.0 / (1 << 53)) }

// intn returns a uniform int in [0, n); n must be in (0, 2^32).
func (r *rng) intn(n int) int { return int(((r.next() >> 32) * uint64(n)) >> 32) }

// between returns a uniform int in [lo, hi].
func (r *rng) between(lo, hi int) int { return lo + r.intn(hi-lo+1) }

// chance reports true with probability p.
func (r *rng) chance(p float64) bool { return r.float() < p }

// normalTable holds standard normal quantiles at (i+0.5)/len: drawing
// from it is much faster than Box–Muller, and a 4096-step approximation
// (tails cut at ±3.7) is more than fine for synthetic data.
var normalTable = func() (t [4096]float64) {
	for i := range t {
		p := (float64(i) + 0.5) / float64(len(t))
		t[i] = math.Sqrt2 * math.Erfinv(2*p-1)
	}
	return t
}()

// normal returns an (approximately) standard normal variate.
func (r *rng) normal() float64 { return normalTable[r.next()>>52] }

// logNormal returns a log-normal variate with the given median and sigma.
func (r *rng) logNormal(median, sigma float64) float64 {
	return median * math.Exp(sigma*r.normal())
}

// weighted draws an index with probability proportional to a weight, in
// constant time (Walker's alias method).
type weighted struct {
	prob  []float64 // chance of keeping column i
	alias []int32   // the other index in column i
}

// newWeighted builds a table from (not necessarily normalised) weights.
func newWeighted(w []float64) weighted {
	n := len(w)
	sum := 0.0
	for _, x := range w {
		sum += x
	}
	t := weighted{prob: make([]float64, n), alias: make([]int32, n)}
	scaled := make([]float64, n)
	var small, large []int
	for i, x := range w {
		scaled[i] = x * float64(n) / sum
		t.alias[i] = int32(i)
		if scaled[i] < 1 {
			small = append(small, i)
		} else {
			large = append(large, i)
		}
	}
	for len(small) > 0 && len(large) > 0 {
		s, l := small[len(small)-1], large[len(large)-1]
		small = small[:len(small)-1]
		t.prob[s] = scaled[s]
		t.alias[s] = int32(l)
		scaled[l] -= 1 - scaled[s]
		if scaled[l] < 1 {
			large = large[:len(large)-1]
			small = append(small, l)
		}
	}
	for _, i := range large {
		t.prob[i] = 1
	}
	for _, i := range small { // rounding leftovers
		t.prob[i] = 1
	}
	return t
}

// draw returns an index with probability proportional to its weight.
func (t weighted) draw(r *rng) int {
	x := r.next()
	i := int(((x >> 32) * uint64(len(t.prob))) >> 32)
	if float64(uint32(x))*(1.0/(1<<32)) < t.prob[i] {
		return i
	}
	return int(t.alias[i])
}

// ageBands is a piecewise-uniform age distribution: band i covers ages
// [lo[i], hi[i]] with weight w[i].
type ageBands struct {
	lo, hi []int
	cum    weighted
}

// bands builds ageBands from triples {lo, hi, weight}.
func bands(t ...[3]float64) ageBands {
	var b ageBands
	w := make([]float64, len(t))
	for i, x := range t {
		b.lo = append(b.lo, int(x[0]))
		b.hi = append(b.hi, int(x[1]))
		w[i] = x[2]
	}
	b.cum = newWeighted(w)
	return b
}

// draw returns an age in completed years.
func (b *ageBands) draw(r *rng) int {
	i := b.cum.draw(r)
	return r.between(b.lo[i], b.hi[i])
}
