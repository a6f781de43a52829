package rtc

import (
	"context"
	"errors"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/camgate/camgate/cameras"
	"github.com/camgate/camgate/cameras/testutil"
)

// hubWithGOP is a stream whose GOP cache holds a keyframe and n-1 P frames
// 40 ms apart (25 fps).
func hubWithGOP(n int) *cameras.Stream {
	hub := cameras.NewStream("cam", "stream")
	hub.BeginEpoch(benchSPS, benchPPS)
	hub.WriteAU(0, [][]byte{testutil.H264Slice(true, 3000)})
	for i := 1; i < n; i++ {
		hub.WriteAU(int64(i)*3600, [][]byte{testutil.H264Slice(false, 1000)})
	}
	return hub
}

// The GOP a new viewer catches up with is paced: the keyframe at once, the
// others catchUpSpeed times faster than the camera sent them, with
// timestamps one step (1 ms) apart.
func TestCatchUpIsPaced(t *testing.T) {
	t.Parallel()
	const frames = 40
	src := newLiveSource(hubWithGOP(frames), cameras.CodecH264, 128, rtpClock{ticksPerSecond: 1000}, time.Now())
	src.start()
	defer src.close()
	ctx := context.Background()
	var ts []uint32
	var sent []time.Time
	for i := range frames {
		f, t0, err := src.next(ctx)
		if err != nil {
			t.Fatal(err)
		}
		sent = append(sent, time.Now())
		if f.Key != (i == 0) {
			t.Fatalf("frame %d: key = %v", i, f.Key)
		}
		ts = append(ts, t0)
	}
	// Frame i is due 40 ms × i / catchUpSpeed after the keyframe; timers
	// never fire early, so it cannot have been sent sooner.
	step := 40 * time.Millisecond / catchUpSpeed
	for i := 1; i < frames; i++ {
		if got, least := sent[i].Sub(sent[0]), time.Duration(i)*step; got < least {
			t.Fatalf("catch-up frame %d went %v after the keyframe, before it was due (%v)", i, got, least)
		}
		if ts[i] != ts[0]+uint32(i) {
			t.Fatalf("catch-up timestamps %v, want 1 ms apart", ts)
		}
	}
}

// A jump in the camera's timestamps inside the cached GOP (or a huge one
// that would overflow the conversion) delays the next replayed frame by at
// most maxCatchUpGap.
func TestCatchUpWaitIsBounded(t *testing.T) {
	t.Parallel()
	src := newLiveSource(nil, cameras.CodecH264, 128, rtpClock{ticksPerSecond: 1000}, time.Now())
	now := time.Now()
	src.catchUpDue(&cameras.Frame{Key: true, PTS: 0, DTS: 0}, now)
	if due := src.catchUpDue(&cameras.Frame{PTS: 3600, DTS: 3600}, now); due.Sub(now) != 40*time.Millisecond/catchUpSpeed {
		t.Fatalf("a 40 ms frame is due after %v, want %v", due.Sub(now), 40*time.Millisecond/catchUpSpeed)
	}
	for _, jump := range []int64{16 * 90000, 30 * 3600 * 90000, 1 << 62} {
		src.catchUpDue(&cameras.Frame{Key: true, PTS: 0, DTS: 0}, now)
		if due := src.catchUpDue(&cameras.Frame{PTS: jump, DTS: jump}, now); due.Sub(now) > maxCatchUpGap || due.Before(now) {
			t.Fatalf("after a jump of %d ticks the frame is due in %v, want at most %v", jump, due.Sub(now), maxCatchUpGap)
		}
	}
	// A camera whose clock went backwards: due at once.
	src.catchUpDue(&cameras.Frame{Key: true, PTS: 900000, DTS: 900000}, now)
	if due := src.catchUpDue(&cameras.Frame{PTS: 0, DTS: 0}, now); !due.Equal(now) {
		t.Fatalf("a frame with an earlier PTS is due in %v, want now", due.Sub(now))
	}
}

// Live frames that queued behind a paced catch-up keep the time they reached
// the hub as their timestamp, not the later time they were sent: otherwise
// the browser would hold every later frame back by that delay.
func TestLiveFramesKeepTheirArrivalTime(t *testing.T) {
	t.Parallel()
	// In a bubble: the sleep is exact, so the live frame surely arrives
	// after the replay's last timestamp however busy the machine is.
	synctest.Test(t, func(t *testing.T) {
		const gop = 20
		hub := hubWithGOP(gop)
		origin := time.Now()
		src := newLiveSource(hub, cameras.CodecH264, 128, rtpClock{ticksPerSecond: 1000}, origin)
		src.start()
		defer src.close()
		ctx := context.Background()
		if _, _, err := src.next(ctx); err != nil { // the keyframe
			t.Fatal(err)
		}
		// The replay's timestamps end about 20 ms after the keyframe's; this
		// live frame arrives later than that, while the replay is still paced.
		time.Sleep(60 * time.Millisecond)
		livePTS := int64(gop) * 3600
		hub.WriteAU(livePTS, [][]byte{testutil.H264Slice(false, 1000)})
		for range gop {
			f, ts, err := src.next(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if f.PTS != livePTS {
				continue
			}
			if want := uint32(f.Arrived.Sub(origin) / time.Millisecond); ts != want {
				t.Fatalf("live frame timestamp %d ms, want its arrival %d ms (sent %v after arriving)", ts, want, time.Since(f.Arrived))
			}
			return
		}
		t.Fatal("the live frame never came")
	})
}

// While live frames pile up behind a replay and fill three quarters of the
// viewer's queue, the replay is not paced: waiting would overflow the queue.
func TestCatchUpIsNotPacedIntoAFullQueue(t *testing.T) {
	t.Parallel()
	const queue, gop = 16, 8
	hub := hubWithGOP(gop)
	src := newLiveSource(hub, cameras.CodecH264, queue, rtpClock{ticksPerSecond: 1000}, time.Now())
	src.start()
	defer src.close()
	next := func() {
		if _, _, err := src.next(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	next() // the keyframe; 7 replayed frames wait
	for i := range 6 {
		hub.WriteAU(int64(gop+i)*3600, [][]byte{testutil.H264Slice(false, 1000)})
	}
	next() // 12 of 16 left queued: sent at once
	if src.pace != nil {
		t.Fatal("the catch-up waited although the queue was three quarters full")
	}
	next() // 11 left: paced again
	if src.pace == nil {
		t.Fatal("the catch-up did not wait once the queue had room")
	}
}

// Closing the session (its context) ends a paced wait.
func TestCatchUpWaitEndsWithTheSession(t *testing.T) {
	t.Parallel()
	src := newLiveSource(hubWithGOP(3), cameras.CodecH264, 128, rtpClock{ticksPerSecond: 1000}, time.Now())
	src.start()
	defer src.close()
	ctx, cancel := context.WithCancel(context.Background())
	if _, _, err := src.next(ctx); err != nil { // the keyframe
		t.Fatal(err)
	}
	cancel()
	if _, _, err := src.next(ctx); err == nil {
		t.Fatal("next returned a frame after the context ended")
	}
}

// A viewer's queue may still hold frames when the camera fails: none of
// them reaches the viewer after the failure, the catch-up it was pacing
// included, and the next run's keyframe does.
func TestLiveSourceDropsQueuedFramesAtAFailure(t *testing.T) {
	t.Parallel()
	hub := hubWithGOP(20)
	src := newLiveSource(hub, cameras.CodecH264, 128, rtpClock{ticksPerSecond: 1000}, time.Now())
	src.start()
	defer src.close()
	for i := 20; i < 30; i++ { // live frames behind the catch-up
		hub.WriteAU(int64(i)*3600, [][]byte{testutil.H264Slice(false, 1000)})
	}
	if f, _, err := src.next(context.Background()); err != nil || !f.Key {
		t.Fatalf("first frame before the failure: %v, %v; want the cached keyframe", f, err)
	}
	if queued, _ := src.reader.Backlog(); queued < 20 {
		t.Fatalf("only %d frames queued; the test needs a backlog", queued)
	}
	before := hub.Stats().Epoch

	hub.Interrupt()
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	f, _, err := src.next(ctx)
	cancel()
	if err == nil {
		t.Fatalf("after the failure the viewer got a frame of epoch %d (key %v) from before it", f.Epoch, f.Key)
	}

	hub.BeginEpoch(benchSPS, benchPPS)
	hub.WriteAU(0, [][]byte{testutil.H264Slice(true, 3000)})
	ctx, cancel = context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	f, _, err = src.next(ctx)
	if err != nil || !f.Key || f.Epoch <= before {
		t.Fatalf("after the reconnect: frame %+v, %v; want the new run's keyframe", f, err)
	}
}

// A session negotiated for one codec whose camera sends another (an H.265
// camera not yet connected when the session was made said H.264) is not
// left black: the live source ends with the reason, which the session
// passes on as it closes (Session.endFor).
func TestLiveSourceEndsWhenTheCameraSendsAnotherCodec(t *testing.T) {
	t.Parallel()
	src := newLiveSource(hubWithGOP(3), cameras.CodecH265, 128, rtpClock{ticksPerSecond: 1000}, time.Now())
	src.start()
	defer src.close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second) // bounds a hang only
	defer cancel()
	f, _, err := src.next(ctx)
	var changed *codecChangedError
	if !errors.As(err, &changed) {
		t.Fatalf("next: frame %v, error %v; want a codecChangedError", f, err)
	}
	if msg := err.Error(); !strings.Contains(msg, "the camera now sends H.264") || !strings.Contains(msg, "negotiated H.265") {
		t.Fatalf("error %q does not say which codecs", msg)
	}
}
