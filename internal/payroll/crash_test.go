package payroll_test

import (
	"bytes"
	"context"
	"encoding/json"
	"math/rand/v2"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"minzheng/internal/app"
	"minzheng/internal/app/apptest"
	"minzheng/internal/auth"
	"minzheng/internal/db"
	"minzheng/internal/payroll"
)

// TestMain lets a test start this test binary as the minzheng command, in
// a child process it can kill (apptest.Child).
// TestMain registers the payroll's permissions, as the app does at start,
// for the tests that call the service without an app; apptest.Main runs
// the child processes of the crash tests.
func TestMain(m *testing.M) {
	auth.Register(payroll.Grants)
	apptest.Main(m)
}

// payrollCity generates a small city and grants its entitlements; it
// returns the number of active entitlements with an amount (an edge
// family's status pays nothing itself) and their monthly total in fen,
// which a month's payroll must pay exactly.
func payrollCity(t *testing.T, cfg app.Config) (d *db.DB, lines, fen int64) {
	t.Helper()
	if _, stderr, code := apptest.CLI(t, cfg, "gen", "--persons", "20000", "--seed", "7"); code != 0 {
		t.Fatalf("gen: %s", stderr)
	}
	if _, stderr, code := apptest.CLI(t, cfg, "run", "proactive", "--as-of", "2025-08-01"); code != 0 {
		t.Fatalf("proactive: %s", stderr)
	}
	d, err := db.Connect(context.Background(), cfg.DB, cfg.DataDir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	if err := d.QueryRow(`SELECT COUNT(*), SUM(monthly_fen) FROM entitlements WHERE status = 'active' AND monthly_fen > 0`).Scan(&lines, &fen); err != nil {
		t.Fatal(err)
	}
	if lines < 1000 {
		t.Fatalf("only %d entitlements in the generated city", lines)
	}
	return d, lines, fen
}

// ledgerState checks the ledger of period: no key twice, every line the
// amount of its entitlement. It returns the lines and their sum.
func ledgerState(t *testing.T, d *db.DB, period string) (lines, fen int64) {
	t.Helper()
	var dups, wrong int64
	d.QueryRow(`SELECT COUNT(*) FROM (SELECT 1 FROM ledger GROUP BY period, program, person_id, kind HAVING COUNT(*) > 1) x`).Scan(&dups)
	d.QueryRow(`SELECT COUNT(*) FROM ledger l JOIN entitlements e ON e.program = l.program AND e.person_id = l.person_id
		WHERE l.period = $1 AND l.fen <> e.monthly_fen`, period).Scan(&wrong)
	if dups != 0 || wrong != 0 {
		t.Fatalf("ledger of %s: %d duplicate keys, %d lines of the wrong amount", period, dups, wrong)
	}
	d.QueryRow(`SELECT COUNT(*), COALESCE(SUM(fen), 0) FROM ledger WHERE period = $1`, period).Scan(&lines, &fen)
	return lines, fen
}

func parseResult(t *testing.T, out []byte) payroll.Result {
	t.Helper()
	var res payroll.Result
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != 1 || json.Unmarshal([]byte(lines[0]), &res) != nil {
		t.Fatalf("run payroll should print one JSON line, printed %q", out)
	}
	return res
}

// TestPayrollSurvivesKill9 kills the payroll process (SIGKILL) at random
// points 20 times; after each kill the ledger holds no duplicate and no
// wrong line, and the run that finally completes has paid every
// entitlement exactly once.
func TestPayrollSurvivesKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("kills 40 child processes; skipped with -short")
	}
	apptest.EachDB(t, func(t *testing.T, cfg app.Config) {
		d, want, wantFen := payrollCity(t, cfg)
		// How long an undisturbed run takes, on another period.
		start := time.Now()
		if out, err := apptest.Child(cfg, "run", "payroll", "--period", "2025-07", "--batch", "50").Output(); err != nil {
			t.Fatalf("undisturbed run: %v %s", err, out)
		}
		full := time.Since(start)
		rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
		midway := 0
		for i := 0; i < 20; i++ {
			prev, _ := ledgerState(t, d, "2025-08")
			cmd := apptest.Child(cfg, "run", "payroll", "--period", "2025-08", "--batch", "20")
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			exited := make(chan struct{})
			go func() { cmd.Wait(); close(exited) }()
			// Odd kills: at a random moment of a whole run (often while it
			// starts). Even kills: once this process has written something,
			// a random moment later.
			deadline := time.Now().Add(time.Duration(rng.Int64N(int64(full))))
			if i%2 == 0 {
				deadline = time.Now().Add(10 * time.Second)
			}
			for time.Now().Before(deadline) {
				select {
				case <-exited:
					deadline = time.Now()
					continue
				default:
				}
				var n int64
				d.QueryRow(`SELECT COUNT(*) FROM ledger WHERE period = '2025-08'`).Scan(&n)
				if n > prev {
					break
				}
				time.Sleep(time.Millisecond)
			}
			time.Sleep(time.Duration(rng.Int64N(int64(5 * time.Millisecond))))
			cmd.Process.Signal(syscall.SIGKILL)
			<-exited
			lines, _ := ledgerState(t, d, "2025-08")
			if lines > want {
				t.Fatalf("after kill %d: %d lines, more than the %d entitlements", i+1, lines, want)
			}
			if lines > prev && lines < want {
				midway++
			}
		}
		t.Logf("%d of 20 kills landed in the middle of writing the ledger (an undisturbed run takes %v)", midway, full.Round(time.Millisecond))
		if midway < 3 {
			t.Errorf("only %d kills interrupted the ledger: the test did not test", midway)
		}
		before, _ := ledgerState(t, d, "2025-08")
		var errb bytes.Buffer
		cmd := apptest.Child(cfg, "run", "payroll", "--period", "2025-08")
		cmd.Stderr = &errb
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("final run: %v %s", err, errb.String())
		}
		res := parseResult(t, out)
		lines, fen := ledgerState(t, d, "2025-08")
		if lines != want || fen != wantFen || res.Lines != want || res.NewLines != want-before || res.AmountTotal != float64(wantFen)/100 {
			t.Fatalf("after the kills: ledger %d lines %d fen, printed %+v; want %d lines %d fen (%d new)", lines, fen, res, want, wantFen, want-before)
		}
	})
}

// TestPayrollTwoProcessesOneRuns starts the same payroll in two processes
// on one database at once: one runs it, the other says it is running.
func TestPayrollTwoProcessesOneRuns(t *testing.T) {
	apptest.EachDB(t, func(t *testing.T, cfg app.Config) {
		d, want, _ := payrollCity(t, cfg)
		var outs, errs [2]bytes.Buffer
		var cmds [2]*exec.Cmd
		for i := range cmds {
			cmds[i] = apptest.Child(cfg, "run", "payroll", "--period", "2025-08", "--batch", "10", "--no-files")
			cmds[i].Stdout, cmds[i].Stderr = &outs[i], &errs[i]
		}
		for _, c := range cmds {
			if err := c.Start(); err != nil {
				t.Fatal(err)
			}
		}
		ran, refused := 0, 0
		for i, c := range cmds {
			err := c.Wait()
			switch {
			case err == nil:
				ran++
				if res := parseResult(t, outs[i].Bytes()); res.NewLines != want {
					t.Errorf("the process that ran added %d lines, want %d", res.NewLines, want)
				}
			case strings.Contains(errs[i].String(), "正在另一进程中运行"):
				refused++
			default:
				t.Errorf("process %d: %v %s", i, err, errs[i].String())
			}
		}
		if ran != 1 || refused != 1 {
			t.Fatalf("%d processes ran the payroll and %d were refused; want 1 and 1", ran, refused)
		}
		if lines, _ := ledgerState(t, d, "2025-08"); lines != want {
			t.Fatalf("ledger has %d lines, want %d", lines, want)
		}
	})
}
