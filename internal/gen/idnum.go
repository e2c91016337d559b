package gen

import (
	"fmt"
	"time"

	"minzheng/internal/idcard"
)

// Dates are handled as day numbers (days since 1970-01-01) because the
// generator makes millions of them; daysFromCivil and civilFromDays are
// Howard Hinnant's algorithms for the proleptic Gregorian calendar.

// daysFromCivil returns the day number of y-m-d.
func daysFromCivil(y, m, d int) int {
	if m <= 2 {
		y--
	}
	era := y / 400
	if y < 0 && y%400 != 0 {
		era = (y - 399) / 400
	}
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468
}

// civilFromDays returns the date of day number z.
func civilFromDays(z int) (y, m, d int) {
	z += 719468
	era := z / 146097
	if z < 0 && z%146097 != 0 {
		era = (z - 146096) / 146097
	}
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	y = yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d = doy - (153*mp+2)/5 + 1
	m = mp + 3
	if m > 12 {
		m -= 12
	}
	if m <= 2 {
		y++
	}
	return y, m, d
}

// dayTime returns midnight UTC of day number z.
func dayTime(z int) time.Time { return time.Unix(int64(z)*86400, 0).UTC() }

// maxAge is the oldest age the generator produces.
const maxAge = 104

// idRegistry chooses birth dates and ID-number sequence codes (positions
// 15–17) together, so that no two persons in a run share an ID number.
//
// An ID number is region + birth date + a 3-digit sequence code whose
// parity is the sex: for one (region, birth date, sex) there are 500 male
// codes (odd, 001–999) and 499 female codes (even, 002–998). Drawing date
// and code at random would collide early (birthday problem: in a large
// district dozens of people share each date), and remembering every ID
// handed out would take gigabytes at 25 million persons. Instead, the
// persons of one (region, age in years, sex) cell share a pool of
// days-in-that-year × codes slots (about 182,500), and the n-th person of
// the cell takes slot perm(n), where perm is a fixed affine permutation of
// the pool. Distinct n give distinct slots, so IDs are unique by
// construction; the permutation spreads birthdays evenly over the year and
// makes the codes look random. The only state is one counter per cell, a
// few kilobytes. A cell overflows only beyond ~182,000 persons of one sex
// and one age in one region (more than a 25-million run spread over the 16
// districts puts in one); its further persons are made one year older, and
// assign panics rather than repeat an ID when even the oldest cell is full
// (about 19 million persons of one sex in one region).
type idRegistry struct {
	codes  []string // region codes by index
	index  map[string]int
	counts [][]uint32 // [region][age*2+male]

	asOfY, asOfM, asOfD int
}

// idStride is the multiplier of the slot permutation: a prime that divides
// none of the pool sizes 365 or 366 days × 499 or 500 codes.
const idStride = 104729

func newIDRegistry(y, m, d int) *idRegistry {
	return &idRegistry{index: map[string]int{}, asOfY: y, asOfM: m, asOfD: d}
}

// region returns the index of a region code, adding it if new.
func (ir *idRegistry) region(code string) int {
	if i, ok := ir.index[code]; ok {
		return i
	}
	ir.index[code] = len(ir.codes)
	ir.codes = append(ir.codes, code)
	ir.counts = append(ir.counts, make([]uint32, (maxAge+2)*2))
	return len(ir.codes) - 1
}

// birthBound returns the last day of birth at which a person is age years
// old at AsOf: the AsOf calendar day, age years back.
func (ir *idRegistry) birthBound(age int) int {
	return daysFromCivil(ir.asOfY-age, ir.asOfM, ir.asOfD)
}

// assign returns the birth day and sequence code of the next person of
// region, aged age years at AsOf.
func (ir *idRegistry) assign(region, age int, male bool) (day, seq int) {
	sex, n := 0, 499 // female codes 2k+2, k in 0..498
	if male {
		sex, n = 1, 500 // male codes 2k+1, k in 0..499
	}
	for {
		hi := ir.birthBound(age)
		lo := ir.birthBound(age+1) + 1
		pool := (hi - lo + 1) * n
		cell := age*2 + sex
		c := &ir.counts[region][cell]
		if int(*c) < pool {
			start := int(mix(uint64(region)<<32|uint64(cell)) % uint64(pool))
			k := int((uint64(*c)*idStride + uint64(start)) % uint64(pool))
			*c++
			if male {
				return lo + k/n, 2*(k%n) + 1
			}
			return lo + k/n, 2*(k%n) + 2
		}
		if age++; age > maxAge+1 {
			panic(fmt.Sprintf("gen: no ID numbers left for region %s", ir.codes[region]))
		}
	}
}

// idNumber builds the 18-character ID number.
func idNumber(region string, y, m, d int, seq int) string {
	var b [18]byte
	copy(b[:6], region)
	b[6] = byte('0' + y/1000)
	b[7] = byte('0' + y/100%10)
	b[8] = byte('0' + y/10%10)
	b[9] = byte('0' + y%10)
	b[10] = byte('0' + m/10)
	b[11] = byte('0' + m%10)
	b[12] = byte('0' + d/10)
	b[13] = byte('0' + d%10)
	b[14] = byte('0' + seq/100)
	b[15] = byte('0' + seq/10%10)
	b[16] = byte('0' + seq%10)
	b[17] = idcard.CheckChar(string(b[:17]))
	return string(b[:])
}
