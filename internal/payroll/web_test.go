package payroll_test

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"minzheng/internal/app"
	"minzheng/internal/app/apptest"
	"minzheng/internal/auth"
	"minzheng/internal/tabular"
)

// TestPayrollPages walks the payroll through the pages as staff do: the
// city administrator computes a month, a 徐汇 approver signs it off, a
// bank return file holds a payment, a clerk records a custodial account on
// the profile page.
func TestPayrollPages(t *testing.T) {
	s := apptest.Open(t, app.Config{DataDir: t.TempDir()})
	ctx := context.Background()
	if _, err := s.App.Generate(ctx, 3000, 11, io.Discard); err != nil {
		t.Fatal(err)
	}
	if _, err := s.App.RunProactive(ctx, auth.System(), time.Date(2025, 8, 1, 0, 0, 0, 0, time.UTC), io.Discard); err != nil {
		t.Fatal(err)
	}

	admin := s.Login(t, "ops", auth.CityAdmin, "310000")
	r := admin.Post(t, "/payroll/run", url.Values{"period": {"2025-08"}})
	if r.Code != 200 || !strings.Contains(r.Body, `id="payroll-result"`) || !strings.Contains(r.Body, `href="/payroll/2025-08"`) {
		t.Fatalf("run from the page: %d\n%.1500s", r.Code, r.Body)
	}
	var lines int
	s.App.DB.QueryRow(`SELECT COUNT(*) FROM ledger WHERE period = '2025-08'`).Scan(&lines)
	if lines == 0 {
		t.Fatal("the page's run wrote no ledger lines")
	}
	if r = admin.Post(t, "/payroll/run", url.Values{"period": {"2025/08"}}); r.Code != 422 || !strings.Contains(r.Body, "YYYY-MM") {
		t.Errorf("bad period: %d", r.Code)
	}

	approver := s.Login(t, "xh_ap", auth.Approver, "310104")
	r = approver.Get(t, "/payroll/2025-08")
	if r.Code != 200 || !strings.Contains(r.Body, `name="district" value="310104"`) || strings.Contains(r.Body, "浦东新区") {
		t.Fatalf("approver's period page: %d\n%.1500s", r.Code, r.Body)
	}
	r = approver.Post(t, "/payroll/2025-08/signoff", url.Values{"district": {"310104"}})
	if r.Code != 200 || !strings.Contains(r.Body, `id="signoff-result"`) {
		t.Fatalf("sign-off: %d\n%.1500s", r.Code, r.Body)
	}
	if r = approver.Post(t, "/payroll/2025-08/signoff", url.Values{"district": {"310115"}}); r.Code != 403 {
		t.Errorf("signing 浦东 off: %d, want 403", r.Code)
	}
	r = approver.Get(t, "/payroll/2025-08/figures.xlsx")
	if r.Code != 200 {
		t.Fatalf("figures export: %d", r.Code)
	}
	tb, err := tabular.Read(strings.NewReader(r.Body), "f.xlsx", 10<<20)
	if err != nil || len(tb.Rows) == 0 || tb.Rows[0].Get(0) != "徐汇区" {
		t.Fatalf("figures export: %v %+v", err, tb)
	}

	// A bank return marks one 徐汇 payment failed.
	var person int64
	var program string
	s.App.DB.QueryRow(`SELECT person_id, program FROM ledger WHERE period = '2025-08' AND division LIKE '310104%' AND kind = 'regular' ORDER BY id LIMIT 1`).Scan(&person, &program)
	returns := apptest.File{Field: "file", Name: "return.csv", Content: []byte("流水号,结果,原因\n2025-08/" + program + "/" + itoa(person) + ",失败,账户已销户\n")}
	if r = approver.Upload(t, "/payroll/returns", nil, returns); r.Code != 200 || !strings.Contains(r.Body, `id="returns-result"`) {
		t.Fatalf("returns upload: %d\n%.1500s", r.Code, r.Body)
	}

	// A clerk records a custodial account for that person on the profile,
	// as htmx posts it: the CSRF token in the header.
	clerk := s.Login(t, "xh_clerk", auth.Clerk, "310104")
	hx := func(form url.Values) apptest.Page {
		req, _ := http.NewRequest("POST", clerk.Base+"/persons/"+itoa(person)+"/payee-account", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-CSRF-Token", clerk.CSRF)
		return clerk.Do(t, req)
	}
	form := url.Values{"bank": {"工商银行"}, "account": {"6222021001112222"}, "holder": {"某街道代管专户"}, "custodial": {"1"}}
	if r = hx(form); r.Code != 200 || !strings.Contains(r.Body, "代管人") || !strings.Contains(r.Body, `role="alert"`) {
		t.Fatalf("custodial without a custodian: %d\n%s", r.Code, r.Body)
	}
	form.Set("custodian", "女儿 李某")
	if r = hx(form); r.Code != 200 || !strings.Contains(r.Body, "6222********2222") || !strings.Contains(r.Body, "女儿 李某") {
		t.Fatalf("save account: %d\n%s", r.Code, r.Body)
	}
	if strings.Contains(r.Body, "6222021001112222") {
		t.Error("the full account number is on the page")
	}
}
