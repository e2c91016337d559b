package assistance

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"minzheng/internal/audit"
	"minzheng/internal/auth"
	"minzheng/internal/db"
	"minzheng/internal/errs"
	"minzheng/internal/idcard"
	"minzheng/internal/registry"
)

// RegisterRelative puts a close relative of the caller on file
// (经办人员亲属备案). Only staff who act in the chain register relatives.
func (s *Service) RegisterRelative(ctx context.Context, p auth.Principal, nr NewRelative) (Relative, error) {
	if !p.Can(PermRelatives) {
		return Relative{}, errs.E(errs.Forbidden, "您的角色无须办理经办人员亲属备案")
	}
	var fe errs.Fields
	nr.Name, nr.Relation = strings.TrimSpace(nr.Name), strings.TrimSpace(nr.Relation)
	if n := utf8.RuneCountInString(nr.Name); n == 0 || n > 50 {
		fe.Add("name", "请填写亲属姓名（最多 50 个字）")
	}
	if n := utf8.RuneCountInString(nr.Relation); n == 0 || n > 20 {
		fe.Add("relation", "请填写亲属关系，例如：配偶、父母、子女、兄弟姐妹")
	}
	id, err := idcard.Parse(strings.ToUpper(strings.TrimSpace(nr.IDNumber)), s.Now())
	if err != nil {
		msg := err.Error()
		var ie *idcard.Error
		if errors.As(err, &ie) {
			msg = ie.Message
		}
		fe.Add("id_number", "%s", msg)
	}
	if err := fe.Err(); err != nil {
		return Relative{}, err
	}
	now := s.Now().UTC()
	r := Relative{Name: nr.Name, Relation: nr.Relation, IDMasked: idcard.Mask(id.Number), CreatedAt: now}
	err = s.DB.Tx(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `INSERT INTO staff_relatives (user_id, user_name, name, relation, id_hash, id_masked, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
			p.UserID, p.Name, r.Name, r.Relation, s.Suite.Index(id.Number), r.IDMasked, db.Now(now)).Scan(&r.ID)
		if db.IsUniqueViolation(err) {
			return errs.Field("id_number", "亲属 %s 已备案", r.IDMasked)
		}
		if err != nil {
			return fmt.Errorf("assistance: insert relative: %w", err)
		}
		return s.Audit.Append(ctx, tx, audit.Entry{Actor: p.Name, Role: string(p.Role), Action: "relative.register", Entity: "staff_relative",
			EntityID: fmt.Sprint(r.ID), Detail: fmt.Sprintf("备案亲属 %s（%s，%s）", r.Name, r.Relation, r.IDMasked), Remote: p.Remote})
	})
	return r, err
}

// Relatives lists the caller's relatives on file.
func (s *Service) Relatives(ctx context.Context, p auth.Principal) ([]Relative, error) {
	if !p.Can(PermRelatives) {
		return nil, errs.E(errs.Forbidden, "您的角色无须办理经办人员亲属备案")
	}
	rows, err := s.DB.QueryContext(ctx, `SELECT id, name, relation, id_masked, created_at FROM staff_relatives WHERE user_id = $1 ORDER BY id`, p.UserID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Relative{}
	for rows.Next() {
		var r Relative
		var at string
		if err := rows.Scan(&r.ID, &r.Name, &r.Relation, &r.IDMasked, &at); err != nil {
			return nil, err
		}
		r.CreatedAt = db.ParseTime(at)
		out = append(out, r)
	}
	return out, rows.Err()
}

// Declare replaces the declaration of an application still in 受理 or
// 核对: the clerk corrects what the register suggested. It is audited.
func (s *Service) Declare(ctx context.Context, p auth.Principal, id int64, d Declaration) error {
	if !p.Can(PermCreate) {
		return errs.E(errs.Forbidden, "您的角色无权更正申报")
	}
	var fe errs.Fields
	for pid, v := range d.IncomeFen {
		if v < 0 || v > 100_000_000 {
			fe.Add(fmt.Sprintf("income_%d", pid), "申报月收入应在 0 至 100 万元之间")
		}
	}
	if d.DepositsFen < 0 {
		fe.Add("deposits", "申报存款不能为负数")
	}
	if d.SecuritiesFen < 0 {
		fe.Add("securities", "申报有价证券不能为负数")
	}
	if d.Vehicles < 0 {
		fe.Add("vehicles", "申报车辆数不能为负数")
	}
	if d.Properties < 0 {
		fe.Add("properties", "申报住房套数不能为负数")
	}
	if err := fe.Err(); err != nil {
		return err
	}
	now := s.Now().UTC()
	return s.DB.Tx(ctx, func(tx *sql.Tx) error {
		a, err := s.load(ctx, tx, p, id)
		if err != nil {
			return err
		}
		if a.State != Submitted && a.State != Verifying {
			return errs.E(errs.Conflict, "申请已进入“%s”，不能再更正申报", a.State.Label())
		}
		members, err := s.members(ctx, tx, id)
		if err != nil {
			return err
		}
		known := map[int64]bool{}
		for _, m := range members {
			known[m.PersonID] = true
		}
		for pid, v := range d.IncomeFen {
			if !known[pid] {
				return errs.Field(fmt.Sprintf("income_%d", pid), "人员 %d 不是本申请的家庭成员", pid)
			}
			if _, err := tx.ExecContext(ctx, `UPDATE application_members SET declared_income_fen = $1 WHERE application_id = $2 AND person_id = $3`, v, id, pid); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE applications SET declared_deposits_fen = $1, declared_securities_fen = $2, declared_vehicles = $3, declared_properties = $4, updated_at = $5 WHERE id = $6`,
			d.DepositsFen, d.SecuritiesFen, d.Vehicles, d.Properties, db.Now(now), id); err != nil {
			return err
		}
		return s.Audit.Append(ctx, tx, audit.Entry{Actor: p.Name, Role: string(p.Role), Action: "application.declare", Entity: "application", EntityID: fmt.Sprint(id),
			Detail: fmt.Sprintf("更正申报：%d 名成员的月收入，存款 %s 元，有价证券 %s 元，车辆 %d，住房 %d", len(d.IncomeFen), yuan(d.DepositsFen), yuan(d.SecuritiesFen), d.Vehicles, d.Properties),
			Remote: p.Remote})
	})
}

// AddMember adds to an application, while it is in 受理 or 核对, a
// household member the register lacks (a spouse from outside Shanghai, a
// child born since): the person is registered in the application's
// household through the registry (validated and audited there), then
// joined to the application with their declared income. A retry after a
// failure between the two finds the person already registered in the
// household and only joins them.
func (s *Service) AddMember(ctx context.Context, p auth.Principal, id int64, np registry.NewPerson) (Member, error) {
	if !p.Can(PermCreate) || !p.Can(auth.PersonWrite) {
		return Member{}, errs.E(errs.Forbidden, "您的角色无权添加家庭成员")
	}
	a, err := s.load(ctx, s.DB, p, id)
	if err != nil {
		return Member{}, err
	}
	if a.State != Submitted && a.State != Verifying {
		return Member{}, errs.E(errs.Conflict, "申请已进入“%s”，不能再添加家庭成员", a.State.Label())
	}
	if np.Relation == "" || np.Relation == "户主" || np.Relation == string(registry.Head) {
		return Member{}, errs.Field("relation", "请填写与户主的关系（配偶、子女、父母……）")
	}
	np.HouseholdID = a.HouseholdID
	number := strings.ToUpper(strings.TrimSpace(np.IDNumber))
	person, err := s.Registry.Create(ctx, p, np)
	var personID int64
	switch {
	case err == nil:
		personID = person.ID
	case errs.As(err) != nil && len(errs.As(err).Fields) == 1 && errs.As(err).Fields[0].Field == "id_number" && strings.Contains(err.Error(), "已登记"):
		// Registered before: join them if they are of this household.
		if qerr := s.DB.QueryRowContext(ctx, `SELECT id FROM persons WHERE id_hash = $1 AND household_id = $2`, s.Suite.Index(number), a.HouseholdID).Scan(&personID); qerr != nil {
			return Member{}, err
		}
	default:
		return Member{}, err
	}
	var m Member
	err = s.DB.Tx(ctx, func(tx *sql.Tx) error {
		a, err := s.load(ctx, tx, p, id)
		if err != nil {
			return err
		}
		if a.State != Submitted && a.State != Verifying {
			return errs.E(errs.Conflict, "申请已进入“%s”，不能再添加家庭成员", a.State.Label())
		}
		var rel string
		var hash []byte
		var income int64
		if err := tx.QueryRowContext(ctx, `SELECT relation, name, id_masked, id_hash, monthly_income FROM persons WHERE id = $1`, personID).
			Scan(&rel, &m.Name, &m.IDMasked, &hash, &income); err != nil {
			return err
		}
		m.PersonID, m.Relation, m.DeclaredIncomeFen = personID, rel, income*100
		m.RelationLabel = registry.Relation(rel).Label()
		res, err := tx.ExecContext(ctx, `INSERT INTO application_members (application_id, person_id, relation, name, id_masked, id_hash, declared_income_fen)
			SELECT $1, $2, $3, $4, $5, $6, $7 WHERE NOT EXISTS (SELECT 1 FROM application_members WHERE application_id = $1 AND person_id = $2)`,
			id, personID, rel, m.Name, m.IDMasked, hash, m.DeclaredIncomeFen)
		if err != nil {
			return fmt.Errorf("assistance: add member: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errs.Field("id_number", "%s 已是本申请的家庭成员", m.IDMasked)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE applications SET updated_at = $1 WHERE id = $2`, db.Now(s.Now().UTC()), id); err != nil {
			return err
		}
		return s.Audit.Append(ctx, tx, audit.Entry{Actor: p.Name, Role: string(p.Role), Action: "application.add_member", Entity: "application", EntityID: fmt.Sprint(id),
			Detail: fmt.Sprintf("添加家庭成员 %s（%s），申报月收入 %s 元", m.IDMasked, m.RelationLabel, yuan(m.DeclaredIncomeFen)), Remote: p.Remote})
	})
	return m, err
}
