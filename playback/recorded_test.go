package playback

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/camgate/camgate/appsettings"
	"github.com/camgate/camgate/playback/internal/index"
	"github.com/camgate/camgate/playback/internal/segfile"
)

// The recording the playback tests play (see recordFixture):
//
//	run A: t0 … t0+75s   (segments [0, 60s) and [60s, 75s); IDRs every 4 s)
//	gap:   t0+75s … t0+120s (the camera is away)
//	run B: t0+120s … t0+170s
const (
	runAFrames = 75 * 25
	outage     = 45 * time.Second
	runBFrames = 50 * 25
)

var (
	runAEnd   = t0.Add(75 * time.Second)
	runBStart = t0.Add(120 * time.Second)
	runBEnd   = t0.Add(170 * time.Second)
)

// recordFixture records the fixture into dir with a real stream hub and
// recorder, and returns the store. It runs in a fresh synctest bubble: the
// camera's first frame arrives at t0.
func recordFixture(t testing.TB, dir string, rec appsettings.Recording) *Store {
	t.Helper()
	s := openStore(t, dir, rec)
	f, r, stopRec := startRecording(t, s)
	f.beginEpoch()
	f.frames(runAFrames)
	// The camera goes away. After two seconds of silence the recorder
	// closes the run's segment.
	time.Sleep(outage)
	checkNoOpen(t, s)
	f.beginEpoch()
	f.frames(runBFrames)
	stopRec()
	st := r.Stats()
	if st.FramesIn != runAFrames+runBFrames || st.FramesWritten != runAFrames+runBFrames || st.Dropped != 0 || st.Runs != 2 {
		t.Fatalf("recorder stats %+v", st)
	}
	return s
}

// fixtureDir records the fixture (in a bubble of its own) into a folder of
// the test and returns the folder, for tests that open their own stores.
func fixtureDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	synctest.Test(t, func(t *testing.T) {
		recordFixture(t, dir, testRecording(nil)).Close()
	})
	return dir
}

// checkNoOpen checks, once the bubble's other goroutines wait, that the
// camera has no open segment.
func checkNoOpen(t testing.TB, s *Store) {
	t.Helper()
	synctest.Wait()
	c, err := s.camera(context.Background(), testCam, false)
	if err != nil || c == nil {
		t.Fatalf("camera: %v", err)
	}
	open, err := c.db.WithState(context.Background(), index.StateOpen)
	if err != nil {
		t.Fatal(err)
	}
	if len(open) != 0 {
		t.Fatalf("segment %s still open", open[0].Path)
	}
}

func TestRecordedLayoutAndIndex(t *testing.T) {
	t.Parallel()
	dir := fixtureDir(t)
	s := openStore(t, dir, testRecording(nil))
	ctx := context.Background()
	c, _ := s.camera(ctx, testCam, false)
	segs, err := c.db.All(ctx)
	if err != nil {
		t.Fatal(err)
	}
	type want struct {
		start, end time.Time
		frames     int64
		seq        int64
	}
	wants := []want{
		{t0, t0.Add(60 * time.Second), 1500, 0},
		{t0.Add(60 * time.Second), runAEnd, 375, 1},
		{runBStart, runBEnd, 1250, 0},
	}
	if len(segs) != len(wants) {
		t.Fatalf("%d segments, want %d: %+v", len(segs), len(wants), segs)
	}
	for i, w := range wants {
		g := segs[i]
		if nsTime(g.Start) != w.start || nsTime(g.End) != w.end || g.Frames != w.frames || g.Seq != w.seq || g.State != index.StateClosed {
			t.Errorf("segment %d = %+v (%v … %v), want %v … %v, %d frames, seq %d, closed",
				i, g, nsTime(g.Start), nsTime(g.End), w.start, w.end, w.frames, w.seq)
		}
		wantPath := nsTime(g.Start).Format("2006/01/02/15/") + nsTime(g.Start).Format(nameLayout) + "_" + g.Run + ".mp4"
		if g.Path != wantPath {
			t.Errorf("segment %d path %s, want %s", i, g.Path, wantPath)
		}
		if g.Codec != "avc1.42c01e" || g.Width != 640 || g.Height != 360 {
			t.Errorf("segment %d codec %s %dx%d", i, g.Codec, g.Width, g.Height)
		}
	}
	if segs[0].Run != segs[1].Run || segs[1].Run == segs[2].Run {
		t.Errorf("runs %s %s %s: want the first two equal, the third new", segs[0].Run, segs[1].Run, segs[2].Run)
	}

	// Every fragment is at most 1 s, a keyframe starts a fragment, and
	// the keyframe table lists exactly the fragments that start with one.
	kfs, err := c.db.AllKeyframes(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(kfs) != 19+13 {
		t.Errorf("%d keyframes, want 32", len(kfs))
	}
	var scanned []index.Keyframe
	for _, g := range segs {
		sc, err := scanSegmentFile(c.dir, g.Path, false)
		if err != nil {
			t.Fatal(err)
		}
		if sc.seg.Bytes != g.Bytes || sc.seg.Frames != g.Frames || sc.seg.End != g.End || sc.truncated != 0 {
			t.Errorf("file %s scans as %+v, index says %+v", g.Path, sc.seg, g)
		}
		for _, k := range sc.keyframes {
			scanned = append(scanned, index.Keyframe{T: k.T, SegmentID: g.ID, Offset: k.Offset})
		}
		checkFragments(t, c.dir, g.Path)
	}
	if len(scanned) != len(kfs) {
		t.Fatalf("files have %d keyframe fragments, index %d", len(scanned), len(kfs))
	}
	for i := range kfs {
		if kfs[i] != scanned[i] {
			t.Errorf("keyframe %d: index %+v, file %+v", i, kfs[i], scanned[i])
		}
		if (kfs[i].T-t0.UnixNano())%int64(4*time.Second) != 0 {
			t.Errorf("keyframe at %v, want a multiple of 4 s", nsTime(kfs[i].T))
		}
	}
}

// checkFragments walks a file's fragments with the file format reader.
func checkFragments(t *testing.T, camDir, rel string) {
	t.Helper()
	f, err := openFile(camDir, rel)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	info, _ := f.Stat()
	sc, err := segfile.ScanFile(f, info.Size())
	if err != nil || sc.Problem != "" || sc.End != info.Size() {
		t.Fatalf("%s: scan %v %q, end %d of %d", rel, err, sc.Problem, sc.End, info.Size())
	}
	for i, fr := range sc.Fragments {
		if fr.Duration() > segfile.TimeScale {
			t.Errorf("%s: fragment %d lasts %d ticks (> 1 s)", rel, i, fr.Duration())
		}
		for j, smp := range fr.Samples {
			if j > 0 && !smp.IsNonSyncSample {
				t.Errorf("%s: fragment %d has a keyframe at sample %d, not first", rel, i, j)
			}
		}
	}
}
