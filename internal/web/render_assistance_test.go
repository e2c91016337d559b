package web_test

import (
	"net/http"

	"minzheng/internal/assistance"
	"minzheng/internal/auth"
	"minzheng/internal/errs"
)

// Mirrors of the social assistance page data (see render_test.go).
type (
	applicationsData struct {
		State     string
		Overdue   bool
		States    []assistance.StateInfo
		Programs  []assistance.Program
		List      assistance.List
		Counts    []assistance.OverdueCount
		CanCreate bool
	}
	applicationData struct {
		Case          assistance.Case
		MaterialKinds []assistance.MaterialKind
		CanVerify     bool
		CanUpload     bool
		CanDeclare    bool
	}
	letterData struct {
		Case     assistance.Case
		Decision assistance.Step
		Office   string
	}
	noticesData struct {
		Notices []assistance.PublicNotice
		Sent    bool
	}
	relativesData struct {
		Relatives []assistance.Relative
		Error     *errs.Error
		Form      assistance.NewRelative
	}
)

var (
	clerk  = auth.Principal{UserID: 2, Name: "wang", Display: "Wang", Role: auth.Clerk, Division: "310104003"}
	dibao  = assistance.ProgramStatus{Program: "dibao", Label: assistance.ProgramLabel("dibao"), Status: "granted", MonthlyFen: 240000}
	oneOff = assistance.ProgramStatus{Program: "temporary", Label: assistance.ProgramLabel("temporary"), Status: "granted", OneOffFen: 50000}
	aiApp  = assistance.Application{ID: 17, Kind: "recheck", HouseholdID: 9, ApplicantID: 42, Division: "310104003001", State: assistance.Review, StateLabel: assistance.Review.Label(),
		DueOn: "2025-08-01", Overdue: true, Conflict: true, DeclaredDepositsFen: 123456, CreatedBy: "wang", CreatedAt: at, Applicant: "Zhang San",
		Programs: []assistance.ProgramStatus{dibao, oneOff}}
	aiCase = assistance.Case{Application: aiApp,
		Members:      []assistance.Member{{PersonID: 42, Relation: "head", RelationLabel: "户主", Name: "Zhang San", IDMasked: "310104********0017", DeclaredIncomeFen: 90000}},
		Steps:        []assistance.Step{{To: assistance.Submitted, Actor: "wang", Role: auth.Clerk, Note: "taken", At: at}, {From: assistance.Notice, To: assistance.Review, Actor: "li", Role: auth.Adviser, Reasons: []string{"reason one"}, At: at}},
		Materials:    []assistance.Material{{ID: 3, Kind: "visit_photo", KindLabel: assistance.MaterialKinds["visit_photo"], FileName: "room.jpg", Size: 2048, SHA256: "ab12", UploadedBy: "li", CreatedAt: at}},
		Objections:   []assistance.Objection{{ID: 1, Text: "has a car", CreatedAt: at}},
		Precheck:     []assistance.Precheck{{Program: "dibao", Label: dibao.Label, Evaluated: true, Eligible: true, MonthlyFen: 240000, Conditions: []assistance.Condition{{ID: "hukou", Label: "Hukou", Passed: true, Evidenced: true, Detail: "local hukou"}, {ID: "income", Detail: "income below", Passed: true}}}, {Program: "temporary", Label: oneOff.Label}},
		Report:       &assistance.Report{CheckedOn: "2025-07-01", ValidUntil: "2025-09-29", Valid: true, Rows: 2, Differs: true, Findings: []assistance.Finding{{PersonID: 42, Name: "Zhang San", Source: "deposit", SourceLabel: "银行存款", FoundFen: 100000, Count: 1, Differs: true, Details: "bank A"}}},
		Next:         []assistance.NextAction{{To: assistance.Approval, Label: "审核通过，提交审批"}, {To: assistance.Refused, Label: "审核不通过，不予批准"}},
		RelatedStaff: []string{"zhao"}}
	grantedCase = func() assistance.Case {
		c := aiCase
		c.State, c.StateLabel, c.DecidedOn, c.Next = assistance.Granted, assistance.Granted.Label(), "2025-08-09", nil
		return c
	}()
)

func init() {
	renderCases = append(renderCases,
		renderCase{name: "applications", page: "applications", title: "社会救助申请", user: &clerk,
			data: applicationsData{State: "review", States: assistance.States, Programs: assistance.Programs, CanCreate: true,
				List:   assistance.List{Total: 1, Items: []assistance.Application{aiApp}},
				Counts: []assistance.OverdueCount{{District: "310104", Name: "Xuhui District", Open: 5, Overdue: 2}}},
			zh: []string{"受理新申请", `value="dibao"`, "最低生活保障", "区审核", "已超期", `class="overdue"`, "复核", "利益冲突", "Xuhui District", `aria-current="page">区审核`},
			en: []string{"Start a new application", "Minimum living guarantee (dibao)", "Temporary assistance", "District review", "overdue", "Re-check", "Conflict of interest", "Cases by district", "Worklist"}},
		renderCase{name: "applications empty", page: "applications", title: "社会救助申请", user: &cityAdmin, data: applicationsData{States: assistance.States},
			zh: []string{"没有符合条件的申请"},
			en: []string{"No matching applications"}},
		renderCase{name: "application", page: "application", title: "救助申请详情", user: &clerk,
			data: applicationData{Case: aiCase, MaterialKinds: assistance.MaterialKindList, CanUpload: true, CanVerify: true, CanDeclare: true},
			zh:   []string{"救助申请", "利益冲突", "zhao", "1234.56", "2400.00", "500.00", "审核通过，提交审批", `name="reasons"`, "入户调查照片", "room.jpg", "银行存款", "不一致", "尚待核对证实", "has a car", "reason one", "户主", `name="income_42" inputmode="decimal" value="900.00"`, "保存申报", `name="csrf" value="csrf-token"`},
			en: []string{"Assistance application", "Conflict of interest", "Review passed: submit for approval", "Review failed: refuse", "Reasons for refusal", "Home visit photo", "Bank deposits", "Differs",
				"awaiting verification", "Head of household", "Correct the declaration", "Save the declaration", "Rules pre-check", "Economic verification", "Import verification data", "History", "District review", "Intake clerk"}},
		renderCase{name: "application granted", page: "application", title: "救助申请详情", user: &cityAdmin, data: applicationData{Case: grantedCase},
			zh: []string{"批准发放", `href="/applications/17/letter"`, "2400.00", "元/月"},
			en: []string{"Approved", "Print the decision letter", "yuan/month"}},
		renderCase{name: "letter", page: "letter", title: "决定书", user: &clerk,
			data: letterData{Case: grantedCase, Decision: assistance.Step{To: assistance.Granted, Actor: "zhao", Reasons: []string{"meets the standard"}}, Office: "Xuhui Civil Affairs"},
			zh:   []string{"社会救助批准决定书", "Xuhui Civil Affairs", "2400.00", "500.00", "2025-08-09", "行政复议", "meets the standard"},
			en:   []string{"Decision to grant social assistance", "monthly", "one-off", "administrative reconsideration", "zhao"}},
		renderCase{name: "notices", page: "notices", title: "社会救助公示",
			data: noticesData{Sent: true, Notices: []assistance.PublicNotice{{ID: 17, Names: "Z**", Division: "310104003001", Programs: "dibao", Members: 2, NoticeUntil: "2025-08-08"}}},
			zh:   []string{"社会救助公示", "Z**", "Yongjia Road Committee", "2025-08-08", `action="/notices/17/objection"`, "您的异议已收到"},
			en:   []string{"Social assistance public notice", "Lodge an objection", "Your objection has been received"}},
		renderCase{name: "relatives", page: "relatives", title: "经办人员亲属备案", user: &clerk, status: http.StatusUnprocessableEntity,
			data: relativesData{Error: &errs.Error{Code: errs.Invalid, Message: "bad number"}, Form: assistance.NewRelative{Name: "Li", Relation: "sister"},
				Relatives: []assistance.Relative{{ID: 1, Name: "Zhao", Relation: "brother", IDMasked: "310104********0017", CreatedAt: at}}},
			zh: []string{"经办人员亲属备案", "bad number", `value="Li"`, "310104********0017", "2024-01-02 11:04"},
			en: []string{"Staff relatives on file", "Put on file", "Relationship", "bad number"}},
	)
}
