package app

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"minzheng/internal/auth"
	"minzheng/internal/errs"
	"minzheng/internal/monitor"
	"minzheng/internal/registry"
	"minzheng/internal/tabular"
)

// maxFeedFile caps a feed file read by the CLI.
const maxFeedFile = 2 << 30

// cmdImport imports a department feed or device bindings from a file.
func cmdImport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || (args[0] != "feed" && args[0] != "devices") {
		return errs.E(errs.Invalid, "用法：minzheng import feed --type TYPE [--batch ID] FILE | import devices FILE")
	}
	what := args[0]
	fs, c := newFlags("import "+what, stderr)
	typ := fs.String("type", "", "数据类型：death、medical、unemployment、disability、arrears、water、call")
	batch := fs.String("batch", "", "批次号（默认取文件内容的摘要，同一文件重复导入不会重复写入）")
	source := fs.String("source", "", "来源部门（默认按数据类型）")
	goodOnly := fs.Bool("good-only", false, "有错误行时仍导入正确的行")
	// The file may come before or after the flags.
	var files []string
	for rest := args[1:]; ; {
		if err := fs.Parse(rest); err != nil {
			return err
		}
		if fs.NArg() == 0 {
			break
		}
		files = append(files, fs.Arg(0))
		rest = fs.Args()[1:]
	}
	if len(files) != 1 {
		return errs.E(errs.Invalid, "请给出一个文件：minzheng import %s … FILE", what)
	}
	path := files[0]
	content, err := os.ReadFile(path)
	if err != nil {
		return errs.E(errs.Invalid, "无法读取文件 %s：%v", path, err)
	}
	tab, err := tabular.Read(strings.NewReader(string(content)), filepath.Base(path), maxFeedFile)
	if err != nil {
		return errs.E(errs.Invalid, "%s：%v", filepath.Base(path), err)
	}
	a, err := c.open(ctx, stderr)
	if err != nil {
		return err
	}
	defer a.Close()
	if what == "devices" {
		return a.importDevices(ctx, tab, stdout)
	}
	t, ok := monitor.ParseFeedType(*typ)
	if !ok {
		return errs.Field("type", "数据类型“%s”无法识别，可选 death、medical、unemployment、disability、arrears、water、call", *typ)
	}
	if *batch == "" {
		*batch = monitor.BatchIDOf(t, content)
	}
	res, err := a.Monitor.Import(ctx, auth.System(), monitor.ImportRequest{Type: t, Batch: *batch, Source: *source, Table: tab, GoodOnly: *goodOnly})
	if err != nil {
		return err
	}
	for i, p := range res.Problems {
		if i == 50 {
			fmt.Fprintf(stderr, "……共 %d 条问题，只显示前 50 条\n", len(res.Problems))
			break
		}
		kind := map[string]string{"rejected": "拒收", "unmatched": "未匹配", "duplicate": "重复"}[p.Kind]
		if p.Column != "" {
			fmt.Fprintf(stderr, "第 %d 行（%s）%s：%s\n", p.Line, p.Column, kind, p.Message)
		} else {
			fmt.Fprintf(stderr, "第 %d 行 %s：%s\n", p.Line, kind, p.Message)
		}
	}
	if res.Replayed {
		fmt.Fprintf(stderr, "批次 %s 此前已导入，本次未做任何修改\n", res.Batch)
	} else if res.Written {
		fmt.Fprintf(stderr, "已导入%s %d 行，新预警 %d 条，用时 %.2f 秒\n", t.Label(), res.Accepted, res.Warnings, res.Seconds)
		if _, err := a.Events.Drain(ctx); err != nil {
			fmt.Fprintln(stderr, "事件处理：", err)
		}
	}
	fmt.Fprintln(stdout, res.Line())
	if !res.Written {
		return errs.E(errs.Invalid, "有 %d 行错误，未写入任何数据（改正后重新导入，或加 --good-only 只导入正确的行）", res.Rejected)
	}
	return nil
}

// importDevices binds devices to the persons named by ID number.
func (a *App) importDevices(ctx context.Context, tab *tabular.Table, stdout io.Writer) error {
	cols, err := tab.Columns([]tabular.Column{
		{Key: "device_id", Names: []string{"device_id", "设备编号", "水表编号"}, Required: true},
		{Key: "kind", Names: []string{"kind", "设备类型"}, Required: true},
		{Key: "id_number", Names: []string{"id_number", "身份证号", "身份证号码"}, Required: true},
	})
	if err != nil {
		return errs.E(errs.Invalid, "%v", err)
	}
	var bs []monitor.Binding
	for _, r := range tab.Rows {
		number := strings.ToUpper(r.Get(cols["id_number"]))
		res, err := a.Registry.Search(ctx, auth.System(), registry.Query{Q: number, Limit: 1})
		if err != nil {
			return err
		}
		if len(res.Items) != 1 || len(number) != 18 {
			return errs.E(errs.Invalid, "第 %d 行：身份证号码未在本市人口库中登记", r.Line)
		}
		kind := r.Get(cols["kind"])
		switch kind {
		case "水表", "智能水表":
			kind = monitor.WaterMeter
		case "一键通", "呼叫器":
			kind = monitor.CallButton
		}
		bs = append(bs, monitor.Binding{DeviceID: r.Get(cols["device_id"]), Kind: kind, PersonID: res.Items[0].ID})
	}
	if err := a.Monitor.BindDevices(ctx, auth.System(), bs); err != nil {
		return err
	}
	out, _ := json.Marshal(map[string]int{"bound": len(bs)})
	fmt.Fprintln(stdout, string(out))
	return nil
}

// MonitorJob is the name of the daily monitoring sweep's lease.
const MonitorJob = monitor.Job

// cmdRunMonitor runs the full warning sweep (run monitor) or an
// extreme-weather sweep (run weather).
func cmdRunMonitor(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, c := newFlags("run "+args[0], stderr)
	kind := fs.String("kind", "", "天气类型：cold（寒潮）或 heat（高温）")
	districts := fs.String("districts", "", "区代码，逗号分隔，如 310104,310115")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	a, err := c.open(ctx, stderr)
	if err != nil {
		return err
	}
	defer a.Close()
	if args[0] == "weather" {
		var ds []string
		for _, d := range strings.Split(*districts, ",") {
			if d = strings.TrimSpace(d); d != "" {
				ds = append(ds, d)
			}
		}
		n, err := a.Monitor.WeatherSweep(ctx, auth.System(), *kind, ds)
		if err != nil {
			return err
		}
		return printJSON(stdout, map[string]int{"tasks": n})
	}
	st, err := a.Monitor.Sweep(ctx, auth.System())
	if err != nil {
		return err
	}
	return printJSON(stdout, st)
}
