package playback

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/camgate/camgate/appsettings"
	"github.com/camgate/camgate/cameras"
	"github.com/camgate/camgate/cameras/testutil"
	"github.com/camgate/camgate/playback/internal/index"
)

// ffprobe returns the path of ffprobe, skipping the test when it is
// missing, except under CI=true where it must be installed.
func ffprobe(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("ffprobe")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("ffprobe is required under CI (Debian package ffmpeg)")
		}
		t.Skip("ffprobe not installed (apt-get install ffmpeg)")
	}
	return p
}

func TestExport(t *testing.T) {
	t.Parallel()
	probe := ffprobe(t)
	s := openStore(t, fixtureDir(t), testRecording(nil))
	ctx := context.Background()

	// From 30 s for 100 s: the keyframe at 28 s, across the gap, to 130 s.
	var buf bytes.Buffer
	info, err := s.Export(ctx, testCam, t0.Add(30*time.Second), 100*time.Second, &buf)
	if err != nil {
		t.Fatal(err)
	}
	wantFrames := (75-28)*25 + 10*25
	if info.Frames != wantFrames || info.Start != t0.Add(28*time.Second) || info.End != t0.Add(130*time.Second) {
		t.Errorf("export info %+v, want %d frames from 28 s to 130 s", info, wantFrames)
	}
	file := filepath.Join(t.TempDir(), "export.mp4")
	if err := os.WriteFile(file, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf.Bytes()[4:8], []byte("ftyp")) || bytes.Index(buf.Bytes(), []byte("moov")) > bytes.Index(buf.Bytes(), []byte("mdat")) {
		t.Error("want ftyp, then moov before mdat (progressive, playable while downloading)")
	}
	out, err := exec.Command(probe, "-v", "error", "-show_streams", "-count_frames", "-show_format", "-of", "json", file).CombinedOutput()
	if err != nil {
		t.Fatalf("ffprobe: %v\n%s", err, out)
	}
	var res struct {
		Streams []struct {
			CodecName    string `json:"codec_name"`
			Width        int    `json:"width"`
			Height       int    `json:"height"`
			NbReadFrames string `json:"nb_read_frames"`
			Duration     string `json:"duration"`
		} `json:"streams"`
		Format struct {
			FormatName string `json:"format_name"`
		} `json:"format"`
	}
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("ffprobe output: %v\n%s", err, out)
	}
	if len(res.Streams) != 1 {
		t.Fatalf("ffprobe: %s", out)
	}
	st := res.Streams[0]
	dur, _ := strconv.ParseFloat(st.Duration, 64)
	if st.CodecName != "h264" || st.Width != 640 || st.Height != 360 || st.NbReadFrames != strconv.Itoa(wantFrames) || dur < 101.9 || dur > 102.1 {
		t.Errorf("ffprobe stream %+v, want h264 640x360, %d frames, 102 s", st, wantFrames)
	}
	if !strings.Contains(res.Format.FormatName, "mp4") {
		t.Errorf("format %q", res.Format.FormatName)
	}

	// Errors come before any byte is written.
	for _, tc := range []struct {
		start time.Time
		d     time.Duration
		check func(error) bool
	}{
		{t0, 0, func(err error) bool { return isRequestError(err, "duration") }},
		{t0, 2 * time.Hour, func(err error) bool { return isRequestError(err, "duration") }},
		{t0.Add(80 * time.Second), 10 * time.Second, isRangeError}, // all in the gap
		{t0.Add(-time.Hour), time.Minute, isRangeError},
		{runBEnd, time.Minute, isRangeError},
	} {
		var w bytes.Buffer
		if _, err := s.Export(ctx, testCam, tc.start, tc.d, &w); !tc.check(err) || w.Len() != 0 {
			t.Errorf("Export(%v, %v) = %v with %d bytes written", tc.start, tc.d, err, w.Len())
		}
	}
	// A start in a gap begins with the next recording.
	info, err = s.Export(ctx, testCam, t0.Add(100*time.Second), 25*time.Second, &bytes.Buffer{})
	if err != nil || info.Start != runBStart || info.Frames != 5*25 {
		t.Errorf("export from the gap: %+v, %v", info, err)
	}
}

func isRangeError(err error) bool {
	var re *RangeError
	return errors.As(err, &re)
}

func TestRetention(t *testing.T) {
	t.Parallel()
	synctest.Test(t, testRetention)
}

// testRetention runs in a bubble: retention's age is measured on the
// bubble's clock.
func testRetention(t *testing.T) {
	s := recordFixture(t, t.TempDir(), testRecording(nil))
	ctx := context.Background()
	c, _ := s.camera(ctx, testCam, false)
	all, _ := c.db.All(ctx)
	files := func() int {
		rels, err := walkSegments(c.dir, 0)
		if err != nil {
			t.Fatal(err)
		}
		return len(rels)
	}

	// By age: now = runBEnd + 1 h; a camera keeping 1h1m40s keeps what
	// ended after t0+70s: the first segment (ending at 60 s) goes.
	s.opts.Retain = func(id string) time.Duration {
		if id != strings.ToLower(testCam) {
			t.Errorf("Retain asked for %q", id)
		}
		return time.Hour + time.Minute + 40*time.Second
	}
	sleepUntil(t, runBEnd.Add(time.Hour))
	res, err := s.Cleanup(ctx)
	if err != nil || res.ByAge != 1 || res.ByQuota != 0 || res.Bytes != all[0].Bytes {
		t.Fatalf("Cleanup = %+v, %v; want the first segment", res, err)
	}
	if left, _ := c.db.All(ctx); len(left) != 2 || left[0].ID != all[1].ID || files() != 2 {
		t.Fatalf("left %d rows, %d files", len(left), files())
	}
	if _, err := os.Stat(filepath.Join(c.dir, filepath.FromSlash(all[0].Path))); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("deleted segment still on disk: %v", err)
	}
	if _, err := os.Stat(filepath.Join(c.dir, filepath.FromSlash(all[1].Path))); err != nil {
		t.Errorf("kept segment: %v", err)
	}

	// By quota: all[1] (15 s) and all[2] (50 s) remain. A quota Q with
	// all[2] <= 0.9 Q < 0.95 Q < both deletes exactly the older one.
	s.opts.Retain = func(string) time.Duration { return 0 }
	total := all[1].Bytes + all[2].Bytes
	q := (all[2].Bytes*10/9)/1_000_000 + 1
	if float64(q*1_000_000) >= float64(total)/0.95 {
		t.Fatalf("fixture sizes %d and %d leave no quota in whole MB to test with", all[1].Bytes, all[2].Bytes)
	}
	s.rec.QuotaMB = int(q)
	res, err = s.Cleanup(ctx)
	if err != nil || res.ByQuota != 1 || res.ByAge != 0 || res.Bytes != all[1].Bytes {
		t.Fatalf("Cleanup with a quota of %d MB for %d bytes = %+v, %v; want the older segment", q, total, res, err)
	}
	if left, _ := c.db.All(ctx); len(left) != 1 || left[0].ID != all[2].ID {
		t.Fatalf("left %+v", left)
	}
	// Under the high watermark nothing more goes.
	if res, err := s.Cleanup(ctx); err != nil || res.ByQuota != 0 {
		t.Fatalf("second Cleanup = %+v, %v", res, err)
	}
	// The hour folders of deleted segments are gone with them.
	if _, err := os.Stat(filepath.Join(c.dir, "2026", "01", "15", "10")); err != nil {
		t.Errorf("hour folder of the kept segment: %v", err)
	}

	// The open segment is never deleted, whatever the quota.
	stream := cameras.NewStream(testCam, testStream)
	sleepUntil(t, runBEnd.Add(2*time.Hour))
	r, err := s.NewRecorder(stream)
	if err != nil {
		t.Fatal(err)
	}
	stopRec := testutil.Run(t, r.Run, r.Started)
	f := &feeder{t: t, clip: loadClip(t), stream: stream, rec: r}
	f.beginEpoch()
	f.frames(3 * 25)
	// Everything written is older than this retention (the clock stands
	// still so that the run stays open: nothing sleeps from here on).
	s.opts.Retain = func(string) time.Duration { return time.Nanosecond }
	if _, err := s.Cleanup(ctx); err != nil {
		t.Fatal(err)
	}
	left, _ := c.db.All(ctx)
	if len(left) != 1 || left[0].State != index.StateOpen {
		t.Fatalf("left %+v, want only the open segment", left)
	}
	stopRec()
}

func TestReindexAgreesWithIndex(t *testing.T) {
	t.Parallel()
	dir := fixtureDir(t)
	s := openStore(t, dir, testRecording(nil))
	ctx := context.Background()
	c, _ := s.camera(ctx, testCam, false)
	before, _ := c.db.All(ctx)
	beforeKfs, _ := c.db.AllKeyframes(ctx)
	if _, err := Reindex(ctx, dir, "", nil); err == nil || !strings.Contains(err.Error(), "in use by another camgate") {
		t.Fatalf("Reindex while the store is open = %v, want the lock error", err)
	}
	s.Close()
	// Damage: lose the index entirely.
	for _, suffix := range []string{"", "-wal", "-shm"} {
		os.Remove(filepath.Join(c.dir, index.FileName+suffix))
	}
	res, err := Reindex(ctx, dir, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Cameras != 1 || res.Segments != 3 || res.Keyframes != 32 || res.Repaired+res.Removed+res.Unreadable != 0 {
		t.Errorf("Reindex = %+v", res)
	}
	s2 := openStore(t, dir, testRecording(nil))
	c2, _ := s2.camera(ctx, testCam, false)
	after, _ := c2.db.All(ctx)
	afterKfs, _ := c2.db.AllKeyframes(ctx)
	if len(after) != len(before) || len(afterKfs) != len(beforeKfs) {
		t.Fatalf("reindex: %d segments / %d keyframes, recorder: %d / %d", len(after), len(afterKfs), len(before), len(beforeKfs))
	}
	for i := range before {
		a, b := after[i], before[i]
		if a.Start != b.Start || a.End != b.End || a.Run != b.Run || a.Seq != b.Seq || a.Path != b.Path || a.Bytes != b.Bytes ||
			a.Frames != b.Frames || a.Codec != b.Codec || a.State != index.StateIndexed {
			t.Errorf("segment %d: reindex %+v, recorder %+v", i, a, b)
		}
	}
	for i := range beforeKfs {
		if afterKfs[i].T != beforeKfs[i].T || afterKfs[i].Offset != beforeKfs[i].Offset {
			t.Errorf("keyframe %d: reindex %+v, recorder %+v", i, afterKfs[i], beforeKfs[i])
		}
	}
	// Only one camera, by id, in any case.
	s2.Close()
	if res, err := Reindex(ctx, dir, strings.ToUpper(testCam), nil); err != nil || res.Segments != 3 {
		t.Errorf("Reindex(camera) = %+v, %v", res, err)
	}
	if _, err := Reindex(ctx, dir, "22222222-3333-4444-5555-666666666666", nil); err == nil {
		t.Error("Reindex of a camera without a folder succeeded")
	}
}

func TestNewRecorderTwice(t *testing.T) {
	t.Parallel()
	s := openStore(t, t.TempDir(), testRecording(func(*appsettings.Recording) {}))
	stream := cameras.NewStream(testCam, testStream)
	r, err := s.NewRecorder(stream)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.NewRecorder(cameras.NewStream(strings.ToLower(testCam), "other")); !errors.Is(err, ErrRecording) {
		t.Errorf("second recorder: %v, want ErrRecording", err)
	}
	// A recorder whose Run has returned frees its camera.
	testutil.Run(t, r.Run, r.Started)()
	r2, err := s.NewRecorder(stream)
	if err != nil {
		t.Fatalf("after Run returned: %v", err)
	}
	ran := make(chan error, 1)
	go func() { ran <- r2.Run(context.Background()) }()
	for !r2.Started() {
		time.Sleep(time.Millisecond)
	}
	s.Close() // closes the recorder too: its Run returns
	if err := <-ran; err != nil {
		t.Errorf("Run of a recorder the store closed: %v", err)
	}
	if err := r2.Run(context.Background()); !errors.Is(err, ErrClosed) {
		t.Errorf("Run after the store closed: %v", err)
	}
	if _, err := s.NewRecorder(stream); !errors.Is(err, ErrClosed) {
		t.Errorf("NewRecorder after Close: %v", err)
	}
}

// Store.Run runs retention at once (and every CleanupInterval), and closes
// the store when its ctx ends: Run returns with the store closed.
func TestStoreRunRetainsThenCloses(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		s := recordFixture(t, t.TempDir(), testRecording(nil))
		ctx := context.Background()
		c, _ := s.camera(ctx, testCam, false)
		all, _ := c.db.All(ctx)
		// As in testRetention: the first segment is older than this.
		s.opts.CleanupInterval = time.Minute
		s.opts.Retain = func(string) time.Duration { return time.Hour + time.Minute + 40*time.Second }
		sleepUntil(t, runBEnd.Add(time.Hour))
		runCtx, cancel := context.WithCancel(ctx)
		ran := make(chan error, 1)
		go func() { ran <- s.Run(runCtx) }()
		synctest.Wait()
		if left, _ := c.db.All(ctx); len(left) != len(all)-1 || left[0].ID != all[1].ID {
			t.Fatalf("after Run's first pass %d of %d segments are left; want all but the first", len(left), len(all))
		}
		select {
		case err := <-ran:
			t.Fatalf("Run returned before its ctx ended: %v", err)
		default:
		}
		cancel()
		if err := <-ran; err != nil {
			t.Fatalf("Run: %v", err)
		}
		if _, err := s.NewRecorder(cameras.NewStream(testCam, testStream)); !errors.Is(err, ErrClosed) {
			t.Fatalf("NewRecorder after Run returned: %v; want ErrClosed", err)
		}
	})
}
