// Package gen generates a deterministic, streaming synthetic population of
// Shanghai households (户) and their members, for demos, tests and
// benchmarks.
//
// The population stands for the city's registered (户籍) households: every
// household has a head with Shanghai hukou, and some members (mostly spouses
// and children-in-law from other provinces) do not. Ages, household types,
// 人户分离 (living away from the registered address), incomes, disability,
// deaths within the last year and elders living alone (独居) are drawn from
// distributions calibrated to published Shanghai figures; CALIBRATION.md in
// this folder lists each distribution, the figure it is calibrated to and
// its source.
//
// A Generator yields one household at a time, so 25 million persons can be
// streamed into a database without holding them in memory:
//
//	g := gen.New(gen.Config{Persons: 20000, Seed: 1, Committees: committees})
//	for {
//		hh, members, ok := g.Next()
//		if !ok {
//			break
//		}
//		// store hh and members; members is reused by the next call
//	}
//
// The same Config always yields the same sequence. Household i is drawn
// from a random stream derived from Config.Seed and i alone, so the first
// households are the same whatever Config.Persons is. The one piece of
// state carried from household to household makes ID numbers unique: a
// counter per (region code, age, sex) that hands out birth dates and
// sequence codes without repeats (see idRegistry in idnum.go). So
// household i cannot be generated without households 1..i-1, but a prefix
// never changes.
package gen
