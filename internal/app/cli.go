package app

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/pprof"
	"strings"
	"syscall"
	"time"

	"minzheng/internal/auth"
	"minzheng/internal/errs"
	"minzheng/internal/module"
	"minzheng/internal/payroll"
	"minzheng/internal/policy"
)

const usageFormat = `minzheng — 上海民政业务平台

用法: minzheng <命令> [参数]

命令:
  serve     启动 Web 服务与 API（--addr :8080，--demo 首次启动时载入演示城市，--monitor-at 04:00 每日全量预警）
  user      工作人员账号：user add --name N --role R --division CODE | user list | user passwd --name N
  token     接口令牌：token create --user NAME [--label L]
  gen       生成合成人口：gen --persons N --seed S
  eval      计算一个家庭的待遇资格：eval --program ID --as-of YYYY-MM-DD --case FILE.json
  audit     审计日志：audit verify [--checkpoints FILE] | audit list [--limit N] | audit checkpoint export [--to FILE]
  backup    备份 SQLite 数据库：backup --to FILE
  version   显示版本

业务条线的命令（批处理 run、导入 import 等）:
%s

每个命令都接受 --data DIR（数据目录，默认 ./minzheng-data）、--db URL（postgres://… 使用 PostgreSQL）
和 --policy-dir DIR（用该目录的政策文件代替内置政策）。
环境变量 MINZHENG_DATA、MINZHENG_DB、MINZHENG_POLICY_DIR 可代替这些参数。
`

// Version is set at build time with -ldflags "-X minzheng/internal/app.Version=…".
var Version = "dev"

// Run runs the command line and returns the exit code.
func Run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stdout, usageText())
		return 0
	}
	cmd, rest := args[0], args[1:]
	// MINZHENG_CPUPROFILE=FILE writes a CPU profile of the command, for
	// finding where a batch job spends its time (go tool pprof FILE).
	if path := os.Getenv("MINZHENG_CPUPROFILE"); path != "" {
		if f, err := os.Create(path); err == nil {
			pprof.StartCPUProfile(f)
			defer func() { pprof.StopCPUProfile(); f.Close() }()
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	if c, n, ok := findCommand(Declared(), args); ok {
		err = runCommand(ctx, c, args[n:], stdout, stderr)
	} else {
		err = runOwn(ctx, cmd, rest, stdout, stderr)
	}
	if errors.Is(err, errUnknownCommand) {
		fmt.Fprintf(stderr, "未知命令 %q\n\n%s", cmd, usageText())
		return 2
	}
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		if e := errs.As(err); e != nil {
			fmt.Fprintln(stderr, "错误：", e.Message)
			for _, f := range e.Fields {
				fmt.Fprintf(stderr, "  %s：%s\n", f.Field, f.Message)
			}
		} else {
			fmt.Fprintln(stderr, "错误：", err)
		}
		return 1
	}
	return 0
}

// errUnknownCommand reports a command that neither the app nor a line has.
var errUnknownCommand = errors.New("unknown command")

// runOwn runs one of the application's own commands (those of no line).
func runOwn(ctx context.Context, cmd string, rest []string, stdout, stderr io.Writer) error {
	switch cmd {
	case "serve":
		return cmdServe(ctx, rest, stdout, stderr)
	case "user":
		return cmdUser(ctx, rest, stdout, stderr)
	case "token":
		return cmdToken(ctx, rest, stdout, stderr)
	case "gen":
		return cmdGen(ctx, rest, stdout, stderr)
	case "eval":
		return cmdEval(rest, stdout, stderr)
	case "audit":
		return cmdAudit(ctx, rest, stdout, stderr)
	case "backup":
		return cmdBackup(ctx, rest, stdout, stderr)
	case "version":
		fmt.Fprintln(stdout, "minzheng", Version)
		return nil
	}
	// "run", "import", "payroll" without a known second word list theirs.
	if group := commandGroup(Declared(), cmd); group != "" {
		return errs.E(errs.Invalid, "用法：%s", group)
	}
	return errUnknownCommand
}

// common are the flags every command takes.
type common struct {
	data      string
	db        string
	policyDir string
}

func newFlags(name string, stderr io.Writer) (*flag.FlagSet, *common) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	c := &common{}
	fs.StringVar(&c.data, "data", envOr("MINZHENG_DATA", "minzheng-data"), "数据目录（SQLite 文件、密钥）")
	fs.StringVar(&c.db, "db", os.Getenv("MINZHENG_DB"), "数据库：留空为数据目录中的 SQLite，或 postgres://… ")
	fs.StringVar(&c.policyDir, "policy-dir", os.Getenv("MINZHENG_POLICY_DIR"), "政策文件目录（留空使用内置政策）")
	return fs, c
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

func newLogger(w io.Writer) *slog.Logger {
	if os.Getenv("MINZHENG_LOG") == "json" {
		return slog.New(slog.NewJSONHandler(w, nil))
	}
	return slog.New(slog.NewTextHandler(w, nil))
}

func (c *common) open(ctx context.Context, stderr io.Writer) (*App, error) {
	return Open(ctx, Config{DataDir: c.data, DB: c.db, PolicyDir: c.policyDir}, newLogger(stderr))
}

func cmdServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, c := newFlags("serve", stderr)
	addr := fs.String("addr", envOr("MINZHENG_ADDR", ":8080"), "监听地址")
	demo := fs.Bool("demo", false, "首次启动时载入演示城市（约 2 万人）和演示账号")
	demoPersons := fs.Int64("demo-persons", 20000, "演示城市的人口数")
	tlsProxy := fs.Bool("behind-tls-proxy", os.Getenv("MINZHENG_BEHIND_TLS_PROXY") == "1", "经终止 TLS 的反向代理对外提供 HTTPS：Cookie 加 Secure，发送 HSTS（环境变量 MINZHENG_BEHIND_TLS_PROXY=1）")
	// Each line's scheduled job takes a flag (--proactive-at 02:00, --payroll-day 1 …).
	jobAt := map[string]*string{}
	for _, j := range declaredJobs() {
		jobAt[j.Flag] = fs.String(j.Flag, j.Default, j.Usage)
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	a, err := c.open(ctx, stderr)
	if err != nil {
		return err
	}
	defer a.Close()
	a.BehindTLSProxy = *tlsProxy
	if err := a.bootstrap(ctx, stdout, *demo, *demoPersons); err != nil {
		return err
	}
	go a.Events.Run(ctx, 5*time.Second)
	values := map[string]string{}
	for name, v := range jobAt {
		values[name] = *v
	}
	if err := a.scheduleJobs(ctx, values); err != nil {
		return err
	}
	return a.Serve(ctx, *addr, func(addr string) {
		host := addr
		if strings.HasPrefix(host, ":") {
			host = "localhost" + host
		}
		fmt.Fprintf(stdout, "minzheng 已启动：http://%s （数据库 %s，按 Ctrl+C 停止）\n", host, a.DB.Dialect)
	})
}

// bootstrap creates the first city administrator on an empty database and,
// with demo, a small synthetic city and a few district accounts. Passwords
// are generated and printed once.
func (a *App) bootstrap(ctx context.Context, stdout io.Writer, demo bool, persons int64) error {
	has, err := a.Auth.HasUsers(ctx)
	if err != nil {
		return err
	}
	if !has {
		sys := auth.System()
		accounts := []auth.NewUser{{Name: "admin", Display: "市管理员", Role: auth.CityAdmin, Division: "310000"}}
		if demo {
			accounts = append(accounts,
				auth.NewUser{Name: "xuhui_reviewer", Display: "徐汇区审核员", Role: auth.Reviewer, Division: "310104"},
				auth.NewUser{Name: "pudong_clerk", Display: "浦东新区受理员", Role: auth.Clerk, Division: "310115"},
				auth.NewUser{Name: "auditor", Display: "审计员", Role: auth.Auditor, Division: "310000"},
				auth.NewUser{Name: "xuhui_approver", Display: "徐汇区审批员", Role: auth.Approver, Division: "310104"},
				// The rest of 徐汇's social assistance chain (受理, 入户调查).
				auth.NewUser{Name: "xuhui_clerk", Display: "徐汇区受理员", Role: auth.Clerk, Division: "310104"},
				auth.NewUser{Name: "xuhui_adviser", Display: "徐汇区救助顾问", Role: auth.Adviser, Division: "310104"},
			)
		}
		fmt.Fprintln(stdout, "首次启动，已创建以下账号（密码只显示这一次，请妥善保存）：")
		for _, nu := range accounts {
			_, pw, err := a.Auth.CreateUser(ctx, sys, nu)
			if err != nil {
				return err
			}
			fmt.Fprintf(stdout, "  %-16s %-14s 密码 %s\n", nu.Name, nu.Role.Label(), pw)
		}
	}
	if demo {
		empty, err := a.Registry.Empty(ctx)
		if err != nil {
			return err
		}
		if empty {
			fmt.Fprintf(stdout, "正在生成演示城市（%d 人）…\n", persons)
			if _, err := a.Generate(ctx, persons, 1, io.Discard); err != nil {
				return err
			}
			// Last month's entitlements and payroll, so the pages have
			// something to show; districts then sign off.
			now := a.Now()
			month := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC).AddDate(0, -1, 0)
			if _, err := a.RunProactive(ctx, auth.System(), month, io.Discard); err != nil {
				return err
			}
			if _, err := a.Payroll.Run(ctx, auth.System(), month.Format("2006-01"), payroll.Options{}, io.Discard); err != nil {
				return err
			}
		}
	}
	return nil
}

func cmdUser(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return errs.E(errs.Invalid, "用法：minzheng user add|list|passwd …")
	}
	sub, args := args[0], args[1:]
	fs, c := newFlags("user "+sub, stderr)
	name := fs.String("name", "", "用户名")
	display := fs.String("display", "", "姓名")
	role := fs.String("role", "", "角色："+roleList())
	division := fs.String("division", "", "辖区代码，如 310104")
	if err := fs.Parse(args); err != nil {
		return err
	}
	a, err := c.open(ctx, stderr)
	if err != nil {
		return err
	}
	defer a.Close()
	sys := auth.System()
	switch sub {
	case "add":
		u, pw, err := a.Auth.CreateUser(ctx, sys, auth.NewUser{Name: *name, Display: *display, Role: auth.Role(*role), Division: *division})
		if err != nil {
			return err
		}
		fmt.Fprintf(stderr, "已创建账号 %s（%s，辖区 %s %s）。初始密码：\n", u.Name, u.Role.Label(), u.Division, a.Divisions.Tree.Name(u.Division))
		fmt.Fprintln(stdout, pw)
	case "passwd":
		pw, err := a.Auth.ResetPassword(ctx, sys, *name)
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout, pw)
	case "list":
		us, err := a.Auth.ListUsers(ctx, sys)
		if err != nil {
			return err
		}
		for _, u := range us {
			fmt.Fprintf(stdout, "%-20s %-16s %-12s %s\n", u.Name, u.Role, u.Division, a.Divisions.Tree.FullName(u.Division))
		}
	default:
		return errs.E(errs.Invalid, "未知子命令 user %s", sub)
	}
	return nil
}

func roleList() string {
	var s []string
	for _, r := range auth.Roles {
		s = append(s, string(r))
	}
	return strings.Join(s, ", ")
}

func cmdToken(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "create" {
		return errs.E(errs.Invalid, "用法：minzheng token create --user NAME [--label 说明]")
	}
	fs, c := newFlags("token create", stderr)
	user := fs.String("user", "", "令牌代表的用户名")
	label := fs.String("label", "", "说明，如对接的系统名称")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	a, err := c.open(ctx, stderr)
	if err != nil {
		return err
	}
	defer a.Close()
	tok, err := a.Auth.CreateToken(ctx, auth.System(), *user, *label)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, tok)
	return nil
}

func cmdAudit(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return errs.E(errs.Invalid, "用法：%s", auditUsage)
	}
	sub := args[0]
	if sub == "checkpoint" {
		return cmdAuditCheckpoint(ctx, args[1:], stdout, stderr)
	}
	fs, c := newFlags("audit "+sub, stderr)
	limit := fs.Int("limit", 20, "条数")
	against := fs.String("checkpoints", "", "verify：与此前导出的检查点文件比对（默认数据目录中的检查点）")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if sub != "verify" && sub != "list" {
		return errs.E(errs.Invalid, "未知子命令 audit %s；用法：%s", sub, auditUsage)
	}
	a, err := c.open(ctx, stderr)
	if err != nil {
		return err
	}
	defer a.Close()
	if sub == "verify" {
		return auditVerify(ctx, a, stdout, *against)
	}
	list, err := a.Audit.List(ctx, auditFilterLimit(*limit))
	if err != nil {
		return err
	}
	enc := json.NewEncoder(stdout)
	enc.SetEscapeHTML(false)
	for _, e := range list {
		enc.Encode(e)
	}
	return nil
}

func cmdGen(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, c := newFlags("gen", stderr)
	persons := fs.Int64("persons", 20000, "人口数")
	seed := fs.Int64("seed", 1, "随机种子：同一种子生成同一人口")
	if err := fs.Parse(args); err != nil {
		return err
	}
	a, err := c.open(ctx, stderr)
	if err != nil {
		return err
	}
	defer a.Close()
	st, err := a.Generate(ctx, *persons, *seed, stderr)
	if err != nil {
		return err
	}
	out, _ := json.Marshal(st)
	fmt.Fprintln(stdout, string(out))
	return nil
}

func cmdBackup(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, c := newFlags("backup", stderr)
	to := fs.String("to", "", "备份文件路径")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if strings.HasPrefix(c.db, "postgres") {
		return errs.E(errs.Invalid, "PostgreSQL 数据库请使用 pg_dump 备份，例如：pg_dump --format=custom --file=minzheng.dump \"%s\"", redactURL(c.db))
	}
	if *to == "" {
		return errs.Field("to", "请用 --to 指定备份文件")
	}
	a, err := c.open(ctx, stderr)
	if err != nil {
		return err
	}
	defer a.Close()
	start := time.Now()
	if err := a.Backup(ctx, *to); err != nil {
		return err
	}
	fi, _ := os.Stat(*to)
	var size int64
	if fi != nil {
		size = fi.Size()
	}
	fmt.Fprintf(stdout, "已备份到 %s（%d 字节，用时 %s）\n", *to, size, time.Since(start).Round(time.Millisecond))
	return nil
}

func redactURL(u string) string {
	if i := strings.Index(u, "@"); i > 0 {
		if j := strings.Index(u, "://"); j > 0 && j < i {
			return u[:j+3] + "…" + u[i:]
		}
	}
	return u
}

// cmdEval evaluates one programme for a household described in a JSON file
// and prints the decision with its explanation. It needs no database.
func cmdEval(args []string, stdout, stderr io.Writer) error {
	fs, c := newFlags("eval", stderr)
	program := fs.String("program", "", "项目 ID，如 dibao、elderly_allowance")
	asOf := fs.String("as-of", time.Now().Format(time.DateOnly), "计算日期 YYYY-MM-DD")
	caseFile := fs.String("case", "", "家庭情况 JSON 文件（- 为标准输入）")
	if err := fs.Parse(args); err != nil {
		return err
	}
	set, err := loadPolicies(c.policyDir)
	if err != nil {
		return err
	}
	on, err := parseDay("as-of", *asOf)
	if err != nil {
		return err
	}
	var b []byte
	switch *caseFile {
	case "":
		return errs.Field("case", "请用 --case 指定家庭情况 JSON 文件")
	case "-":
		b, err = io.ReadAll(os.Stdin)
	default:
		b, err = os.ReadFile(*caseFile)
	}
	if err != nil {
		return errs.Field("case", "无法读取 %s：%v", *caseFile, err)
	}
	cs, err := policy.ParseCase(b)
	if err != nil {
		return err
	}
	res, err := set.Evaluate(*program, cs, on, nil)
	if err != nil {
		return err
	}
	return printJSON(stdout, res)
}

// parseDay, printLine and printJSON are the module package's, for the
// app's own commands.
var (
	parseDay  = module.ParseDay
	printLine = module.PrintLine
	printJSON = module.PrintJSON
)
