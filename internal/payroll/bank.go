package payroll

import (
	"bufio"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"minzheng/internal/audit"
	"minzheng/internal/auth"
	"minzheng/internal/db"
	"minzheng/internal/errs"
	"minzheng/internal/events"
	"minzheng/internal/jobs"
	"minzheng/internal/tabular"
)

// BankHeader is the header of a bank disbursement file.
var BankHeader = []string{"流水号", "户名", "证件号码", "开户银行", "账号", "金额（元）", "项目", "所属期", "代管", "代管人", "受益人"}

// Reference is a payment's reference in bank files and return files:
// period/programme/person, and /batch for a supplementary sign-off's file.
func Reference(period, program string, person int64, batch int) string {
	ref := period + "/" + program + "/" + strconv.FormatInt(person, 10)
	if batch > 1 {
		ref += "/" + strconv.Itoa(batch)
	}
	return ref
}

// ParseReference splits a payment reference.
func ParseReference(ref string) (period, program string, person int64, batch int, ok bool) {
	parts := strings.Split(ref, "/")
	if len(parts) < 3 || len(parts) > 4 || parts[0] == "" || parts[1] == "" {
		return "", "", 0, 0, false
	}
	person, err := strconv.ParseInt(parts[2], 10, 64)
	batch = 1
	if len(parts) == 4 {
		if batch, err = strconv.Atoi(parts[3]); err != nil || batch < 2 {
			return "", "", 0, 0, false
		}
	}
	return parts[0], parts[1], person, batch, err == nil && person > 0
}

// payment is one transfer: the lines of a programme and person in a period.
type payment struct {
	id                        int64 // the first ledger line
	period, program, division string
	person                    int64
	fen                       int64
	name                      string
	idEnc                     []byte
	bank, holder, custodian   sql.NullString
	accountEnc                []byte
	custodial                 sql.NullInt64
}

// bankFiles holds the open files of one write, by district and bank.
type bankFiles struct {
	dir   string
	files map[string]*bankFile
}

type bankFile struct {
	tmp, path string
	f         *os.File
	buf       *bufio.Writer
	w         *csv.Writer
	rows      int
}

func (b *bankFiles) get(district, bank, suffix string) (*bankFile, error) {
	key := district + "/" + bank + suffix
	if f, ok := b.files[key]; ok {
		return f, nil
	}
	dir := filepath.Join(b.dir, district)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	path := filepath.Join(dir, bank+suffix+".csv")
	f, err := os.CreateTemp(dir, bank+".*.tmp")
	if err != nil {
		return nil, err
	}
	bf := &bankFile{tmp: f.Name(), path: path, f: f, buf: bufio.NewWriterSize(f, 1<<16)}
	bf.buf.WriteString("\ufeff") // Excel opens UTF-8 with a BOM
	bf.w = csv.NewWriter(bf.buf)
	bf.w.Write(BankHeader)
	b.files[key] = bf
	return bf, nil
}

// close flushes every file and moves it into place, or removes them all.
func (b *bankFiles) close(ok bool) ([]string, error) {
	var paths []string
	var first error
	for _, f := range b.files {
		f.w.Flush()
		err := f.buf.Flush()
		if err == nil {
			err = f.f.Sync()
		}
		if cerr := f.f.Close(); err == nil {
			err = cerr
		}
		if ok && err == nil {
			err = os.Rename(f.tmp, f.path)
			paths = append(paths, f.path)
		} else {
			os.Remove(f.tmp)
		}
		if err != nil && first == nil {
			first = err
		}
	}
	sort.Strings(paths)
	return paths, first
}

// WriteBankFiles releases (发出) the period's lines not yet released in
// every district of the caller's jurisdiction ("" for all of it, or one
// district), as the operator's own sign-off: the CLI's path, for a city that
// does not wait for district approvers. Districts with nothing new are left
// alone, so files once released are never written again with other lines.
func (s *Service) WriteBankFiles(ctx context.Context, by auth.Principal, period, district string) ([]string, error) {
	if !by.Can(PermRun) {
		return nil, errs.E(errs.Forbidden, "您的角色无权生成银行发放文件")
	}
	sc := by.Scope()
	if district != "" {
		if !sc.Covers(district) {
			return nil, errs.E(errs.Forbidden, "区划 %s 不在您的管辖范围内", district)
		}
		sc, _ = sc.Narrow(district)
	}
	return s.release(ctx, by, period, sc, "")
}

// batchRange is one district's batch being written: ledger ids (lo, hi].
type batchRange struct {
	lo, hi int64
	batch  int
}

// release records a sign-off batch for the lines not yet released of each
// district in sc and writes their bank files. It holds the payroll
// lease, so no run adds lines meanwhile and the ids it takes as a batch's
// end are all committed. A batch whose files failed to be written is
// written again first. strict, the district of an approver's sign-off
// ("" for none), makes "nothing new" there an error.
func (s *Service) release(ctx context.Context, by auth.Principal, period string, sc auth.Scope, strict string) ([]string, error) {
	if _, err := s.Leases.Acquire(ctx, Job, 2*time.Hour); errors.Is(err, jobs.ErrHeld) {
		return nil, errs.E(errs.Conflict, "发放正在运行，请待其完成后再签发")
	} else if err != nil {
		return nil, err
	}
	defer s.Leases.Release(context.WithoutCancel(ctx), Job, "")
	lo, hi := sc.Range()
	ranges := map[string]batchRange{}
	err := s.DB.Tx(ctx, func(tx *sql.Tx) error {
		// Each district's last batch.
		type last struct {
			batch, written int
			maxLine, prev  int64
		}
		lasts := map[string]last{}
		rows, err := tx.QueryContext(ctx, `SELECT district, batch, max_line, written FROM payroll_signoffs WHERE period = $1 AND district >= $2 AND district < $3 ORDER BY district, batch`, period, lo, hi)
		if err != nil {
			return err
		}
		for rows.Next() {
			var d string
			var l last
			if err := rows.Scan(&d, &l.batch, &l.maxLine, &l.written); err != nil {
				rows.Close()
				return err
			}
			l.prev = lasts[d].maxLine
			lasts[d] = l
		}
		rows.Close()
		// The lines after each district's last batch, in one pass over the month.
		type fresh struct{ n, fen, to int64 }
		news := map[string]fresh{}
		rows, err = tx.QueryContext(ctx, `SELECT substr(l.division, 1, 6), COUNT(*), COALESCE(SUM(l.fen), 0), MAX(l.id) FROM ledger l
			LEFT JOIN (SELECT district, MAX(max_line) AS m FROM payroll_signoffs WHERE period = $1 GROUP BY district) s ON s.district = substr(l.division, 1, 6)
			WHERE l.period = $1 AND l.division >= $2 AND l.division < $3 AND l.id > COALESCE(s.m, 0)
			GROUP BY substr(l.division, 1, 6)`, period, lo, hi)
		if err != nil {
			return err
		}
		for rows.Next() {
			var d string
			var f fresh
			if err := rows.Scan(&d, &f.n, &f.fen, &f.to); err != nil {
				rows.Close()
				return err
			}
			news[d] = f
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for d, l := range lasts {
			if l.written == 0 {
				// Signed, but its files were never written: write them now.
				ranges[d] = batchRange{l.prev, l.maxLine, l.batch}
			}
		}
		if strict != "" {
			if _, ok := ranges[strict]; ok {
				return nil
			}
			if _, ok := news[strict]; !ok {
				if lasts[strict].batch == 0 {
					return errs.E(errs.Invalid, "%s 在 %s 没有发放明细，请先运行发放", strict, period)
				}
				return errs.E(errs.Conflict, "%s 的发放已签发过，之后没有新增明细", period)
			}
		}
		for d, f := range news {
			if _, ok := ranges[d]; ok {
				continue // its unwritten batch first; the rest next time
			}
			batch := lasts[d].batch + 1
			res, err := tx.ExecContext(ctx, `INSERT INTO payroll_signoffs (period, district, batch, max_line, approver, lines, fen, signed_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
				ON CONFLICT (period, district, batch) DO NOTHING`, period, d, batch, f.to, by.Name, f.n, f.fen, db.Now(s.now()))
			if err != nil {
				return err
			}
			if k, _ := res.RowsAffected(); k == 0 {
				return errs.E(errs.Conflict, "%s 的发放正在被另一人签发", period)
			}
			what := "签发"
			if batch > 1 {
				what = fmt.Sprintf("补充签发（第 %d 批）", batch)
			}
			if err := s.Audit.Append(ctx, tx, audit.Entry{Actor: by.Name, Role: string(by.Role), Action: "payroll.signoff", Entity: "payroll_period", EntityID: period + "/" + d,
				Detail: fmt.Sprintf("%s %d 行 %.2f 元", what, f.n, yuan(f.fen)), Remote: by.Remote}); err != nil {
				return err
			}
			ranges[d] = batchRange{lasts[d].maxLine, f.to, batch}
		}
		return nil
	})
	if err != nil || len(ranges) == 0 {
		return nil, err
	}
	paths, err := s.writeFiles(ctx, by, period, ranges)
	if err != nil {
		return nil, err
	}
	err = s.DB.Tx(ctx, func(tx *sql.Tx) error {
		for d, r := range ranges {
			if _, err := tx.ExecContext(ctx, `UPDATE payroll_signoffs SET written = 1 WHERE period = $1 AND district = $2 AND batch = $3`, period, d, r.batch); err != nil {
				return err
			}
		}
		return nil
	})
	return paths, err
}

const paymentCols = `l.id, l.program, l.person_id, l.fen, l.division, p.name, p.id_enc, a.bank, a.account_enc, a.holder, a.custodial, a.custodian`

func scanPayment(rows *sql.Rows, p *payment) error {
	return rows.Scan(&p.id, &p.program, &p.person, &p.fen, &p.division, &p.name, &p.idEnc, &p.bank, &p.accountEnc, &p.holder, &p.custodial, &p.custodian)
}

// writeFiles writes the bank files of the period's lines in each
// district's batch range: per district, one CSV per bank (batch 1:
// 工商银行.csv; later batches: 工商银行-补充2.csv), each payment one row — the
// programme's lines of a person (regular, back payment, less deductions) —
// and, with a district's first batch, the payments of earlier periods a
// bank returned as failed. People without an account go to the 社保卡 file by
// ID number. The files are written to temporary names and renamed at the
// end; the full ID numbers they carry make it an audited read. A payment
// whose lines add up to less than nothing is an error, never dropped.
func (s *Service) writeFiles(ctx context.Context, by auth.Principal, period string, ranges map[string]batchRange) ([]string, error) {
	out := &bankFiles{dir: filepath.Join(s.Dir, period), files: map[string]*bankFile{}}
	rows, written := 0, false
	defer func() {
		if !written {
			out.close(false)
		}
	}()
	emit := func(p *payment, ref string, batch int) error {
		if p.fen < 0 {
			return errs.E(errs.Invalid, "付款 %s 的净额为负（%d 分）：抵扣多于应发，请核查", ref, p.fen)
		}
		if p.fen == 0 {
			return nil
		}
		id, err := s.Suite.Open(p.idEnc)
		if err != nil {
			return fmt.Errorf("payroll: decrypt ID of person %d: %w", p.person, err)
		}
		bank, holder, account, custodial, custodian := SocialSecurityCard, p.name, "", "否", ""
		if p.bank.Valid {
			bank, holder = p.bank.String, p.holder.String
			acc, err := s.Suite.Open(p.accountEnc)
			if err != nil {
				return fmt.Errorf("payroll: decrypt account of person %d: %w", p.person, err)
			}
			account = string(acc)
			if p.custodial.Int64 == 1 {
				custodial, custodian = "是", p.custodian.String
			}
		}
		suffix := ""
		if batch > 1 {
			suffix = fmt.Sprintf("-补充%d", batch)
		}
		f, err := out.get(p.division[:min(6, len(p.division))], safeName(bank), suffix)
		if err != nil {
			return err
		}
		f.rows++
		rows++
		// Text a spreadsheet would run as a formula is escaped (a holder
		// recorded before SetAccount refused such names, a custodian, a
		// name); the amount is a number and written as it is.
		esc := tabular.EscapeFormula
		return f.w.Write([]string{esc(ref), esc(holder), esc(string(id)), esc(bank), esc(account), fmt.Sprintf("%d.%02d", p.fen/100, p.fen%100),
			esc(s.programName(p.program)), esc(p.period), custodial, esc(custodian), esc(p.name)})
	}
	// One pass over the period in ledger_key's order (no sort on SQLite;
	// PostgreSQL gets the memory to sort a city's month in one pass); each
	// line is kept if its district's batch covers its id.
	var dlo, dhi string
	minLo := int64(math.MaxInt64)
	for d, r := range ranges {
		if dlo == "" || d < dlo {
			dlo = d
		}
		if d > dhi {
			dhi = d
		}
		minLo = min(minLo, r.lo)
	}
	_, dhi = db.PrefixRange(dhi)
	rtx, err := s.DB.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, err
	}
	defer rtx.Rollback()
	if s.DB.Dialect == db.Postgres {
		if _, err := rtx.ExecContext(ctx, `SET LOCAL work_mem = '256MB'`); err != nil {
			return nil, err
		}
	}
	// Without an id bound when a batch starts at the beginning: SQLite would
	// otherwise walk the whole ledger by id and sort.
	ids, args := "", []any{period, dlo, dhi}
	if minLo > 0 {
		ids, args = " AND l.id > $4", append(args, minLo)
	}
	q, err := rtx.QueryContext(ctx, `SELECT `+paymentCols+` FROM ledger l JOIN persons p ON p.id = l.person_id LEFT JOIN payee_accounts a ON a.person_id = l.person_id
		WHERE l.period = $1 AND l.kind <> 'recovery' AND l.division >= $2 AND l.division < $3`+ids+` ORDER BY l.period, l.program, l.person_id, l.kind`, args...)
	if err != nil {
		return nil, fmt.Errorf("payroll: read ledger: %w", err)
	}
	var cur *payment
	var curBatch int
	flush := func() error {
		if cur == nil {
			return nil
		}
		return emit(cur, Reference(period, cur.program, cur.person, curBatch), curBatch)
	}
	for q.Next() {
		var p payment
		if err := scanPayment(q, &p); err != nil {
			q.Close()
			return nil, err
		}
		r, ok := ranges[p.division[:min(6, len(p.division))]]
		if !ok || p.id <= r.lo || p.id > r.hi {
			continue
		}
		if cur != nil && cur.program == p.program && cur.person == p.person {
			cur.fen += p.fen
			continue
		}
		if err := flush(); err != nil {
			q.Close()
			return nil, err
		}
		p.period = period
		cur, curBatch = &p, r.batch
	}
	q.Close()
	if err := q.Err(); err != nil {
		return nil, err
	}
	rtx.Rollback()
	if err := flush(); err != nil {
		return nil, err
	}
	// Payments of earlier periods the bank returned as failed go again,
	// with a district's first batch of a later period.
	var retried []int64
	for d, r := range ranges {
		if r.batch != 1 {
			continue
		}
		lo, hi := db.PrefixRange(d)
		fails, err := s.failedPayments(ctx, period, lo, hi)
		if err != nil {
			return nil, err
		}
		for _, f := range fails {
			p, err := s.paymentOf(ctx, f)
			if err != nil {
				return nil, err
			}
			if p == nil {
				continue
			}
			if err := emit(p, Reference(f.period, f.program, f.person, f.batch), 1); err != nil {
				return nil, err
			}
			retried = append(retried, f.id)
		}
	}
	written = true
	paths, err := out.close(true)
	if err != nil {
		return nil, fmt.Errorf("payroll: write bank files: %w", err)
	}
	err = s.DB.Tx(ctx, func(tx *sql.Tx) error {
		for _, id := range retried {
			if _, err := tx.ExecContext(ctx, `UPDATE bank_returns SET retried_in = $1 WHERE id = $2`, period, id); err != nil {
				return err
			}
		}
		return s.Audit.Append(ctx, tx, audit.Entry{Actor: by.Name, Role: string(by.Role), Action: "payroll.bank_files", Entity: "payroll_period", EntityID: period,
			Detail: fmt.Sprintf("银行发放文件 %d 个，%d 笔（含重发 %d 笔），%d 个区", len(paths), rows, len(retried), len(ranges)), Remote: by.Remote})
	})
	return paths, err
}

// failure is a payment a bank returned as failed, not yet sent again.
type failure struct {
	id, person      int64
	period, program string
	batch           int
}

// failedPayments lists the payments of periods other than period, in the
// divisions [dlo, dhi), whose latest return says failed and which have not
// gone again in another period's files.
func (s *Service) failedPayments(ctx context.Context, period, dlo, dhi string) ([]failure, error) {
	rows, err := s.DB.QueryContext(ctx, `SELECT r.id, r.period, r.program, r.person_id, r.batch FROM bank_returns r
		WHERE r.status = 'failed' AND r.period <> $1 AND (r.retried_in IS NULL OR r.retried_in = $1)
		AND NOT EXISTS (SELECT 1 FROM bank_returns n WHERE n.period = r.period AND n.program = r.program AND n.person_id = r.person_id AND n.batch = r.batch AND n.id > r.id)
		AND EXISTS (SELECT 1 FROM ledger l WHERE l.period = r.period AND l.program = r.program AND l.person_id = r.person_id AND l.division >= $2 AND l.division < $3)
		ORDER BY r.id`, period, dlo, dhi)
	if err != nil {
		return nil, fmt.Errorf("payroll: read returns: %w", err)
	}
	defer rows.Close()
	var out []failure
	for rows.Next() {
		var f failure
		if err := rows.Scan(&f.id, &f.period, &f.program, &f.person, &f.batch); err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, rows.Err()
}

// batchBounds returns the ledger ids (lo, hi] a sign-off batch of a
// period and district covered; without sign-offs, every id.
func (s *Service) batchBounds(ctx context.Context, q db.Queryer, period, district string, batch int) (lo, hi int64, err error) {
	hi = math.MaxInt64
	err = q.QueryRowContext(ctx, `SELECT COALESCE((SELECT max_line FROM payroll_signoffs WHERE period = $1 AND district = $2 AND batch = $3 - 1), 0),
		COALESCE((SELECT max_line FROM payroll_signoffs WHERE period = $1 AND district = $2 AND batch = $3), -1)`, period, district, batch).Scan(&lo, &hi)
	if hi == -1 {
		hi = math.MaxInt64
	}
	return lo, hi, err
}

// paymentOf reads what a failed payment paid: its lines in its batch.
func (s *Service) paymentOf(ctx context.Context, f failure) (*payment, error) {
	var div string
	if err := s.DB.QueryRowContext(ctx, `SELECT MIN(division) FROM ledger WHERE period = $1 AND program = $2 AND person_id = $3`, f.period, f.program, f.person).Scan(&div); err != nil {
		return nil, err
	}
	lo, hi, err := s.batchBounds(ctx, s.DB, f.period, div[:min(6, len(div))], f.batch)
	if err != nil {
		return nil, err
	}
	rows, err := s.DB.QueryContext(ctx, `SELECT `+paymentCols+` FROM ledger l JOIN persons p ON p.id = l.person_id LEFT JOIN payee_accounts a ON a.person_id = l.person_id
		WHERE l.period = $1 AND l.program = $2 AND l.person_id = $3 AND l.kind <> 'recovery' AND l.id > $4 AND l.id <= $5`, f.period, f.program, f.person, lo, hi)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out *payment
	for rows.Next() {
		var p payment
		if err := scanPayment(rows, &p); err != nil {
			return nil, err
		}
		if out == nil {
			p.period = f.period
			out = &p
		} else {
			out.fen += p.fen
		}
	}
	return out, rows.Err()
}

// safeName keeps a bank's name usable as a file name.
func safeName(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '/' || r == '\\' || r == 0 || r == ':' {
			return '_'
		}
		return r
	}, s)
}

// ReturnReport is the result of importing a bank return file.
type ReturnReport struct {
	Rows   int `json:"rows"`
	Paid   int `json:"paid"`
	Failed int `json:"failed"`
}

// ImportReturns reads a bank's return file (流水号, 结果 成功/失败, 原因)
// and records each payment's outcome; failed payments are held and go into
// the next bank files again. Every row is checked first: one bad row
// (unknown reference, unknown result) refuses the whole file, naming each
// bad row.
func (s *Service) ImportReturns(ctx context.Context, by auth.Principal, t *tabular.Table, file string) (ReturnReport, error) {
	if !by.Can(PermRun) && !by.Can(PermSign) {
		return ReturnReport{}, errs.E(errs.Forbidden, "您的角色无权导入银行回盘文件")
	}
	cols, err := t.Columns([]tabular.Column{
		{Key: "ref", Names: []string{"流水号", "reference"}, Required: true},
		{Key: "result", Names: []string{"结果", "状态", "result", "status"}, Required: true},
		{Key: "reason", Names: []string{"原因", "失败原因", "reason"}},
	})
	if err != nil {
		return ReturnReport{}, errs.E(errs.Invalid, "%s", err.Error())
	}
	// The same file imported twice (by mistake, or under another name) is
	// refused: a second "failed" would send a paid payment again. Files are
	// known by their content.
	h := sha256.New()
	for _, r := range t.Rows {
		fmt.Fprintf(h, "%s\t%s\t%s\n", r.Get(cols["ref"]), r.Get(cols["result"]), r.Get(cols["reason"]))
	}
	digest := hex.EncodeToString(h.Sum(nil))[:16]
	var before string
	err = s.DB.QueryRowContext(ctx, `SELECT file FROM bank_returns WHERE file LIKE $1 LIMIT 1`, "%#"+digest).Scan(&before)
	if err == nil {
		return ReturnReport{}, errs.E(errs.Conflict, "这份回盘文件已导入过（%s），不再重复导入", before)
	} else if err != sql.ErrNoRows {
		return ReturnReport{}, err
	}
	file += " #" + digest
	var fe errs.Fields
	type ret struct {
		period, program, status, reason string
		person                          int64
		batch                           int
		division                        string
	}
	var rets []ret
	seen := map[string]int{}
	for _, r := range t.Rows {
		row := fmt.Sprintf("第 %d 行", r.Line)
		ref := r.Get(cols["ref"])
		period, program, person, batch, ok := ParseReference(ref)
		if !ok {
			fe.Add(row, "流水号“%s”无法识别，应为 发放期/项目/人员编号", ref)
			continue
		}
		if prev, dup := seen[ref]; dup {
			fe.Add(row, "流水号 %s 与第 %d 行重复", ref, prev)
			continue
		}
		seen[ref] = r.Line
		var status string
		switch strings.TrimSpace(r.Get(cols["result"])) {
		case "成功", "success", "paid", "S":
			status = "paid"
		case "失败", "failed", "fail", "F":
			status = "failed"
		default:
			fe.Add(row, "结果“%s”应为 成功 或 失败", r.Get(cols["result"]))
			continue
		}
		var div sql.NullString
		err := s.DB.QueryRowContext(ctx, `SELECT MIN(division) FROM ledger WHERE period = $1 AND program = $2 AND person_id = $3 AND kind <> 'recovery'`, period, program, person).Scan(&div)
		if err != nil && err != sql.ErrNoRows {
			return ReturnReport{}, err
		}
		if !div.Valid || !by.Scope().Covers(div.String) {
			fe.Add(row, "流水号 %s 不是您管辖范围内发出的付款", ref)
			continue
		}
		if batch > 1 {
			var n int
			if err := s.DB.QueryRowContext(ctx, `SELECT COUNT(*) FROM payroll_signoffs WHERE period = $1 AND district = $2 AND batch = $3`, period, div.String[:min(6, len(div.String))], batch).Scan(&n); err != nil {
				return ReturnReport{}, err
			}
			if n == 0 {
				fe.Add(row, "流水号 %s 的批次 %d 从未发出", ref, batch)
				continue
			}
		}
		rets = append(rets, ret{period, program, status, r.Get(cols["reason"]), person, batch, div.String})
	}
	if err := fe.Err(); err != nil {
		return ReturnReport{}, err
	}
	rep := ReturnReport{Rows: len(rets)}
	now := db.Now(s.now())
	err = s.DB.Tx(ctx, func(tx *sql.Tx) error {
		for _, r := range rets {
			if _, err := tx.ExecContext(ctx, `INSERT INTO bank_returns (period, program, person_id, batch, status, reason, file, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
				r.period, r.program, r.person, r.batch, r.status, r.reason, file, now); err != nil {
				return err
			}
			if r.status == "paid" {
				rep.Paid++
				continue
			}
			rep.Failed++
			// Others may care that a family's money did not arrive.
			if _, err := events.Append(ctx, tx, PaymentHeld, r.person, r.division,
				Held{Period: r.period, Program: r.program, Batch: r.batch, Reason: r.reason}, s.now()); err != nil {
				return err
			}
		}
		return s.Audit.Append(ctx, tx, audit.Entry{Actor: by.Name, Role: string(by.Role), Action: "payroll.bank_returns", Entity: "bank_return_file", EntityID: file,
			Detail: fmt.Sprintf("回盘 %d 笔：成功 %d，失败 %d", rep.Rows, rep.Paid, rep.Failed), Remote: by.Remote})
	})
	return rep, err
}
