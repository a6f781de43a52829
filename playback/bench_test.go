package playback

import (
	"context"
	"math/rand/v2"
	"testing"
	"time"
)

// BenchmarkRequestToFirstFrame measures a playback request up to its first
// frame: the index lookup, opening the segment, reading and parsing the
// fragment, and packetizing the keyframe (what a viewer waits for before
// the picture appears). The store runs on the system clock.
func BenchmarkRequestToFirstFrame(b *testing.B) {
	s, _, _ := recordFixture(b, testRecording(nil))
	s.clock = systemClock{}
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(3, 4))
	b.ResetTimer()
	for b.Loop() {
		T := t0.Add(time.Duration(rng.Int64N(int64(70 * time.Second))))
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
