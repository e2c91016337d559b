package auth

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"time"

	"minzheng/internal/audit"
	"minzheng/internal/db"
	"minzheng/internal/errs"
)

// User is a staff account.
type User struct {
	ID        int64     `json:"id"`
	Name      string    `json:"name"`
	Display   string    `json:"display_name"`
	Role      Role      `json:"role"`
	Division  string    `json:"division"`
	Disabled  bool      `json:"disabled"`
	CreatedAt time.Time `json:"created_at"`
}

// Principal returns the principal acting as u from remote.
func (u User) Principal(remote string) Principal {
	return Principal{UserID: u.ID, Name: u.Name, Display: u.Display, Role: u.Role, Division: u.Division, Remote: remote}
}

// SessionTTL is how long a web session lasts without a new login.
const SessionTTL = 12 * time.Hour

// Service manages accounts, sessions and tokens.
type Service struct {
	db    *db.DB
	audit *audit.Log
	now   func() time.Time

	mu       sync.Mutex
	failures map[string][]time.Time // login failures by name and by address
}

// NewService returns the auth service.
func NewService(d *db.DB, a *audit.Log, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{db: d, audit: a, now: now, failures: map[string][]time.Time{}}
}

var namePattern = regexp.MustCompile(`^[a-zA-Z0-9_.\-]{2,40}$`)

// NewUser describes an account to create.
type NewUser struct {
	Name     string `json:"name"`
	Display  string `json:"display_name"`
	Role     Role   `json:"role"`
	Division string `json:"division"`
}

// CreateUser creates an account and returns it with its generated password,
// which is shown once and stored only as a hash. A city administrator may
// create any account; a district administrator only accounts inside the
// district, and not administrator or auditor accounts.
func (s *Service) CreateUser(ctx context.Context, by Principal, nu NewUser) (User, string, error) {
	if !by.Can(UserAdmin) {
		return User{}, "", errs.E(errs.Forbidden, "您的角色无权管理用户账号")
	}
	nu.Name = strings.TrimSpace(nu.Name)
	nu.Display = strings.TrimSpace(nu.Display)
	var fe errs.Fields
	if !namePattern.MatchString(nu.Name) {
		fe.Add("name", "用户名应为 2–40 个字母、数字、下划线、点或短横线")
	}
	if !nu.Role.Valid() {
		fe.Add("role", "未知角色“%s”，可选：clerk、adviser、reviewer、approver、district_admin、city_admin、auditor", nu.Role)
	}
	var level string
	err := s.db.QueryRowContext(ctx, `SELECT level FROM divisions WHERE code = $1`, nu.Division).Scan(&level)
	if errors.Is(err, sql.ErrNoRows) {
		fe.Add("division", "辖区代码“%s”不存在", nu.Division)
	} else if err != nil {
		return User{}, "", fmt.Errorf("auth: look up division: %w", err)
	}
	if err := fe.Err(); err != nil {
		return User{}, "", err
	}
	if !by.Scope().Covers(nu.Division) {
		return User{}, "", errs.Field("division", "只能在本辖区（%s）内创建账号", by.Division)
	}
	if (nu.Role == CityAdmin || nu.Role == DistrictAdmin || nu.Role == Auditor) && !(by.Role == CityAdmin && by.Scope().CityWide()) {
		return User{}, "", errs.Field("role", "只有全市范围的市管理员可以创建“%s”账号", nu.Role.Label())
	}
	password := NewPassword()
	u := User{Name: nu.Name, Display: nu.Display, Role: nu.Role, Division: nu.Division, CreatedAt: s.now().UTC()}
	err = s.db.Tx(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `INSERT INTO users (name, display_name, role, division, password_hash, created_at)
			VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`, u.Name, u.Display, string(u.Role), u.Division, HashPassword(password), db.Now(u.CreatedAt)).Scan(&u.ID)
		if db.IsUniqueViolation(err) {
			return errs.Field("name", "用户名“%s”已被使用", u.Name)
		}
		if err != nil {
			return fmt.Errorf("auth: create user: %w", err)
		}
		return s.audit.Append(ctx, tx, audit.Entry{Actor: by.Name, Role: string(by.Role), Action: "user.create", Entity: "user",
			EntityID: fmt.Sprint(u.ID), Detail: fmt.Sprintf("创建账号 %s（%s，辖区 %s）", u.Name, u.Role, u.Division), Remote: by.Remote})
	})
	if err != nil {
		return User{}, "", err
	}
	return u, password, nil
}

// ResetPassword sets a new generated password for the named user and returns it.
func (s *Service) ResetPassword(ctx context.Context, by Principal, name string) (string, error) {
	u, err := s.UserByName(ctx, name)
	if err != nil {
		return "", err
	}
	if !by.Can(UserAdmin) || !by.Scope().Covers(u.Division) {
		return "", errs.E(errs.Forbidden, "您无权重置该账号的密码")
	}
	password := NewPassword()
	err = s.db.Tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE users SET password_hash = $1 WHERE id = $2`, HashPassword(password), u.ID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = $1`, u.ID); err != nil {
			return err
		}
		return s.audit.Append(ctx, tx, audit.Entry{Actor: by.Name, Role: string(by.Role), Action: "user.reset_password", Entity: "user",
			EntityID: fmt.Sprint(u.ID), Detail: "重置密码", Remote: by.Remote})
	})
	return password, err
}

const userCols = `id, name, display_name, role, division, disabled, created_at`

func scanUser(row interface{ Scan(...any) error }) (User, error) {
	var u User
	var role, created string
	var disabled int
	if err := row.Scan(&u.ID, &u.Name, &u.Display, &role, &u.Division, &disabled, &created); err != nil {
		return User{}, err
	}
	u.Role, u.Disabled, u.CreatedAt = Role(role), disabled != 0, db.ParseTime(created)
	return u, nil
}

// UserByName returns the named account.
func (s *Service) UserByName(ctx context.Context, name string) (User, error) {
	u, err := scanUser(s.db.QueryRowContext(ctx, `SELECT `+userCols+` FROM users WHERE name = $1`, name))
	if errors.Is(err, sql.ErrNoRows) {
		return User{}, errs.E(errs.NotFound, "用户“%s”不存在", name)
	}
	return u, err
}

// ListUsers returns the accounts whose jurisdiction lies inside the caller's.
func (s *Service) ListUsers(ctx context.Context, by Principal) ([]User, error) {
	if !by.Can(UserAdmin) && !by.Can(AuditRead) {
		return nil, errs.E(errs.Forbidden, "您的角色无权查看用户账号")
	}
	lo, hi := by.Scope().Range()
	rows, err := s.db.QueryContext(ctx, `SELECT `+userCols+` FROM users WHERE division >= $1 AND division < $2 ORDER BY name`, lo, hi)
	if err != nil {
		return nil, fmt.Errorf("auth: list users: %w", err)
	}
	defer rows.Close()
	var out []User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

// Login limits: at most maxFailures failed attempts per name, and per client
// address, within failureWindow.
const (
	maxFailures   = 5
	failureWindow = 15 * time.Minute
)

func (s *Service) limited(keys ...string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	cutoff := s.now().Add(-failureWindow)
	for _, k := range keys {
		fs := s.failures[k]
		i := 0
		for i < len(fs) && fs[i].Before(cutoff) {
			i++
		}
		s.failures[k] = fs[i:]
		if len(fs)-i >= maxFailures {
			return true
		}
	}
	return false
}

func (s *Service) fail(keys ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, k := range keys {
		s.failures[k] = append(s.failures[k], s.now())
	}
}

// Session is a logged-in web session.
type Session struct {
	Token string // the cookie value; stored only as a hash
	CSRF  string
	User  User
}

// Login checks a name and password and opens a session. Repeated failures
// for one name or from one address are refused for a while.
func (s *Service) Login(ctx context.Context, name, password, remote string) (Session, error) {
	keys := []string{"n:" + name, "a:" + remote}
	if s.limited(keys...) {
		return Session{}, errs.E(errs.TooMany, "登录失败次数过多，请 15 分钟后再试")
	}
	var hash string
	var id int64
	err := s.db.QueryRowContext(ctx, `SELECT id, password_hash FROM users WHERE name = $1 AND disabled = 0`, name).Scan(&id, &hash)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return Session{}, fmt.Errorf("auth: login: %w", err)
	}
	if err != nil {
		CheckPassword(dummyHash, password) // as long as a wrong password
	}
	if err != nil || !CheckPassword(hash, password) {
		s.fail(keys...)
		s.audit.Record(ctx, audit.Entry{Actor: name, Role: "", Action: "auth.login_failed", Entity: "user", EntityID: name, Detail: "登录失败", Remote: remote})
		return Session{}, errs.E(errs.Unauthorized, "用户名或密码错误")
	}
	u, err := scanUser(s.db.QueryRowContext(ctx, `SELECT `+userCols+` FROM users WHERE id = $1`, id))
	if err != nil {
		return Session{}, err
	}
	sess := Session{Token: newToken(""), CSRF: newToken(""), User: u}
	err = s.db.Tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE expires_at < $1`, db.Now(s.now())); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO sessions (token_hash, user_id, csrf, expires_at) VALUES ($1, $2, $3, $4)`,
			tokenHash(sess.Token), u.ID, sess.CSRF, db.Now(s.now().Add(SessionTTL))); err != nil {
			return err
		}
		return s.audit.Append(ctx, tx, audit.Entry{Actor: u.Name, Role: string(u.Role), Action: "auth.login", Entity: "user", EntityID: fmt.Sprint(u.ID), Detail: "登录", Remote: remote})
	})
	if err != nil {
		return Session{}, fmt.Errorf("auth: open session: %w", err)
	}
	return sess, nil
}

// SessionByToken returns the session of a cookie value, if it is valid.
func (s *Service) SessionByToken(ctx context.Context, token string) (Session, error) {
	var csrf, expires string
	var uid int64
	err := s.db.QueryRowContext(ctx, `SELECT user_id, csrf, expires_at FROM sessions WHERE token_hash = $1`, tokenHash(token)).Scan(&uid, &csrf, &expires)
	if err != nil || db.ParseTime(expires).Before(s.now()) {
		return Session{}, errs.E(errs.Unauthorized, "登录已过期，请重新登录")
	}
	u, err := scanUser(s.db.QueryRowContext(ctx, `SELECT `+userCols+` FROM users WHERE id = $1`, uid))
	if err != nil || u.Disabled {
		return Session{}, errs.E(errs.Unauthorized, "账号不可用，请联系管理员")
	}
	return Session{Token: token, CSRF: csrf, User: u}, nil
}

// Logout ends a session.
func (s *Service) Logout(ctx context.Context, token string) error {
	_, err := s.db.ExecContext(ctx, `DELETE FROM sessions WHERE token_hash = $1`, tokenHash(token))
	return err
}

// TokenPrefix starts every API token, so leaked tokens are easy to spot.
const TokenPrefix = "mz_"

// CreateToken issues an API bearer token acting as the named user, with that
// user's role and jurisdiction. The token is returned once and stored as a hash.
func (s *Service) CreateToken(ctx context.Context, by Principal, userName, label string) (string, error) {
	if !by.Can(TokenAdmin) {
		return "", errs.E(errs.Forbidden, "您的角色无权签发接口令牌")
	}
	u, err := s.UserByName(ctx, userName)
	if err != nil {
		return "", err
	}
	token := newToken(TokenPrefix)
	err = s.db.Tx(ctx, func(tx *sql.Tx) error {
		var id int64
		if err := tx.QueryRowContext(ctx, `INSERT INTO api_tokens (token_hash, user_id, label, created_at) VALUES ($1, $2, $3, $4) RETURNING id`,
			tokenHash(token), u.ID, label, db.Now(s.now())).Scan(&id); err != nil {
			return fmt.Errorf("auth: create token: %w", err)
		}
		return s.audit.Append(ctx, tx, audit.Entry{Actor: by.Name, Role: string(by.Role), Action: "token.create", Entity: "api_token",
			EntityID: fmt.Sprint(id), Detail: "为 " + u.Name + " 签发接口令牌 " + label, Remote: by.Remote})
	})
	if err != nil {
		return "", err
	}
	return token, nil
}

// UserByToken returns the user a bearer token acts as.
func (s *Service) UserByToken(ctx context.Context, token string) (User, error) {
	var uid int64
	err := s.db.QueryRowContext(ctx, `SELECT user_id FROM api_tokens WHERE token_hash = $1 AND revoked = 0`, tokenHash(token)).Scan(&uid)
	if err != nil {
		return User{}, errs.E(errs.Unauthorized, "接口令牌无效或已吊销")
	}
	u, err := scanUser(s.db.QueryRowContext(ctx, `SELECT `+userCols+` FROM users WHERE id = $1`, uid))
	if err != nil || u.Disabled {
		return User{}, errs.E(errs.Unauthorized, "令牌所属账号不可用")
	}
	return u, nil
}

func tokenHash(token string) []byte {
	sum := sha256.Sum256([]byte(token))
	return sum[:]
}

// HasUsers reports whether any account exists (false on a new database).
func (s *Service) HasUsers(ctx context.Context) (bool, error) {
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM users`).Scan(&n)
	return n > 0, err
}
