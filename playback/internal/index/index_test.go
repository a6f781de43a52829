package index

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// synthetic fills db with days of one camera: 60 s segments back to back
// (a gap of 10 s every 100 segments), a keyframe every 4 s.
func synthetic(t testing.TB, db *DB, segments int) (start int64) {
	t.Helper()
	start = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano()
	segs := make([]Segment, 0, segments)
	kfs := make([][]Keyframe, 0, segments)
	at := start
	for i := range segments {
		if i%100 == 99 {
			at += int64(10 * time.Second)
		}
		s := Segment{Start: at, End: at + int64(time.Minute), Run: fmt.Sprintf("run%d", i/100), Seq: int64(i % 100),
			Path: fmt.Sprintf("seg%06d.mp4", i), Bytes: 5_000_000, Frames: 1500, State: StateClosed, Codec: "avc1.42c01e"}
		var k []Keyframe
		for j := range 15 {
			k = append(k, Keyframe{T: at + int64(j)*int64(4*time.Second), Offset: int64(1000 + j*330_000)})
		}
		segs = append(segs, s)
		kfs = append(kfs, k)
		at += int64(time.Minute)
	}
	if _, err := db.Bulk(context.Background(), segs, kfs); err != nil {
		t.Fatal(err)
	}
	return start
}

func openTemp(t testing.TB) *DB {
	t.Helper()
	db, err := Open(context.Background(), filepath.Join(t.TempDir(), FileName))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// checkPlans asserts that the lookups playback depends on are B-tree
// searches (O(log n)), not scans.
func checkPlans(t testing.TB, db *DB, mid int64) {
	t.Helper()
	ctx := context.Background()
	cases := []struct {
		query string
		args  []any
		want  string
	}{
		{KeyframeQuery, []any{mid}, "SEARCH keyframes USING INTEGER PRIMARY KEY (rowid<?)"},
		{NextSegmentQuery, []any{mid}, "SEARCH segments USING INDEX segments_start (start_ns>?)"},
		{"SELECT " + segmentColumns + " FROM segments WHERE id = ?", []any{int64(7)}, "SEARCH segments USING INTEGER PRIMARY KEY (rowid=?)"},
		{"SELECT " + segmentColumns + " FROM segments WHERE start_ns < ? AND end_ns > ? ORDER BY start_ns", []any{mid + 1, mid},
			"SEARCH segments USING INDEX segments_"},
	}
	for _, tc := range cases {
		plan, err := db.Explain(ctx, tc.query, tc.args...)
		if err != nil {
			t.Fatal(err)
		}
		joined := strings.Join(plan, "; ")
		if !strings.Contains(joined, tc.want) || strings.Contains(joined, "SCAN") {
			t.Errorf("plan of %q:\n  %s\nwant %s and no SCAN", tc.query, joined, tc.want)
		}
	}
}

// TestQueryPlans checks the plans and answers on an index of 1,000
// segments (the plans do not depend on the size; BenchmarkLocate checks
// them again on 30 days, 43,200 segments, which is too slow to build under
// the race detector).
func TestQueryPlans(t *testing.T) {
	t.Parallel()
	db := openTemp(t)
	start := synthetic(t, db, 1000)
	ctx := context.Background()
	mid := start + int64(500*time.Minute)
	checkPlans(t, db, mid)
	// And the answers are right.
	k, ok, err := db.KeyframeAtOrBefore(ctx, mid+int64(2*time.Second))
	if err != nil || !ok || k.T > mid+int64(2*time.Second) || mid+int64(2*time.Second)-k.T >= int64(4*time.Second) {
		t.Errorf("KeyframeAtOrBefore = %+v %v %v", k, ok, err)
	}
	if _, ok, _ := db.KeyframeAtOrBefore(ctx, start-1); ok {
		t.Error("a keyframe before the first")
	}
	next, ok, err := db.SegmentAfter(ctx, mid)
	if err != nil || !ok || next.Start <= mid || next.Start-mid > int64(70*time.Second) {
		t.Errorf("SegmentAfter = %+v %v %v", next, ok, err)
	}
}

// BenchmarkLocate finds the keyframe at or before a random time, and its
// segment, in an index of 30 days of one camera: what Store.Open does.
func BenchmarkLocate(b *testing.B) {
	db := openTemp(b)
	start := synthetic(b, db, 43_200)
	span := int64(30 * 24 * time.Hour)
	checkPlans(b, db, start+span/2)
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(1, 2))
	b.ResetTimer()
	for b.Loop() {
		t := start + rng.Int64N(span)
		k, ok, err := db.KeyframeAtOrBefore(ctx, t)
		if err != nil || !ok {
			b.Fatal(err)
		}
		if _, ok, err := db.Segment(ctx, k.SegmentID); err != nil || !ok {
			b.Fatal(err)
		}
	}
}

func TestStatesAndDelete(t *testing.T) {
	t.Parallel()
	db := openTemp(t)
	ctx := context.Background()
	id, err := db.CloseAndOpen(ctx, 0, 0, 0, 0, nil, Segment{Start: 100, End: 100, Run: "r", Path: "a.mp4", State: StateOpen}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Progress(ctx, id, 200, 10, 5, []Keyframe{{T: 100, Offset: 8}, {T: 150, Offset: 9}}, ""); err != nil {
		t.Fatal(err)
	}
	id2, err := db.CloseAndOpen(ctx, id, 300, 20, 7, []Keyframe{{T: 250, Offset: 10}}, Segment{Start: 300, End: 300, Run: "r", Seq: 1, Path: "b.mp4", State: StateOpen}, nil)
	if err != nil {
		t.Fatal(err)
	}
	s, _, _ := db.Segment(ctx, id)
	if s.State != StateClosed || s.End != 300 || s.Bytes != 20 || s.Frames != 7 {
		t.Errorf("closed segment %+v", s)
	}
	if open, _ := db.WithState(ctx, StateOpen); len(open) != 1 || open[0].ID != id2 {
		t.Errorf("open %+v", open)
	}
	if old, _ := db.Oldest(ctx, 10); len(old) != 1 || old[0].ID != id {
		t.Errorf("Oldest (never the open one) = %+v", old)
	}
	if err := db.Delete(ctx, s); err != nil {
		t.Fatal(err)
	}
	if kfs, _ := db.AllKeyframes(ctx); len(kfs) != 0 {
		t.Errorf("keyframes of the deleted segment remain: %+v", kfs)
	}
	if n, _ := db.TotalBytes(ctx); n != 0 {
		t.Errorf("TotalBytes %d", n)
	}
}
