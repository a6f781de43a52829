package gateway

import (
	"context"
	"testing"
	"time"

	"github.com/camgate/camgate/cameras"
)

// hubWithGOP is a stream whose GOP cache holds a keyframe and n-1 P frames
// 40 ms apart (25 fps).
func hubWithGOP(n int) *cameras.Stream {
	hub := cameras.NewStream("cam", "stream")
	hub.BeginEpoch(benchSPS, benchPPS)
	hub.WriteAU(0, [][]byte{benchNALU(true, 3000)})
	for i := 1; i < n; i++ {
		hub.WriteAU(int64(i)*3600, [][]byte{benchNALU(false, 1000)})
	}
	return hub
}

// The GOP a new viewer catches up with is paced: the keyframe at once, the
// others catchUpSpeed times faster than the camera sent them, and their
// timestamps (ms clock) say when they were sent.
func TestCatchUpIsPaced(t *testing.T) {
	const frames = 40
	src := newLiveSource(hubWithGOP(frames), 128, rtpClock{ticksPerSecond: 1000}, time.Now())
	src.start()
	defer src.close()
	ctx := context.Background()
	var ts []uint32
	for i := range frames {
		f, t0, err := src.next(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if f.Key != (i == 0) {
			t.Fatalf("frame %d: key = %v", i, f.Key)
		}
		ts = append(ts, t0)
	}
	// Frame i is due 40 ms × i / catchUpSpeed after the keyframe; timers
	// never fire early, so its send-time timestamp is at least that.
	step := 40 / catchUpSpeed
	for i := 1; i < frames; i++ {
		if got, least := ts[i]-ts[0], uint32(i*step); got < least {
			t.Fatalf("catch-up frame %d went %d ms after the keyframe, before it was due (%d ms)", i, got, least)
		}
		if ts[i] <= ts[i-1] {
			t.Fatalf("timestamps not increasing at %d: %v", i, ts)
		}
	}
}

// While a replay fills three quarters of the viewer's queue or more, it is
// not paced: waiting would overflow the queue with the live frames
// arriving behind it.
func TestCatchUpIsNotPacedIntoAFullQueue(t *testing.T) {
	const queue = 16
	src := newLiveSource(hubWithGOP(queue), queue, rtpClock{ticksPerSecond: 1000}, time.Now())
	src.start()
	defer src.close()
	next := func() {
		if _, _, err := src.next(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	// The keyframe, then three frames that leave 14, 13 and 12 queued.
	for range 4 {
		next()
	}
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
	src := newLiveSource(hubWithGOP(3), 128, rtpClock{ticksPerSecond: 1000}, time.Now())
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
