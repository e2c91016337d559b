package app

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"minzheng/internal/audit"
	"minzheng/internal/errs"
)

// auditUsage is the usage line of the audit commands.
const auditUsage = "minzheng audit verify [--checkpoints FILE] | audit list [--limit N] | audit checkpoint export [--to FILE]"

// checkpointPath is where the audit log's checkpoints are kept.
func checkpointPath(dataDir string) string { return filepath.Join(dataDir, audit.CheckpointFile) }

// auditVerify verifies the chain against the data folder's checkpoints, or
// against those of file (an exported copy), prints the outcome and fails on
// a broken chain.
func auditVerify(ctx context.Context, a *App, stdout io.Writer, file string) error {
	verify := a.Audit.Verify
	if file != "" {
		if _, err := os.Stat(file); err != nil {
			return errs.E(errs.Invalid, "无法读取检查点文件 %s：%v", file, err)
		}
		verify = func(ctx context.Context) (audit.Result, error) { return a.Audit.VerifyAgainst(ctx, file) }
	}
	res, err := verify(ctx)
	if err != nil {
		return err
	}
	if !res.OK {
		if res.BadID > 0 {
			fmt.Fprintf(stdout, "BROKEN: 审计日志在第 %d 条处断裂：%s\n", res.BadID, res.Reason)
		} else {
			fmt.Fprintf(stdout, "BROKEN: 审计日志校验未通过：%s\n", res.Reason)
		}
		return errs.E(errs.Conflict, "审计日志校验未通过")
	}
	fmt.Fprintf(stdout, "OK: 审计日志完整，共 %d 条", res.Entries)
	if res.Legacy > 0 {
		fmt.Fprintf(stdout, "（其中前 %d 条为升级前以无密钥 SHA-256 链接的记录）", res.Legacy)
	}
	fmt.Fprintln(stdout)
	if cp := res.Checkpoint; cp != nil {
		fmt.Fprintf(stdout, "与检查点一致：%s 记录到第 %d 条\n", cp.At.In(shanghai).Format("2006-01-02 15:04:05"), cp.LastID)
	} else if res.Entries > 0 {
		fmt.Fprintln(stdout, "注意：此前没有检查点，无法判断最新的记录是否被删除")
	}
	if res.Checkpointed {
		fmt.Fprintf(stdout, "已写入新的检查点：%s（请定期用 minzheng audit checkpoint export 复制到本机以外）\n", a.Audit.Checkpoints)
	}
	return nil
}

var shanghai = time.FixedZone("CST", 8*3600)

// cmdAuditCheckpoint runs "audit checkpoint export [--to FILE]": a copy of
// the checkpoint file, to keep off the machine.
func cmdAuditCheckpoint(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "export" {
		return errs.E(errs.Invalid, "用法：minzheng audit checkpoint export [--to FILE]（复制审计日志的检查点，请保存在本机以外）")
	}
	fs, c := newFlags("audit checkpoint export", stderr)
	to := fs.String("to", "", "写入的文件（默认输出到标准输出）")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	a, err := c.open(ctx, stderr)
	if err != nil {
		return err
	}
	defer a.Close()
	w := stdout
	var f *os.File
	if *to != "" {
		if f, err = os.OpenFile(*to, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600); err != nil {
			return errs.E(errs.Invalid, "无法写入 %s：%v", *to, err)
		}
		defer f.Close()
		w = f
	}
	n, err := a.Audit.ExportCheckpoints(w)
	if err != nil {
		return err
	}
	if f != nil {
		if err := f.Close(); err != nil {
			return err
		}
	}
	if n == 0 {
		fmt.Fprintln(stderr, "还没有检查点：先运行 minzheng audit verify")
		return nil
	}
	fmt.Fprintf(stderr, "已导出 %d 个检查点（%s）\n", n, a.Audit.Checkpoints)
	return nil
}
