package payroll

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"minzheng/internal/auth"
	"minzheng/internal/errs"
	"minzheng/internal/module"
	"minzheng/internal/tabular"
)

// commands are the line's command-line commands: a month's payroll, a
// one-off campaign and a bank's return file.
func commands(s *Service) []module.Command {
	return []module.Command{
		{Name: "run payroll", Summary: "run payroll --period YYYY-MM（月度发放：写入发放台账并生成各区各银行的发放文件）",
			Flags: func(fs *flag.FlagSet) module.Action {
				period := fs.String("period", time.Now().Format("2006-01"), "发放期 YYYY-MM")
				batch := fs.Int("batch", 20000, "每个事务处理的待遇数")
				noFiles := fs.Bool("no-files", false, "不生成银行发放文件（等待各区签发）")
				return func(ctx context.Context, stdout, stderr io.Writer) error {
					res, err := s.Run(ctx, auth.System(), *period, Options{Batch: *batch, Files: !*noFiles}, stderr)
					if err != nil {
						return err
					}
					return module.PrintLine(stdout, res)
				}
			}},
		{Name: "run campaign", Summary: "run campaign --id ID --name 名称 --rule 规则 --amount 金额 --as-of 日期（一次性发放）",
			Flags: func(fs *flag.FlagSet) module.Action {
				var cp Campaign
				fs.StringVar(&cp.ID, "id", "", "活动编号，如 2026-spring")
				fs.StringVar(&cp.Name, "name", "", "活动名称，如 2026 年春节帮困送温暖")
				fs.StringVar(&cp.Rule, "rule", "", `发放对象规则，如 "dibao" in programs || "tekun" in programs`)
				fs.StringVar(&cp.Amount, "amount", "", "每人金额（元）或公式，如 household_size * 200")
				fs.StringVar(&cp.AsOf, "as-of", time.Now().Format(time.DateOnly), "基准日期 YYYY-MM-DD")
				files := fs.Bool("files", true, "生成银行发放文件")
				return func(ctx context.Context, stdout, stderr io.Writer) error {
					res, err := s.RunCampaign(ctx, auth.System(), cp, stderr)
					if err != nil {
						return err
					}
					if *files {
						paths, err := s.WriteBankFiles(ctx, auth.System(), cp.ID, "")
						if err != nil {
							return err
						}
						fmt.Fprintf(stderr, "银行文件 %d 个，在 %s\n", len(paths), filepath.Join(s.Dir, cp.ID))
					}
					return module.PrintLine(stdout, res)
				}
			}},
		{Name: "payroll returns", Summary: "payroll returns FILE（导入银行回盘文件，失败的付款在下次发放时重发）",
			Flags: func(fs *flag.FlagSet) module.Action {
				return func(ctx context.Context, stdout, stderr io.Writer) error {
					if fs.NArg() != 1 {
						return errs.E(errs.Invalid, "用法：minzheng payroll returns FILE（导入银行回盘文件：流水号,结果,原因）")
					}
					name := fs.Arg(0)
					f, err := os.Open(name)
					if err != nil {
						return errs.E(errs.Invalid, "无法打开文件 %s：%v", name, err)
					}
					defer f.Close()
					t, err := tabular.Read(f, name, 200<<20)
					if err != nil {
						return errs.E(errs.Invalid, "%s", err.Error())
					}
					rep, err := s.ImportReturns(ctx, auth.System(), t, filepath.Base(name))
					if err != nil {
						return err
					}
					return module.PrintLine(stdout, rep)
				}
			}},
	}
}
