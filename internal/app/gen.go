package app

import (
	"context"
	"fmt"
	"io"
	"time"

	"minzheng/internal/auth"
	"minzheng/internal/division"
	"minzheng/internal/gen"
	"minzheng/internal/jobs"
	"minzheng/internal/registry"
)

// GenStats reports a synthetic-city run.
type GenStats struct {
	Persons          int64   `json:"persons"`
	Households       int64   `json:"households"`
	Seconds          float64 `json:"seconds"`
	PersonsPerSecond float64 `json:"persons_per_second"`
}

// Generate writes a deterministic synthetic population of about persons
// people into the register, streaming, with a progress line on progress.
func (a *App) Generate(ctx context.Context, persons, seed int64, progress io.Writer) (GenStats, error) {
	var committees []gen.Division
	for _, d := range a.Divisions.Tree.All() {
		if d.Level == division.Committee {
			committees = append(committees, gen.Division{Code: d.Code})
		}
	}
	cfg := gen.Config{Persons: persons, Seed: seed, AsOf: a.Now(), Committees: committees}
	if err := cfg.Validate(); err != nil {
		return GenStats{}, err
	}
	g := gen.New(cfg)
	sys := auth.System()
	l, err := a.Registry.NewLoader(ctx, sys)
	if err != nil {
		return GenStats{}, err
	}
	start := time.Now()
	last := start
	var st GenStats
	members := make([]registry.Person, 0, 8)
	numbers := make([]string, 0, 8)
	for {
		h, ps, ok := g.Next()
		if !ok {
			break
		}
		if err := ctx.Err(); err != nil {
			return st, err
		}
		members, numbers = members[:0], numbers[:0]
		for _, p := range ps {
			rp := registry.Person{Relation: registry.Relation(p.Relation), Name: p.Name, BirthDate: p.BirthDate.Format("2006-01-02"), Sex: p.Sex,
				HukouDivision: p.HukouDivision, ResidenceDivision: p.ResidenceDivision, MonthlyIncome: p.MonthlyIncome,
				DisabilityCategory: p.DisabilityCategory, DisabilityGrade: p.DisabilityGrade, LivesAlone: p.LivesAlone, WeakGuardianship: p.WeakGuardianship}
			if p.DeathDate != nil {
				rp.DeathDate = p.DeathDate.Format("2006-01-02")
			}
			members = append(members, rp)
			numbers = append(numbers, p.IDNumber)
		}
		if _, err := l.Add(registry.Household{HukouDivision: h.HukouDivision, ResidenceDivision: h.ResidenceDivision, Address: h.Address}, members, numbers); err != nil {
			return st, err
		}
		st.Households++
		st.Persons += int64(len(ps))
		if now := time.Now(); now.Sub(last) > 500*time.Millisecond {
			last = now
			rate := float64(st.Persons) / now.Sub(start).Seconds()
			fmt.Fprintf(progress, "\r生成中：%s [%d/%d 人] %.0f 人/秒   ", jobs.Bar(st.Persons, persons), st.Persons, persons, rate)
		}
	}
	if err := l.Close(fmt.Sprintf("合成人口（种子 %d）", seed)); err != nil {
		return st, err
	}
	st.Seconds = time.Since(start).Seconds()
	st.PersonsPerSecond = float64(st.Persons) / st.Seconds
	fmt.Fprintf(progress, "\r生成完成：%s [%d 人，%d 户] 用时 %.1f 秒，%.0f 人/秒\n", jobs.Bar(1, 1), st.Persons, st.Households, st.Seconds, st.PersonsPerSecond)
	return st, nil
}
