package gen_test

import (
	"fmt"

	"minzheng/internal/gen"
)

func Example() {
	g := gen.New(gen.Config{
		Persons:    10,
		Seed:       1,
		Committees: []gen.Division{{Code: "310104003001"}, {Code: "310115004002"}},
	})
	for {
		hh, members, ok := g.Next()
		if !ok {
			break
		}
		fmt.Printf("household %d: %d members\n", hh.Seq, len(members))
	}
	fmt.Println("persons:", g.Persons())
	// Output:
	// household 1: 2 members
	// household 2: 6 members
	// household 3: 3 members
	// persons: 11
}
