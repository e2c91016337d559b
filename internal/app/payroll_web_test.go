package app_test

import (
	"bytes"
	"context"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"minzheng/internal/app"
	"minzheng/internal/auth"
	"minzheng/internal/payroll"
	"minzheng/internal/registry"
	"minzheng/internal/tabular"
)

// TestPayrollPages walks the payroll through the pages as staff do: the
// city administrator computes a month, a 徐汇 approver signs it off, a
// bank return file holds a payment, a clerk records a custodial account on
// the profile page.
func TestPayrollPages(t *testing.T) {
	s := openServer(t, app.Config{DataDir: t.TempDir()})
	ctx := context.Background()
	if _, err := s.App.Generate(ctx, 3000, 11, io.Discard); err != nil {
		t.Fatal(err)
	}
	if _, err := s.App.RunProactive(ctx, auth.System(), mustDay(t, "2025-08-01"), io.Discard); err != nil {
		t.Fatal(err)
	}
	base := serverURL(t, s)
	csrfRe := regexp.MustCompile(`name="csrf" value="([^"]+)"`)
	login := func(name string, role auth.Role, division string) (*http.Client, string) {
		_, pw, err := s.App.Auth.CreateUser(ctx, auth.System(), auth.NewUser{Name: name, Role: role, Division: division})
		if err != nil {
			t.Fatal(err)
		}
		jar, _ := cookiejar.New(nil)
		c := &http.Client{Jar: jar}
		if _, err := c.PostForm(base+"/login", url.Values{"name": {name}, "password": {pw}}); err != nil {
			t.Fatal(err)
		}
		r, _ := c.Get(base + "/")
		b, _ := io.ReadAll(r.Body)
		m := csrfRe.FindStringSubmatch(string(b))
		if m == nil {
			t.Fatalf("%s: no CSRF token on the home page", name)
		}
		return c, m[1]
	}
	body := func(r *http.Response, err error) (int, string) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(r.Body)
		return r.StatusCode, string(b)
	}

	admin, adminCSRF := login("ops", auth.CityAdmin, "310000")
	code, page := body(admin.PostForm(base+"/payroll/run", url.Values{"csrf": {adminCSRF}, "period": {"2025-08"}}))
	if code != 200 || !strings.Contains(page, `id="payroll-result"`) || !strings.Contains(page, `href="/payroll/2025-08"`) {
		t.Fatalf("run from the page: %d\n%.1500s", code, page)
	}
	var lines int
	s.App.DB.QueryRow(`SELECT COUNT(*) FROM ledger WHERE period = '2025-08'`).Scan(&lines)
	if lines == 0 {
		t.Fatal("the page's run wrote no ledger lines")
	}
	if code, page = body(admin.PostForm(base+"/payroll/run", url.Values{"csrf": {adminCSRF}, "period": {"2025/08"}})); code != 422 || !strings.Contains(page, "YYYY-MM") {
		t.Errorf("bad period: %d", code)
	}

	approver, apCSRF := login("xh_ap", auth.Approver, "310104")
	code, page = body(approver.Get(base + "/payroll/2025-08"))
	if code != 200 || !strings.Contains(page, `name="district" value="310104"`) || strings.Contains(page, "浦东新区") {
		t.Fatalf("approver's period page: %d\n%.1500s", code, page)
	}
	code, page = body(approver.PostForm(base+"/payroll/2025-08/signoff", url.Values{"csrf": {apCSRF}, "district": {"310104"}}))
	if code != 200 || !strings.Contains(page, `id="signoff-result"`) {
		t.Fatalf("sign-off: %d\n%.1500s", code, page)
	}
	if code, _ = body(approver.PostForm(base+"/payroll/2025-08/signoff", url.Values{"csrf": {apCSRF}, "district": {"310115"}})); code != 403 {
		t.Errorf("signing 浦东 off: %d, want 403", code)
	}
	r, err := approver.Get(base + "/payroll/2025-08/figures.xlsx")
	if err != nil || r.StatusCode != 200 {
		t.Fatalf("figures export: %v", err)
	}
	tb, err := tabular.Read(r.Body, "f.xlsx", 10<<20)
	if err != nil || len(tb.Rows) == 0 || tb.Rows[0].Get(0) != "徐汇区" {
		t.Fatalf("figures export: %v %+v", err, tb)
	}

	// A bank return marks one 徐汇 payment failed.
	var person int64
	var program string
	s.App.DB.QueryRow(`SELECT person_id, program FROM ledger WHERE period = '2025-08' AND division LIKE '310104%' AND kind = 'regular' ORDER BY id LIMIT 1`).Scan(&person, &program)
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	fw, _ := mw.CreateFormFile("file", "return.csv")
	fw.Write([]byte("流水号,结果,原因\n2025-08/" + program + "/" + itoa(person) + ",失败,账户已销户\n"))
	mw.WriteField("csrf", apCSRF)
	mw.Close()
	req, _ := http.NewRequest("POST", base+"/payroll/returns", &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	if code, page = body(approver.Do(req)); code != 200 || !strings.Contains(page, `id="returns-result"`) {
		t.Fatalf("returns upload: %d\n%.1500s", code, page)
	}

	// A clerk records a custodial account for that person on the profile.
	clerk, clerkCSRF := login("xh_clerk", auth.Clerk, "310104")
	form := url.Values{"bank": {"工商银行"}, "account": {"6222021001112222"}, "holder": {"某街道代管专户"}, "custodial": {"1"}}
	req, _ = http.NewRequest("POST", base+"/persons/"+itoa(person)+"/payee-account", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-CSRF-Token", clerkCSRF)
	if code, page = body(clerk.Do(req)); code != 200 || !strings.Contains(page, "代管人") || !strings.Contains(page, `role="alert"`) {
		t.Fatalf("custodial without a custodian: %d\n%s", code, page)
	}
	form.Set("custodian", "女儿 李某")
	req, _ = http.NewRequest("POST", base+"/persons/"+itoa(person)+"/payee-account", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-CSRF-Token", clerkCSRF)
	if code, page = body(clerk.Do(req)); code != 200 || !strings.Contains(page, "6222********2222") || !strings.Contains(page, "女儿 李某") {
		t.Fatalf("save account: %d\n%s", code, page)
	}
	if strings.Contains(page, "6222021001112222") {
		t.Error("the full account number is on the page")
	}
}

func mustDay(t *testing.T, s string) time.Time {
	t.Helper()
	d, err := time.Parse(time.DateOnly, s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// TestDeathAfterPayrollBecomesRecovery: August is paid; the death of an
// allowance recipient on 10 August is then recorded through the API, which
// stops the allowance; September's payroll pays nothing more and recovers
// the 21 days of August paid beyond the death.
func TestDeathAfterPayrollBecomesRecovery(t *testing.T) {
	eachDB(t, func(t *testing.T, cfg app.Config) {
		s := openServer(t, cfg)
		ctx := context.Background()
		if _, err := s.App.Generate(ctx, 2000, 13, io.Discard); err != nil {
			t.Fatal(err)
		}
		if _, err := s.App.RunProactive(ctx, auth.System(), mustDay(t, "2025-08-01"), io.Discard); err != nil {
			t.Fatal(err)
		}
		if _, err := s.App.Payroll.Run(ctx, auth.System(), "2025-08", payroll.Options{}, nil); err != nil {
			t.Fatal(err)
		}
		var person, fen int64
		s.App.DB.QueryRow(`SELECT person_id, fen FROM ledger WHERE period = '2025-08' AND program = 'elderly_allowance' ORDER BY person_id LIMIT 1`).Scan(&person, &fen)
		if person == 0 {
			t.Fatal("no elderly allowance paid in August")
		}
		token := s.staff(t, "ops", auth.CityAdmin, city)
		death := "2025-08-10"
		r := httptest.NewRecorder()
		s.Handler.ServeHTTP(r, jsonRequest(t, "PATCH", "/api/v1/persons/"+itoa(person), token, registry.FactsUpdate{DeathDate: &death}))
		if r.Code != 200 {
			t.Fatalf("record the death: %d %s", r.Code, r.Body)
		}
		var status, until string
		s.App.DB.QueryRow(`SELECT status, until FROM entitlements WHERE program = 'elderly_allowance' AND person_id = $1`, person).Scan(&status, &until)
		if status != "stopped" || until != death {
			t.Fatalf("entitlement after the death: %s until %s", status, until)
		}
		if _, err := s.App.Payroll.Run(ctx, auth.System(), "2025-09", payroll.Options{}, nil); err != nil {
			t.Fatal(err)
		}
		var sept, recovery int64 = -1, 0
		s.App.DB.QueryRow(`SELECT fen FROM ledger WHERE period = '2025-09' AND program = 'elderly_allowance' AND person_id = $1`, person).Scan(&sept)
		s.App.DB.QueryRow(`SELECT fen FROM ledger WHERE period = '2025-08' AND program = 'elderly_allowance' AND person_id = $1 AND kind = 'recovery'`, person).Scan(&recovery)
		want := -(fen - (fen*10+15)/31)
		if sept != -1 || recovery != want {
			t.Fatalf("September line %d (want none), August recovery %d (want %d)", sept, recovery, want)
		}
	})
}
