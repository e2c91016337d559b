package audit

import (
	"context"
	"fmt"

	"minzheng/internal/secret"
)

// Result is the outcome of Verify. The fields after Reason are not in the
// JSON the API sends until its document (admin's openapi.json) describes
// them; the CLI prints them.
type Result struct {
	OK      bool   `json:"ok"`
	Entries int64  `json:"entries"`
	BadID   int64  `json:"bad_id,omitempty"` // the first broken entry; 0 when the problem is not one entry's
	Reason  string `json:"reason,omitempty"` // in Chinese
	// Legacy counts the entries chained with the old unkeyed SHA-256,
	// written before the chain was keyed.
	Legacy int64 `json:"-"`
	// Checkpoint is the newest checkpoint the table was compared with;
	// nil when there is none yet.
	Checkpoint *Checkpoint `json:"-"`
	// Checkpointed reports that Verify wrote a new checkpoint of the head.
	Checkpointed bool `json:"-"`
}

// Verify walks the whole chain in order and reports the first entry whose
// hash does not match its content (under its scheme, with the suite's key),
// whose link to the previous entry is broken, before which an entry is
// missing, that falls back to the unkeyed scheme after a keyed entry, or
// that differs from a checkpoint. It compares the table with the
// checkpoints too: a table shorter than the newest checkpoint (the newest
// entries deleted, or all of them) is broken. A checkpoint file with a line
// whose MAC does not match is reported as tampered with.
//
// When the chain is whole and a checkpoint file is set, Verify appends a
// checkpoint of the head it verified.
func (l *Log) Verify(ctx context.Context) (Result, error) {
	return l.verify(ctx, l.Checkpoints, true)
}

// VerifyAgainst is Verify comparing the table with the checkpoints in file,
// a copy exported earlier (minzheng audit checkpoint export), instead of
// those in the data folder, which whoever rewrote the table may have cut
// short too. It writes no checkpoint.
func (l *Log) VerifyAgainst(ctx context.Context, file string) (Result, error) {
	return l.verify(ctx, file, false)
}

func (l *Log) verify(ctx context.Context, file string, write bool) (Result, error) {
	// The checkpoints are read before the table, so every entry they name
	// was committed before the walk's snapshot.
	cps, _, err := l.loadCheckpoints(file)
	if err != nil {
		if ce, ok := err.(*checkpointError); ok {
			return Result{Reason: ce.reason()}, nil
		}
		return Result{}, err
	}
	rows, err := l.db.QueryContext(ctx, `SELECT `+entryColumns+` FROM audit_log ORDER BY id`)
	if err != nil {
		return Result{}, fmt.Errorf("audit: verify: %w", err)
	}
	defer rows.Close()
	var res Result
	newest := cps.newest()
	res.Checkpoint = newest
	broken := func(id int64, format string, args ...any) (Result, error) {
		res.OK, res.BadID, res.Reason = false, id, fmt.Sprintf(format, args...)
		return res, nil
	}
	var prevID int64
	prevHash := ""
	keyed := false // a keyed entry has been seen
	next := 0      // the next checkpoint, in id order, to compare with
	for rows.Next() {
		e, err := scanEntry(rows)
		if err != nil {
			return Result{}, err
		}
		res.Entries++
		h, known := l.hash(e)
		switch {
		case e.ID != prevID+1:
			return broken(e.ID, "第 %d 条之前缺少记录（上一条为第 %d 条），记录可能被删除", e.ID, prevID)
		case e.PrevHash != prevHash:
			return broken(e.ID, "第 %d 条与上一条的链接不符，上一条记录可能被篡改或删除", e.ID)
		case !known:
			return broken(e.ID, "第 %d 条的链算法“%s”无法识别，记录可能被篡改（或本程序版本过旧）", e.ID, e.Scheme)
		case keyed && e.Scheme == secret.ChainSHA256:
			return broken(e.ID, "第 %d 条使用无密钥的 SHA-256 哈希，而之前的记录已使用带密钥的校验码：记录可能被改写后重新计算了哈希", e.ID)
		case h != e.Hash:
			return broken(e.ID, "第 %d 条的内容与其校验码不符，记录可能被篡改", e.ID)
		}
		for ; next < len(cps.byID) && cps.byID[next].LastID <= e.ID; next++ {
			if cp := cps.byID[next]; cp.LastID == e.ID && cp.LastHash != e.Hash {
				return broken(e.ID, "第 %d 条与 %s 的检查点不符：该条或之前的记录被改写过", e.ID, cp.when())
			}
		}
		if e.Scheme == secret.ChainSHA256 {
			res.Legacy++
		} else {
			keyed = true
		}
		prevID, prevHash = e.ID, e.Hash
	}
	if err := rows.Err(); err != nil {
		return Result{}, err
	}
	if newest != nil && (prevID < newest.LastID || res.Entries < newest.Entries) {
		if res.Entries == 0 {
			return broken(0, "审计日志为空，而 %s 的检查点记录了 %d 条：整张表可能被清空", newest.when(), newest.Entries)
		}
		return broken(prevID+1, "审计日志只到第 %d 条（共 %d 条），而 %s 的检查点记录到第 %d 条（共 %d 条）：最新的记录可能被删除",
			prevID, res.Entries, newest.when(), newest.LastID, newest.Entries)
	}
	res.OK = true
	if write && l.Checkpoints != "" && res.Entries > 0 {
		cp, err := l.writeCheckpoint(res.Entries, prevID, prevHash)
		if err != nil {
			return Result{}, err
		}
		l.remember(cp)
		res.Checkpointed = true
	}
	return res, nil
}
