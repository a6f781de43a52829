package playback

import (
	"bytes"
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"

	"github.com/camgate/camgate/appsettings"
	"github.com/camgate/camgate/cameras"
	"github.com/camgate/camgate/playback/internal/index"
)

// recordWith records with a feeder prepared by setup and returns the
// recorder's stats and the index rows. It runs in a fresh synctest bubble.
func recordWith(t *testing.T, rec appsettings.Recording, feed func(f *feeder)) (RecorderStats, []index.Segment, *Store) {
	t.Helper()
	s := openStore(t, t.TempDir(), rec)
	f, r, stopRec := startRecording(t, s)
	f.beginEpoch()
	feed(f)
	stopRec()
	c, _ := s.camera(context.Background(), testCam, false)
	segs, err := c.db.All(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return r.Stats(), segs, s
}

func TestNewRuns(t *testing.T) {
	t.Parallel()
	t.Run("the parameter sets change", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			st, segs, s := recordWith(t, testRecording(nil), func(f *feeder) {
				f.frames(150)
				f.mutate = func(_ int, au [][]byte) [][]byte {
					out := make([][]byte, len(au))
					for i, n := range au {
						if h264.NALUType(n[0]&0x1f) == h264.NALUTypeSPS {
							n = bytes.Clone(n)
							n[3] = 0x1f // level 3.1
						}
						out[i] = n
					}
					return out
				}
				f.frames(150)
			})
			// The hub publishes the new SPS with the next IDR (frame 200).
			if st.Runs != 2 || st.FramesWritten != 300 || st.Skipped != 0 || len(segs) != 2 {
				t.Fatalf("stats %+v, %d segments", st, len(segs))
			}
			if segs[0].Codec != "avc1.42c01e" || segs[1].Codec != "avc1.42c01f" || segs[0].Run == segs[1].Run {
				t.Errorf("codecs %s, %s", segs[0].Codec, segs[1].Codec)
			}
			if nsTime(segs[0].End) != t0.Add(8*time.Second) || segs[1].Start != segs[0].End {
				t.Errorf("segments %v…%v and %v…: want back to back at 8 s", nsTime(segs[0].Start), nsTime(segs[0].End), nsTime(segs[1].Start))
			}
			spans, _ := s.Spans(context.Background(), testCam, t0, t0.Add(time.Hour))
			if len(spans) != 1 {
				t.Errorf("spans %v, want one", spans)
			}
		})
	})

	t.Run("the timestamps jump", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			st, segs, _ := recordWith(t, testRecording(nil), func(f *feeder) {
				f.frames(150)
				f.pts += 90000 * 3600 // an hour, at a P-frame
				f.frames(150)
			})
			// Frames 150…199 cannot start a run; the IDR at 200 does.
			if st.Runs != 2 || st.Skipped != 50 || st.FramesWritten != 250 || len(segs) != 2 {
				t.Fatalf("stats %+v, %d segments", st, len(segs))
			}
			if nsTime(segs[0].End) != t0.Add(6*time.Second) || nsTime(segs[1].Start) != t0.Add(8*time.Second) ||
				nsTime(segs[1].End) != t0.Add(12*time.Second) {
				t.Errorf("segments %v…%v, %v…%v", nsTime(segs[0].Start), nsTime(segs[0].End), nsTime(segs[1].Start), nsTime(segs[1].End))
			}
		})
	})

	t.Run("the clocks drift apart", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			rec := testRecording(func(r *appsettings.Recording) { r.MaxDrift = appsettings.Duration(100 * time.Millisecond) })
			st, segs, _ := recordWith(t, rec, func(f *feeder) {
				f.ptsStep = frameTicks + 90 // the camera's clock runs 2.5% fast
				f.frames(300)
			})
			// 1 ms per frame: past 100 ms at the keyframe of frame 200, where a
			// new run starts without losing a frame.
			if st.Runs != 2 || st.Skipped != 0 || st.FramesWritten != 300 || len(segs) != 2 {
				t.Fatalf("stats %+v, %d segments", st, len(segs))
			}
			// The first run's camera time ran ahead to 8.2 s; frame 200 arrived
			// at 8 s. Recordings never overlap, so the new run starts at 8.2 s.
			if nsTime(segs[0].End) != t0.Add(8200*time.Millisecond) || segs[1].Start != segs[0].End {
				t.Errorf("runs %v…%v and %v…, want back to back at 8.2 s", nsTime(segs[0].Start), nsTime(segs[0].End), nsTime(segs[1].Start))
			}
		})
	})
}

// TestRecorderDropsToKeyframe: the recorder reads the hub like a viewer.
// When its queue is full (the disk fell behind), the hub drops frames up to
// the next keyframe that fits and counts them; the recorder ends its run
// there and starts a new one at that keyframe, so no recording spans the
// hole.
func TestRecorderDropsToKeyframe(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		jumpTo(t, t0)
		s := openStore(t, t.TempDir(), testRecording(func(r *appsettings.Recording) {
			r.QueueFrames = 3
			// A long silence before a run ends (2 × 10 s): the run is still
			// open when the frames after the hole come.
			r.FragmentDuration = appsettings.Duration(10 * time.Second)
		}))
		stream := cameras.NewStream(testCam, testStream)
		r, err := s.NewRecorder(stream)
		if err != nil {
			t.Fatal(err)
		}
		f := &feeder{t: t, clip: loadClip(t), stream: stream, rec: r}
		f.beginEpoch()
		write := func(n int) {
			for range n {
				stream.WriteAU(f.pts, f.clip.AccessUnit(f.k%f.clip.Len()))
				f.k++
				f.pts += frameTicks
				time.Sleep(frameDur)
			}
		}
		// The recorder is attached, but its goroutine takes nothing yet: a
		// disk that stands still.
		r.attach()
		write(150)
		// 3 fit, 147 are dropped (the IDR at 100 does not fit either).
		if got := r.Stats().Dropped; got != 147 {
			t.Errorf("dropped %d, want 147", got)
		}
		// The disk catches up: the recorder writes the 3 queued frames.
		r.mu.Lock()
		r.started = true
		r.mu.Unlock()
		r.spawn()
		synctest.Wait()
		if got := r.handled.Load(); got != 3 {
			t.Fatalf("handled %d frames, want the 3 queued", got)
		}
		write(50) // 150…199: dropped while the hub waits for a keyframe
		f.sent = 3
		f.frames(50) // the IDR at 200 ends the run and starts a new one
		r.close()    // what Run does when its ctx ends
		st := r.Stats()
		if st.Dropped != 147+50 || st.FramesIn != 3+50 || st.FramesWritten != 3+50 || st.Runs != 2 || st.Skipped != 0 {
			t.Fatalf("stats %+v", st)
		}
		c, _ := s.camera(context.Background(), testCam, false)
		segs, err := c.db.All(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if len(segs) != 2 || segs[0].Run == segs[1].Run || segs[0].Frames != 3 || segs[1].Frames != 50 ||
			nsTime(segs[0].End) != t0.Add(3*frameDur) || nsTime(segs[1].Start) != t0.Add(200*frameDur) {
			t.Fatalf("segments %+v", segs)
		}
	})
}
