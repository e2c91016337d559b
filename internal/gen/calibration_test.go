package gen

import "testing"

// TestCalibration checks the headline distributions of CALIBRATION.md on
// 200,000 persons; run with -v to see all figures.
func TestCalibration(t *testing.T) {
	cfg := Config{Persons: 200000, Seed: 7, Committees: testCommittees()}
	hs, ps := collect(t, cfg)
	s := computeStats(hs, ps, DefaultAsOf)
	t.Log("\n" + s.String())

	checks := []struct {
		name     string
		got      float64
		lo, hi   float64
		calibred string
	}{
		{"60+ among Shanghai hukou, %", pct(s.age60, s.localAlive), 35.4, 39.4, "37.4% (2023)"},
		{"65+ among Shanghai hukou, %", pct(s.age65, s.localAlive), 27.3, 30.3, "28.8% (2023)"},
		{"80+ among Shanghai hukou, %", pct(s.age80, s.localAlive), 4.6, 6.2, "5.4% (2023)"},
		{"men among 60+, %", pct(s.male60, s.age60), 46.4, 49.4, "47.9% (2023)"},
		{"average household size", float64(s.persons) / float64(s.households), 2.35, 2.65, "≈ 2.5"},
		{"人户分离 among Shanghai hukou, %", pct(s.separated, s.localAlive), 30, 40, "30–40%"},
		{"elders living alone among 60+, %", pct(s.eldersAlone, s.elders), 4.9, 6.9, "5.9% (2023)"},
		{"households below the 低保 standard (1,650 at AsOf) per head, %", pct(s.lowHouseholds, s.incomeHH), 1.0, 1.5, "1–1.5%"},
		{"households below 1,595 per head, %", pct(s.below1595, s.incomeHH), 1.0, 1.5, "1–1.5%"},
		{"certified disabled, %", pct(s.disabled, s.persons), 2.1, 2.7, "2.4%"},
		{"deaths in the last year among Shanghai hukou, %", pct(s.deadLocal, s.local), 0.8, 1.2, "≈ 1.0%"},
		{"non-Shanghai hukou, %", pct(s.nonLocal, s.persons), 8.5, 11.5, "≈ 10%"},
		{"浦东 share of Shanghai hukou, %", pct(s.hukouDistrict["310115"], s.localAlive), 21, 25, "22.8% (2020 census)"},
		{"median wage 25–49", float64(median(s.wages)), 6500, 8500, "7,000–8,000"},
		{"median pension 60+", float64(median(s.pensions)), 4000, 5000, "≈ 4,500"},
	}
	for _, c := range checks {
		if c.got < c.lo || c.got > c.hi {
			t.Errorf("%s = %.2f, want %.2f–%.2f (calibrated to %s)", c.name, c.got, c.lo, c.hi, c.calibred)
		}
	}
	for k := 1; k <= 6; k++ {
		if s.sizes[k] == 0 {
			t.Errorf("no household of %d members", k)
		}
	}
	for g := 1; g <= 4; g++ {
		if share := pct(s.grades[g], s.disabled); share < 8 || share > 45 {
			t.Errorf("disability grade %d is %.1f%% of the disabled", g, share)
		}
	}
}
