package audit

import (
	"bytes"
	"cmp"
	"context"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
)

// CheckpointFile is the name of the checkpoint file in the data folder.
const CheckpointFile = "audit-checkpoints.jsonl"

// DefaultCheckpointEvery is how often at most Append writes a checkpoint.
const DefaultCheckpointEvery = time.Minute

// Checkpoint is a signed record of the chain head at a time: one line of the
// checkpoint file. Its MAC is computed with the suite's chain key, which is
// not in the database, so whoever can rewrite the table can neither forge a
// checkpoint nor make the table agree with the real ones. Copied off the
// machine (minzheng audit checkpoint export), checkpoints also survive
// whoever can rewrite the data folder.
type Checkpoint struct {
	Entries  int64     `json:"entries"`   // entries in the chain up to LastID
	LastID   int64     `json:"last_id"`   // the head's id
	LastHash string    `json:"last_hash"` // the head's hash
	At       time.Time `json:"at"`        // when it was written (UTC)
	Scheme   string    `json:"scheme"`    // the MAC's scheme
	MAC      string    `json:"mac"`       // hex, over the fields above
}

// message is what a checkpoint's MAC covers.
func (c Checkpoint) message() []byte {
	return []byte(strings.Join([]string{"minzheng audit checkpoint", c.Scheme, strconv.FormatInt(c.Entries, 10),
		strconv.FormatInt(c.LastID, 10), c.LastHash, c.At.UTC().Format(time.RFC3339Nano)}, "\x1f"))
}

// when names the checkpoint in a message: its time in Shanghai.
func (c Checkpoint) when() string {
	return c.At.In(time.FixedZone("CST", 8*3600)).Format("2006-01-02 15:04:05")
}

// sign sets c's scheme and MAC.
func (l *Log) sign(c *Checkpoint) error {
	c.Scheme = l.suite.ChainScheme()
	mac, ok := l.suite.Chain(c.Scheme)
	if !ok {
		return fmt.Errorf("audit: the suite cannot sign checkpoints with %q", c.Scheme)
	}
	c.MAC = hex.EncodeToString(mac(c.message()))
	return nil
}

// valid reports whether c's MAC matches under the suite's key.
func (l *Log) valid(c Checkpoint) bool {
	mac, ok := l.suite.Chain(c.Scheme)
	if !ok || c.Scheme == "sha256" {
		return false // a checkpoint is always keyed
	}
	got, err := hex.DecodeString(c.MAC)
	return err == nil && bytes.Equal(got, mac(c.message()))
}

// checkpointError reports a checkpoint file that is damaged or forged.
type checkpointError struct {
	path string
	line int
	why  string
}

func (e *checkpointError) Error() string { return e.reason() }

func (e *checkpointError) reason() string {
	return fmt.Sprintf("检查点文件 %s 第 %d 行%s：检查点可能被篡改", e.path, e.line, e.why)
}

// checkpoints are the lines of the checkpoint file.
type checkpoints struct {
	byID []Checkpoint // sorted by LastID, then by time
}

// newest returns the checkpoint of the longest chain, the latest of those,
// or nil.
func (c checkpoints) newest() *Checkpoint {
	if len(c.byID) == 0 {
		return nil
	}
	cp := c.byID[len(c.byID)-1]
	return &cp
}

// loadCheckpoints reads and checks every line of a checkpoint file ("" or
// a missing file has none) and returns them with the file's content.
func (l *Log) loadCheckpoints(file string) (checkpoints, []byte, error) {
	var out checkpoints
	if file == "" {
		return out, nil, nil
	}
	b, err := os.ReadFile(file)
	if errors.Is(err, os.ErrNotExist) {
		return out, nil, nil
	}
	if err != nil {
		return out, nil, fmt.Errorf("audit: read checkpoints: %w", err)
	}
	for n, line := range bytes.Split(b, []byte("\n")) {
		c, ok, err := l.parseCheckpoint(file, line, n+1)
		if err != nil {
			return out, nil, err
		}
		if !ok {
			continue
		}
		// Keep one of each run of identical heads (Verify, run often on an
		// idle log, writes the same head again and again).
		if k := len(out.byID); k > 0 && out.byID[k-1].LastID == c.LastID && out.byID[k-1].LastHash == c.LastHash && out.byID[k-1].Entries == c.Entries {
			out.byID[k-1] = c
			continue
		}
		out.byID = append(out.byID, c)
	}
	slices.SortStableFunc(out.byID, func(a, b Checkpoint) int {
		if c := cmp.Compare(a.LastID, b.LastID); c != 0 {
			return c
		}
		return a.At.Compare(b.At)
	})
	return out, b, nil
}

// parseCheckpoint reads line n of file; ok is false for a blank line.
func (l *Log) parseCheckpoint(file string, line []byte, n int) (c Checkpoint, ok bool, err error) {
	line = bytes.TrimSpace(line)
	if len(line) == 0 {
		return c, false, nil
	}
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return c, false, &checkpointError{file, n, "无法读取"}
	}
	if !l.valid(c) {
		return c, false, &checkpointError{file, n, "的签名不符"}
	}
	return c, true, nil
}

// newestInTail returns the newest valid checkpoint among the last lines of
// the file, or nil: what Append builds on after a start, without reading a
// year of checkpoints inside a write.
func (l *Log) newestInTail() *Checkpoint {
	f, err := os.Open(l.Checkpoints)
	if err != nil {
		return nil
	}
	defer f.Close()
	const tail = 64 << 10
	fi, err := f.Stat()
	if err != nil {
		return nil
	}
	off := max(fi.Size()-tail, 0)
	b := make([]byte, fi.Size()-off)
	if _, err := f.ReadAt(b, off); err != nil && err != io.EOF {
		return nil
	}
	lines := bytes.Split(b, []byte("\n"))
	if off > 0 {
		lines = lines[1:] // cut in the middle
	}
	var newest *Checkpoint
	for _, line := range lines {
		if c, ok, err := l.parseCheckpoint(l.Checkpoints, line, 0); err == nil && ok && (newest == nil || c.LastID >= newest.LastID) {
			newest = &c
		}
	}
	return newest
}

// writeCheckpoint appends a signed checkpoint of a head to the file, which
// it creates (mode 0600) if need be.
func (l *Log) writeCheckpoint(entries, lastID int64, lastHash string) (Checkpoint, error) {
	c := Checkpoint{Entries: entries, LastID: lastID, LastHash: lastHash, At: l.now().UTC().Truncate(time.Microsecond)}
	if err := l.sign(&c); err != nil {
		return c, err
	}
	line, err := json.Marshal(c)
	if err != nil {
		return c, err
	}
	f, err := os.OpenFile(l.Checkpoints, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return c, fmt.Errorf("audit: write checkpoint: %w", err)
	}
	if fi, err := f.Stat(); err == nil && fi.Mode().Perm()&0o077 != 0 {
		f.Chmod(0o600)
	}
	// One write of a short line: appends of several processes do not mix.
	_, err = f.Write(append(line, '\n'))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return c, fmt.Errorf("audit: write checkpoint: %w", err)
	}
	return c, nil
}

// remember keeps c as the newest checkpoint this process knows.
func (l *Log) remember(c Checkpoint) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.last == nil || c.LastID >= l.last.LastID {
		l.last = &c
	}
}

// checkpointHead writes a checkpoint of the committed head (lastID, hash)
// that Append read inside tx, at most once per CheckpointEvery, unless it
// contradicts the newest checkpoint this process knows (a shorter chain, or
// another entry where that checkpoint's head was): that checkpoint must
// stay the newest, for Verify to report the loss. A failure to write does
// not fail the append; the next Verify writes one or reports why not.
func (l *Log) checkpointHead(ctx context.Context, tx *sql.Tx, lastID int64, hash string) {
	if l.Checkpoints == "" || l.CheckpointEvery < 0 || lastID == 0 {
		return
	}
	every := l.CheckpointEvery
	if every == 0 {
		every = DefaultCheckpointEvery
	}
	now := l.now()
	l.mu.Lock()
	if !l.lastWrite.IsZero() && now.Sub(l.lastWrite) < every {
		l.mu.Unlock()
		return
	}
	l.lastWrite = now
	if !l.loaded {
		l.loaded = true
		if c := l.newestInTail(); c != nil && (l.last == nil || c.LastID > l.last.LastID) {
			l.last = c
		}
	}
	last := l.last
	l.mu.Unlock()
	if last != nil {
		if lastID <= last.LastID {
			return // nothing new, or a shorter chain
		}
		var h string
		err := tx.QueryRowContext(ctx, `SELECT hash FROM audit_log WHERE id = $1`, last.LastID).Scan(&h)
		if err != nil || h != last.LastHash {
			return
		}
	}
	if c, err := l.writeCheckpoint(lastID, lastID, hash); err == nil {
		l.remember(c)
	}
}

// ExportCheckpoints copies the checkpoint file to w, checking every line's
// signature first, and returns how many distinct heads it holds.
func (l *Log) ExportCheckpoints(w io.Writer) (int, error) {
	if l.Checkpoints == "" {
		return 0, errors.New("audit: no checkpoint file set")
	}
	cps, b, err := l.loadCheckpoints(l.Checkpoints)
	if err != nil {
		return 0, err
	}
	if _, err := w.Write(b); err != nil {
		return 0, err
	}
	return len(cps.byID), nil
}
