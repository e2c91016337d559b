package audit_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"minzheng/internal/audit"
	"minzheng/internal/db"
	"minzheng/internal/db/dbtest"
	"minzheng/internal/secret"
)

// newCheckpointedLog returns a log on d that keeps its checkpoints in a
// file of its own, with a clock the test moves.
func newCheckpointedLog(t *testing.T, d *db.DB, clock *time.Time) *audit.Log {
	t.Helper()
	s, err := secret.NewStandard(bytes.Repeat([]byte{1}, secret.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	l := audit.New(d, s, func() time.Time { return *clock })
	l.Checkpoints = filepath.Join(t.TempDir(), audit.CheckpointFile)
	return l
}

type stored struct {
	id                                                        int64
	at, actor, role, action, entity, entityID, detail, remote string
}

func readStored(t *testing.T, d *db.DB) []stored {
	t.Helper()
	rows, err := d.Query(`SELECT id, at, actor, role, action, entity, entity_id, detail, remote FROM audit_log ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []stored
	for rows.Next() {
		var s stored
		if err := rows.Scan(&s.id, &s.at, &s.actor, &s.role, &s.action, &s.entity, &s.entityID, &s.detail, &s.remote); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	return out
}

// rechain recomputes prev_hash and hash of every entry from id on with sum
// under scheme (the field layout of the chain, which is no secret), as an
// attacker who rewrote an entry would, with the triggers lifted.
func rechain(t *testing.T, d *db.DB, from int64, scheme string, sum func([]byte) []byte) {
	t.Helper()
	prev := ""
	for _, s := range readStored(t, d) {
		if s.id < from {
			d.QueryRow(`SELECT hash FROM audit_log WHERE id = $1`, s.id).Scan(&prev)
			continue
		}
		fields := []string{prev, strconv.FormatInt(s.id, 10), s.at, s.actor, s.role, s.action, s.entity, s.entityID, s.detail, s.remote}
		if scheme != secret.ChainSHA256 {
			fields = append([]string{scheme}, fields...)
		}
		h := hex.EncodeToString(sum([]byte(strings.Join(fields, "\x1f"))))
		if _, err := d.Exec(`UPDATE audit_log SET prev_hash = $1, hash = $2, scheme = $3 WHERE id = $4`, prev, h, scheme, s.id); err != nil {
			t.Fatal(err)
		}
		prev = h
	}
}

func sha(b []byte) []byte { s := sha256.Sum256(b); return s[:] }

// TestChainAttacks: each attack of issue 11's finding 2 on a chain whose
// head was checkpointed, on both databases.
func TestChainAttacks(t *testing.T) {
	wrongKey, _ := secret.NewStandard(bytes.Repeat([]byte{2}, secret.KeySize))
	wrongMAC, _ := wrongKey.Chain(secret.ChainHMACSHA256)
	tests := []struct {
		name   string
		attack func(t *testing.T, d *db.DB)
		bad    int64
		reason string
	}{
		{"rewrite, rechain unkeyed", func(t *testing.T, d *db.DB) {
			tamper(t, d, `UPDATE audit_log SET detail = '改过' WHERE id = 3`)
			rechain(t, d, 3, secret.ChainSHA256, sha)
		}, 3, "无密钥"},
		{"rewrite all, rechain unkeyed", func(t *testing.T, d *db.DB) {
			tamper(t, d, `UPDATE audit_log SET actor = 'mallory' WHERE id = 1`)
			rechain(t, d, 1, secret.ChainSHA256, sha)
		}, 1, "检查点不符"}, // Append checkpointed head 1
		{"rewrite, rechain with another key", func(t *testing.T, d *db.DB) {
			tamper(t, d, `UPDATE audit_log SET detail = '改过' WHERE id = 3`)
			rechain(t, d, 3, secret.ChainHMACSHA256, wrongMAC)
		}, 3, "校验码不符"},
		{"unknown scheme", func(t *testing.T, d *db.DB) {
			tamper(t, d, `UPDATE audit_log SET scheme = 'md5' WHERE id = 4`)
		}, 4, "无法识别"},
		{"delete newest", func(t *testing.T, d *db.DB) {
			tamper(t, d, `DELETE FROM audit_log WHERE id > 4`)
		}, 5, "最新的记录可能被删除"},
		{"wipe", func(t *testing.T, d *db.DB) {
			tamper(t, d, `DELETE FROM audit_log`)
		}, 0, "整张表可能被清空"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dbtest.Each(t, func(t *testing.T, d *db.DB) {
				clock := time.Date(2025, 7, 1, 9, 0, 0, 0, time.UTC)
				l := newCheckpointedLog(t, d, &clock)
				fill(t, l, 6)
				if res, err := l.Verify(context.Background()); err != nil || !res.OK || !res.Checkpointed {
					t.Fatalf("Verify before = %+v, %v", res, err)
				}
				tt.attack(t, d)
				res, err := l.Verify(context.Background())
				if err != nil {
					t.Fatal(err)
				}
				if res.OK || res.BadID != tt.bad || !strings.Contains(res.Reason, tt.reason) {
					t.Fatalf("Verify = %+v, want bad %d, reason with %q", res, tt.bad, tt.reason)
				}
				if res.Checkpointed {
					t.Error("a checkpoint was written of a broken chain")
				}
			})
		})
	}
}

// TestUpgradeFromUnkeyedChain: entries chained with plain SHA-256 before the
// upgrade keep verifying; new ones are keyed and build on them; none may
// fall back to the old scheme after.
func TestUpgradeFromUnkeyedChain(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		// Entries as the old code wrote them: no scheme column given.
		prev := ""
		for i := int64(1); i <= 3; i++ {
			at := db.Now(time.Date(2024, 1, int(i), 8, 0, 0, 0, time.UTC))
			f := []string{prev, strconv.FormatInt(i, 10), at, "admin", "city_admin", "person.create", "person", strconv.FormatInt(i, 10), "新增人员", "127.0.0.1"}
			h := hex.EncodeToString(sha([]byte(strings.Join(f, "\x1f"))))
			mustExec(t, d, `INSERT INTO audit_log (id, at, actor, role, action, entity, entity_id, detail, remote, prev_hash, hash)
				VALUES (`+strconv.FormatInt(i, 10)+`, '`+at+`', 'admin', 'city_admin', 'person.create', 'person', '`+strconv.FormatInt(i, 10)+`', '新增人员', '127.0.0.1', '`+prev+`', '`+h+`')`)
			prev = h
		}
		clock := time.Date(2025, 7, 1, 9, 0, 0, 0, time.UTC)
		l := newCheckpointedLog(t, d, &clock)
		res, err := l.Verify(context.Background())
		if err != nil || !res.OK || res.Entries != 3 || res.Legacy != 3 {
			t.Fatalf("Verify of the old chain = %+v, %v", res, err)
		}
		fill(t, l, 3)
		res, err = l.Verify(context.Background())
		if err != nil || !res.OK || res.Entries != 6 || res.Legacy != 3 {
			t.Fatalf("Verify after the upgrade = %+v, %v", res, err)
		}
		list, _ := l.List(context.Background(), audit.Filter{})
		if list[0].Scheme != secret.ChainHMACSHA256 || list[0].PrevHash != list[1].Hash || list[2].PrevHash != prev || list[5].Scheme != secret.ChainSHA256 {
			t.Fatalf("schemes and links after the upgrade: %+v", list)
		}
		// An old entry rewritten and its old-style chain recomputed: the
		// first keyed entry's MAC covers the old head's hash.
		tamper(t, d, `UPDATE audit_log SET detail = '改过' WHERE id = 2`)
		for _, s := range readStored(t, d)[1:3] {
			var p string
			d.QueryRow(`SELECT hash FROM audit_log WHERE id = $1`, s.id-1).Scan(&p)
			f := []string{p, strconv.FormatInt(s.id, 10), s.at, s.actor, s.role, s.action, s.entity, s.entityID, s.detail, s.remote}
			mustExec(t, d, `UPDATE audit_log SET prev_hash = '`+p+`', hash = '`+hex.EncodeToString(sha([]byte(strings.Join(f, "\x1f"))))+`' WHERE id = `+strconv.FormatInt(s.id, 10))
		}
		if res, _ := newLog(t, d).Verify(context.Background()); res.OK || res.BadID != 4 {
			t.Fatalf("Verify without checkpoints after rewriting an old entry = %+v, want broken at 4", res)
		}
		// With them, already at the old head the first Verify checkpointed.
		if res, _ := l.Verify(context.Background()); res.OK || res.BadID != 3 {
			t.Fatalf("Verify after rewriting an old entry = %+v, want broken at 3", res)
		}
	})
}

// TestCheckpoints: the file is 0600 and append-only in use, Append writes
// at most one checkpoint per interval, a forged line is reported, and the
// export is the file.
func TestCheckpoints(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		clock := time.Date(2025, 7, 1, 9, 0, 0, 0, time.UTC)
		l := newCheckpointedLog(t, d, &clock)
		l.CheckpointEvery = time.Minute
		lines := func() []string {
			b, _ := os.ReadFile(l.Checkpoints)
			return strings.Fields(string(b))
		}
		fill(t, l, 10) // the first append has no head; the second writes one
		if n := len(lines()); n != 1 {
			t.Fatalf("%d checkpoints after 10 appends within a minute, want 1", n)
		}
		clock = clock.Add(time.Minute)
		fill(t, l, 1)
		if got := lines(); len(got) != 2 || !strings.Contains(got[1], `"last_id":10`) {
			t.Fatalf("after a minute: %q", got)
		}
		fi, err := os.Stat(l.Checkpoints)
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Fatalf("checkpoint file mode %v, %v", fi.Mode(), err)
		}
		res, err := l.Verify(ctx)
		if err != nil || !res.OK || !res.Checkpointed || res.Checkpoint.LastID != 10 || len(lines()) != 3 {
			t.Fatalf("Verify = %+v, %v; %d lines", res, err, len(lines()))
		}
		var out bytes.Buffer
		n, err := l.ExportCheckpoints(&out)
		b, _ := os.ReadFile(l.Checkpoints)
		if err != nil || n != 3 || !bytes.Equal(out.Bytes(), b) {
			t.Fatalf("export: %d, %v", n, err)
		}
		// The newest line forged to say the chain was shorter, hiding the
		// deletion of entry 11.
		forged := strings.Replace(string(b), `"entries":11,"last_id":11`, `"entries":10,"last_id":10`, 1)
		if forged == string(b) {
			t.Fatalf("test: no line to forge in %s", b)
		}
		if err := os.WriteFile(l.Checkpoints, []byte(forged), 0o600); err != nil {
			t.Fatal(err)
		}
		res, err = l.Verify(ctx)
		if err != nil || res.OK || !strings.Contains(res.Reason, "签名不符") || !strings.Contains(res.Reason, "第 3 行") {
			t.Fatalf("Verify with a forged checkpoint = %+v, %v", res, err)
		}
		if _, err := l.ExportCheckpoints(&out); err == nil {
			t.Error("a forged checkpoint file was exported without complaint")
		}
	})
}

// TestVerifyAgainstExport: whoever deletes the newest entries and the data
// folder's checkpoints is still caught by a copy exported before.
func TestVerifyAgainstExport(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		clock := time.Date(2025, 7, 1, 9, 0, 0, 0, time.UTC)
		l := newCheckpointedLog(t, d, &clock)
		fill(t, l, 5)
		if res, err := l.Verify(ctx); err != nil || !res.OK {
			t.Fatalf("Verify = %+v, %v", res, err)
		}
		var out bytes.Buffer
		if _, err := l.ExportCheckpoints(&out); err != nil {
			t.Fatal(err)
		}
		exported := filepath.Join(t.TempDir(), "offsite.jsonl")
		os.WriteFile(exported, out.Bytes(), 0o600)
		tamper(t, d, `DELETE FROM audit_log WHERE id > 3`)
		os.Remove(l.Checkpoints)
		if res, _ := l.VerifyAgainst(ctx, exported); res.OK || res.BadID != 4 {
			t.Fatalf("VerifyAgainst the export = %+v, want broken at 4", res)
		}
		if b, _ := os.ReadFile(exported); !bytes.Equal(b, out.Bytes()) {
			t.Error("VerifyAgainst wrote into the exported copy")
		}
		if res, _ := l.Verify(ctx); !res.OK {
			t.Fatalf("Verify without the local checkpoints = %+v: nothing left to compare with", res)
		}
	})
}
