package assistance

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"
	"unicode/utf8"

	"minzheng/internal/audit"
	"minzheng/internal/auth"
	"minzheng/internal/db"
	"minzheng/internal/errs"
	"minzheng/internal/events"
	"minzheng/internal/registry"
)

// MaxMaterialSize is the largest file a material may be.
const MaxMaterialSize = 20 << 20

// allowedTypes are the content types accepted for materials, by extension.
var allowedTypes = map[string]string{
	".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png", ".pdf": "application/pdf",
	".heic": "image/heic", ".webp": "image/webp",
}

// AddMaterial stores an uploaded file of an application under
// DATA/uploads/applications/<id>/<sha256><ext> and records its kind, name,
// type, size and SHA-256. The file is written before the row, and removed
// again when the row cannot be written, so no row points at nothing.
func (s *Service) AddMaterial(ctx context.Context, p auth.Principal, id int64, kind, fileName string, r io.Reader) (Material, error) {
	if !p.Can(PermMaterial) {
		return Material{}, errs.E(errs.Forbidden, "您的角色无权上传申请材料")
	}
	a, err := s.load(ctx, s.DB, p, id)
	if err != nil {
		return Material{}, err
	}
	if a.State.Final() {
		return Material{}, errs.E(errs.Conflict, "申请已办结（%s），不能再上传材料", a.State.Label())
	}
	if _, ok := MaterialKinds[kind]; !ok {
		return Material{}, errs.Field("kind", "材料类型“%s”无法识别，可选：id_card、hukou_book、income_proof、property_proof、medical_bill、visit_photo、other", kind)
	}
	fileName = filepath.Base(strings.TrimSpace(fileName))
	if fileName == "" || fileName == "." || utf8.RuneCountInString(fileName) > 200 {
		return Material{}, errs.Field("file", "请选择要上传的文件")
	}
	ext := strings.ToLower(filepath.Ext(fileName))
	ctype, ok := allowedTypes[ext]
	if !ok {
		return Material{}, errs.Field("file", "不支持的文件类型“%s”：请上传 JPG、PNG、HEIC、WEBP 图片或 PDF", ext)
	}
	dir := filepath.Join(s.DataDir, "uploads", "applications", fmt.Sprint(id))
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return Material{}, fmt.Errorf("assistance: uploads folder: %w", err)
	}
	tmp, err := os.CreateTemp(dir, ".upload-*")
	if err != nil {
		return Material{}, fmt.Errorf("assistance: upload: %w", err)
	}
	defer os.Remove(tmp.Name()) // no-op after the rename
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(tmp, h), io.LimitReader(r, MaxMaterialSize+1))
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return Material{}, fmt.Errorf("assistance: upload: %w", err)
	}
	if n == 0 {
		return Material{}, errs.Field("file", "文件“%s”是空的", fileName)
	}
	if n > MaxMaterialSize {
		return Material{}, errs.Field("file", "文件“%s”超过 %d MB", fileName, MaxMaterialSize>>20)
	}
	sum := hex.EncodeToString(h.Sum(nil))
	rel := filepath.Join("uploads", "applications", fmt.Sprint(id), sum+ext)
	final := filepath.Join(s.DataDir, rel)
	if err := os.Rename(tmp.Name(), final); err != nil {
		return Material{}, fmt.Errorf("assistance: upload: %w", err)
	}
	now := s.Now().UTC()
	m := Material{Kind: kind, FileName: fileName, ContentType: ctype, Size: n, SHA256: sum, UploadedBy: p.Name, CreatedAt: now}
	err = s.DB.Tx(ctx, func(tx *sql.Tx) error {
		if err := tx.QueryRowContext(ctx, `INSERT INTO application_materials (application_id, kind, file_name, content_type, size, sha256, path, uploaded_by, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`, id, kind, fileName, ctype, n, sum, filepath.ToSlash(rel), p.Name, db.Now(now)).Scan(&m.ID); err != nil {
			return fmt.Errorf("assistance: insert material: %w", err)
		}
		return s.Audit.Append(ctx, tx, audit.Entry{Actor: p.Name, Role: string(p.Role), Action: "application.material", Entity: "application",
			EntityID: fmt.Sprint(id), Detail: fmt.Sprintf("上传%s“%s”（%d 字节，SHA-256 %s）", MaterialKinds[kind], fileName, n, sum[:16]), Remote: p.Remote})
	})
	if err != nil {
		// Another row may share the content (same file twice): keep the
		// file when one does.
		var refs int
		if s.DB.QueryRowContext(ctx, `SELECT COUNT(*) FROM application_materials WHERE path = $1`, filepath.ToSlash(rel)).Scan(&refs) == nil && refs == 0 {
			os.Remove(final)
		}
		return Material{}, err
	}
	return m, nil
}

// OpenMaterial opens a stored material of an application in the caller's
// jurisdiction; the read is audited.
func (s *Service) OpenMaterial(ctx context.Context, p auth.Principal, id, materialID int64) (Material, *os.File, error) {
	if !p.Can(PermRead) {
		return Material{}, nil, errs.E(errs.Forbidden, "您的角色无权查看救助申请")
	}
	if _, err := s.load(ctx, s.DB, p, id); err != nil {
		return Material{}, nil, err
	}
	var m Material
	var rel, at string
	err := s.DB.QueryRowContext(ctx, `SELECT id, kind, file_name, content_type, size, sha256, path, uploaded_by, created_at FROM application_materials WHERE id = $1 AND application_id = $2`,
		materialID, id).Scan(&m.ID, &m.Kind, &m.FileName, &m.ContentType, &m.Size, &m.SHA256, &rel, &m.UploadedBy, &at)
	if err == sql.ErrNoRows {
		return Material{}, nil, errs.E(errs.NotFound, "未找到材料 %d", materialID)
	}
	if err != nil {
		return Material{}, nil, err
	}
	m.CreatedAt = db.ParseTime(at)
	f, err := os.Open(filepath.Join(s.DataDir, filepath.FromSlash(rel)))
	if err != nil {
		return Material{}, nil, fmt.Errorf("assistance: open material %d: %w", materialID, err)
	}
	if err := s.Audit.Record(ctx, audit.Entry{Actor: p.Name, Role: string(p.Role), Action: "application.material_view", Entity: "application",
		EntityID: fmt.Sprint(id), Detail: fmt.Sprintf("查看材料“%s”", m.FileName), Remote: p.Remote}); err != nil {
		f.Close()
		return Material{}, nil, err
	}
	return m, f, nil
}

// PublicNotice is one line of the public notice (公示): what the public
// may see of a case.
type PublicNotice struct {
	ID          int64
	Names       string // masked: 张*、李*
	Division    string
	Programs    string
	Members     int
	NoticeUntil string
}

// Notices lists the cases whose public notice is running, with masked
// names. Anyone may read it.
func (s *Service) Notices(ctx context.Context) ([]PublicNotice, error) {
	today := s.today().Format(dateFmt)
	rows, err := s.DB.QueryContext(ctx, `SELECT a.id, a.division, a.notice_until FROM applications a WHERE a.state = 'notice' AND a.notice_until >= $1 ORDER BY a.division, a.id LIMIT 500`, today)
	if err != nil {
		return nil, fmt.Errorf("assistance: notices: %w", err)
	}
	var out []PublicNotice
	for rows.Next() {
		var n PublicNotice
		if err := rows.Scan(&n.ID, &n.Division, &n.NoticeUntil); err != nil {
			rows.Close()
			return nil, err
		}
		out = append(out, n)
	}
	rows.Close()
	for i := range out {
		ms, err := s.members(ctx, s.DB, out[i].ID)
		if err != nil {
			return nil, err
		}
		ps, err := s.programs(ctx, s.DB, out[i].ID)
		if err != nil {
			return nil, err
		}
		var names, progs []string
		for _, m := range ms {
			if m.Relation == "head" || len(names) == 0 {
				names = append(names, maskName(m.Name))
			}
		}
		for _, p := range ps {
			progs = append(progs, p.Label)
		}
		out[i].Names, out[i].Programs, out[i].Members = strings.Join(names, "、"), strings.Join(progs, "、"), len(ms)
	}
	return out, nil
}

// maskName keeps the family name: 张三丰 → 张**.
func maskName(name string) string {
	r := []rune(name)
	if len(r) <= 1 {
		return name
	}
	return string(r[0]) + strings.Repeat("*", len(r)-1)
}

// Object lodges an objection (异议) against a case under public notice.
// Anyone may object; the objection is audited and the case's chain must
// answer it before the case goes on to review.
func (s *Service) Object(ctx context.Context, id int64, text, contact, remote string) error {
	text, contact = strings.TrimSpace(text), strings.TrimSpace(contact)
	var fe errs.Fields
	if n := utf8.RuneCountInString(text); n < 5 || n > 1000 {
		fe.Add("text", "请填写异议内容（5 至 1000 字）")
	}
	if utf8.RuneCountInString(contact) > 100 {
		fe.Add("contact", "联系方式过长")
	}
	if err := fe.Err(); err != nil {
		return err
	}
	now := s.Now().UTC()
	return s.DB.Tx(ctx, func(tx *sql.Tx) error {
		var state, division string
		var until sql.NullString
		err := tx.QueryRowContext(ctx, `SELECT state, division, notice_until FROM applications WHERE id = $1`, id).Scan(&state, &division, &until)
		if err == sql.ErrNoRows || (err == nil && (State(state) != Notice || until.String < s.today().Format(dateFmt))) {
			return errs.E(errs.NotFound, "编号 %d 的公示不存在或已结束", id)
		}
		if err != nil {
			return err
		}
		var oid int64
		if err := tx.QueryRowContext(ctx, `INSERT INTO objections (application_id, text, contact, remote, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id`,
			id, text, contact, remote, db.Now(now)).Scan(&oid); err != nil {
			return fmt.Errorf("assistance: insert objection: %w", err)
		}
		if err := s.Audit.Append(ctx, tx, audit.Entry{Actor: "public", Role: "public", Action: "application.objection", Entity: "application",
			EntityID: fmt.Sprint(id), Detail: fmt.Sprintf("公示期间收到异议 %d", oid), Remote: remote}); err != nil {
			return err
		}
		_, err = events.Append(ctx, tx, ApplicationObjected, id, division, Objected{ApplicationID: id, ObjectionID: oid}, now)
		return err
	})
}

// RecheckStats is what a re-check run did.
type RecheckStats struct {
	AsOf   string `json:"as_of"`
	Opened int    `json:"opened"`
}

// OpenRechecks opens an annual re-check (年度复核) for every household
// whose latest granted application was decided more than a year before
// on and that has no open case: a new application of kind recheck, in
// 受理, for the same programmes, with the members as the register has them
// now. It goes through the same chain. Running it twice opens nothing new.
func (s *Service) OpenRechecks(ctx context.Context, p auth.Principal, on time.Time) (RecheckStats, error) {
	if !p.Scope().CityWide() || p.Role != auth.CityAdmin {
		return RecheckStats{}, errs.E(errs.Forbidden, "只有全市范围的系统账号可以批量发起年度复核")
	}
	cutoff := on.AddDate(-1, 0, 0).Format(dateFmt)
	st := RecheckStats{AsOf: on.Format(dateFmt)}
	// Only recurring programmes are re-checked: one-off aid is paid and done.
	var oneOff []string
	for _, p := range Programs {
		if !p.Recurring {
			oneOff = append(oneOff, "'"+p.ID+"'")
		}
	}
	rows, err := s.DB.QueryContext(ctx, `SELECT a.id FROM applications a WHERE a.state = 'granted' AND a.decided_on <= $1
		AND EXISTS (SELECT 1 FROM application_programs p WHERE p.application_id = a.id AND p.status = 'granted' AND p.program NOT IN (`+strings.Join(oneOff, ", ")+`))
		AND NOT EXISTS (SELECT 1 FROM applications b WHERE b.household_id = a.household_id AND (b.id > a.id OR b.state NOT IN ('granted', 'refused')))
		ORDER BY a.id`, cutoff)
	if err != nil {
		return st, fmt.Errorf("assistance: rechecks due: %w", err)
	}
	var due []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return st, err
		}
		due = append(due, id)
	}
	rows.Close()
	now := s.Now().UTC()
	for _, parent := range due {
		err := s.DB.Tx(ctx, func(tx *sql.Tx) error {
			a, err := s.load(ctx, tx, auth.System(), parent)
			if err != nil {
				return err
			}
			var id int64
			if err := tx.QueryRowContext(ctx, `INSERT INTO applications (kind, parent_id, household_id, applicant_id, division, state, state_since, due_on, declared_deposits_fen,
				declared_securities_fen, declared_vehicles, declared_properties, created_by, created_at, updated_at)
				VALUES ('recheck', $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $6, $6) RETURNING id`,
				parent, a.HouseholdID, a.ApplicantID, a.Division, string(Submitted), db.Now(now), s.dueOn(Submitted, on), a.DeclaredDepositsFen,
				a.DeclaredSecuritiesFen, a.DeclaredVehicles, a.DeclaredProperties, p.Name).Scan(&id); err != nil {
				return fmt.Errorf("assistance: insert recheck: %w", err)
			}
			for _, pr := range a.Programs {
				if pr.Status != "granted" {
					continue
				}
				if prog, _ := ProgramByID(pr.Program); !prog.Recurring {
					continue // one-off aid has nothing to re-check
				}
				if _, err := tx.ExecContext(ctx, `INSERT INTO application_programs (application_id, program, status) VALUES ($1, $2, 'pending')`, id, pr.Program); err != nil {
					return err
				}
			}
			old, err := s.members(ctx, tx, parent)
			if err != nil {
				return err
			}
			declared := map[int64]int64{}
			for _, m := range old {
				declared[m.PersonID] = m.DeclaredIncomeFen
			}
			if err := s.copyMembersFrom(ctx, tx, id, a.HouseholdID, declared); err != nil {
				return err
			}
			if err := s.insertStep(ctx, tx, id, "", Submitted, p, "年度复核", nil, now); err != nil {
				return err
			}
			if err := s.Audit.Append(ctx, tx, audit.Entry{Actor: p.Name, Role: string(p.Role), Action: "application.recheck", Entity: "application",
				EntityID: fmt.Sprint(id), Detail: fmt.Sprintf("对申请 %d（%s 批准）发起年度复核", parent, a.DecidedOn), Remote: p.Remote}); err != nil {
				return err
			}
			_, err = events.Append(ctx, tx, ApplicationMoved, id, a.Division, Moved{ApplicationID: id, To: Submitted, RecheckOf: parent}, now)
			return err
		})
		if err != nil {
			return st, err
		}
		st.Opened++
	}
	return st, nil
}

func (s *Service) copyMembersFrom(ctx context.Context, tx *sql.Tx, id, household int64, declared map[int64]int64) error {
	return s.copyMembers(ctx, tx, id, household, func(m registry.Person) int64 {
		if v, ok := declared[m.ID]; ok {
			return v
		}
		return m.MonthlyIncome * 100
	})
}
