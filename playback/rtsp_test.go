package playback

import (
	"context"
	"log/slog"
	"testing"
	"testing/synctest"
	"time"

	"github.com/camgate/camgate/cameras/demo"
	"github.com/camgate/camgate/cameras/testutil"
)

// TestRecordRTSPCameraWithOutage records a real RTSP camera (the demo
// server on loopback, pulled by the camera registry as in production). The
// camera goes away for a while and comes back; the recording then has two
// runs with a gap, and playback crosses the gap as specified.
//
// The recording runs on real time, outside a synctest bubble: the camera is
// a real RTSP server on loopback, and sockets do not belong in a bubble.
// The recording is then played in a bubble, where the pacing is exact.
func TestRecordRTSPCameraWithOutage(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("streams in real time")
	}
	clip := loadClip(t)
	srv := &demo.Server{Clip: clip, FPS: 100, Logger: slog.New(slog.DiscardHandler)} // an IDR every second
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer srv.Close()

	cam := startCameraRegistry(t, srv.URL())

	dir := t.TempDir()
	s := openStore(t, dir, testRecording(nil))
	r, err := s.NewRecorder(cam.Hub)
	if err != nil {
		t.Fatal(err)
	}
	stopRec := testutil.Run(t, r.Run, r.Started)
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s; recorder %+v", what, r.Stats())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	waitFor("the first run", func() bool { return r.Stats().FramesWritten >= 150 })

	// At 1x a player at the live edge follows the segment being written.
	_, newest, _, err := s.Range(context.Background(), testCam)
	if err != nil {
		t.Fatal(err)
	}
	live, err := s.Open(context.Background(), PlayRequest{CameraID: testCam, Start: newest.Add(-500 * time.Millisecond), Speed: 1})
	if err != nil {
		t.Fatal(err)
	}
	tailCtx, cancelTail := context.WithTimeout(context.Background(), 15*time.Second)
	for {
		f, err := live.Next(tailCtx)
		if err != nil {
			t.Fatalf("tailing the live edge: %v", err)
		}
		if f.Time.After(newest.Add(1500 * time.Millisecond)) {
			break // well past what was recorded when the player opened
		}
	}
	cancelTail()
	live.Close()

	srv.Close() // the camera goes away…
	outageStart := time.Now()
	waitFor("the run to end", func() bool {
		segs, _ := r.cam.db.WithState(context.Background(), "open")
		return len(segs) == 0
	})
	time.Sleep(time.Second)
	if err := srv.Start(); err != nil { // …and comes back on the same port
		t.Fatal(err)
	}
	outage := time.Since(outageStart)
	waitFor("the second run", func() bool { return r.Stats().Runs >= 2 && r.Stats().FramesWritten >= 400 })
	stopRec()
	st := r.Stats()
	if st.Dropped != 0 || st.WriteErrors != 0 || st.Runs != 2 {
		t.Errorf("recorder stats %+v", st)
	}

	ctx := context.Background()
	spans, err := s.Spans(ctx, testCam, time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if len(spans) != 2 {
		t.Fatalf("spans %v, want two (before and after the outage)", spans)
	}
	gap := spans[1].Start.Sub(spans[0].End)
	if gap < outage-time.Second || gap > outage+15*time.Second {
		t.Errorf("gap of %v for an outage of %v", gap, outage)
	}

	s.Close()
	for _, skip := range []bool{false, true} {
		synctest.Test(t, func(t *testing.T) { checkPlayback(t, dir, spans, gap, st.FramesWritten, skip) })
	}
}

// checkPlayback plays the recording of TestRecordRTSPCameraWithOutage at
// 1x, in a bubble.
func checkPlayback(t *testing.T, dir string, spans []Span, gap time.Duration, written uint64, skip bool) {
	s := openStore(t, dir, testRecording(nil))
	got := playAll(t, s, PlayRequest{CameraID: testCam, Start: spans[0].Start, Speed: 1, SkipGaps: skip}, 0)
	if uint64(len(got.frames)) != written {
		t.Errorf("skipGaps=%v: played %d frames, recorded %d", skip, len(got.frames), written)
	}
	if !got.frames[0].Frame.Key || got.frames[0].Time != spans[0].Start {
		t.Errorf("first frame key=%v at %v, want the span's start %v", got.frames[0].Frame.Key, got.frames[0].Time, spans[0].Start)
	}
	var types []EventType
	var across int
	for i := 1; i < len(got.frames); i++ {
		f := got.frames[i]
		checkOrder := f.Offset > got.frames[i-1].Offset
		if !checkOrder {
			t.Fatalf("frame %d: offset %v after %v", i, f.Offset, got.frames[i-1].Offset)
		}
		if f.Time.Equal(spans[1].Start) {
			across = i
			wait := got.walls[i].Sub(got.walls[i-1])
			prevEnd := spans[0].End.Sub(got.frames[i-1].Time)
			if skip && wait != 0 || !skip && wait != gap+prevEnd {
				t.Errorf("skipGaps=%v: the first frame after the gap came %v after the last one before it (gap %v)", skip, wait, gap)
			}
		}
	}
	if across == 0 {
		t.Errorf("no frame at the second span's start")
	}
	for _, e := range got.events {
		types = append(types, e.Type)
	}
	if got := eventNames(types); len(got) != 4 || got[0] != "start" || got[1] != "gap" || got[2] != "resume" || got[3] != "end" {
		t.Errorf("events %v", got)
	}
	for i := range got.frames {
		if i%50 == 0 {
			checkFrameShape(t, got.frames[i].Frame)
		}
	}
}
