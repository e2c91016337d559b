package gen

import (
	"fmt"
	"testing"
)

func TestZZSample(t *testing.T) {
	g := New(Config{Persons: 60, Seed: 1, Committees: testCommittees()})
	for {
		h, ms, ok := g.Next()
		if !ok {
			break
		}
		fmt.Printf("户 %d hukou %s res %s %s\n", h.Seq, h.HukouDivision, h.ResidenceDivision, h.Address)
		for _, p := range ms {
			d := ""
			if p.DeathDate != nil {
				d = "died " + p.DeathDate.Format("2006-01-02")
			}
			fmt.Printf("   %-10s %-4s %s %s %s sh=%v res=%s inc=%d dis=%s%d alone=%v %s\n", p.Relation, p.Name, p.IDNumber, p.Sex, p.BirthDate.Format("2006-01-02"), p.ShanghaiHukou, p.ResidenceDivision, p.MonthlyIncome, p.DisabilityCategory, p.DisabilityGrade, p.LivesAlone, d)
		}
	}
}
