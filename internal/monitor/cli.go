package monitor

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"minzheng/internal/auth"
	"minzheng/internal/errs"
	"minzheng/internal/module"
	"minzheng/internal/registry"
	"minzheng/internal/tabular"
)

// maxFeedFile caps a feed file read by the CLI.
const maxFeedFile = 2 << 30

// commands are the line's command-line commands: the full sweep and a
// weather sweep once, a department's feed and device bindings from a file.
// drain delivers the events a feed wrote (a death stops entitlements);
// reg finds the persons devices are bound to.
func commands(s *Service, reg *registry.Service, drain func(context.Context) (int, error)) []module.Command {
	return []module.Command{
		{Name: "run monitor", Summary: "run monitor（全量预警并将超期任务上报区）",
			Flags: func(fs *flag.FlagSet) module.Action {
				return func(ctx context.Context, stdout, stderr io.Writer) error {
					st, err := s.Sweep(ctx, auth.System())
					if err != nil {
						return err
					}
					return module.PrintJSON(stdout, st)
				}
			}},
		{Name: "run weather", Summary: "run weather --kind cold|heat --districts 310104,310115（极端天气：为独居、弱监护老人派发走访任务）",
			Flags: func(fs *flag.FlagSet) module.Action {
				kind := fs.String("kind", "", "天气类型：cold（寒潮）或 heat（高温）")
				districts := fs.String("districts", "", "区代码，逗号分隔，如 310104,310115")
				return func(ctx context.Context, stdout, stderr io.Writer) error {
					var ds []string
					for _, d := range strings.Split(*districts, ",") {
						if d = strings.TrimSpace(d); d != "" {
							ds = append(ds, d)
						}
					}
					n, err := s.WeatherSweep(ctx, auth.System(), *kind, ds)
					if err != nil {
						return err
					}
					return module.PrintJSON(stdout, map[string]int{"tasks": n})
				}
			}},
		{Name: "import feed", Summary: "import feed --type TYPE [--batch ID] [--source 部门] [--good-only] FILE（导入部门数据；TYPE：death、medical、unemployment、disability、arrears、water、call；最后一行输出 JSON 结果）",
			Flags: func(fs *flag.FlagSet) module.Action {
				typ := fs.String("type", "", "数据类型：death、medical、unemployment、disability、arrears、water、call")
				batch := fs.String("batch", "", "批次号（默认取文件内容的摘要，同一文件重复导入不会重复写入）")
				source := fs.String("source", "", "来源部门（默认按数据类型）")
				goodOnly := fs.Bool("good-only", false, "有错误行时仍导入正确的行")
				return func(ctx context.Context, stdout, stderr io.Writer) error {
					content, tab, err := readFile(fs, "feed")
					if err != nil {
						return err
					}
					t, ok := ParseFeedType(*typ)
					if !ok {
						return errs.Field("type", "数据类型“%s”无法识别，可选 death、medical、unemployment、disability、arrears、water、call", *typ)
					}
					if *batch == "" {
						*batch = BatchIDOf(t, content)
					}
					res, err := s.Import(ctx, auth.System(), ImportRequest{Type: t, Batch: *batch, Source: *source, Table: tab, GoodOnly: *goodOnly})
					if err != nil {
						return err
					}
					printProblems(stderr, res.Problems)
					if res.Replayed {
						fmt.Fprintf(stderr, "批次 %s 此前已导入，本次未做任何修改\n", res.Batch)
					} else if res.Written {
						fmt.Fprintf(stderr, "已导入%s %d 行，新预警 %d 条，用时 %.2f 秒\n", t.Label(), res.Accepted, res.Warnings, res.Seconds)
						if _, err := drain(ctx); err != nil {
							fmt.Fprintln(stderr, "事件处理：", err)
						}
					}
					fmt.Fprintln(stdout, res.Line())
					if !res.Written {
						return errs.E(errs.Invalid, "有 %d 行错误，未写入任何数据（改正后重新导入，或加 --good-only 只导入正确的行）", res.Rejected)
					}
					return nil
				}
			}},
		{Name: "import devices", Summary: "import devices FILE（绑定设备；列：设备编号、设备类型 water_meter|call_button、身份证号）",
			Flags: func(fs *flag.FlagSet) module.Action {
				return func(ctx context.Context, stdout, stderr io.Writer) error {
					_, tab, err := readFile(fs, "devices")
					if err != nil {
						return err
					}
					return bindDevices(ctx, s, reg, tab, stdout)
				}
			}},
	}
}

// readFile reads the one file argument of an import (the app accepts it
// before or after the flags).
func readFile(fs *flag.FlagSet, what string) ([]byte, *tabular.Table, error) {
	files := fs.Args()
	if len(files) != 1 {
		return nil, nil, errs.E(errs.Invalid, "请给出一个文件：minzheng import %s … FILE", what)
	}
	path := files[0]
	content, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, errs.E(errs.Invalid, "无法读取文件 %s：%v", path, err)
	}
	tab, err := tabular.Read(strings.NewReader(string(content)), filepath.Base(path), maxFeedFile)
	if err != nil {
		return nil, nil, errs.E(errs.Invalid, "%s：%v", filepath.Base(path), err)
	}
	return content, tab, nil
}

// printProblems lists the first 50 problems of an import, one a line.
func printProblems(w io.Writer, problems []RowProblem) {
	for i, p := range problems {
		if i == 50 {
			fmt.Fprintf(w, "……共 %d 条问题，只显示前 50 条\n", len(problems))
			break
		}
		kind := map[string]string{"rejected": "拒收", "unmatched": "未匹配", "duplicate": "重复"}[p.Kind]
		if p.Column != "" {
			fmt.Fprintf(w, "第 %d 行（%s）%s：%s\n", p.Line, p.Column, kind, p.Message)
		} else {
			fmt.Fprintf(w, "第 %d 行 %s：%s\n", p.Line, kind, p.Message)
		}
	}
}

// bindDevices binds devices to the persons named by ID number.
func bindDevices(ctx context.Context, s *Service, reg *registry.Service, tab *tabular.Table, stdout io.Writer) error {
	cols, err := tab.Columns([]tabular.Column{
		{Key: "device_id", Names: []string{"device_id", "设备编号", "水表编号"}, Required: true},
		{Key: "kind", Names: []string{"kind", "设备类型"}, Required: true},
		{Key: "id_number", Names: []string{"id_number", "身份证号", "身份证号码"}, Required: true},
	})
	if err != nil {
		return errs.E(errs.Invalid, "%v", err)
	}
	var bs []Binding
	for _, r := range tab.Rows {
		number := strings.ToUpper(r.Get(cols["id_number"]))
		res, err := reg.Search(ctx, auth.System(), registry.Query{Q: number, Limit: 1})
		if err != nil {
			return err
		}
		if len(res.Items) != 1 || len(number) != 18 {
			return errs.E(errs.Invalid, "第 %d 行：身份证号码未在本市人口库中登记", r.Line)
		}
		kind := r.Get(cols["kind"])
		switch kind {
		case "水表", "智能水表":
			kind = WaterMeter
		case "一键通", "呼叫器":
			kind = CallButton
		}
		bs = append(bs, Binding{DeviceID: r.Get(cols["device_id"]), Kind: kind, PersonID: res.Items[0].ID})
	}
	if err := s.BindDevices(ctx, auth.System(), bs); err != nil {
		return err
	}
	out, _ := json.Marshal(map[string]int{"bound": len(bs)})
	fmt.Fprintln(stdout, string(out))
	return nil
}
