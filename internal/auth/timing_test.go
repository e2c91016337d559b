package auth_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"minzheng/internal/auth"
	"minzheng/internal/db"
	"minzheng/internal/db/dbtest"
	"minzheng/internal/errs"
)

// TestLoginTimingHidesUnknownUsers measures failed logins of an existing
// user and of names that do not exist (issue 11, finding 13): both must
// cost one password verification, so their medians stay within 3× of each
// other. Before the fix an unknown name skipped argon2id and answered many
// times faster.
func TestLoginTimingHidesUnknownUsers(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		svc, _, _ := setup(t, d)
		ctx := context.Background()
		for _, name := range []string{"timing_real", "timing_warm"} {
			if _, _, err := svc.CreateUser(ctx, auth.System(), auth.NewUser{Name: name, Role: auth.Clerk, Division: "310104"}); err != nil {
				t.Fatal(err)
			}
		}
		login := func(name, remote string) time.Duration {
			start := time.Now()
			_, err := svc.Login(ctx, name, "wrong password", remote)
			elapsed := time.Since(start)
			if errs.Code(err) != errs.Unauthorized {
				t.Fatalf("login %s: %v, want unauthorized", name, err)
			}
			return elapsed
		}
		// Warm both paths up (first argon2id allocation, statement caches).
		login("timing_warm", "10.9.0.1")
		login("nobody_warm", "10.9.0.2")
		// Five of each, interleaved so that load on the machine hits both;
		// five failures per name is the limit, so each unknown name is new.
		var known, unknown []time.Duration
		for i := range 5 {
			known = append(known, login("timing_real", fmt.Sprintf("10.9.1.%d", i)))
			unknown = append(unknown, login(fmt.Sprintf("nobody_%d", i), fmt.Sprintf("10.9.2.%d", i)))
		}
		median := func(ds []time.Duration) time.Duration {
			ds = slices.Clone(ds)
			slices.Sort(ds)
			return ds[len(ds)/2]
		}
		k, u := median(known), median(unknown)
		if max(k, u) > 3*min(k, u) {
			t.Errorf("failed login of an existing user takes %v (median of %v), of an unknown name %v (median of %v): more than 3× apart", k, known, u, unknown)
		}
		t.Logf("existing user %v, unknown name %v", k, u)
	})
}
