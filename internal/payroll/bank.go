package payroll

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"minzheng/internal/audit"
	"minzheng/internal/auth"
	"minzheng/internal/db"
	"minzheng/internal/errs"
	"minzheng/internal/tabular"
)

// BankHeader is the header of a bank disbursement file.
var BankHeader = []string{"流水号", "户名", "证件号码", "开户银行", "账号", "金额（元）", "项目", "所属期", "代管", "代管人", "受益人"}

// Reference is a payment's reference in bank files and return files:
// period/programme/person.
func Reference(period, program string, person int64) string {
	return period + "/" + program + "/" + strconv.FormatInt(person, 10)
}

// ParseReference splits a payment reference.
func ParseReference(ref string) (period, program string, person int64, ok bool) {
	parts := strings.Split(ref, "/")
	if len(parts) != 3 || parts[0] == "" || parts[1] == "" {
		return "", "", 0, false
	}
	person, err := strconv.ParseInt(parts[2], 10, 64)
	return parts[0], parts[1], person, err == nil && person > 0
}

// payment is one transfer: the lines of a programme and person in a period.
type payment struct {
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

func (b *bankFiles) get(district, bank string) (*bankFile, error) {
	key := district + "/" + bank
	if f, ok := b.files[key]; ok {
		return f, nil
	}
	dir := filepath.Join(b.dir, district)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	path := filepath.Join(dir, bank+".csv")
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

// WriteBankFiles writes the bank disbursement files of period for one
// district ("" for every district in the caller's jurisdiction): per
// district, one CSV per bank, each payment one row — the programme's lines
// of a person in the period (regular, back payment, less deductions), and
// again the payments of earlier periods a bank returned as failed. People
// without an account go to the 社保卡 file by ID number. The files are
// written to temporary names and renamed at the end, so they can always be
// written again; the full ID numbers they carry make it an audited read.
func (s *Service) WriteBankFiles(ctx context.Context, by auth.Principal, period, district string) ([]string, error) {
	if !by.Can(auth.PayrollRun) && !by.Can(auth.PayrollSign) {
		return nil, errs.E(errs.Forbidden, "您的角色无权生成银行发放文件")
	}
	prefix := by.Prefix()
	if district != "" {
		if !by.Covers(district) {
			return nil, errs.E(errs.Forbidden, "区划 %s 不在您的管辖范围内", district)
		}
		prefix = auth.JurisdictionPrefix(district)
	}
	lo, hi := db.PrefixRange(prefix)
	out := &bankFiles{dir: filepath.Join(s.Dir, period), files: map[string]*bankFile{}}
	rows, written := 0, false
	defer func() {
		if !written {
			out.close(false)
		}
	}()
	emit := func(p *payment, ref string) error {
		if p.fen <= 0 {
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
		f, err := out.get(p.division[:min(6, len(p.division))], safeName(bank))
		if err != nil {
			return err
		}
		f.rows++
		rows++
		name := s.programName(p.program)
		return f.w.Write([]string{ref, holder, string(id), bank, account, fmt.Sprintf("%d.%02d", p.fen/100, p.fen%100), name, p.period, custodial, custodian, p.name})
	}
	const cols = `l.program, l.person_id, l.fen, l.division, p.name, p.id_enc, a.bank, a.account_enc, a.holder, a.custodial, a.custodian`
	q, err := s.DB.QueryContext(ctx, `SELECT `+cols+` FROM ledger l JOIN persons p ON p.id = l.person_id LEFT JOIN payee_accounts a ON a.person_id = l.person_id
		WHERE l.period = $1 AND l.kind <> 'recovery' AND l.division >= $2 AND l.division < $3 ORDER BY l.program, l.person_id`, period, lo, hi)
	if err != nil {
		return nil, fmt.Errorf("payroll: read ledger: %w", err)
	}
	var cur *payment
	for q.Next() {
		var p payment
		if err := q.Scan(&p.program, &p.person, &p.fen, &p.division, &p.name, &p.idEnc, &p.bank, &p.accountEnc, &p.holder, &p.custodial, &p.custodian); err != nil {
			q.Close()
			return nil, err
		}
		if cur != nil && cur.program == p.program && cur.person == p.person {
			cur.fen += p.fen
			continue
		}
		if cur != nil {
			if err := emit(cur, Reference(period, cur.program, cur.person)); err != nil {
				q.Close()
				return nil, err
			}
		}
		p.period = period
		cur = &p
	}
	q.Close()
	if err := q.Err(); err != nil {
		return nil, err
	}
	if cur != nil {
		if err := emit(cur, Reference(period, cur.program, cur.person)); err != nil {
			return nil, err
		}
	}
	// Payments of earlier periods the bank returned as failed go again.
	retries, err := s.DB.QueryContext(ctx, `SELECT r.id, r.period, `+cols+` FROM bank_returns r
		JOIN ledger l ON l.period = r.period AND l.program = r.program AND l.person_id = r.person_id AND l.kind <> 'recovery'
		JOIN persons p ON p.id = l.person_id LEFT JOIN payee_accounts a ON a.person_id = l.person_id
		WHERE r.status = 'failed' AND r.period <> $1 AND (r.retried_in IS NULL OR r.retried_in = $1) AND l.division >= $2 AND l.division < $3
		AND NOT EXISTS (SELECT 1 FROM bank_returns n WHERE n.period = r.period AND n.program = r.program AND n.person_id = r.person_id AND n.id > r.id)
		ORDER BY r.id`, period, lo, hi)
	if err != nil {
		return nil, fmt.Errorf("payroll: read returns: %w", err)
	}
	var retried []int64
	cur = nil
	var curID int64
	for retries.Next() {
		var p payment
		var id int64
		if err := retries.Scan(&id, &p.period, &p.program, &p.person, &p.fen, &p.division, &p.name, &p.idEnc, &p.bank, &p.accountEnc, &p.holder, &p.custodial, &p.custodian); err != nil {
			retries.Close()
			return nil, err
		}
		if cur != nil && curID == id {
			cur.fen += p.fen
			continue
		}
		if cur != nil {
			if err := emit(cur, Reference(cur.period, cur.program, cur.person)); err != nil {
				retries.Close()
				return nil, err
			}
		}
		cur, curID = &p, id
		retried = append(retried, id)
	}
	retries.Close()
	if err := retries.Err(); err != nil {
		return nil, err
	}
	if cur != nil {
		if err := emit(cur, Reference(cur.period, cur.program, cur.person)); err != nil {
			return nil, err
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
			Detail: fmt.Sprintf("银行发放文件 %d 个，%d 笔（含重发 %d 笔），范围 %s", len(paths), rows, len(retried), prefix), Remote: by.Remote})
	})
	return paths, err
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
	if !by.Can(auth.PayrollRun) && !by.Can(auth.PayrollSign) {
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
	var fe errs.Fields
	type ret struct {
		period, program, status, reason string
		person                          int64
	}
	var rets []ret
	seen := map[string]int{}
	for _, r := range t.Rows {
		row := fmt.Sprintf("第 %d 行", r.Line)
		ref := r.Get(cols["ref"])
		period, program, person, ok := ParseReference(ref)
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
		if !div.Valid || !by.Covers(div.String) {
			fe.Add(row, "流水号 %s 不是您管辖范围内发出的付款", ref)
			continue
		}
		rets = append(rets, ret{period, program, status, r.Get(cols["reason"]), person})
	}
	if err := fe.Err(); err != nil {
		return ReturnReport{}, err
	}
	rep := ReturnReport{Rows: len(rets)}
	now := db.Now(s.now())
	err = s.DB.Tx(ctx, func(tx *sql.Tx) error {
		for _, r := range rets {
			if _, err := tx.ExecContext(ctx, `INSERT INTO bank_returns (period, program, person_id, status, reason, file, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
				r.period, r.program, r.person, r.status, r.reason, file, now); err != nil {
				return err
			}
			if r.status == "paid" {
				rep.Paid++
			} else {
				rep.Failed++
			}
		}
		return s.Audit.Append(ctx, tx, audit.Entry{Actor: by.Name, Role: string(by.Role), Action: "payroll.bank_returns", Entity: "bank_return_file", EntityID: file,
			Detail: fmt.Sprintf("回盘 %d 笔：成功 %d，失败 %d", rep.Rows, rep.Paid, rep.Failed), Remote: by.Remote})
	})
	return rep, err
}
