// Package index is the per-camera SQLite index of a recording store: one
// row per segment file and one row per keyframe, so that "the keyframe at or
// before T", "the next recording after T" and "the spans between A and B"
// are B-tree lookups that never open a video file.
//
// The index is rebuildable: the segment files are the source of truth (see
// the playback package's reindex). One DB file per camera isolates lock
// contention and lets a camera's recordings be removed as a whole.
package index

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
)

// FileName is the index's file name inside a camera's folder.
const FileName = "index.sqlite"

// schemaVersion is stored in PRAGMA user_version. A DB with another version
// is refused; reindex rebuilds it.
const schemaVersion = 1

// Segment states.
const (
	StateOpen      = "open"      // being written by a recorder
	StateClosed    = "closed"    // closed cleanly by its recorder
	StateRecovered = "recovered" // found unfinished at start-up, truncated to its last complete fragment
	StateIndexed   = "indexed"   // rebuilt from the file by reindex
	StateDeleting  = "deleting"  // retention is removing it
)

// ErrSchema reports an index written by another version of camgate.
var ErrSchema = errors.New("index: unknown schema version; run camgate reindex")

// Segment is one segment file. Times are Unix nanoseconds (UTC wall time of
// the recording); End is the end of the last sample (start + duration).
type Segment struct {
	ID     int64
	Start  int64
	End    int64
	Run    string
	Seq    int64
	Path   string // relative to the camera folder, with "/" separators
	Bytes  int64
	Frames int64
	State  string
	Codec  string // RFC 6381 codec string, e.g. "avc1.42c01e"
	Width  int64
	Height int64
}

// Keyframe is one IDR: its recorded time and the byte offset of the fragment
// (moof) that starts with it.
type Keyframe struct {
	T         int64
	SegmentID int64
	Offset    int64
}

const schema = `
CREATE TABLE IF NOT EXISTS segments (
	id       INTEGER PRIMARY KEY,
	start_ns INTEGER NOT NULL,
	end_ns   INTEGER NOT NULL,
	run      TEXT    NOT NULL,
	seq      INTEGER NOT NULL,
	path     TEXT    NOT NULL UNIQUE,
	bytes    INTEGER NOT NULL,
	frames   INTEGER NOT NULL,
	state    TEXT    NOT NULL,
	codec    TEXT    NOT NULL DEFAULT '',
	width    INTEGER NOT NULL DEFAULT 0,
	height   INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS segments_start ON segments(start_ns);
CREATE INDEX IF NOT EXISTS segments_end ON segments(end_ns);
CREATE TABLE IF NOT EXISTS keyframes (
	t_ns       INTEGER PRIMARY KEY,
	segment_id INTEGER NOT NULL,
	byte_off   INTEGER NOT NULL
);
`

// DB is one camera's index. It is safe for concurrent use: WAL lets readers
// (players, spans) run alongside the one writer (the recorder, retention).
type DB struct {
	db   *sql.DB
	path string
}

// Open opens (creating if needed) the index at path.
func Open(ctx context.Context, path string) (*DB, error) {
	if strings.ContainsRune(path, '?') {
		return nil, fmt.Errorf("index %s: the path must not contain '?'", path)
	}
	// busy_timeout first: as _busy_timeout the driver applies it before
	// anything else on every new connection of the pool, the auto_vacuum
	// pragma included (as _pragma=busy_timeout it came after that one,
	// which then failed with SQLITE_BUSY while the recorder wrote, and a
	// player opening at that moment got the error). WAL for concurrent
	// readers, synchronous=NORMAL (durable at checkpoints; the files are the
	// truth and recovery repairs the tail), incremental auto-vacuum so that
	// retention can give pages back, immediate write transactions so that
	// two writers queue on busy_timeout instead of failing to upgrade.
	dsn := path + "?_busy_timeout=10000&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)" +
		"&_auto_vacuum=incremental&_txlock=immediate"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("index %s: %w", path, err)
	}
	d := &DB{db: db, path: path}
	if err := d.init(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("index %s: %w", path, err)
	}
	return d, nil
}

func (d *DB) init(ctx context.Context) error {
	var version int
	if err := d.db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil {
		return err
	}
	switch version {
	case 0:
		if _, err := d.db.ExecContext(ctx, schema); err != nil {
			return err
		}
		_, err := d.db.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", schemaVersion))
		return err
	case schemaVersion:
		return nil
	}
	return ErrSchema
}

// Path is the DB file's path.
func (d *DB) Path() string { return d.path }

// Close checkpoints and closes the DB.
func (d *DB) Close() error { return d.db.Close() }

const segmentColumns = "id, start_ns, end_ns, run, seq, path, bytes, frames, state, codec, width, height"

type scanner interface{ Scan(dest ...any) error }

func scanSegment(row scanner) (Segment, error) {
	var s Segment
	err := row.Scan(&s.ID, &s.Start, &s.End, &s.Run, &s.Seq, &s.Path, &s.Bytes, &s.Frames, &s.State, &s.Codec, &s.Width, &s.Height)
	return s, err
}

// one returns the single segment a query yields; ok is false when none.
func (d *DB) one(ctx context.Context, query string, args ...any) (Segment, bool, error) {
	s, err := scanSegment(d.db.QueryRowContext(ctx, query, args...))
	if errors.Is(err, sql.ErrNoRows) {
		return Segment{}, false, nil
	}
	if err != nil {
		return Segment{}, false, err
	}
	return s, true, nil
}

func (d *DB) many(ctx context.Context, query string, args ...any) ([]Segment, error) {
	rows, err := d.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Segment
	for rows.Next() {
		s, err := scanSegment(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// InsertSegment adds a segment row and returns its id, with its keyframes.
func (d *DB) InsertSegment(ctx context.Context, s Segment, kfs []Keyframe) (int64, error) {
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	id, err := insertSegment(ctx, tx, s)
	if err != nil {
		return 0, err
	}
	if err := insertKeyframes(ctx, tx, id, kfs); err != nil {
		return 0, err
	}
	return id, tx.Commit()
}

func insertSegment(ctx context.Context, tx *sql.Tx, s Segment) (int64, error) {
	res, err := tx.ExecContext(ctx, `INSERT INTO segments (start_ns, end_ns, run, seq, path, bytes, frames, state, codec, width, height)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		s.Start, s.End, s.Run, s.Seq, s.Path, s.Bytes, s.Frames, s.State, s.Codec, s.Width, s.Height)
	if err != nil {
		return 0, err
	}
	return res.LastInsertId()
}

// insertKeyframes adds keyframes of segment id. A keyframe whose time is
// already indexed (two files claiming the same instant, which the recorder
// never writes) is skipped rather than failing the whole segment.
func insertKeyframes(ctx context.Context, tx *sql.Tx, id int64, kfs []Keyframe) error {
	if len(kfs) == 0 {
		return nil
	}
	stmt, err := tx.PrepareContext(ctx, "INSERT OR IGNORE INTO keyframes (t_ns, segment_id, byte_off) VALUES (?, ?, ?)")
	if err != nil {
		return err
	}
	defer stmt.Close()
	for _, k := range kfs {
		if _, err := stmt.ExecContext(ctx, k.T, id, k.Offset); err != nil {
			return err
		}
	}
	return nil
}

// Progress records what a recorder appended to an open segment: its new end,
// size and frame count, the keyframes of the new fragments, and optionally a
// new state (empty keeps it).
func (d *DB) Progress(ctx context.Context, id, end, bytes, frames int64, kfs []Keyframe, state string) error {
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	if state == "" {
		_, err = tx.ExecContext(ctx, "UPDATE segments SET end_ns = ?, bytes = ?, frames = ? WHERE id = ?", end, bytes, frames, id)
	} else {
		_, err = tx.ExecContext(ctx, "UPDATE segments SET end_ns = ?, bytes = ?, frames = ?, state = ? WHERE id = ?", end, bytes, frames, state, id)
	}
	if err != nil {
		return err
	}
	if err := insertKeyframes(ctx, tx, id, kfs); err != nil {
		return err
	}
	return tx.Commit()
}

// CloseAndOpen marks segment closeID closed (with its final end, size and
// frame count and its last keyframes) and inserts the next segment in one
// transaction, so that a reader never sees a moment where a recording
// camera has no open segment. closeID 0 only inserts.
func (d *DB) CloseAndOpen(ctx context.Context, closeID, end, bytes, frames int64, kfs []Keyframe, next Segment, nextKfs []Keyframe) (int64, error) {
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	if closeID != 0 {
		if _, err := tx.ExecContext(ctx, "UPDATE segments SET end_ns = ?, bytes = ?, frames = ?, state = ? WHERE id = ?",
			end, bytes, frames, StateClosed, closeID); err != nil {
			return 0, err
		}
		if err := insertKeyframes(ctx, tx, closeID, kfs); err != nil {
			return 0, err
		}
	}
	id, err := insertSegment(ctx, tx, next)
	if err != nil {
		return 0, err
	}
	if err := insertKeyframes(ctx, tx, id, nextKfs); err != nil {
		return 0, err
	}
	return id, tx.Commit()
}

// Segment returns the segment with the given id.
func (d *DB) Segment(ctx context.Context, id int64) (Segment, bool, error) {
	return d.one(ctx, "SELECT "+segmentColumns+" FROM segments WHERE id = ?", id)
}

// SegmentByPath returns the segment stored at path (relative to the camera
// folder).
func (d *DB) SegmentByPath(ctx context.Context, path string) (Segment, bool, error) {
	return d.one(ctx, "SELECT "+segmentColumns+" FROM segments WHERE path = ?", path)
}

// KeyframeAtOrBefore returns the latest keyframe with time <= t: one
// descent of the keyframes B-tree (t_ns is the rowid).
func (d *DB) KeyframeAtOrBefore(ctx context.Context, t int64) (Keyframe, bool, error) {
	var k Keyframe
	err := d.db.QueryRowContext(ctx,
		"SELECT t_ns, segment_id, byte_off FROM keyframes WHERE t_ns <= ? ORDER BY t_ns DESC LIMIT 1", t).
		Scan(&k.T, &k.SegmentID, &k.Offset)
	if errors.Is(err, sql.ErrNoRows) {
		return Keyframe{}, false, nil
	}
	return k, err == nil, err
}

// KeyframeQuery is the statement of KeyframeAtOrBefore, for EXPLAIN QUERY
// PLAN in tests.
const KeyframeQuery = "SELECT t_ns, segment_id, byte_off FROM keyframes WHERE t_ns <= ? ORDER BY t_ns DESC LIMIT 1"

// NextSegmentQuery is the statement of SegmentAfter, for EXPLAIN QUERY PLAN.
const NextSegmentQuery = "SELECT " + segmentColumns + " FROM segments WHERE start_ns > ? ORDER BY start_ns LIMIT 1"

// SegmentAfter returns the first segment that starts after t.
func (d *DB) SegmentAfter(ctx context.Context, t int64) (Segment, bool, error) {
	return d.one(ctx, NextSegmentQuery, t)
}

// SegmentAtOrBefore returns the last segment that starts at or before t.
func (d *DB) SegmentAtOrBefore(ctx context.Context, t int64) (Segment, bool, error) {
	return d.one(ctx, "SELECT "+segmentColumns+" FROM segments WHERE start_ns <= ? ORDER BY start_ns DESC LIMIT 1", t)
}

// Keyframes returns the keyframes of segment s with time >= from, in time
// order (a range scan of the keyframes B-tree).
func (d *DB) Keyframes(ctx context.Context, s Segment, from int64) ([]Keyframe, error) {
	from = max(from, s.Start)
	return d.keyframes(ctx, "SELECT "+keyframeColumns+" FROM keyframes WHERE t_ns >= ? AND t_ns <= ? AND segment_id = ? ORDER BY t_ns",
		from, max(s.End, from), s.ID)
}

// Overlapping returns the segments that overlap [from, to), in start order.
func (d *DB) Overlapping(ctx context.Context, from, to int64) ([]Segment, error) {
	// end_ns > from alone would scan every later row; start_ns < to bounds
	// the range from the other side and uses segments_start.
	return d.many(ctx, "SELECT "+segmentColumns+" FROM segments WHERE start_ns < ? AND end_ns > ? ORDER BY start_ns", to, from)
}

// Range returns the start of the oldest segment and the end of the newest;
// ok is false when there is none.
func (d *DB) Range(ctx context.Context) (oldest, newest int64, ok bool, err error) {
	var lo, hi sql.NullInt64
	if err := d.db.QueryRowContext(ctx, "SELECT MIN(start_ns), MAX(end_ns) FROM segments").Scan(&lo, &hi); err != nil {
		return 0, 0, false, err
	}
	if !lo.Valid {
		return 0, 0, false, nil
	}
	return lo.Int64, hi.Int64, true, nil
}

// Newest returns the segment with the latest start.
func (d *DB) Newest(ctx context.Context) (Segment, bool, error) {
	return d.one(ctx, "SELECT "+segmentColumns+" FROM segments ORDER BY start_ns DESC LIMIT 1")
}

// WithState returns the segments in the given state, in start order.
func (d *DB) WithState(ctx context.Context, state string) ([]Segment, error) {
	return d.many(ctx, "SELECT "+segmentColumns+" FROM segments WHERE state = ? ORDER BY start_ns", state)
}

// Oldest returns up to n segments that retention may delete (not open), oldest first.
func (d *DB) Oldest(ctx context.Context, n int) ([]Segment, error) {
	return d.many(ctx, "SELECT "+segmentColumns+" FROM segments WHERE state != ? ORDER BY start_ns LIMIT ?", StateOpen, n)
}

// EndedBefore returns up to n segments (not open) that ended before t, oldest first.
func (d *DB) EndedBefore(ctx context.Context, t int64, n int) ([]Segment, error) {
	return d.many(ctx, "SELECT "+segmentColumns+" FROM segments WHERE start_ns < ? AND end_ns < ? AND state != ? ORDER BY start_ns LIMIT ?",
		t, t, StateOpen, n)
}

// All returns every segment in start order.
func (d *DB) All(ctx context.Context) ([]Segment, error) {
	return d.many(ctx, "SELECT "+segmentColumns+" FROM segments ORDER BY start_ns")
}

// AllKeyframes returns every keyframe in time order.
func (d *DB) AllKeyframes(ctx context.Context) ([]Keyframe, error) {
	return d.keyframes(ctx, "SELECT "+keyframeColumns+" FROM keyframes ORDER BY t_ns")
}

// keyframeColumns are the columns keyframes scans, in its order.
const keyframeColumns = "t_ns, segment_id, byte_off"

// keyframes runs a query that selects keyframeColumns and returns its rows.
func (d *DB) keyframes(ctx context.Context, query string, args ...any) ([]Keyframe, error) {
	rows, err := d.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Keyframe
	for rows.Next() {
		var k Keyframe
		if err := rows.Scan(&k.T, &k.SegmentID, &k.Offset); err != nil {
			return nil, err
		}
		out = append(out, k)
	}
	return out, rows.Err()
}

// TotalBytes is the sum of the segments' sizes.
func (d *DB) TotalBytes(ctx context.Context) (int64, error) {
	var n sql.NullInt64
	err := d.db.QueryRowContext(ctx, "SELECT SUM(bytes) FROM segments").Scan(&n)
	return n.Int64, err
}

// SetState changes a segment's state.
func (d *DB) SetState(ctx context.Context, id int64, state string) error {
	_, err := d.db.ExecContext(ctx, "UPDATE segments SET state = ? WHERE id = ?", state, id)
	return err
}

// Replace rewrites a segment row (found by id) and its keyframes, as
// recovery does after truncating the file.
func (d *DB) Replace(ctx context.Context, s Segment, kfs []Keyframe) error {
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	if _, err := tx.ExecContext(ctx, `UPDATE segments SET start_ns = ?, end_ns = ?, run = ?, seq = ?, path = ?, bytes = ?, frames = ?,
		state = ?, codec = ?, width = ?, height = ? WHERE id = ?`,
		s.Start, s.End, s.Run, s.Seq, s.Path, s.Bytes, s.Frames, s.State, s.Codec, s.Width, s.Height, s.ID); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, "DELETE FROM keyframes WHERE segment_id = ?", s.ID); err != nil {
		return err
	}
	if err := insertKeyframes(ctx, tx, s.ID, kfs); err != nil {
		return err
	}
	return tx.Commit()
}

// Delete removes a segment row and its keyframes.
func (d *DB) Delete(ctx context.Context, s Segment) error {
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	// The keyframes of a segment lie within [start, end]: a range of the
	// primary key, not a scan of the table.
	if _, err := tx.ExecContext(ctx, "DELETE FROM keyframes WHERE t_ns >= ? AND t_ns <= ? AND segment_id = ?", s.Start, s.End, s.ID); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, "DELETE FROM segments WHERE id = ?", s.ID); err != nil {
		return err
	}
	return tx.Commit()
}

// Vacuum returns free pages to the file system after deletes.
func (d *DB) Vacuum(ctx context.Context) error {
	_, err := d.db.ExecContext(ctx, "PRAGMA incremental_vacuum")
	return err
}

// Explain returns the EXPLAIN QUERY PLAN details of query, one line each.
func (d *DB) Explain(ctx context.Context, query string, args ...any) ([]string, error) {
	rows, err := d.db.QueryContext(ctx, "EXPLAIN QUERY PLAN "+query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id, parent, notused int
		var detail string
		if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
			return nil, err
		}
		out = append(out, detail)
	}
	return out, rows.Err()
}

// Bulk inserts many segments with their keyframes in one transaction (for
// reindex and benchmarks). It returns the ids in order.
func (d *DB) Bulk(ctx context.Context, segs []Segment, kfs [][]Keyframe) ([]int64, error) {
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	ids := make([]int64, len(segs))
	for i, s := range segs {
		id, err := insertSegment(ctx, tx, s)
		if err != nil {
			return nil, err
		}
		ids[i] = id
		if i < len(kfs) {
			if err := insertKeyframes(ctx, tx, id, kfs[i]); err != nil {
				return nil, err
			}
		}
	}
	return ids, tx.Commit()
}

// Checkpoint moves the WAL into the DB file and empties it.
func (d *DB) Checkpoint(ctx context.Context) error {
	_, err := d.db.ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)")
	return err
}
