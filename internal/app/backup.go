package app

import (
	"context"
	"fmt"
	"os"

	"minzheng/internal/audit"
	"minzheng/internal/db"
	"minzheng/internal/errs"
)

// Backup writes a consistent copy of a live SQLite database to path with
// VACUUM INTO, which reads one snapshot while writers carry on.
func (a *App) Backup(ctx context.Context, path string) error {
	if a.DB.Dialect != db.SQLite {
		return errs.E(errs.Invalid, "PostgreSQL 数据库请使用 pg_dump 备份")
	}
	if _, err := os.Stat(path); err == nil {
		return errs.Field("to", "文件 %s 已存在，请换一个文件名", path)
	}
	if _, err := a.DB.ExecContext(ctx, `VACUUM INTO $1`, path); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	return a.Audit.Record(ctx, audit.Entry{Actor: "system", Role: "city_admin", Action: "system.backup", Entity: "database", EntityID: "*", Detail: "备份数据库到 " + path, Remote: "cli"})
}

func auditFilterLimit(n int) audit.Filter { return audit.Filter{Limit: n} }
