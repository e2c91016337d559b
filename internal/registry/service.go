package registry

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"
	"unicode/utf8"

	"minzheng/internal/audit"
	"minzheng/internal/auth"
	"minzheng/internal/db"
	"minzheng/internal/division"
	"minzheng/internal/errs"
	"minzheng/internal/idcard"
	"minzheng/internal/secret"
)

// Service is the people and household register.
type Service struct {
	db    *db.DB
	suite secret.Suite
	audit *audit.Log
	tree  *division.Tree
	now   func() time.Time
	// OnChange, if set, is called after a person's facts change, with the
	// person's ID, so that other lines can re-evaluate what depends on them.
	OnChange func(ctx context.Context, personID int64) error
}

// NewService returns the register service.
func NewService(d *db.DB, suite secret.Suite, a *audit.Log, tree *division.Tree, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{db: d, suite: suite, audit: a, tree: tree, now: now}
}

const personCols = `p.id, p.household_id, p.relation, p.name, p.id_masked, p.birth_date, p.sex, p.hukou_division, p.residence_division,
	p.monthly_income, p.disability_category, p.disability_grade, p.death_date, p.lives_alone, p.weak_guardianship,
	COALESCE((SELECT m.monthly FROM person_medical m WHERE m.household_id = p.household_id AND m.person_id = p.id), 0), p.created_at, p.updated_at`

func scanPerson(row interface{ Scan(...any) error }) (Person, error) {
	var x Person
	var rel, created, updated string
	var death sql.NullString
	var alone, weak int
	err := row.Scan(&x.ID, &x.HouseholdID, &rel, &x.Name, &x.IDMasked, &x.BirthDate, &x.Sex, &x.HukouDivision, &x.ResidenceDivision,
		&x.MonthlyIncome, &x.DisabilityCategory, &x.DisabilityGrade, &death, &alone, &weak, &x.MonthlyMedicalExpense, &created, &updated)
	x.Relation, x.DeathDate, x.LivesAlone, x.WeakGuardianship = Relation(rel), death.String, alone != 0, weak != 0
	x.CreatedAt, x.UpdatedAt = db.ParseTime(created), db.ParseTime(updated)
	return x, err
}

// looksLikeID reports whether q is meant as an ID number rather than a name.
func looksLikeID(q string) bool {
	if len(q) < 15 || len(q) > 18 {
		return false
	}
	for i := 0; i < len(q); i++ {
		c := q[i]
		if !(c >= '0' && c <= '9') && c != 'X' && c != 'x' {
			return false
		}
	}
	return true
}

// Query selects people for Search and Export.
type Query struct {
	Q      string // a name (or its beginning) or a full ID number
	Offset int
	Limit  int
}

func (s *Service) where(p auth.Principal, q string) (string, []any) {
	// A person is in the caller's jurisdiction when their registered
	// address or their residence is.
	sc, args := p.Scope().SQL(nil, "p.hukou_division", "p.residence_division")
	cond := []string{sc}
	q = strings.TrimSpace(q)
	switch {
	case q == "":
	case looksLikeID(q):
		args = append(args, s.suite.Index(strings.ToUpper(q)))
		cond = append(cond, fmt.Sprintf("p.id_hash = $%d", len(args)))
	default:
		lo, hi := db.PrefixRange(q)
		args = append(args, lo, hi)
		cond = append(cond, fmt.Sprintf("p.name >= $%d AND p.name < $%d", len(args)-1, len(args)))
	}
	return strings.Join(cond, " AND "), args
}

// Search finds people in the caller's jurisdiction by name (prefix) or by
// full ID number (through its keyed hash). Total counts only what the
// caller may see.
func (s *Service) Search(ctx context.Context, p auth.Principal, q Query) (SearchResult, error) {
	if !p.Can(auth.PersonRead) {
		return SearchResult{}, errs.E(errs.Forbidden, "您的角色无权查询人员信息")
	}
	if q.Limit <= 0 {
		q.Limit = 20
	}
	q.Limit = min(q.Limit, 200)
	where, args := s.where(p, q.Q)
	res := SearchResult{Items: []Person{}}
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM persons p WHERE `+where, args...).Scan(&res.Total); err != nil {
		return SearchResult{}, fmt.Errorf("registry: count: %w", err)
	}
	rows, err := s.db.QueryContext(ctx, fmt.Sprintf(`SELECT %s FROM persons p WHERE %s ORDER BY p.name, p.id LIMIT %d OFFSET %d`, personCols, where, q.Limit, max(q.Offset, 0)), args...)
	if err != nil {
		return SearchResult{}, fmt.Errorf("registry: search: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		x, err := scanPerson(rows)
		if err != nil {
			return SearchResult{}, err
		}
		res.Items = append(res.Items, x)
	}
	return res, rows.Err()
}

// MayExport returns the error Each gives p when p may not export lists,
// for a handler to refuse before it starts writing the file.
func MayExport(p auth.Principal) error {
	if !p.Can(auth.ExportList) {
		return errs.E(errs.Forbidden, "您的角色无权导出名单")
	}
	return nil
}

// Each streams every person matching q in the caller's jurisdiction to fn,
// for exports. The export itself is audited.
func (s *Service) Each(ctx context.Context, p auth.Principal, q string, fn func(Person) error) (int64, error) {
	if err := MayExport(p); err != nil {
		return 0, err
	}
	where, args := s.where(p, q)
	rows, err := s.db.QueryContext(ctx, `SELECT `+personCols+` FROM persons p WHERE `+where+` ORDER BY p.name, p.id`, args...)
	if err != nil {
		return 0, fmt.Errorf("registry: export: %w", err)
	}
	defer rows.Close()
	var n int64
	for rows.Next() {
		x, err := scanPerson(rows)
		if err != nil {
			return n, err
		}
		if err := fn(x); err != nil {
			return n, err
		}
		n++
	}
	if err := rows.Err(); err != nil {
		return n, err
	}
	err = s.audit.Record(ctx, audit.Entry{Actor: p.Name, Role: string(p.Role), Action: "person.export", Entity: "person", EntityID: "*",
		Detail: fmt.Sprintf("导出人员名单 %d 条（查询“%s”）", n, maskQuery(q)), Remote: p.Remote})
	return n, err
}

// maskQuery keeps full ID numbers out of the audit detail.
func maskQuery(q string) string {
	if looksLikeID(strings.TrimSpace(q)) {
		return idcard.Mask(strings.TrimSpace(q))
	}
	return q
}

func (s *Service) get(ctx context.Context, q db.Queryer, p auth.Principal, id int64) (Person, error) {
	where, args := p.Scope().SQL(nil, "p.hukou_division", "p.residence_division")
	args = append(args, id)
	x, err := scanPerson(q.QueryRowContext(ctx, fmt.Sprintf(`SELECT %s FROM persons p WHERE %s AND p.id = $%d`, personCols, where, len(args)), args...))
	if errors.Is(err, sql.ErrNoRows) {
		// Outside the jurisdiction reads as absent: no hint that it exists.
		return Person{}, errs.E(errs.NotFound, "未找到编号为 %d 的人员，或不在您的辖区内", id)
	}
	if err != nil {
		return Person{}, fmt.Errorf("registry: get person %d: %w", id, err)
	}
	return x, nil
}

// Get returns a person's profile: the person, their household and those of
// its members the caller may see, with division names resolved. A profile
// shows income and disability, so every view is recorded in the audit log.
func (s *Service) Get(ctx context.Context, p auth.Principal, id int64) (Profile, error) {
	if !p.Can(auth.PersonRead) {
		return Profile{}, errs.E(errs.Forbidden, "您的角色无权查询人员信息")
	}
	x, err := s.get(ctx, s.db, p, id)
	if err != nil {
		return Profile{}, err
	}
	pr := Profile{Person: x, HukouName: s.tree.FullName(x.HukouDivision), ResidenceName: s.tree.FullName(x.ResidenceDivision), Age: x.Age(s.now())}
	if pr.Household, err = s.household(ctx, s.db, x.HouseholdID); err != nil {
		return Profile{}, err
	}
	where, args := p.Scope().SQL(nil, "p.hukou_division", "p.residence_division")
	args = append(args, x.HouseholdID)
	rows, err := s.db.QueryContext(ctx, fmt.Sprintf(`SELECT %s FROM persons p WHERE %s AND p.household_id = $%d ORDER BY p.id`, personCols, where, len(args)), args...)
	if err != nil {
		return Profile{}, fmt.Errorf("registry: household members: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		m, err := scanPerson(rows)
		if err != nil {
			return Profile{}, err
		}
		pr.Members = append(pr.Members, m)
	}
	if err := rows.Err(); err != nil {
		return Profile{}, err
	}
	err = s.audit.Record(ctx, audit.Entry{Actor: p.Name, Role: string(p.Role), Action: "person.view", Entity: "person",
		EntityID: fmt.Sprint(id), Detail: "查看人员档案（含收入、残疾等敏感信息）", Remote: p.Remote})
	return pr, err
}

func (s *Service) household(ctx context.Context, q db.Queryer, id int64) (Household, error) {
	var h Household
	var no sql.NullString
	var created string
	err := q.QueryRowContext(ctx, `SELECT id, household_no, hukou_division, residence_division, address, created_at FROM households WHERE id = $1`, id).
		Scan(&h.ID, &no, &h.HukouDivision, &h.ResidenceDivision, &h.Address, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return Household{}, errs.Field("household_id", "户编号 %d 不存在或不在您的辖区内", id)
	}
	h.HouseholdNo, h.CreatedAt = no.String, db.ParseTime(created)
	return h, err
}

// RevealID returns a person's full ID number to a role that may see it,
// and records the read in the audit log.
func (s *Service) RevealID(ctx context.Context, p auth.Principal, id int64) (string, error) {
	if !p.Can(auth.PersonFullID) {
		return "", errs.E(errs.Forbidden, "您的角色无权查看完整身份证号码")
	}
	if _, err := s.get(ctx, s.db, p, id); err != nil {
		return "", err
	}
	var enc []byte
	if err := s.db.QueryRowContext(ctx, `SELECT id_enc FROM persons WHERE id = $1`, id).Scan(&enc); err != nil {
		return "", fmt.Errorf("registry: read id number: %w", err)
	}
	plain, err := s.suite.Open(enc)
	if err != nil {
		return "", fmt.Errorf("registry: decrypt id number of person %d: %w", id, err)
	}
	err = s.audit.Record(ctx, audit.Entry{Actor: p.Name, Role: string(p.Role), Action: "person.view_id_number", Entity: "person",
		EntityID: fmt.Sprint(id), Detail: "查看完整身份证号码", Remote: p.Remote})
	if err != nil {
		return "", err
	}
	return string(plain), nil
}

// validate checks a new person and returns the parsed ID number.
func (s *Service) validate(np *NewPerson) (idcard.ID, Relation, errs.Fields) {
	var fe errs.Fields
	checkText(&fe, [2]string{"name", np.Name}, [2]string{"hukou_division", np.HukouDivision}, [2]string{"residence_division", np.ResidenceDivision},
		[2]string{"relation", np.Relation}, [2]string{"disability_category", np.DisabilityCategory}, [2]string{"address", np.Address})
	np.Name = strings.TrimSpace(np.Name)
	switch n := utf8.RuneCountInString(np.Name); {
	case n == 0:
		fe.Add("name", "姓名不能为空")
	case n > 50:
		fe.Add("name", "姓名过长（最多 50 个字）")
	}
	id, err := idcard.Parse(np.IDNumber, s.now())
	if err != nil {
		msg := err.Error()
		var ie *idcard.Error
		if errors.As(err, &ie) {
			msg = ie.Message
		}
		fe.Add("id_number", "%s", msg)
	}
	np.HukouDivision = strings.TrimSpace(np.HukouDivision)
	np.ResidenceDivision = strings.TrimSpace(np.ResidenceDivision)
	if np.HukouDivision != "" {
		if _, ok := s.tree.Get(np.HukouDivision); !ok {
			fe.Add("hukou_division", "户籍地代码“%s”不是本市的行政区划代码", np.HukouDivision)
		}
	}
	if np.ResidenceDivision == "" {
		fe.Add("residence_division", "居住地代码不能为空")
	} else if _, ok := s.tree.Get(np.ResidenceDivision); !ok {
		fe.Add("residence_division", "居住地代码“%s”不是本市的行政区划代码", np.ResidenceDivision)
	}
	rel, ok := ParseRelation(strings.TrimSpace(np.Relation))
	if !ok {
		fe.Add("relation", "与户主关系“%s”无法识别，可填：户主、配偶、子女、父母、孙子女、其他", np.Relation)
	}
	checkIncome(&fe, np.MonthlyIncome)
	if np.DisabilityGrade < 0 || np.DisabilityGrade > 4 {
		fe.Add("disability_grade", "残疾等级应为 0（无）或 1–4 级")
	}
	if np.DisabilityCategory != "" {
		if _, ok := DisabilityCategories[np.DisabilityCategory]; !ok {
			fe.Add("disability_category", "残疾类别“%s”无法识别", np.DisabilityCategory)
		}
	}
	return id, rel, fe
}

// MayCreate returns the error Create gives p when p may not register
// people, for the form's page.
func MayCreate(p auth.Principal) error {
	if !p.Can(auth.PersonWrite) {
		return errs.E(errs.Forbidden, "您的角色无权登记人员")
	}
	return nil
}

// Create registers a person. The caller's jurisdiction must cover the
// registered address or the residence. Without a household ID the person
// heads a new household.
func (s *Service) Create(ctx context.Context, p auth.Principal, np NewPerson) (Person, error) {
	if err := MayCreate(p); err != nil {
		return Person{}, err
	}
	id, rel, fe := s.validate(&np)
	if err := fe.Err(); err != nil {
		return Person{}, err
	}
	if !p.Scope().Covers(np.HukouDivision, np.ResidenceDivision) {
		return Person{}, errs.Field("residence_division", "户籍地和居住地都不在您的辖区（%s）内", s.tree.Name(p.Division))
	}
	now := s.now().UTC()
	x := Person{Relation: rel, Name: np.Name, IDMasked: idcard.Mask(id.Number), BirthDate: id.Birth.Format("2006-01-02"),
		Sex: sexOf(id), HukouDivision: np.HukouDivision, ResidenceDivision: np.ResidenceDivision, MonthlyIncome: np.MonthlyIncome,
		DisabilityCategory: np.DisabilityCategory, DisabilityGrade: np.DisabilityGrade, CreatedAt: now, UpdatedAt: now}
	err := s.db.Tx(ctx, func(tx *sql.Tx) error {
		if err := s.alreadyRegistered(ctx, tx, p, s.suite.Index(id.Number), x.IDMasked); err != nil {
			return err
		}
		if np.HouseholdID != 0 {
			h, err := s.household(ctx, tx, np.HouseholdID)
			if err != nil {
				return err
			}
			if !p.Scope().Covers(h.HukouDivision, h.ResidenceDivision) {
				return errs.Field("household_id", "户编号 %d 不存在或不在您的辖区内", np.HouseholdID)
			}
			x.HouseholdID = h.ID
		} else {
			x.Relation = Head
			hid, err := insertHousehold(ctx, tx, Household{HukouDivision: np.HukouDivision, ResidenceDivision: np.ResidenceDivision, Address: np.Address}, now)
			if err != nil {
				return err
			}
			x.HouseholdID = hid
		}
		var err error
		x.ID, err = s.insertPerson(ctx, tx, x, id.Number)
		if db.IsUniqueViolation(err) {
			// Registered meanwhile: the answer may not tell where.
			return errs.Field("id_number", "%s", s.refusedHere(p))
		}
		if err != nil {
			return err
		}
		return s.audit.Append(ctx, tx, audit.Entry{Actor: p.Name, Role: string(p.Role), Action: "person.create", Entity: "person",
			EntityID: fmt.Sprint(x.ID), Detail: fmt.Sprintf("登记人员 %s（%s），户 %d", x.Name, x.IDMasked, x.HouseholdID), Remote: p.Remote})
	})
	if err != nil {
		return Person{}, err
	}
	return x, nil
}

func sexOf(id idcard.ID) string {
	if id.Male {
		return "M"
	}
	return "F"
}

func insertHousehold(ctx context.Context, tx *sql.Tx, h Household, now time.Time) (int64, error) {
	var no any
	if h.HouseholdNo != "" {
		no = h.HouseholdNo
	}
	var id int64
	err := tx.QueryRowContext(ctx, `INSERT INTO households (household_no, hukou_division, residence_division, address, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id`,
		no, h.HukouDivision, h.ResidenceDivision, h.Address, db.Now(now)).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("registry: insert household: %w", err)
	}
	return id, nil
}

func (s *Service) insertPerson(ctx context.Context, tx *sql.Tx, x Person, number string) (int64, error) {
	var death any
	if x.DeathDate != "" {
		death = x.DeathDate
	}
	var id int64
	err := tx.QueryRowContext(ctx, `INSERT INTO persons (household_id, relation, name, id_hash, id_enc, id_masked, birth_date, sex, hukou_division, residence_division,
		monthly_income, disability_category, disability_grade, death_date, lives_alone, weak_guardianship, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18) RETURNING id`,
		x.HouseholdID, string(x.Relation), x.Name, s.suite.Index(number), s.suite.Seal([]byte(number)), x.IDMasked, x.BirthDate, x.Sex,
		x.HukouDivision, x.ResidenceDivision, x.MonthlyIncome, x.DisabilityCategory, x.DisabilityGrade, death, boolInt(x.LivesAlone),
		boolInt(x.WeakGuardianship), db.Now(x.CreatedAt), db.Now(x.UpdatedAt)).Scan(&id)
	if err != nil {
		return 0, err
	}
	// A new member makes the household's stored facts stale (updates and
	// deletes do so by trigger; the bulk loader writes the facts itself).
	if _, err := tx.ExecContext(ctx, `UPDATE households SET facts = NULL WHERE id = $1`, x.HouseholdID); err != nil {
		return 0, err
	}
	return id, nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// Household returns a person in the caller's jurisdiction and every living
// or dead member of their household, unfiltered, for computations such as
// eligibility whose result the caller may see but whose inputs include
// members outside the jurisdiction. It records the read in the audit log.
func (s *Service) Household(ctx context.Context, p auth.Principal, id int64, purpose string) (Person, []Person, error) {
	if !p.Can(auth.PersonRead) {
		return Person{}, nil, errs.E(errs.Forbidden, "您的角色无权查询人员信息")
	}
	x, err := s.get(ctx, s.db, p, id)
	if err != nil {
		return Person{}, nil, err
	}
	rows, err := s.db.QueryContext(ctx, `SELECT `+personCols+` FROM persons p WHERE p.household_id = $1 ORDER BY p.id`, x.HouseholdID)
	if err != nil {
		return Person{}, nil, fmt.Errorf("registry: household of %d: %w", id, err)
	}
	defer rows.Close()
	var members []Person
	for rows.Next() {
		m, err := scanPerson(rows)
		if err != nil {
			return Person{}, nil, err
		}
		members = append(members, m)
	}
	if err := rows.Err(); err != nil {
		return Person{}, nil, err
	}
	err = s.audit.Record(ctx, audit.Entry{Actor: p.Name, Role: string(p.Role), Action: "person.household_facts", Entity: "person",
		EntityID: fmt.Sprint(id), Detail: purpose, Remote: p.Remote})
	return x, members, err
}

// StreamHouseholds calls fn for every household with all its members, in
// household order, for batch jobs that look at the whole register. Only a
// city-wide principal may stream; nothing is filtered or audited per
// record (the job records its own run). Members carry the facts that
// decisions use; names, masked ID numbers and timestamps are left empty to
// keep the scan lean.
func (s *Service) StreamHouseholds(ctx context.Context, p auth.Principal, fn func(householdID int64, members []Person, stale bool) error) error {
	return s.StreamHouseholdRange(ctx, p, 0, math.MaxInt64, fn)
}

// HouseholdIDRange returns the smallest and largest household ID, so batch
// jobs can split the register between readers.
func (s *Service) HouseholdIDRange(ctx context.Context) (lo, hi int64, err error) {
	err = s.db.QueryRowContext(ctx, `SELECT COALESCE(MIN(id), 0), COALESCE(MAX(id), 0) FROM households`).Scan(&lo, &hi)
	return lo, hi, err
}

// StreamHouseholdRange is StreamHouseholds for the households with IDs in
// [lo, hi]. It reads each household's encoded facts (households.facts);
// households whose facts are stale (NULL after a change to a member) are
// read from persons instead and passed with stale true, so that the
// caller can write their facts again (RefreshFacts). Members' monthly
// medical spending comes from person_medical, read alongside.
func (s *Service) StreamHouseholdRange(ctx context.Context, p auth.Principal, lo, hi int64, fn func(householdID int64, members []Person, stale bool) error) error {
	if !p.Scope().CityWide() || !p.Can(auth.PersonRead) {
		return errs.E(errs.Forbidden, "只有全市范围的账号可以批量处理全部人口")
	}
	// The medical spending of the range's persons, which the facts
	// records do not hold, read alongside in the same household order.
	mrows, err := s.db.QueryContext(ctx, `SELECT household_id, person_id, monthly FROM person_medical WHERE household_id >= $1 AND household_id <= $2
		ORDER BY household_id, person_id`, lo, hi)
	if err != nil {
		return fmt.Errorf("registry: stream: %w", err)
	}
	defer mrows.Close()
	medical := medicalMerge{rows: mrows}
	medical.advance()
	rows, err := s.db.QueryContext(ctx, `SELECT id, facts FROM households WHERE id >= $1 AND id <= $2 ORDER BY id`, lo, hi)
	if err != nil {
		return fmt.Errorf("registry: stream: %w", err)
	}
	defer rows.Close()
	// A run of consecutive stale households, read from persons in one
	// query when a fresh one (or the end) follows.
	staleLo, staleHi := int64(0), int64(-1)
	stale := func() error {
		if staleHi < staleLo {
			return nil
		}
		err := streamPersons(ctx, s.db, staleLo, staleHi, func(hid int64, members []Person) error { return fn(hid, members, true) })
		staleLo, staleHi = 0, -1
		return err
	}
	var members []Person
	var raw sql.RawBytes
	for rows.Next() {
		var hid int64
		if err := rows.Scan(&hid, &raw); err != nil {
			return err
		}
		if raw != nil {
			var ok bool
			if members, ok = DecodeFacts(members[:0], hid, string(raw)); ok {
				if err := stale(); err != nil {
					return err
				}
				if len(members) == 0 {
					continue
				}
				if err := medical.apply(hid, members); err != nil {
					return err
				}
				if err := fn(hid, members, false); err != nil {
					return err
				}
				continue
			}
		}
		if staleHi < staleLo {
			staleLo = hid
		}
		staleHi = hid
	}
	if err := rows.Err(); err != nil {
		return err
	}
	return stale()
}

// medicalMerge reads person_medical in household order beside a stream of
// households in the same order.
type medicalMerge struct {
	rows     *sql.Rows
	hid, pid int64
	monthly  float64
	ok       bool
	err      error
}

func (m *medicalMerge) advance() {
	if m.ok = m.rows.Next(); m.ok {
		if m.err = m.rows.Scan(&m.hid, &m.pid, &m.monthly); m.err != nil {
			m.ok = false
		}
	} else if m.err == nil {
		m.err = m.rows.Err()
	}
}

// apply sets the medical spending of household hid's members, skipping
// the rows of households before it.
func (m *medicalMerge) apply(hid int64, members []Person) error {
	for m.ok && m.hid < hid {
		m.advance()
	}
	for m.ok && m.hid == hid {
		for i := range members {
			if members[i].ID == m.pid {
				members[i].MonthlyMedicalExpense = m.monthly
			}
		}
		m.advance()
	}
	if m.err != nil {
		return fmt.Errorf("registry: stream medical spending: %w", m.err)
	}
	return nil
}

// FactsUpdate changes facts that benefits depend on; nil leaves a field as
// it is. DeathDate "" clears a death recorded in error.
type FactsUpdate struct {
	MonthlyIncome      *int64  `json:"monthly_income,omitempty"`
	DisabilityCategory *string `json:"disability_category,omitempty"`
	DisabilityGrade    *int    `json:"disability_grade,omitempty"`
	DeathDate          *string `json:"death_date,omitempty"`
	// WeakGuardianship sets or clears 弱监护, which weather sweeps read;
	// no benefit depends on it.
	WeakGuardianship *bool `json:"weak_guardianship,omitempty"`
}

// onlyGuardianship reports whether u changes 弱监护 and nothing else.
func (u FactsUpdate) onlyGuardianship() bool {
	return u.WeakGuardianship != nil && u.MonthlyIncome == nil && u.DisabilityCategory == nil && u.DisabilityGrade == nil && u.DeathDate == nil
}

// canUpdate reports whether p may send u: the facts benefits depend on
// need person.write; 弱监护 alone may also be set by whoever visits homes
// (monitor.visit: the community assistance adviser).
func canUpdate(p auth.Principal, u FactsUpdate) bool {
	return p.Can(auth.PersonWrite) || (u.onlyGuardianship() && p.Can(auth.PersonGuardianship))
}

// UpdateFacts changes a person's income, disability, death or 弱监护 in
// the caller's jurisdiction, audited, and then, when a fact benefits
// depend on changed, calls OnChange so that decisions depending on the
// household are re-evaluated.
func (s *Service) UpdateFacts(ctx context.Context, p auth.Principal, id int64, u FactsUpdate) (Person, error) {
	if !canUpdate(p, u) {
		return Person{}, errs.E(errs.Forbidden, "您的角色无权修改人员信息")
	}
	if u.MonthlyIncome == nil && u.DisabilityCategory == nil && u.DisabilityGrade == nil && u.DeathDate == nil && u.WeakGuardianship == nil {
		return Person{}, errs.E(errs.Invalid, "没有要修改的字段")
	}
	var fe errs.Fields
	if u.MonthlyIncome != nil {
		checkIncome(&fe, *u.MonthlyIncome)
	}
	if u.DisabilityGrade != nil && (*u.DisabilityGrade < 0 || *u.DisabilityGrade > 4) {
		fe.Add("disability_grade", "残疾等级应为 0（无）或 1–4 级")
	}
	if u.DisabilityCategory != nil && *u.DisabilityCategory != "" {
		if _, ok := DisabilityCategories[*u.DisabilityCategory]; !ok {
			fe.Add("disability_category", "残疾类别“%s”无法识别", *u.DisabilityCategory)
		}
	}
	if u.DeathDate != nil && *u.DeathDate != "" {
		d, err := time.Parse(time.DateOnly, *u.DeathDate)
		if err != nil {
			fe.Add("death_date", "死亡日期“%s”应为 YYYY-MM-DD", *u.DeathDate)
		} else if d.After(s.now()) {
			fe.Add("death_date", "死亡日期 %s 晚于今天", *u.DeathDate)
		}
	}
	if err := fe.Err(); err != nil {
		return Person{}, err
	}
	var x Person
	err := s.db.Tx(ctx, func(tx *sql.Tx) error {
		var err error
		if x, err = s.get(ctx, tx, p, id); err != nil {
			return err
		}
		var changed []string
		if u.MonthlyIncome != nil {
			x.MonthlyIncome = *u.MonthlyIncome
			changed = append(changed, fmt.Sprintf("月收入 %d 元", x.MonthlyIncome))
		}
		if u.DisabilityCategory != nil {
			x.DisabilityCategory = *u.DisabilityCategory
			changed = append(changed, "残疾类别")
		}
		if u.DisabilityGrade != nil {
			x.DisabilityGrade = *u.DisabilityGrade
			changed = append(changed, fmt.Sprintf("残疾等级 %d", x.DisabilityGrade))
		}
		var weak any
		if u.WeakGuardianship != nil {
			x.WeakGuardianship = *u.WeakGuardianship
			weak = boolInt(x.WeakGuardianship)
			if x.WeakGuardianship {
				changed = append(changed, "标记弱监护")
			} else {
				changed = append(changed, "取消弱监护")
			}
		}
		setDeath := 0
		var death any
		if u.DeathDate != nil {
			setDeath = 1
			x.DeathDate = *u.DeathDate
			if x.DeathDate == "" {
				changed = append(changed, "清除死亡日期")
			} else {
				death = x.DeathDate
				changed = append(changed, "死亡日期 "+x.DeathDate)
			}
		}
		if x.DeathDate != "" && x.DeathDate < x.BirthDate {
			return errs.Field("death_date", "死亡日期 %s 早于出生日期", x.DeathDate)
		}
		x.UpdatedAt = s.now().UTC()
		// Only the fields sent are written, so two updates of different
		// fields at once do not undo each other.
		var income, grade any
		var category any
		if u.MonthlyIncome != nil {
			income = *u.MonthlyIncome
		}
		if u.DisabilityGrade != nil {
			grade = *u.DisabilityGrade
		}
		if u.DisabilityCategory != nil {
			category = *u.DisabilityCategory
		}
		if _, err := tx.ExecContext(ctx, `UPDATE persons SET monthly_income = COALESCE($1, monthly_income), disability_category = COALESCE($2, disability_category),
			disability_grade = COALESCE($3, disability_grade), death_date = CASE WHEN $4 = 1 THEN $5 ELSE death_date END, updated_at = $6,
			weak_guardianship = COALESCE($8, weak_guardianship) WHERE id = $7`,
			income, category, grade, setDeath, death, db.Now(x.UpdatedAt), id, weak); err != nil {
			return fmt.Errorf("registry: update person %d: %w", id, err)
		}
		return s.audit.Append(ctx, tx, audit.Entry{Actor: p.Name, Role: string(p.Role), Action: "person.update", Entity: "person",
			EntityID: fmt.Sprint(id), Detail: "修改：" + strings.Join(changed, "、"), Remote: p.Remote})
	})
	if err != nil {
		return Person{}, err
	}
	if s.OnChange != nil && !u.onlyGuardianship() {
		if err := s.OnChange(ctx, x.ID); err != nil {
			return x, fmt.Errorf("registry: after updating person %d: %w", id, err)
		}
	}
	return x, nil
}
