package module_test

import (
	"slices"
	"testing"

	"minzheng/internal/auth"
	"minzheng/internal/module"
	"minzheng/internal/web"
)

func TestJobSchedule(t *testing.T) {
	daily := module.Job{Flag: "x-at"}
	monthly := module.Job{Flag: "x-day", Monthly: true, At: "03:15"}
	for _, c := range []struct {
		job              module.Job
		value            string
		day, hour, min   int
		off, wantInvalid bool
	}{
		{job: daily, value: "02:00", hour: 2},
		{job: daily, value: "23:59", hour: 23, min: 59},
		{job: daily, value: "off", off: true},
		{job: daily, value: "24:00", wantInvalid: true},
		{job: daily, value: "7", wantInvalid: true},
		{job: daily, value: "", wantInvalid: true},
		{job: monthly, value: "1", day: 1, hour: 3, min: 15},
		{job: monthly, value: "28", day: 28, hour: 3, min: 15},
		{job: monthly, value: "0", off: true},
		{job: monthly, value: "29", wantInvalid: true},
		{job: monthly, value: "-1", wantInvalid: true},
		{job: monthly, value: "off", wantInvalid: true},
	} {
		day, hour, min, off, err := c.job.Schedule(c.value)
		if c.wantInvalid {
			if err == nil {
				t.Errorf("%s=%q accepted", c.job.Flag, c.value)
			}
			continue
		}
		if err != nil || day != c.day || hour != c.hour || min != c.min || off != c.off {
			t.Errorf("%s=%q: day %d %02d:%02d off=%v err=%v", c.job.Flag, c.value, day, hour, min, off, err)
		}
	}
}

func TestNavOrderAndShow(t *testing.T) {
	a := module.Module{Name: "a", Nav: []web.NavEntry{
		{Order: 30, Href: "/a3", Label: "三"},
		{Order: 10, Href: "/a1", Label: "一"},
	}}
	b := module.Module{Name: "b", Nav: []web.NavEntry{
		{Order: 20, Label: "二", HrefFor: func(p auth.Principal) string { return "/d/" + p.Division }},
		{Order: 25, Href: "/admin", Label: "管", Show: web.CanNav(auth.UserAdmin)},
	}}
	hrefs := func(p auth.Principal) []string {
		var out []string
		for _, n := range module.Nav([]module.Module{a, b}, p) {
			out = append(out, n.Href)
		}
		return out
	}
	if got := hrefs(auth.Principal{Role: auth.Clerk, Division: "310104"}); !slices.Equal(got, []string{"/a1", "/d/310104", "/a3"}) {
		t.Errorf("clerk: %v", got)
	}
	if got := hrefs(auth.Principal{Role: auth.CityAdmin, Division: "310000"}); !slices.Equal(got, []string{"/a1", "/d/310000", "/admin", "/a3"}) {
		t.Errorf("city admin: %v", got)
	}
}
