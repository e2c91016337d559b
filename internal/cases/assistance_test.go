package cases

import (
	"slices"
	"testing"

	"minzheng/internal/assistance"
)

// TestAssistanceChainMatches keeps the dibao definition (and the services
// that borrow its chain) identical to the social-assistance line's chain in
// internal/assistance/types.go, so that the line can move onto the engine
// without a state code, label, deadline, role or requirement changing. The
// line's deadlines are in days; on the engine they become working days.
func TestAssistanceChainMatches(t *testing.T) {
	cat, err := Embedded()
	if err != nil {
		t.Fatal(err)
	}
	for _, code := range []string{"dibao", "tekun", "temporary_aid", "low_income"} {
		s, ok := cat.Get(code)
		if !ok {
			t.Fatalf("no %s", code)
		}
		ch := s.Flow()
		if len(ch.States) != len(assistance.States) {
			t.Fatalf("%s: %d states, assistance has %d", code, len(ch.States), len(assistance.States))
		}
		for i, want := range assistance.States {
			got := ch.States[i]
			if got.Code != string(want.State) || got.Label != want.Label || got.Deadline != want.DeadlineDays ||
				got.Terminal != want.State.Final() {
				t.Errorf("%s: state %d = %+v, assistance has %+v (final %v)", code, i, got, want, want.State.Final())
			}
		}
		if len(ch.Transitions) != len(assistance.Transitions) {
			t.Fatalf("%s: %d transitions, assistance has %d", code, len(ch.Transitions), len(assistance.Transitions))
		}
		labels := map[string]string{}
		for _, c := range s.AllChecks() {
			labels[c.Code] = c.Label
		}
		for i, want := range assistance.Transitions {
			got := ch.Transitions[i]
			if got.From != string(want.From) || got.To != string(want.To) || got.Label != want.Label ||
				!slices.Equal(got.Roles, want.Roles) || got.Decides != want.Independent {
				t.Errorf("%s: transition %d = %+v, assistance has %+v", code, i, got, want)
			}
			var reqs []assistance.Requirement
			if got.Records.Note {
				reqs = append(reqs, assistance.NeedNote)
			}
			if got.Records.Reasons {
				reqs = append(reqs, assistance.NeedReasons)
			}
			for _, c := range got.Records.Checks {
				reqs = append(reqs, assistance.Requirement(c))
				if labels[c] != assistance.Requirement(c).Label() {
					t.Errorf("%s: check %s is labelled %q, assistance says %q", code, c, labels[c], assistance.Requirement(c).Label())
				}
			}
			if !slices.Equal(reqs, want.Requires) || len(got.Records.Fields)+len(got.Records.Attachments) > 0 {
				t.Errorf("%s: transition %d records %v, assistance requires %v", code, i, got.Records, want.Requires)
			}
		}
	}
	// Every programme of the line has its service, and every kind of material its entry.
	programs := map[string]string{"dibao": "dibao", "tekun": "tekun", "temporary": "temporary_aid"}
	low, _ := cat.Get("low_income")
	if f, ok := low.Field("programs"); ok {
		for _, o := range f.Options {
			programs[o.Value] = "low_income"
		}
	}
	for _, p := range assistance.Programs {
		if _, ok := programs[p.ID]; !ok {
			t.Errorf("assistance programme %s (%s) has no service", p.ID, p.Label)
		}
	}
	dibao, _ := cat.Get("dibao")
	for _, k := range assistance.MaterialKindList {
		if !slices.ContainsFunc(dibao.MaterialList(), func(m Material) bool { return m.Code == k.ID && m.Name == k.Label }) {
			t.Errorf("dibao lacks the assistance material %s (%s)", k.ID, k.Label)
		}
	}
}
