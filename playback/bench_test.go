package playback

import (
	"context"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/camgate/camgate/appsettings"
	"github.com/camgate/camgate/cameras"
	"github.com/camgate/camgate/cameras/testutil"
)

// BenchmarkRequestToFirstFrame measures a playback request up to its first
// frame: the index lookup, opening the segment, reading and parsing the
// fragment, and building the keyframe as a live frame (what a viewer waits
// for before the picture appears).
func BenchmarkRequestToFirstFrame(b *testing.B) {
	s, oldest := benchRecording(b)
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(3, 4))
	b.ResetTimer()
	for b.Loop() {
		T := oldest.Add(time.Duration(rng.Int64N(int64(70 * time.Second))))
		p, err := s.Open(ctx, PlayRequest{CameraID: testCam, Start: T, Speed: 1})
		if err != nil {
			b.Fatal(err)
		}
		f, err := p.Next(ctx)
		if err != nil || !f.Frame.Key {
			b.Fatal(err)
		}
		p.Close()
	}
}

// benchRecording records 75 s of the demo clip (two segments) as fast as
// the recorder takes it. A benchmark cannot run in a synctest bubble, so
// the frames arrive on real time, much faster than their timestamps say;
// a large MaxDrift keeps them in one run, whose recorded times follow the
// camera's timestamps from the first frame's arrival.
func benchRecording(b *testing.B) (*Store, time.Time) {
	b.Helper()
	s := openStore(b, b.TempDir(), testRecording(func(r *appsettings.Recording) {
		r.MaxDrift = appsettings.Duration(time.Hour)
	}))
	stream := cameras.NewStream(testCam, testStream)
	r, err := s.NewRecorder(stream)
	if err != nil {
		b.Fatal(err)
	}
	stopRec := testutil.Run(b, r.Run, r.Started)
	c := loadClip(b)
	stream.BeginEpoch(nil, nil)
	for k := range runAFrames {
		stream.WriteAU(int64(k)*frameTicks, c.AccessUnit(k%c.Len()))
		// Wait for the recorder (a deadline only bounds a hang), so that
		// its queue never drops a frame.
		deadline := time.Now().Add(10 * time.Second)
		for r.handled.Load() < uint64(k+1) {
			if time.Now().After(deadline) {
				b.Fatalf("recorder handled %d of %d frames", r.handled.Load(), k+1)
			}
			time.Sleep(20 * time.Microsecond)
		}
	}
	stopRec()
	if st := r.Stats(); st.FramesWritten != runAFrames || st.Runs != 1 {
		b.Fatalf("recorder stats %+v", st)
	}
	oldest, _, _, err := s.Range(context.Background(), testCam)
	if err != nil {
		b.Fatal(err)
	}
	return s, oldest
}
