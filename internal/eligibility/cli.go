package eligibility

import (
	"context"
	"flag"
	"io"
	"os"
	"strings"
	"time"

	"minzheng/internal/auth"
	"minzheng/internal/module"
)

// commands are the line's command-line commands: the proactive run once,
// and a what-if simulation. districtName names a district code.
func commands(s *Service, p *Proactive, districtName func(string) string) []module.Command {
	return []module.Command{
		{Name: "run proactive", Summary: "run proactive --as-of YYYY-MM-DD（免申即享：全市人口逐项计算，只写入变化）",
			Flags: func(fs *flag.FlagSet) module.Action {
				asOf := fs.String("as-of", time.Now().Format(time.DateOnly), "计算日期 YYYY-MM-DD")
				return func(ctx context.Context, stdout, stderr io.Writer) error {
					on, err := module.ParseDay("as-of", *asOf)
					if err != nil {
						return err
					}
					st, err := p.RunExclusive(ctx, auth.System(), on, stderr)
					if err != nil {
						return err
					}
					return module.PrintLine(stdout, st)
				}
			}},
		{Name: "simulate", Summary: "simulate --set dibao.standard=1700 --from 2025-07-01 [--xlsx 文件]（政策模拟测算，不修改数据）",
			Flags: func(fs *flag.FlagSet) module.Action {
				var set settings
				fs.Var(&set, "set", "参数设定，如 dibao.standard=1700（可重复）")
				from := fs.String("from", time.Now().Format(time.DateOnly), "生效日期 YYYY-MM-DD")
				xlsx := fs.String("xlsx", "", "同时导出到该 Excel 文件")
				return func(ctx context.Context, stdout, stderr io.Writer) error {
					on, err := module.ParseDay("from", *from)
					if err != nil {
						return err
					}
					over, err := s.ParseSet(set)
					if err != nil {
						return err
					}
					sim, err := s.Simulate(ctx, auth.System(), over, on, districtName)
					if err != nil {
						return err
					}
					if *xlsx != "" {
						f, err := os.Create(*xlsx)
						if err != nil {
							return err
						}
						if err := WriteSimulationXLSX(f, sim); err != nil {
							f.Close()
							return err
						}
						if err := f.Close(); err != nil {
							return err
						}
					}
					return module.PrintJSON(stdout, sim)
				}
			}},
	}
}

// settings collects repeated --set flags.
type settings []string

func (s *settings) String() string     { return strings.Join(*s, ",") }
func (s *settings) Set(v string) error { *s = append(*s, v); return nil }
