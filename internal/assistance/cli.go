package assistance

import (
	"context"
	"flag"
	"io"
	"time"

	"minzheng/internal/module"
)

// commands are the line's command-line commands: the annual re-checks once.
func commands(s *Service) []module.Command {
	return []module.Command{
		{Name: "run recheck", Summary: "run recheck --as-of YYYY-MM-DD（社会救助年度复核：为批准满一年的家庭发起复核申请）",
			Flags: func(fs *flag.FlagSet) module.Action {
				asOf := fs.String("as-of", time.Now().Format(time.DateOnly), "日期 YYYY-MM-DD：为此前满一年批准的家庭发起复核")
				return func(ctx context.Context, stdout, stderr io.Writer) error {
					on, err := module.ParseDay("as-of", *asOf)
					if err != nil {
						return err
					}
					st, err := s.RunRechecks(ctx, on)
					if err != nil {
						return err
					}
					return module.PrintLine(stdout, st)
				}
			}},
	}
}
