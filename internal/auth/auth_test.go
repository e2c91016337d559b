package auth_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"minzheng/internal/audit"
	"minzheng/internal/auth"
	"minzheng/internal/db"
	"minzheng/internal/db/dbtest"
	"minzheng/internal/division"
	"minzheng/internal/errs"
	"minzheng/internal/secret"
)

func TestPassword(t *testing.T) {
	h := auth.HashPassword("正确的密码")
	if !strings.HasPrefix(h, "$argon2id$") || strings.Contains(h, "正确的密码") {
		t.Fatalf("hash %q", h)
	}
	if !auth.CheckPassword(h, "正确的密码") || auth.CheckPassword(h, "错误的密码") || auth.CheckPassword("garbage", "x") {
		t.Error("CheckPassword wrong")
	}
	if auth.HashPassword("a") == auth.HashPassword("a") {
		t.Error("no salt")
	}
	if p := auth.NewPassword(); len(p) != 16 || strings.ContainsAny(p, "0O1lI") {
		t.Errorf("NewPassword %q", p)
	}
}

func TestCovers(t *testing.T) {
	tests := []struct {
		division, code string
		want           bool
	}{
		{"310000", "310104003001", true},
		{"310000", "320102", false},
		{"310104", "310104", true},
		{"310104", "310104003", true},
		{"310104", "310105001001", false},
		{"310104003", "310104003001", true},
		{"310104003", "310104", false},
		{"310104003001", "310104003002", false},
		{"310104", "", false},
	}
	for _, tt := range tests {
		p := auth.Principal{Role: auth.Reviewer, Division: tt.division}
		if got := p.Scope().Covers(tt.code); got != tt.want {
			t.Errorf("%s covers %q = %v, want %v", tt.division, tt.code, got, tt.want)
		}
	}
}

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func setup(t *testing.T, d *db.DB) (*auth.Service, *audit.Log, *clock) {
	suite, _ := secret.NewStandard(bytes.Repeat([]byte{5}, secret.KeySize))
	c := &clock{time.Date(2025, 8, 1, 9, 0, 0, 0, time.UTC)}
	a := audit.New(d, suite, c.now)
	tree, err := division.Shanghai()
	if err != nil {
		t.Fatal(err)
	}
	if err := division.NewService(d, tree).Seed(context.Background()); err != nil {
		t.Fatal(err)
	}
	return auth.NewService(d, a, c.now), a, c
}

func TestAccountsSessionsTokens(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		svc, log, c := setup(t, d)
		ctx := context.Background()
		sys := auth.System()
		admin, pw, err := svc.CreateUser(ctx, sys, auth.NewUser{Name: "xh_admin", Role: auth.DistrictAdmin, Division: "310104"})
		if err != nil {
			t.Fatal(err)
		}
		by := admin.Principal("127.0.0.1")
		tests := []struct {
			name  string
			nu    auth.NewUser
			code  string
			field string
		}{
			{"clerk in own district", auth.NewUser{Name: "xh_clerk", Role: auth.Clerk, Division: "310104003"}, "", ""},
			{"clerk in other district", auth.NewUser{Name: "pd_clerk", Role: auth.Clerk, Division: "310115"}, errs.Invalid, "division"},
			{"auditor needs city admin", auth.NewUser{Name: "xh_aud", Role: auth.Auditor, Division: "310104"}, errs.Invalid, "role"},
			{"unknown role", auth.NewUser{Name: "x1", Role: "boss", Division: "310104"}, errs.Invalid, "role"},
			{"unknown division", auth.NewUser{Name: "x2", Role: auth.Clerk, Division: "310199"}, errs.Invalid, "division"},
			{"bad name", auth.NewUser{Name: "张 三", Role: auth.Clerk, Division: "310104"}, errs.Invalid, "name"},
			{"duplicate name", auth.NewUser{Name: "xh_clerk", Role: auth.Clerk, Division: "310104"}, errs.Invalid, "name"},
		}
		for _, tt := range tests {
			_, _, err := svc.CreateUser(ctx, by, tt.nu)
			if errs.Code(err) != tt.code {
				t.Errorf("%s: %v, want code %q", tt.name, err, tt.code)
				continue
			}
			if tt.field != "" && errs.As(err).Fields[0].Field != tt.field {
				t.Errorf("%s: fields %+v, want %s", tt.name, errs.As(err).Fields, tt.field)
			}
		}
		clerk := auth.Principal{Name: "c", Role: auth.Clerk, Division: "310104"}
		if _, _, err := svc.CreateUser(ctx, clerk, auth.NewUser{Name: "x3", Role: auth.Clerk, Division: "310104"}); errs.Code(err) != errs.Forbidden {
			t.Errorf("clerk creating accounts: %v", err)
		}
		us, err := svc.ListUsers(ctx, by)
		if err != nil || len(us) != 2 {
			t.Errorf("district admin lists %d users (%v), want 2", len(us), err)
		}

		// Login, session, logout.
		s, err := svc.Login(ctx, "xh_admin", pw, "10.0.0.1")
		if err != nil {
			t.Fatal(err)
		}
		got, err := svc.SessionByToken(ctx, s.Token)
		if err != nil || got.User.Name != "xh_admin" || got.CSRF != s.CSRF {
			t.Fatalf("session: %+v %v", got, err)
		}
		c.t = c.t.Add(auth.SessionTTL + time.Minute)
		if _, err := svc.SessionByToken(ctx, s.Token); errs.Code(err) != errs.Unauthorized {
			t.Errorf("expired session accepted: %v", err)
		}
		s, _ = svc.Login(ctx, "xh_admin", pw, "10.0.0.1")
		svc.Logout(ctx, s.Token)
		if _, err := svc.SessionByToken(ctx, s.Token); err == nil {
			t.Error("session survives logout")
		}

		// Rate limit: five failures lock the name, even with the right password.
		for i := 0; i < 5; i++ {
			if _, err := svc.Login(ctx, "xh_admin", "wrong", "10.0.0.2"); errs.Code(err) != errs.Unauthorized {
				t.Fatalf("failure %d: %v", i, err)
			}
		}
		if _, err := svc.Login(ctx, "xh_admin", pw, "10.0.0.3"); errs.Code(err) != errs.TooMany {
			t.Errorf("after 5 failures: %v, want too_many_requests", err)
		}
		c.t = c.t.Add(16 * time.Minute)
		if _, err := svc.Login(ctx, "xh_admin", pw, "10.0.0.3"); err != nil {
			t.Errorf("after the window: %v", err)
		}

		// Tokens act as their user.
		tok, err := svc.CreateToken(ctx, sys, "xh_clerk", "测试")
		if err != nil || !strings.HasPrefix(tok, auth.TokenPrefix) {
			t.Fatalf("token %q %v", tok, err)
		}
		u, err := svc.UserByToken(ctx, tok)
		if err != nil || u.Name != "xh_clerk" || u.Division != "310104003" {
			t.Fatalf("UserByToken: %+v %v", u, err)
		}
		if _, err := svc.UserByToken(ctx, tok+"x"); errs.Code(err) != errs.Unauthorized {
			t.Errorf("bad token: %v", err)
		}
		if _, err := svc.CreateToken(ctx, by, "xh_clerk", ""); errs.Code(err) != errs.Forbidden {
			t.Errorf("district admin issuing tokens: %v", err)
		}
		var n int
		d.QueryRow(`SELECT COUNT(*) FROM users WHERE password_hash LIKE '%' || $1 || '%'`, pw).Scan(&n)
		if n != 0 {
			t.Error("password stored in clear")
		}
		for _, action := range []string{"user.create", "auth.login", "auth.login_failed", "token.create"} {
			es, _ := log.List(ctx, audit.Filter{Action: action})
			if len(es) == 0 {
				t.Errorf("no audit entry for %s", action)
			}
		}
	})
}
