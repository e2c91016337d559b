package assistance_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"minzheng/internal/app"
	"minzheng/internal/app/apptest"
	"minzheng/internal/assistance"
	"minzheng/internal/auth"
	"minzheng/internal/idcard"
	"minzheng/internal/registry"
)

// chainServer is an app with staff of every role in 徐汇 and 浦东, a second
// reviewer and approver in 徐汇, and city-wide staff, for walking the
// social assistance chain through the API.
type chainServer struct {
	*apptest.Server
	tokens    map[string]string // role_district, or reviewer_b / approver_b (徐汇)
	committee string
	seq       int
}

func newChainServer(t *testing.T, cfg app.Config) *chainServer {
	t.Helper()
	s := &chainServer{Server: apptest.Open(t, cfg), tokens: map[string]string{}}
	for _, d := range []string{xuhui, pudong} {
		for _, r := range auth.Roles {
			name := fmt.Sprintf("%s_%s", r, d)
			s.tokens[name] = s.Staff(t, name, r, d)
		}
	}
	for _, r := range []auth.Role{auth.CityAdmin, auth.Auditor} {
		name := fmt.Sprintf("%s_%s", r, city)
		s.tokens[name] = s.Staff(t, name, r, city)
	}
	s.tokens["reviewer_b"] = s.Staff(t, "reviewer_b", auth.Reviewer, xuhui)
	s.tokens["approver_b"] = s.Staff(t, "approver_b", auth.Approver, xuhui)
	s.committee = apptest.FirstCommittee(t, s.App.Divisions.Tree, xuhui)
	return s
}

func (s *chainServer) number(region string) string {
	s.seq++
	return idcard.Build(region, time.Date(1960, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, s.seq), s.seq)
}

// newCase registers a 徐汇 couple (she is registered in 安徽) and starts
// an application for 低保 and 临时救助 through the API as the 徐汇 clerk.
// It returns the application, the head's and the spouse's ID numbers.
func (s *chainServer) newCase(t *testing.T) (int64, string, string) {
	t.Helper()
	ctx := context.Background()
	headNo, spouseNo := s.number(xuhui), s.number("340104")
	head, err := s.App.Registry.Create(ctx, auth.System(), registry.NewPerson{Name: "周户主", IDNumber: headNo, HukouDivision: s.committee, ResidenceDivision: s.committee, MonthlyIncome: 700})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.App.Registry.Create(ctx, auth.System(), registry.NewPerson{Name: "吴配偶", IDNumber: spouseNo, ResidenceDivision: s.committee, HouseholdID: head.HouseholdID, Relation: "配偶"}); err != nil {
		t.Fatal(err)
	}
	rec := s.Serve(apptest.JSONRequest(t, "POST", "/api/v1/applications", s.tokens["clerk_"+xuhui], assistance.NewApplication{PersonID: head.ID, Programs: []string{"dibao", "temporary"}}))
	if rec.Code != 201 {
		t.Fatalf("start an application: %d %s", rec.Code, rec.Body.String())
	}
	var a assistance.Application
	json.Unmarshal(rec.Body.Bytes(), &a)
	return a.ID, headNo, spouseNo
}

// fullMove is a move that records everything any transition may require.
func fullMove(to assistance.State) assistance.Move {
	return assistance.Move{To: to, Note: "经核实情况属实", Reasons: []string{"家庭人均收入高于低保标准"}, Amounts: map[string]int64{"dibao": 120000, "temporary": 30000}}
}

func (s *chainServer) move(t *testing.T, id int64, tok string, m assistance.Move) *httptest.ResponseRecorder {
	t.Helper()
	return s.Serve(apptest.JSONRequest(t, "POST", fmt.Sprintf("/api/v1/applications/%d/transitions", id), tok, m))
}

func (s *chainServer) state(t *testing.T, id int64) assistance.Case {
	t.Helper()
	var c assistance.Case
	s.Get(t, fmt.Sprintf("/api/v1/applications/%d", id), s.tokens["auditor_"+city], 200, &c)
	return c
}

// advance moves a case along 受理 → 核对 → 入户调查 → 公示 → 区审核 → 审批
// until it reaches the state, recording what each step requires, as the
// 徐汇 staff of the first role each transition allows.
func (s *chainServer) advance(t *testing.T, id int64, headNo string, target assistance.State) {
	t.Helper()
	route := []assistance.State{assistance.Submitted, assistance.Verifying, assistance.Visiting, assistance.Notice, assistance.Review, assistance.Approval}
	for i := 0; route[i] != target; i++ {
		from, to := route[i], route[i+1]
		s.prepare(t, id, headNo, from, to)
		tr, _ := assistance.Find(from, to)
		if rec := s.move(t, id, s.tokens[fmt.Sprintf("%s_%s", tr.Roles[0], xuhui)], fullMove(to)); rec.Code != 200 {
			t.Fatalf("advance %d from %s to %s: %d %s", id, from, to, rec.Code, rec.Body.String())
		}
	}
}

// prepare records what the transition from one state to another requires
// beyond the move itself: department data, a photo, the end of the notice.
func (s *chainServer) prepare(t *testing.T, id int64, headNo string, from, to assistance.State) {
	t.Helper()
	switch {
	case from == assistance.Verifying:
		body := assistance.VerificationBatch{Records: []assistance.VerificationRecord{{IDNumber: headNo, Source: "pension", Amount: 700}}}
		if rec := s.Serve(apptest.JSONRequest(t, "POST", fmt.Sprintf("/api/v1/applications/%d/verification", id), s.tokens["clerk_"+xuhui], body)); rec.Code != 201 {
			t.Fatalf("verification: %d %s", rec.Code, rec.Body.String())
		}
	case from == assistance.Visiting && to == assistance.Notice:
		if rec := s.Serve(materialRequest(id, s.tokens["adviser_"+xuhui], "visit_photo", "家中.jpg", []byte("\xff\xd8\xffphoto"))); rec.Code != 201 {
			t.Fatalf("photo: %d %s", rec.Code, rec.Body.String())
		}
	case from == assistance.Notice:
		// The seven days of public notice have passed.
		if _, err := s.App.DB.ExecContext(context.Background(), `UPDATE applications SET notice_until = '2000-01-01' WHERE id = $1`, id); err != nil {
			t.Fatal(err)
		}
	}
}

// TestAssistanceTransitionsRefused walks every transition of the chain
// through the API: each is refused for every role that may not make it,
// for every caller outside the case's jurisdiction (as absent), and — for
// the transitions that decide — for a staff member whose relative on file
// is in the household, while someone outside the relationship succeeds.
func TestAssistanceTransitionsRefused(t *testing.T) {
	apptest.EachDB(t, func(t *testing.T, cfg app.Config) {
		s := newChainServer(t, cfg)
		for _, tr := range assistance.Transitions {
			t.Run(fmt.Sprintf("%s to %s", tr.From, tr.To), func(t *testing.T) {
				id, headNo, spouseNo := s.newCase(t)
				s.advance(t, id, headNo, tr.From)
				s.prepare(t, id, headNo, tr.From, tr.To)
				body := fullMove(tr.To)
				for name, tok := range s.tokens {
					var role auth.Role
					var district string
					for _, r := range auth.Roles {
						for _, d := range []string{xuhui, pudong, city} {
							if name == fmt.Sprintf("%s_%s", r, d) {
								role, district = r, d
							}
						}
					}
					if role == "" || (district != pudong && tr.Allows(role)) {
						continue // the second reviewer and approver; those allowed
					}
					want := 403
					if district == pudong && (tr.Allows(role) || role == auth.Clerk || role == auth.Adviser || role == auth.Reviewer || role == auth.Approver) {
						want = 404 // a case outside the jurisdiction reads as absent
					}
					if rec := s.move(t, id, tok, body); rec.Code != want {
						t.Errorf("%s: status %d, want %d; %s", name, rec.Code, want, apptest.Truncate(rec.Body.String()))
					}
				}
				if c := s.state(t, id); c.State != tr.From || c.Conflict {
					t.Fatalf("after the refusals: state %s, conflict %v; want %s, no conflict", c.State, c.Conflict, tr.From)
				}
				actor := fmt.Sprintf("%s_%s", tr.Roles[0], xuhui)
				if tr.Independent {
					// The actor puts the spouse on file as a relative: the
					// decision is refused and the case flagged.
					rel := assistance.NewRelative{Name: "吴配偶", IDNumber: spouseNo, Relation: "表妹"}
					if rec := s.Serve(apptest.JSONRequest(t, "POST", "/api/v1/relatives", s.tokens[actor], rel)); rec.Code != 201 {
						t.Fatalf("relative: %d %s", rec.Code, rec.Body.String())
					}
					if rec := s.move(t, id, s.tokens[actor], body); rec.Code != 403 {
						t.Errorf("%s with a relative in the household: status %d, want 403; %s", actor, rec.Code, apptest.Truncate(rec.Body.String()))
					}
					if c := s.state(t, id); c.State != tr.From || !c.Conflict {
						t.Errorf("after the conflict refusal: state %s, conflict %v; want %s, flagged", c.State, c.Conflict, tr.From)
					}
					actor = string(tr.Roles[0]) + "_b"
				}
				if rec := s.move(t, id, s.tokens[actor], body); rec.Code != 200 {
					t.Fatalf("%s: status %d, want 200; %s", actor, rec.Code, rec.Body.String())
				}
				if c := s.state(t, id); c.State != tr.To {
					t.Errorf("after the move: state %s, want %s", c.State, tr.To)
				}
			})
		}

		t.Run("a related clerk may start the chain, and flags it", func(t *testing.T) {
			id, _, spouseNo := s.newCase(t)
			rel := assistance.NewRelative{Name: "吴配偶", IDNumber: spouseNo, Relation: "姐妹"}
			if rec := s.Serve(apptest.JSONRequest(t, "POST", "/api/v1/relatives", s.tokens["clerk_"+xuhui], rel)); rec.Code != 201 {
				t.Fatalf("relative: %d %s", rec.Code, rec.Body.String())
			}
			if rec := s.move(t, id, s.tokens["clerk_"+xuhui], assistance.Move{To: assistance.Verifying}); rec.Code != 200 {
				t.Fatalf("move: %d %s", rec.Code, rec.Body.String())
			}
			if c := s.state(t, id); !c.Conflict {
				t.Error("the case is not flagged")
			}
		})

		t.Run("approval writes the entitlement", func(t *testing.T) {
			id, headNo, _ := s.newCase(t)
			s.advance(t, id, headNo, assistance.Approval)
			if rec := s.move(t, id, s.tokens["approver_"+xuhui], fullMove(assistance.Granted)); rec.Code != 200 {
				t.Fatalf("approve: %d %s", rec.Code, rec.Body.String())
			}
			c := s.state(t, id)
			var fen int64
			if err := s.App.DB.QueryRowContext(context.Background(), `SELECT monthly_fen FROM entitlements WHERE program = 'dibao' AND household_id = $1 AND status = 'active' AND proactive = 0`,
				c.HouseholdID).Scan(&fen); err != nil || fen != 120000 {
				t.Errorf("entitlement: %d fen, %v", fen, err)
			}
			// The proactive run, which sees no property and a register
			// income, leaves an entitlement decided on an application alone.
			if _, err := s.App.Proactive.Household(context.Background(), auth.System(), c.ApplicantID, time.Now().UTC().Truncate(24*time.Hour)); err != nil {
				t.Fatal(err)
			}
			var proactive int
			if err := s.App.DB.QueryRowContext(context.Background(), `SELECT monthly_fen, proactive FROM entitlements WHERE program = 'dibao' AND household_id = $1`,
				c.HouseholdID).Scan(&fen, &proactive); err != nil || fen != 120000 || proactive != 0 {
				t.Errorf("after a proactive pass: %d fen, proactive %d, %v", fen, proactive, err)
			}
			rec := s.Serve(apptest.NewRequest("GET", fmt.Sprintf("/applications/%d/letter", id), "", "", nil))
			if rec.Code != 303 {
				t.Errorf("letter without a session: %d, want a redirect to the login", rec.Code)
			}
			// The decision letter as a PDF, for a reviewer of the district.
			resp := s.Login(t, "letter_reader", auth.Reviewer, xuhui).Get(t, fmt.Sprintf("/applications/%d/letter.pdf", id))
			pdf := resp.Body
			// 社会救助批准决定书 in UTF-16BE hex, as the PDF's text operators carry it.
			title := fmt.Sprintf("%X", []byte{0x79, 0x3E, 0x4F, 0x1A, 0x65, 0x51, 0x52, 0xA9, 0x62, 0x79, 0x51, 0xC6, 0x51, 0xB3, 0x5B, 0x9A, 0x4E, 0x66})
			if resp.Code != 200 || resp.Header.Get("Content-Type") != "application/pdf" || !strings.HasPrefix(pdf, "%PDF-1.4") || !strings.Contains(pdf, title) {
				t.Errorf("letter.pdf: %d %s, %d bytes, title found %v", resp.Code, resp.Header.Get("Content-Type"), len(pdf), strings.Contains(pdf, title))
			}
		})

		if res, err := s.App.Audit.Verify(context.Background()); err != nil || !res.OK {
			t.Fatalf("audit verify: %+v, %v", res, err)
		}
	})
}

// TestAssistancePages goes through the social assistance pages as a clerk
// in a browser would: worklist, a new application, the case page, a move,
// a department file, the public notice and the relatives page.
func TestAssistancePages(t *testing.T) {
	apptest.EachDB(t, func(t *testing.T, cfg app.Config) {
		s := newChainServer(t, cfg)
		ctx := context.Background()
		c := s.Login(t, "clerk_web", auth.Clerk, xuhui)
		read := func(p apptest.Page) (int, string, string) { return p.Code, p.Body, p.Location() }
		code, page, _ := read(c.Get(t, "/applications"))
		m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(page)
		if code != 200 || m == nil || !strings.Contains(page, "受理新申请") {
			t.Fatalf("worklist: %d", code)
		}
		csrf := m[1]
		for _, q := range []string{"?state=all", "?state=review", "?overdue=1"} {
			if code, _, _ := read(c.Get(t, "/applications"+q)); code != 200 {
				t.Errorf("worklist %s: %d", q, code)
			}
		}
		headNo := s.number(xuhui)
		head, err := s.App.Registry.Create(ctx, auth.System(), registry.NewPerson{Name: "孙网页", IDNumber: headNo, HukouDivision: s.committee, ResidenceDivision: s.committee, MonthlyIncome: 500})
		if err != nil {
			t.Fatal(err)
		}
		code, _, loc := read(c.Post(t, "/applications", url.Values{"csrf": {csrf}, "person_id": {fmt.Sprint(head.ID)}, "programs": {"dibao", "temporary"}, "deposits": {"1200.50"}}))
		if code != http.StatusSeeOther || !strings.HasPrefix(loc, "/applications/") {
			t.Fatalf("create: %d %s", code, loc)
		}
		code, page, _ = read(c.Get(t, loc))
		if code != 200 || !strings.Contains(page, "孙网页") || !strings.Contains(page, "1200.50") || !strings.Contains(page, `data-to="verifying"`) {
			t.Fatalf("case page: %d\n%s", code, page)
		}
		code, _, _ = read(c.Post(t, loc+"/declaration", url.Values{"csrf": {csrf}, fmt.Sprintf("income_%d", head.ID): {"321.5"}, "deposits": {"99"}}))
		if code != http.StatusSeeOther {
			t.Fatalf("declaration: %d", code)
		}
		if code, page, _ = read(c.Get(t, loc)); !strings.Contains(page, `value="321.50"`) {
			t.Fatalf("declared income not on the case page: %d", code)
		}
		code, _, loc2 := read(c.Post(t, loc+"/move", url.Values{"csrf": {csrf}, "to": {"verifying"}}))
		if code != http.StatusSeeOther {
			t.Fatalf("move: %d", code)
		}
		code, page, _ = read(c.Get(t, loc2))
		if code != 200 || !strings.Contains(page, "已办理：经济状况核对") || !strings.Contains(page, "导入核对数据") {
			t.Fatalf("after the move: %d", code)
		}
		report := fmt.Sprintf("身份证号,数据来源,金额,说明\n%s,养老金,500,社保中心\n%s,银行存款,8000,\n", headNo, headNo)
		code, _, _ = read(c.Upload(t, loc+"/verification", map[string]string{"csrf": csrf}, apptest.File{Field: "file", Name: "核对.csv", Content: []byte(report)}))
		if code != http.StatusSeeOther {
			t.Fatalf("verification upload: %d", code)
		}
		code, page, _ = read(c.Get(t, loc))
		if code != 200 || !strings.Contains(page, "社保中心") || !strings.Contains(page, "8000.00") {
			t.Fatalf("report on the case page: %d", code)
		}
		// A material goes into the data folder and comes back as it was.
		if code, _, _ = read(c.Upload(t, loc+"/materials", map[string]string{"csrf": csrf, "kind": "hukou_book"}, apptest.File{Field: "file", Name: "户口簿.png", Content: []byte("\x89PNG hukou")})); code != http.StatusSeeOther {
			t.Fatalf("material upload: %d", code)
		}
		_, page, _ = read(c.Get(t, loc))
		link := regexp.MustCompile(`href="(/applications/\d+/materials/\d+)"`).FindStringSubmatch(page)
		if link == nil {
			t.Fatal("no material link on the case page")
		}
		if code, got, _ := read(c.Get(t, link[1])); code != 200 || got != "\x89PNG hukou" {
			t.Fatalf("download: %d %q", code, got)
		}
		// Public pages need no session.
		code, page, _ = read(s.Browser(t).Get(t, "/notices"))
		if code != 200 || !strings.Contains(page, "社会救助公示") {
			t.Fatalf("notices: %d", code)
		}
		code, page, _ = read(c.Get(t, "/relatives"))
		if code != 200 || !strings.Contains(page, "经办人员亲属备案") {
			t.Fatalf("relatives: %d", code)
		}
		code, _, _ = read(c.Post(t, "/relatives", url.Values{"csrf": {csrf}, "name": {"孙亲属"}, "id_number": {s.number(xuhui)}, "relation": {"兄弟"}}))
		if code != http.StatusSeeOther {
			t.Fatalf("relative: %d", code)
		}
		code, page, _ = read(c.Get(t, loc+"/letter"))
		if code != http.StatusConflict {
			t.Fatalf("letter of an open case: %d", code)
		}
	})
}

// TestCLIRecheck opens the annual re-check of a case approved more than a
// year before, once.
func TestCLIRecheck(t *testing.T) {
	apptest.EachDB(t, func(t *testing.T, cfg app.Config) {
		s := newChainServer(t, cfg)
		id, headNo, _ := s.newCase(t)
		s.advance(t, id, headNo, assistance.Approval)
		if rec := s.move(t, id, s.tokens["approver_"+xuhui], fullMove(assistance.Granted)); rec.Code != 200 {
			t.Fatalf("approve: %d %s", rec.Code, rec.Body.String())
		}
		later := time.Now().AddDate(1, 0, 2).Format(time.DateOnly)
		for _, want := range []int{1, 0} {
			out, stderr, code := apptest.CLI(t, cfg, "run", "recheck", "--as-of", later)
			var st assistance.RecheckStats
			if code != 0 || json.Unmarshal([]byte(out), &st) != nil || st.Opened != want || st.AsOf != later {
				t.Fatalf("run recheck: code %d, out %q, err %q; want %d opened", code, out, stderr, want)
			}
		}
		if _, stderr, code := apptest.CLI(t, cfg, "run", "recheck", "--as-of", "2025-13-01"); code == 0 || !strings.Contains(stderr, "as-of") {
			t.Errorf("bad date: code %d, %q", code, stderr)
		}
		var list assistance.List
		s.Get(t, "/api/v1/applications?state=submitted", s.tokens["clerk_"+xuhui], 200, &list)
		if list.Total != 1 || list.Items[0].Kind != "recheck" || list.Items[0].ParentID != id {
			t.Errorf("after the run: %+v", list)
		}
	})
}

// TestAssistanceOverdueAndNotice checks overdue cases and their counts per
// district, and the public notice with an anonymous objection.
func TestAssistanceOverdueAndNotice(t *testing.T) {
	apptest.EachDB(t, func(t *testing.T, cfg app.Config) {
		s := newChainServer(t, cfg)
		ctx := context.Background()
		late, _, _ := s.newCase(t)
		s.newCase(t) // on time
		if _, err := s.App.DB.ExecContext(ctx, `UPDATE applications SET due_on = '2000-01-01' WHERE id = $1`, late); err != nil {
			t.Fatal(err)
		}
		var list assistance.List
		s.Get(t, "/api/v1/applications?overdue=1", s.tokens["reviewer_"+xuhui], 200, &list)
		if list.Total != 1 || list.Items[0].ID != late || !list.Items[0].Overdue {
			t.Errorf("overdue list: %+v", list)
		}
		var counts struct {
			Districts []assistance.OverdueCount `json:"districts"`
		}
		s.Get(t, "/api/v1/applications/overdue", s.tokens["reviewer_"+xuhui], 200, &counts)
		if len(counts.Districts) != 1 || counts.Districts[0].District != xuhui || counts.Districts[0].Open != 2 || counts.Districts[0].Overdue != 1 {
			t.Errorf("徐汇 counts: %+v", counts)
		}
		s.Get(t, "/api/v1/applications/overdue", s.tokens["reviewer_"+pudong], 200, &counts)
		if len(counts.Districts) != 0 {
			t.Errorf("浦东 sees 徐汇 counts: %+v", counts)
		}

		id, headNo, _ := s.newCase(t)
		s.advance(t, id, headNo, assistance.Notice)
		base := s.URL(t)
		c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		r, err := c.Get(base + "/notices")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(r.Body)
		r.Body.Close()
		if r.StatusCode != 200 || !strings.Contains(string(b), "周**") || strings.Contains(string(b), "周户主") || strings.Contains(string(b), headNo) {
			t.Fatalf("notices: %d, masked name shown %v", r.StatusCode, strings.Contains(string(b), "周**"))
		}
		r, _ = c.PostForm(fmt.Sprintf("%s/notices/%d/objection", base, id), url.Values{"text": {"该户经营一家小店，收入未申报"}})
		r.Body.Close()
		if r.StatusCode != http.StatusSeeOther {
			t.Fatalf("objection: %d", r.StatusCode)
		}
		for target, want := range map[int64]int{id: 422, late: 404} {
			text := "短"
			if target == late {
				text = "这不是公示中的申请"
			}
			r, _ = c.PostForm(fmt.Sprintf("%s/notices/%d/objection", base, target), url.Values{"text": {text}})
			r.Body.Close()
			if r.StatusCode != want {
				t.Errorf("objection to %d: %d, want %d", target, r.StatusCode, want)
			}
		}
		cs := s.state(t, id)
		if len(cs.Objections) != 1 {
			t.Fatalf("objections: %+v", cs.Objections)
		}
		// The objection must be answered before review.
		s.prepare(t, id, headNo, assistance.Notice, assistance.Review)
		rec := s.move(t, id, s.tokens["clerk_"+xuhui], assistance.Move{To: assistance.Review})
		if rec.Code != 422 || !strings.Contains(rec.Body.String(), `"field":"note"`) {
			t.Errorf("review with an unanswered objection: %d %s", rec.Code, rec.Body.String())
		}
	})
}

// TestObjectionRateLimit checks that anonymous objections are limited per
// client address: 5 in 10 minutes, then 429 with a Chinese message (other
// addresses are unaffected), and 50 a day on one notice.
func TestObjectionRateLimit(t *testing.T) {
	apptest.EachDB(t, func(t *testing.T, cfg app.Config) {
		s := newChainServer(t, cfg)
		id, headNo, _ := s.newCase(t)
		s.advance(t, id, headNo, assistance.Notice)
		other, otherNo, _ := s.newCase(t)
		s.advance(t, other, otherNo, assistance.Notice)
		clock := time.Now()
		s.App.Assistance.Now = func() time.Time { return clock }
		object := func(notice int64, addr string) *httptest.ResponseRecorder {
			req := httptest.NewRequest(http.MethodPost, fmt.Sprintf("/notices/%d/objection", notice),
				strings.NewReader(url.Values{"text": {"该户经营一家小店，收入未申报"}}.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.RemoteAddr = addr + ":40000"
			return s.Serve(req)
		}
		for i := range 5 {
			if rec := object(id, "203.0.113.7"); rec.Code != http.StatusSeeOther {
				t.Fatalf("objection %d: %d %s", i+1, rec.Code, rec.Body.String())
			}
		}
		rec := object(id, "203.0.113.7")
		if rec.Code != http.StatusTooManyRequests || !strings.Contains(rec.Body.String(), "过于频繁") {
			t.Fatalf("6th objection in 10 minutes: %d, want 429 with a message", rec.Code)
		}
		if rec := object(id, "203.0.113.8"); rec.Code != http.StatusSeeOther {
			t.Fatalf("objection from another address: %d", rec.Code)
		}
		// 50 a day on one notice: 5 every 11 minutes, then the 51st is refused
		// while another notice still takes one.
		for n := 5; n < 50; n++ {
			if n%5 == 0 {
				clock = clock.Add(11 * time.Minute)
			}
			if rec := object(id, "203.0.113.7"); rec.Code != http.StatusSeeOther {
				t.Fatalf("objection %d of the day: %d", n+1, rec.Code)
			}
		}
		clock = clock.Add(11 * time.Minute)
		if rec := object(id, "203.0.113.7"); rec.Code != http.StatusTooManyRequests {
			t.Fatalf("51st objection of the day on one notice: %d, want 429", rec.Code)
		}
		if rec := object(other, "203.0.113.7"); rec.Code != http.StatusSeeOther {
			t.Fatalf("objection to another notice: %d", rec.Code)
		}
		if n := len(s.state(t, id).Objections); n != 51 {
			t.Errorf("objections stored: %d, want 51", n)
		}
	})
}
