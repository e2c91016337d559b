package registry

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"minzheng/internal/audit"
	"minzheng/internal/auth"
	"minzheng/internal/db"
	"minzheng/internal/errs"
	"minzheng/internal/idcard"
	"minzheng/internal/tabular"
)

// ImportColumns are the columns of a people import file, in English or Chinese.
var ImportColumns = []tabular.Column{
	{Key: "household_no", Names: []string{"household_no", "户号", "户编号"}},
	{Key: "name", Names: []string{"name", "姓名"}, Required: true},
	{Key: "id_number", Names: []string{"id_number", "身份证号", "身份证号码", "公民身份号码"}, Required: true},
	{Key: "relation", Names: []string{"relation", "与户主关系", "关系"}},
	{Key: "hukou_division", Names: []string{"hukou_division", "户籍地代码", "户籍地"}},
	{Key: "residence_division", Names: []string{"residence_division", "居住地代码", "居住地"}, Required: true},
	{Key: "birth_date", Names: []string{"birth_date", "出生日期"}},
	{Key: "monthly_income", Names: []string{"monthly_income", "月收入", "月收入（元）"}},
	{Key: "disability_category", Names: []string{"disability_category", "残疾类别"}},
	{Key: "disability_grade", Names: []string{"disability_grade", "残疾等级"}},
	{Key: "death_date", Names: []string{"death_date", "死亡日期"}},
	{Key: "address", Names: []string{"address", "地址", "住址"}},
}

// columnLabel returns the Chinese column name shown in row errors.
func columnLabel(key string) string {
	for _, c := range ImportColumns {
		if c.Key == key {
			if len(c.Names) > 1 {
				return c.Names[1]
			}
			return c.Key
		}
	}
	return key
}

// RowError is one problem in one row of an import file.
type RowError struct {
	Line    int    `json:"line"`   // row number as in Excel; the header is row 1
	Field   string `json:"field"`  // column key, e.g. id_number
	Column  string `json:"column"` // column name in Chinese
	Message string `json:"message"`
}

// ImportOptions says what to do with a file that has bad rows.
type ImportOptions struct {
	GoodOnly bool // write the good rows and skip the bad ones
	DryRun   bool // check only, write nothing
}

// ImportReport tells what a file held and what was written.
type ImportReport struct {
	Rows       int        `json:"rows"`
	Good       int        `json:"good"`
	Bad        int        `json:"bad"`
	Errors     []RowError `json:"errors"`
	Written    bool       `json:"written"`
	Persons    int        `json:"persons"`    // persons written
	Households int        `json:"households"` // households created
}

type importRow struct {
	line        int
	householdNo string
	person      Person
	number      string
	address     string
	hash        string
}

// MayImport returns the error Import gives p when p may not import
// people, for the upload page.
func MayImport(p auth.Principal) error {
	if !p.Can(auth.PersonImport) {
		return errs.E(errs.Forbidden, "您的角色无权导入人员")
	}
	return nil
}

// Import checks every row of a people file and writes them in one
// transaction: all of them when every row is good, only the good ones when
// opt.GoodOnly is set, and none otherwise. Rows sharing a household number
// (户号) form one household; a number already stored adds to that household.
func (s *Service) Import(ctx context.Context, p auth.Principal, t *tabular.Table, opt ImportOptions) (ImportReport, error) {
	if err := MayImport(p); err != nil {
		return ImportReport{}, err
	}
	cols, err := t.Columns(ImportColumns)
	if err != nil {
		return ImportReport{}, errs.E(errs.Invalid, "%s", errMessage(err))
	}
	rep := ImportReport{Rows: len(t.Rows), Errors: []RowError{}}
	var good []importRow
	seen := map[string]int{} // index hash → line
	bad := map[int]bool{}
	addErr := func(line int, field, format string, args ...any) {
		rep.Errors = append(rep.Errors, RowError{Line: line, Field: field, Column: columnLabel(field), Message: fmt.Sprintf(format, args...)})
		bad[line] = true
	}
	get := func(r tabular.Row, key string) string {
		i, ok := cols[key]
		if !ok {
			return ""
		}
		return strings.TrimSpace(r.Get(i))
	}
	today := s.now()
	for _, r := range t.Rows {
		np := NewPerson{Name: get(r, "name"), IDNumber: get(r, "id_number"), HukouDivision: get(r, "hukou_division"),
			ResidenceDivision: get(r, "residence_division"), Relation: get(r, "relation"), DisabilityCategory: get(r, "disability_category"),
			Address: get(r, "address")}
		if v := get(r, "monthly_income"); v != "" {
			income, msg := parseIncome(v)
			if msg != "" {
				addErr(r.Line, "monthly_income", "%s", msg)
			}
			np.MonthlyIncome = income
		}
		if v := get(r, "disability_grade"); v != "" {
			g, err := strconv.Atoi(v)
			if err != nil {
				addErr(r.Line, "disability_grade", "残疾等级“%s”应为 0–4 的整数", v)
			}
			np.DisabilityGrade = g
		}
		id, rel, fe := s.validate(&np)
		checkText(&fe, [2]string{"household_no", get(r, "household_no")})
		for _, f := range fe {
			addErr(r.Line, f.Field, "%s", f.Message)
		}
		var death string
		if v := get(r, "birth_date"); v != "" {
			d, ok := tabular.ParseDate(v)
			switch {
			case !ok:
				addErr(r.Line, "birth_date", "出生日期“%s”不是有效日期（应为 YYYY-MM-DD）", v)
			case id.Number != "" && !d.Equal(id.Birth):
				addErr(r.Line, "birth_date", "出生日期 %s 与身份证号码中的 %s 不一致", d.Format("2006-01-02"), id.Birth.Format("2006-01-02"))
			}
		}
		if v := get(r, "death_date"); v != "" {
			d, ok := tabular.ParseDate(v)
			switch {
			case !ok:
				addErr(r.Line, "death_date", "死亡日期“%s”不是有效日期（应为 YYYY-MM-DD）", v)
			case d.After(today):
				addErr(r.Line, "death_date", "死亡日期 %s 晚于今天", d.Format("2006-01-02"))
			case id.Number != "" && d.Before(id.Birth):
				addErr(r.Line, "death_date", "死亡日期 %s 早于出生日期", d.Format("2006-01-02"))
			default:
				death = d.Format("2006-01-02")
			}
		}
		if len(fe) == 0 && !p.Scope().Covers(np.HukouDivision, np.ResidenceDivision) {
			addErr(r.Line, "residence_division", "户籍地和居住地都不在您的辖区（%s）内", s.tree.Name(p.Division))
		}
		if id.Number != "" {
			h := string(s.suite.Index(id.Number))
			if first, dup := seen[h]; dup {
				addErr(r.Line, "id_number", "身份证号码与第 %d 行重复", first)
			} else {
				seen[h] = r.Line
			}
			if !bad[r.Line] {
				good = append(good, importRow{line: r.Line, householdNo: get(r, "household_no"), number: id.Number, address: np.Address, hash: h,
					person: Person{Relation: rel, Name: np.Name, IDMasked: idcard.Mask(id.Number), BirthDate: id.Birth.Format("2006-01-02"),
						Sex: sexOf(id), HukouDivision: np.HukouDivision, ResidenceDivision: np.ResidenceDivision, MonthlyIncome: np.MonthlyIncome,
						DisabilityCategory: np.DisabilityCategory, DisabilityGrade: np.DisabilityGrade, DeathDate: death}})
			}
		}
	}
	// Already registered?
	if err := s.markRegistered(ctx, p, good, addErr); err != nil {
		return ImportReport{}, err
	}
	kept := good[:0]
	for _, g := range good {
		if !bad[g.line] {
			kept = append(kept, g)
		}
	}
	good = kept
	rep.Bad = len(bad)
	rep.Good = rep.Rows - rep.Bad
	sortErrors(rep.Errors)
	if opt.DryRun || len(good) == 0 || (rep.Bad > 0 && !opt.GoodOnly) {
		return rep, nil
	}
	err = s.db.Tx(ctx, func(tx *sql.Tx) error {
		now := s.now().UTC()
		households := map[string]int64{}
		for _, g := range good {
			x := g.person
			x.CreatedAt, x.UpdatedAt = now, now
			hid, ok := households[g.householdNo]
			if !ok || g.householdNo == "" {
				var err error
				hid, ok, err = s.householdByNo(ctx, tx, p, g.householdNo)
				if e := errs.As(err); e != nil {
					return errs.E(e.Code, "第 %d 行：%s", g.line, e.Message)
				}
				if err != nil {
					return err
				}
				if !ok {
					hid, err = insertHousehold(ctx, tx, Household{HouseholdNo: g.householdNo, HukouDivision: x.HukouDivision, ResidenceDivision: x.ResidenceDivision, Address: g.address}, now)
					if db.IsUniqueViolation(err) {
						return errs.E(errs.Conflict, "第 %d 行：户号“%s”已被同时导入的文件使用，请重新导入", g.line, g.householdNo)
					}
					if err != nil {
						return err
					}
					rep.Households++
				}
				households[g.householdNo] = hid
			}
			x.HouseholdID = hid
			if _, err := s.insertPerson(ctx, tx, x, g.number); err != nil {
				if db.IsUniqueViolation(err) {
					return errs.E(errs.Conflict, "第 %d 行：身份证号码刚被同时登记，请重新导入以查看该行的问题", g.line)
				}
				return fmt.Errorf("registry: import line %d: %w", g.line, err)
			}
			rep.Persons++
		}
		return s.audit.Append(ctx, tx, audit.Entry{Actor: p.Name, Role: string(p.Role), Action: "person.import", Entity: "person", EntityID: "*",
			Detail: fmt.Sprintf("导入人员 %d 人、新建 %d 户（文件 %d 行，跳过错误行 %d 行）", rep.Persons, rep.Households, rep.Rows, rep.Bad), Remote: p.Remote})
	})
	if err != nil {
		return ImportReport{}, err
	}
	rep.Written = true
	return rep, nil
}

// householdByNo finds a stored household by its number; it must be in the
// caller's jurisdiction.
func (s *Service) householdByNo(ctx context.Context, tx *sql.Tx, p auth.Principal, no string) (int64, bool, error) {
	if no == "" {
		return 0, false, nil
	}
	var id int64
	var hukou, res string
	err := tx.QueryRowContext(ctx, `SELECT id, hukou_division, residence_division FROM households WHERE household_no = $1`, no).Scan(&id, &hukou, &res)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, err
	}
	if !p.Scope().Covers(hukou, res) {
		return 0, false, errs.Field("household_no", "户号“%s”已被辖区外的家庭使用，请核对户号", no)
	}
	return id, true, nil
}

// markRegistered flags rows whose ID number is already stored: inside p's
// jurisdiction as registered, outside it only as not to be registered
// here (see refusedHere), without the masked number.
func (s *Service) markRegistered(ctx context.Context, p auth.Principal, rows []importRow, addErr func(int, string, string, ...any)) error {
	const chunk = 500
	for start := 0; start < len(rows); start += chunk {
		part := rows[start:min(start+chunk, len(rows))]
		ph := make([]string, len(part))
		args := make([]any, len(part))
		byHash := map[string]importRow{}
		for i, r := range part {
			ph[i] = fmt.Sprintf("$%d", i+1)
			args[i] = []byte(r.hash)
			byHash[r.hash] = r
		}
		q := `SELECT id_hash, hukou_division, residence_division FROM persons WHERE id_hash IN (` + strings.Join(ph, ",") + `)`
		res, err := s.db.QueryContext(ctx, q, args...)
		if err != nil {
			return fmt.Errorf("registry: check registered: %w", err)
		}
		for res.Next() {
			var h []byte
			var hukou, residence string
			if err := res.Scan(&h, &hukou, &residence); err != nil {
				res.Close()
				return err
			}
			r := byHash[string(h)]
			if p.Scope().Covers(hukou, residence) {
				addErr(r.line, "id_number", "身份证号码 %s 已登记，不能重复导入", r.person.IDMasked)
			} else {
				addErr(r.line, "id_number", "%s", s.refusedHere(p))
			}
		}
		res.Close()
		if err := res.Err(); err != nil {
			return err
		}
	}
	return nil
}

func sortErrors(es []RowError) {
	sort.SliceStable(es, func(i, j int) bool { return es[i].Line < es[j].Line })
}

func errMessage(err error) string {
	var te *tabular.Error
	if errors.As(err, &te) {
		return te.Message
	}
	if e := errs.As(err); e != nil {
		return e.Message
	}
	return err.Error()
}

// ParseFile reads an uploaded file into a table, turning a read error into
// an Invalid error with its Chinese message.
func ParseFile(t *tabular.Table, err error) (*tabular.Table, error) {
	if err != nil {
		return nil, errs.E(errs.Invalid, "%s", errMessage(err))
	}
	return t, nil
}
