package playback

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
	"github.com/pion/rtp/codecs"

	"github.com/camgate/camgate/appsettings"
	"github.com/camgate/camgate/cameras"
	"github.com/camgate/camgate/cameras/demo"
	"github.com/camgate/camgate/cameras/testutil"
)

// Time in these tests: whatever records or plays with exact wall times runs
// in a testing/synctest bubble, where time is virtual and moves only when
// every goroutine of the bubble waits. The store, its recorders and players
// use the time package directly; there is no clock to inject. Tests that
// use real sockets (an RTSP camera) or child processes record outside a
// bubble and play what was recorded inside one.

const (
	testCam    = "11111111-2222-3333-4444-555555555555"
	testStream = "11111111-2222-3333-4444-000000000001"
	frameDur   = 40 * time.Millisecond // the demo clip's 25 fps
	frameTicks = 3600
	clipGOP    = 100 // frames; an IDR every 4 s
)

// t0 is the wall time at which the fake camera's first frame arrives.
var t0 = time.Date(2026, 1, 15, 10, 0, 0, 0, time.UTC)

// sleepUntil moves a bubble's virtual clock to at (a bubble starts at
// midnight UTC 2000-01-01). Outside a bubble it would wait for real, so it
// fails the test when asked to wait more than a day.
func sleepUntil(t testing.TB, at time.Time) {
	t.Helper()
	d := time.Until(at)
	if d > 24*time.Hour {
		t.Fatalf("waiting %v for %v: not in a synctest bubble", d, at)
	}
	time.Sleep(d)
}

// jumpTo is sleepUntil for a fresh bubble, whose clock stands in 2000.
func jumpTo(t testing.TB, at time.Time) {
	t.Helper()
	if now := time.Now(); now.Year() != 2000 || !now.Before(at) {
		t.Fatalf("the clock says %v: not a fresh synctest bubble", now)
	}
	time.Sleep(time.Until(at))
}

var (
	clipOnce sync.Once
	clip     *demo.Clip
	clipErr  error
)

// loadClip returns the repository's demo clip: 500 frames, 25 fps, one
// IDR every 100 frames, SPS and PPS in front of each.
func loadClip(t testing.TB) *demo.Clip {
	t.Helper()
	clipOnce.Do(func() { clip, clipErr = demo.LoadClip(filepath.Join("..", "testdata", "demo.h264")) })
	if clipErr != nil {
		t.Fatal(clipErr)
	}
	return clip
}

// testRecording is a Recording section for tests, with defaults.
func testRecording(mut func(*appsettings.Recording)) appsettings.Recording {
	r := appsettings.Defaults().Recording
	r.SyncInterval = 0
	if mut != nil {
		mut(&r)
	}
	return r
}

func openStore(t testing.TB, dir string, rec appsettings.Recording) *Store {
	t.Helper()
	s, err := NewStore(context.Background(), Options{Dir: dir, Recording: rec, CleanupInterval: -1, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// feeder plays the demo clip into a stream hub as a camera would, in a
// synctest bubble: frame k of an epoch arrives at the bubble's time, and
// time moves on by one frame only once the recorder has handled it, so
// every recorded wall time is exact.
type feeder struct {
	t      testing.TB
	clip   *demo.Clip
	stream *cameras.Stream
	rec    *Recorder
	k      int   // frame of the epoch
	pts    int64 // PTS of the next frame
	sent   uint64
	// ptsStep is the PTS increment per frame (default: one frame).
	ptsStep int64
	// mutate, if set, may replace frame k's access unit.
	mutate func(k int, au [][]byte) [][]byte
}

func (f *feeder) beginEpoch() {
	f.stream.BeginEpoch(nil, nil)
	f.k = 0
	f.pts = 900_000 // any base: timestamps of epochs are unrelated
}

func (f *feeder) frames(n int) {
	f.t.Helper()
	for range n {
		au := f.clip.AccessUnit(f.k % f.clip.Len())
		if f.mutate != nil {
			au = f.mutate(f.k, au)
		}
		f.stream.WriteAU(f.pts, au)
		f.sent++
		synctest.Wait() // the recorder has dealt with the frame and waits for the next
		if got := f.rec.handled.Load(); got != f.sent {
			f.t.Fatalf("recorder handled %d of %d frames", got, f.sent)
		}
		time.Sleep(frameDur)
		f.k++
		if f.ptsStep != 0 {
			f.pts += f.ptsStep
		} else {
			f.pts += frameTicks
		}
	}
}

// played is the outcome of playing until the end.
type played struct {
	frames []PlayFrame
	walls  []time.Time // the time when Next returned each frame
	opened time.Time   // the time when Open returned
	events []Event
	player *Player
}

// playAll opens a player and takes frames until io.EOF (or limit frames).
// In a synctest bubble, where nothing else runs, the player's waits take
// no real time and the times it records are exact.
func playAll(t testing.TB, s *Store, req PlayRequest, limit int) played {
	t.Helper()
	ctx := context.Background()
	p, err := s.Open(ctx, req)
	if err != nil {
		t.Fatalf("Open(%+v): %v", req, err)
	}
	out := played{opened: time.Now(), player: p}
	for limit <= 0 || len(out.frames) < limit {
		f, err := p.Next(ctx)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("Next: %v", err)
		}
		out.frames = append(out.frames, f)
		out.walls = append(out.walls, time.Now())
	}
	p.Close()
	for e := range p.Events() {
		out.events = append(out.events, e)
	}
	return out
}

// checkFrameShape checks that a played frame looks like a live one: SPS
// and PPS before an IDR, payloads within the limit that depacketize (with
// pion's depacketizer) back to the access unit.
func checkFrameShape(t testing.TB, f *cameras.Frame) {
	t.Helper()
	if len(f.AU) == 0 || len(f.Payloads) == 0 {
		t.Fatalf("empty frame %+v", f)
	}
	if f.Key {
		if h264.NALUType(f.AU[0][0]&0x1f) != h264.NALUTypeSPS || h264.NALUType(f.AU[1][0]&0x1f) != h264.NALUTypePPS {
			t.Fatalf("keyframe does not start with SPS, PPS: types %d %d", f.AU[0][0]&0x1f, f.AU[1][0]&0x1f)
		}
	}
	var got []byte
	size := 0
	var dp codecs.H264Packet
	for _, p := range f.Payloads {
		if len(p) > cameras.MaxPayloadSize {
			t.Fatalf("payload of %d bytes", len(p))
		}
		size += len(p)
		b, err := dp.Unmarshal(p)
		if err != nil {
			t.Fatalf("depacketize: %v", err)
		}
		got = append(got, b...)
	}
	if size != f.Size {
		t.Fatalf("Size %d, payloads %d", f.Size, size)
	}
	want, err := h264.AnnexB(f.AU).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(stripStartCodes(got), stripStartCodes(want)) {
		t.Fatalf("payloads do not depacketize to the access unit")
	}
}

// stripStartCodes reduces Annex-B to its NAL units' bytes, so that 3- and
// 4-byte start codes compare equal.
func stripStartCodes(b []byte) []byte {
	var au h264.AnnexB
	if err := au.Unmarshal(b); err != nil {
		return b
	}
	return bytes.Join(au, []byte{0xff, 0xfe})
}

// clipAU is frame k of the clip as the hub publishes it (without access
// unit delimiters).
func clipAU(c *demo.Clip, k int) [][]byte {
	var out [][]byte
	for _, n := range c.AccessUnit(k % c.Len()) {
		if h264.NALUType(n[0]&0x1f) != h264.NALUTypeAccessUnitDelimiter {
			out = append(out, n)
		}
	}
	return out
}

func sameAU(a, b [][]byte) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !bytes.Equal(a[i], b[i]) {
			return false
		}
	}
	return true
}

func openFile(camDir, rel string) (*os.File, error) {
	return os.Open(filepath.Join(camDir, filepath.FromSlash(rel)))
}

// startCameraRegistry pulls one camera (testCam) from an RTSP URL until
// the test ends, and returns its stream.
func startCameraRegistry(t testing.TB, url string) *cameras.CameraStream {
	t.Helper()
	settings := appsettings.Defaults()
	settings.Cameras = []appsettings.Camera{{
		Id: testCam, Transport: "tcp",
		Streams: []appsettings.Stream{{Id: testStream, Url: url, Default: true}},
	}}
	reg := cameras.NewRegistry(settings.Cameras, slog.New(slog.DiscardHandler))
	testutil.Run(t, reg.Run, reg.Started)
	cam, _ := reg.Camera(testCam)
	return cam.DefaultStream()
}

// startRecording records a new stream of the test camera into s, with a
// recorder run as camgate runs it (Run), and returns the feeder that plays
// the clip into the stream, the recorder, and the function that stops it
// (ending Run, which finishes the open fragment). The camera's first frame
// arrives at t0 exactly: the clock jumps there after the wait for Run to
// start, which may take a millisecond of the bubble's clock.
func startRecording(t testing.TB, s *Store) (*feeder, *Recorder, func()) {
	t.Helper()
	stream := cameras.NewStream(testCam, testStream)
	r, err := s.NewRecorder(stream)
	if err != nil {
		t.Fatal(err)
	}
	stop := testutil.Run(t, r.Run, r.Started)
	jumpTo(t, t0)
	return &feeder{t: t, clip: loadClip(t), stream: stream, rec: r}, r, stop
}
