package assistance

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"minzheng/internal/audit"
	"minzheng/internal/auth"
	"minzheng/internal/db"
	"minzheng/internal/errs"
	"minzheng/internal/tabular"
)

// verificationColumns are the columns of a department data file.
var verificationColumns = []tabular.Column{
	{Key: "id_number", Names: []string{"id_number", "身份证号", "身份证号码", "公民身份号码"}, Required: true},
	{Key: "source", Names: []string{"source", "数据来源", "来源", "类别"}, Required: true},
	{Key: "amount", Names: []string{"amount", "金额", "金额（元）", "金额(元)"}},
	{Key: "detail", Names: []string{"detail", "说明", "备注"}},
	{Key: "checked_on", Names: []string{"checked_on", "核对日期", "日期"}},
}

var columnNames = map[string]string{"id_number": "身份证号", "source": "数据来源", "amount": "金额", "detail": "说明", "checked_on": "核对日期"}

// rowField names a field of a row for error messages: records[3].amount
// in the API, the row number as in Excel for a file.
type rowRef func(i int, field string) (key, prefix string)

// VerifyTable files a department data file (CSV in UTF-8 or GBK, or
// .xlsx): see Verify. Errors name the row as in Excel and the column.
func (s *Service) VerifyTable(ctx context.Context, p auth.Principal, id int64, t *tabular.Table, fileName string) (Report, error) {
	if !p.Can(PermVerify) {
		return Report{}, errs.E(errs.Forbidden, "您的角色无权录入经济状况核对数据")
	}
	cols, err := t.Columns(verificationColumns)
	if err != nil {
		return Report{}, errs.E(errs.Invalid, "%s", err.Error())
	}
	recs := make([]VerificationRecord, len(t.Rows))
	lines := make([]int, len(t.Rows))
	var fe errs.Fields
	for i, r := range t.Rows {
		lines[i] = r.Line
		recs[i] = VerificationRecord{IDNumber: r.Get(cols["id_number"]), Source: r.Get(cols["source"]), Detail: r.Get(cols["detail"])}
		if v := strings.ReplaceAll(r.Get(cols["amount"]), ",", ""); v != "" {
			x, err := strconv.ParseFloat(v, 64)
			if err != nil {
				fe.Add(fmt.Sprintf("rows[%d].amount", r.Line), "第 %d 行“金额”：“%s”不是数字", r.Line, v)
			}
			recs[i].Amount = x
		}
		if v := r.Get(cols["checked_on"]); v != "" {
			d, ok := tabular.ParseDate(v)
			if !ok {
				fe.Add(fmt.Sprintf("rows[%d].checked_on", r.Line), "第 %d 行“核对日期”：“%s”不是日期", r.Line, v)
			} else {
				recs[i].CheckedOn = d.Format(dateFmt)
			}
		}
	}
	ref := func(i int, field string) (string, string) {
		return fmt.Sprintf("rows[%d].%s", lines[i], field), fmt.Sprintf("第 %d 行“%s”：", lines[i], columnNames[field])
	}
	return s.verify(ctx, p, id, recs, "file", fileName, ref, fe)
}

// Verify files department data (经济状况核对) for an application in the
// 核对 state: every record must name a member of the household by ID
// number (matched through the keyed hash), a known source and a
// non-negative amount. Either every record is stored, as one batch, or
// none; problems are reported per record, in Chinese, naming the field.
// It returns the verification report.
func (s *Service) Verify(ctx context.Context, p auth.Principal, id int64, b VerificationBatch) (Report, error) {
	if !p.Can(PermVerify) {
		return Report{}, errs.E(errs.Forbidden, "您的角色无权录入经济状况核对数据")
	}
	ref := func(i int, field string) (string, string) {
		return fmt.Sprintf("records[%d].%s", i, field), fmt.Sprintf("第 %d 条记录“%s”：", i+1, columnNames[field])
	}
	return s.verify(ctx, p, id, b.Records, "api", "", ref, nil)
}

func (s *Service) verify(ctx context.Context, p auth.Principal, id int64, recs []VerificationRecord, origin, fileName string, ref rowRef, fe errs.Fields) (Report, error) {
	a, err := s.load(ctx, s.DB, p, id)
	if err != nil {
		return Report{}, err
	}
	if a.State != Verifying {
		return Report{}, errs.E(errs.Conflict, "申请当前处于“%s”，只有“经济状况核对”阶段可以录入核对数据", a.State.Label())
	}
	if len(recs) == 0 {
		return Report{}, errs.Field("records", "没有核对数据")
	}
	if len(recs) > 10000 {
		return Report{}, errs.Field("records", "核对数据过多（%d 条，最多 10000 条）", len(recs))
	}
	members, err := s.memberHashes(ctx, id)
	if err != nil {
		return Report{}, err
	}
	today := s.today()
	type item struct {
		person int64
		source string
		fen    int64
		detail string
	}
	items := make([]item, len(recs))
	checked := ""
	for i, r := range recs {
		add := func(field, format string, args ...any) {
			key, prefix := ref(i, field)
			fe.Add(key, "%s", prefix+fmt.Sprintf(format, args...))
		}
		number := strings.ToUpper(strings.TrimSpace(r.IDNumber))
		switch {
		case number == "":
			add("id_number", "不能为空")
		default:
			pid, ok := members[string(s.Suite.Index(number))]
			if !ok {
				add("id_number", "身份证号 %s 不是本申请家庭的成员", maskNumber(number))
			}
			items[i].person = pid
		}
		src, ok := SourceByKey(strings.TrimSpace(r.Source))
		if !ok {
			add("source", "“%s”不是可识别的数据来源，可填：工资收入、养老金、银行存款、有价证券、不动产、机动车、工商登记", r.Source)
		}
		items[i].source = src.ID
		switch {
		case math.IsNaN(r.Amount) || r.Amount < 0:
			add("amount", "金额不能为负数")
		case r.Amount > 1e11:
			add("amount", "金额 %.2f 元超出合理范围", r.Amount)
		default:
			items[i].fen = int64(math.Round(r.Amount * 100))
		}
		if r.CheckedOn != "" {
			d, err := time.Parse(dateFmt, r.CheckedOn)
			switch {
			case err != nil:
				add("checked_on", "“%s”应为 YYYY-MM-DD", r.CheckedOn)
			case d.After(today):
				add("checked_on", "%s 晚于今天", r.CheckedOn)
			case checked == "" || r.CheckedOn < checked:
				checked = r.CheckedOn // the report is as old as its oldest datum
			}
		}
		if len([]rune(r.Detail)) > 200 {
			add("detail", "说明过长（最多 200 字）")
		}
		items[i].detail = strings.TrimSpace(r.Detail)
	}
	if err := fe.Err(); err != nil {
		return Report{}, err
	}
	if checked == "" {
		checked = today.Format(dateFmt)
	}
	cd, _ := time.Parse(dateFmt, checked)
	valid := cd.AddDate(0, 0, VerificationValidDays).Format(dateFmt)
	now := s.Now().UTC()
	err = s.DB.Tx(ctx, func(tx *sql.Tx) error {
		// The state is read again inside the transaction: a case moved on
		// meanwhile takes no more data.
		var st string
		if err := tx.QueryRowContext(ctx, `SELECT state FROM applications WHERE id = $1`, id).Scan(&st); err != nil {
			return err
		}
		if State(st) != Verifying {
			return errs.E(errs.Conflict, "申请已转为“%s”，不再接收核对数据", State(st).Label())
		}
		var batch int64
		if err := tx.QueryRowContext(ctx, `INSERT INTO verification_batches (application_id, origin, file_name, row_count, checked_on, valid_until, actor, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`, id, origin, fileName, len(items), checked, valid, p.Name, db.Now(now)).Scan(&batch); err != nil {
			return fmt.Errorf("assistance: insert batch: %w", err)
		}
		for _, it := range items {
			if _, err := tx.ExecContext(ctx, `INSERT INTO verification_records (batch_id, application_id, person_id, source, amount_fen, detail) VALUES ($1, $2, $3, $4, $5, $6)`,
				batch, id, it.person, it.source, it.fen, it.detail); err != nil {
				return fmt.Errorf("assistance: insert verification record: %w", err)
			}
		}
		what := "接口"
		if origin == "file" {
			what = "文件 " + fileName
		}
		return s.Audit.Append(ctx, tx, audit.Entry{Actor: p.Name, Role: string(p.Role), Action: "application.verification", Entity: "application",
			EntityID: fmt.Sprint(id), Detail: fmt.Sprintf("录入经济状况核对数据 %d 条（%s），核对日期 %s，有效期至 %s", len(items), what, checked, valid), Remote: p.Remote})
	})
	if err != nil {
		return Report{}, err
	}
	ms, err := s.members(ctx, s.DB, id)
	if err != nil {
		return Report{}, err
	}
	rep, err := s.report(ctx, s.DB, a, ms)
	if err != nil {
		return Report{}, err
	}
	if rep == nil {
		return Report{}, fmt.Errorf("assistance: no report after filing batch for %d", id)
	}
	return *rep, nil
}

func maskNumber(n string) string {
	if len(n) == 18 {
		return n[:6] + "********" + n[14:]
	}
	return "（号码格式不正确）"
}

// memberHashes maps the keyed ID hash of each member to their person ID.
func (s *Service) memberHashes(ctx context.Context, id int64) (map[string]int64, error) {
	rows, err := s.DB.QueryContext(ctx, `SELECT person_id, id_hash FROM application_members WHERE application_id = $1`, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var pid int64
		var h []byte
		if err := rows.Scan(&pid, &h); err != nil {
			return nil, err
		}
		out[string(h)] = pid
	}
	return out, rows.Err()
}

// report builds the verification report from the latest batch: per member
// and income source what was found against the declared income, and per
// asset source what the household holds against its declaration. It
// returns nil when no data were filed.
func (s *Service) report(ctx context.Context, q db.Queryer, a Application, members []Member) (*Report, error) {
	var batch int64
	rep := &Report{Findings: []Finding{}}
	err := q.QueryRowContext(ctx, `SELECT id, checked_on, valid_until, row_count FROM verification_batches WHERE application_id = $1 ORDER BY id DESC LIMIT 1`, a.ID).
		Scan(&batch, &rep.CheckedOn, &rep.ValidUntil, &rep.Rows)
	if err == sql.ErrNoRows {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	rep.Valid = rep.ValidUntil >= s.today().Format(dateFmt)
	rows, err := q.QueryContext(ctx, `SELECT person_id, source, amount_fen, detail FROM verification_records WHERE batch_id = $1 ORDER BY id`, batch)
	if err != nil {
		return nil, err
	}
	type key struct {
		person int64
		source string
	}
	found := map[key]*Finding{}
	var order []key
	names := map[int64]string{}
	for _, m := range members {
		names[m.PersonID] = m.Name
	}
	for rows.Next() {
		var pid, fen int64
		var src, detail string
		if err := rows.Scan(&pid, &src, &fen, &detail); err != nil {
			rows.Close()
			return nil, err
		}
		k := key{pid, src}
		f, ok := found[k]
		if !ok {
			so, _ := SourceByKey(src)
			f = &Finding{PersonID: pid, Name: names[pid], Source: src, SourceLabel: so.Label}
			found[k] = f
			order = append(order, k)
		}
		f.FoundFen += fen
		f.Count++
		if detail != "" {
			if f.Details != "" {
				f.Details += "；"
			}
			f.Details += detail
		}
	}
	rows.Close()
	// Incomes per member against the declaration: a member with no income
	// found and a declared income of zero has nothing to report.
	for _, m := range members {
		var wage int64
		for _, src := range []string{"wage", "pension"} {
			if f, ok := found[key{m.PersonID, src}]; ok {
				wage += f.FoundFen
			}
		}
		first := true
		for _, src := range []string{"wage", "pension"} {
			if f, ok := found[key{m.PersonID, src}]; ok {
				if first {
					f.DeclaredFen = m.DeclaredIncomeFen
					f.Differs = wage != m.DeclaredIncomeFen
					first = false
				}
			}
		}
		if first && m.DeclaredIncomeFen > 0 {
			// Declared an income no department reports.
			order = append(order, key{m.PersonID, "wage"})
			found[key{m.PersonID, "wage"}] = &Finding{PersonID: m.PersonID, Name: m.Name, Source: "wage", SourceLabel: Sources[0].Label,
				DeclaredFen: m.DeclaredIncomeFen, Differs: true, Details: "申报有收入，各部门未报告"}
		}
	}
	// Property: household totals against the declaration.
	total := func(src string) (int64, int) {
		var fen int64
		var n int
		for k, f := range found {
			if k.source == src {
				fen += f.FoundFen
				n += f.Count
			}
		}
		return fen, n
	}
	dep, _ := total("deposit")
	sec, _ := total("securities")
	_, estates := total("real_estate")
	_, vehicles := total("vehicle")
	for _, k := range order {
		f := found[k]
		switch f.Source {
		case "deposit":
			f.DeclaredFen, f.Differs = a.DeclaredDepositsFen, dep != a.DeclaredDepositsFen
		case "securities":
			f.DeclaredFen, f.Differs = a.DeclaredSecuritiesFen, sec != a.DeclaredSecuritiesFen
		case "real_estate":
			f.DeclaredCount, f.Differs = a.DeclaredProperties, estates != a.DeclaredProperties
		case "vehicle":
			f.DeclaredCount, f.Differs = a.DeclaredVehicles, vehicles != a.DeclaredVehicles
		case "business":
			f.Differs = true // any business registration needs a look
		}
		rep.Findings = append(rep.Findings, *f)
		rep.Differs = rep.Differs || f.Differs
	}
	return rep, nil
}
