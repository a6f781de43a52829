package cameras

import (
	"context"
	"errors"
	"testing"
	"time"
)

// feed publishes a GOP pattern: a keyframe every gop frames.
func feed(s *Stream, from, n, gop int) {
	for i := from; i < from+n; i++ {
		au := [][]byte{testP}
		if i%gop == 0 {
			au = [][]byte{testIDR}
		}
		s.WriteAU(int64(i)*3600, au)
	}
}

func drain(t *testing.T, r *Reader) []Item {
	t.Helper()
	var out []Item
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		it, err := r.Next(ctx)
		cancel()
		if err != nil {
			return out
		}
		out = append(out, it)
	}
}

func TestNewReaderStartsAtLatestKeyframe(t *testing.T) {
	t.Parallel()
	s := NewStream("cam", "stream")
	s.BeginEpoch(testSPS, testPPS)
	feed(s, 0, 37, 25) // keyframes at 0 and 25; 12 frames after the second
	r := s.AddReader(64)
	defer r.Close()
	items := drain(t, r)
	if len(items) != 12 {
		t.Fatalf("catch-up items = %d, want the 12 frames of the current GOP", len(items))
	}
	if !items[0].Frame.Key || !items[0].CatchUp || items[0].Frame.PTS != 25*3600 {
		t.Fatalf("first item = key:%v catchUp:%v pts:%d, want the keyframe at 25", items[0].Frame.Key, items[0].CatchUp, items[0].Frame.PTS)
	}
	feed(s, 37, 1, 25)
	live := drain(t, r)
	if len(live) != 1 || live[0].CatchUp {
		t.Fatalf("live items = %+v, want one live frame", live)
	}
}

func TestFramesBeforeTheFirstKeyframeAreDropped(t *testing.T) {
	t.Parallel()
	s := NewStream("cam", "stream")
	s.BeginEpoch(testSPS, testPPS)
	r := s.AddReader(64)
	defer r.Close()
	feed(s, 1, 24, 25) // P frames only
	if n := len(drain(t, r)); n != 0 {
		t.Fatalf("got %d undecodable frames before any keyframe", n)
	}
	feed(s, 25, 2, 25)
	items := drain(t, r)
	if len(items) != 2 || !items[0].Frame.Key {
		t.Fatalf("after the first keyframe got %d items (first key=%v)", len(items), len(items) > 0 && items[0].Frame.Key)
	}
}

func TestSlowReaderDropsToNextKeyframe(t *testing.T) {
	t.Parallel()
	s := NewStream("cam", "stream")
	s.BeginEpoch(testSPS, testPPS)
	feed(s, 0, 1, 10)
	r := s.AddReader(4) // holds the keyframe; room for 3 more
	defer r.Close()
	feed(s, 1, 9, 10)  // frames 1..9: 3 fit, 6 are dropped
	feed(s, 10, 2, 10) // the queue is still full: keyframe 10 and 11 are dropped too
	items := drain(t, r)
	feed(s, 12, 8, 10) // P frames 12..19 must wait for a keyframe: 11 after 10 was lost
	feed(s, 20, 2, 10)
	items = append(items, drain(t, r)...)
	var pts []int64
	for _, it := range items {
		pts = append(pts, it.Frame.PTS/3600)
	}
	want := []int64{0, 1, 2, 3, 20, 21}
	if len(pts) != len(want) {
		t.Fatalf("frames = %v, want %v", pts, want)
	}
	for i := range want {
		if pts[i] != want[i] {
			t.Fatalf("frames = %v, want %v", pts, want)
		}
		// Only the keyframe after the hole is marked.
		if items[i].AfterDrop != (want[i] == 20) {
			t.Fatalf("frame %d: AfterDrop = %v", want[i], items[i].AfterDrop)
		}
	}
	if r.Dropped() != 16 {
		t.Fatalf("dropped = %d, want 16 (frames 4..19)", r.Dropped())
	}
}

func TestNewEpochClearsTheCache(t *testing.T) {
	t.Parallel()
	s := NewStream("cam", "stream")
	s.BeginEpoch(testSPS, testPPS)
	feed(s, 0, 5, 25)
	s.BeginEpoch(testSPS, testPPS) // the camera reconnected
	r := s.AddReader(16)
	defer r.Close()
	if n := len(drain(t, r)); n != 0 {
		t.Fatalf("a viewer got %d frames of the previous epoch", n)
	}
	feed(s, 0, 2, 25)
	items := drain(t, r)
	if len(items) != 2 || items[0].Frame.Epoch != 2 {
		t.Fatalf("items = %d, epoch = %d; want 2 frames of epoch 2", len(items), items[0].Frame.Epoch)
	}
}

func TestRequestKeyframeReplaysTheGOP(t *testing.T) {
	t.Parallel()
	s := NewStream("cam", "stream")
	s.BeginEpoch(testSPS, testPPS)
	feed(s, 0, 5, 25)
	r := s.AddReader(16)
	defer r.Close()
	drain(t, r)
	r.RequestKeyframe()
	items := drain(t, r)
	if len(items) != 5 || !items[0].Frame.Key || !items[0].CatchUp {
		t.Fatalf("replay = %d items; want the 5 frames of the GOP from its keyframe", len(items))
	}
}

func TestClosedReaderStops(t *testing.T) {
	t.Parallel()
	s := NewStream("cam", "stream")
	r := s.AddReader(4)
	done := make(chan error, 1)
	go func() {
		_, err := r.Next(context.Background())
		done <- err
	}()
	r.Close()
	select {
	case err := <-done:
		if !errors.Is(err, ErrReaderClosed) {
			t.Fatalf("Next after Close = %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Next did not return after Close")
	}
	if s.Stats().Readers != 0 {
		t.Fatal("reader still attached")
	}
}

func TestPayloadsRespectTheSizeLimit(t *testing.T) {
	t.Parallel()
	s := NewStream("cam", "stream")
	s.BeginEpoch(testSPS, testPPS)
	big := make([]byte, 10000)
	big[0] = 0x65
	s.WriteAU(0, [][]byte{big})
	r := s.AddReader(4)
	defer r.Close()
	items := drain(t, r)
	if len(items) != 1 {
		t.Fatal("keyframe not cached")
	}
	for i, p := range items[0].Frame.Payloads {
		if len(p) > MaxPayloadSize {
			t.Fatalf("payload %d is %d bytes, over %d", i, len(p), MaxPayloadSize)
		}
	}
}

// BenchmarkFanOut measures publishing one frame (packetized once) to N
// viewers: the per-viewer cost must be a queue append, with no allocation.
func BenchmarkFanOut(b *testing.B) {
	for _, viewers := range []int{1, 10, 100} {
		b.Run(benchName(viewers), func(b *testing.B) {
			s := NewStream("cam", "stream")
			s.BeginEpoch(testSPS, testPPS)
			var readers []*Reader
			for range viewers {
				readers = append(readers, s.AddReader(1024))
			}
			p := make([]byte, 4000)
			p[0] = 0x41
			s.WriteAU(0, [][]byte{testIDR})
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				s.WriteAU(int64(i)*3600, [][]byte{p})
				if i%512 == 0 {
					b.StopTimer()
					for _, r := range readers {
						for {
							ctx, cancel := context.WithCancel(context.Background())
							cancel()
							if _, err := r.Next(ctx); err != nil {
								break
							}
						}
					}
					b.StartTimer()
				}
			}
		})
	}
}

func benchName(n int) string {
	return "viewers=" + itoa(n)
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for n > 0 {
		b = append([]byte{byte('0' + n%10)}, b...)
		n /= 10
	}
	return string(b)
}

// A GOP longer than a reader's queue is replayed whole, with room for the
// live frames behind it: the viewer does not freeze until the next keyframe.
func TestLongGOPFitsTheReaderQueue(t *testing.T) {
	t.Parallel()
	s := NewStream("cam", "stream")
	s.BeginEpoch(testSPS, testPPS)
	const gop = 300 // 10 s at 30 fps
	feed(s, 0, gop, gop)
	r := s.AddReader(128)
	defer r.Close()
	feed(s, gop, 32, 1000) // live frames arriving during the replay
	items := drain(t, r)
	if len(items) != gop+32 || r.Dropped() != 0 {
		t.Fatalf("got %d items (%d dropped), want the %d of the GOP and 32 live ones", len(items), r.Dropped(), gop)
	}
	for i, it := range items {
		if it.Frame.PTS != int64(i)*3600 || it.CatchUp != (i < gop) {
			t.Fatalf("item %d: PTS %d catch-up %v", i, it.Frame.PTS, it.CatchUp)
		}
	}
}

// Past the GOP cache's bounds a new viewer waits for the next keyframe, but
// the viewers already watching (and the recorder) keep every frame.
func TestGOPCacheOverflowKeepsTheLiveStream(t *testing.T) {
	t.Parallel()
	s := NewStream("cam", "stream")
	s.BeginEpoch(testSPS, testPPS)
	const gop = maxGOPFrames + 10
	r := s.AddReader(gop + 64)
	defer r.Close()
	feed(s, 0, gop, gop) // the cache overflows at frame maxGOPFrames
	if items := drain(t, r); len(items) != gop || r.Dropped() != 0 {
		t.Fatalf("a viewer got %d of %d frames (%d dropped) of a GOP longer than the cache", len(items), gop, r.Dropped())
	}
	late := s.AddReader(16)
	defer late.Close()
	feed(s, gop, 1, 1000) // one more P frame
	if n := len(drain(t, late)); n != 0 {
		t.Fatalf("a viewer joining after the overflow got %d frames it cannot decode", n)
	}
	feed(s, gop+1, 1, 1)
	if items := drain(t, late); len(items) != 1 || !items[0].Frame.Key {
		t.Fatalf("a viewer joining after the overflow did not start at the next keyframe: %d items", len(items))
	}
}

// A failure of the source drops the cached GOP at once: a viewer who joins,
// or asks for a keyframe, while the camera is away gets nothing, and the
// frames still queued for a viewer are stale. The next run's frames are not.
func TestInterruptDropsThePictureFromBeforeTheFailure(t *testing.T) {
	t.Parallel()
	s := NewStream("cam", "stream")
	s.BeginEpoch(testSPS, testPPS)
	feed(s, 0, 30, 25)
	old := s.AddReader(64)
	defer old.Close()
	queued := drain(t, old) // the catch-up of the GOP at 25
	if len(queued) == 0 {
		t.Fatal("no catch-up before the failure")
	}
	feed(s, 30, 3, 25)

	s.Interrupt()
	if st := s.Stats(); st.GOPFrames != 0 {
		t.Fatalf("GOP cache after the failure = %d frames, want none", st.GOPFrames)
	}
	for _, it := range append(queued, drain(t, old)...) {
		if !s.Stale(it.Frame) {
			t.Fatalf("frame %d of the failed run is not stale", it.Frame.PTS)
		}
	}
	joined := s.AddReader(64)
	defer joined.Close()
	if items := drain(t, joined); len(items) != 0 {
		t.Fatalf("a viewer who joined after the failure got %d frames from before it", len(items))
	}
	old.RequestKeyframe()
	if items := drain(t, old); len(items) != 0 {
		t.Fatalf("a keyframe request after the failure replayed %d frames from before it", len(items))
	}

	s.BeginEpoch(testSPS, testPPS)
	feed(s, 0, 5, 25)
	for _, r := range []*Reader{old, joined} {
		items := drain(t, r)
		if len(items) != 5 || !items[0].Frame.Key {
			t.Fatalf("after the reconnect a reader got %d frames, want the 5 of the new run from its keyframe", len(items))
		}
		for _, it := range items {
			if s.Stale(it.Frame) {
				t.Fatalf("frame %d of the new run is stale", it.Frame.PTS)
			}
		}
	}
}
