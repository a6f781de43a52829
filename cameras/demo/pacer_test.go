package demo

import (
	"context"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pion/rtp"
)

// sentFrame is a frame the pacer wrote: its RTP timestamp (from the base),
// the wall time it was written at and the one it was due at.
type sentFrame struct {
	ts       uint32
	at, slot time.Time
}

// paceWithStall runs a pacer at testFPS for run (in a synctest bubble, so
// time is virtual and exact) whose write is held up for stall once, at
// frame 20, as a busy machine holds up a camera's sender.
func paceWithStall(t *testing.T, stall, run time.Duration) (frames []sentFrame, start time.Time) {
	t.Helper()
	clip := smallClip(t, testFrames)
	synctest.Test(t, func(t *testing.T) {
		var mu sync.Mutex
		var p *pacer
		p, err := newPacerWriting(config{clip: clip, fps: testFPS, inBand: true}, &counters{}, func(pkts []*rtp.Packet, ntp time.Time) error {
			mu.Lock()
			frames = append(frames, sentFrame{ts: pkts[0].Timestamp - p.tsBase, at: time.Now(), slot: ntp})
			n := len(frames)
			mu.Unlock()
			if n == 20 {
				time.Sleep(stall)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		start = time.Now()
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() {
			defer close(done)
			p.run(ctx)
		}()
		time.Sleep(run)
		cancel()
		<-done
	})
	return frames, start
}

// A pacer held up for less than maxLag sends the frames it owes at once:
// every frame, one slot apart, and its timestamps keep to the wall clock
// (a pacer that dropped the missed ticks instead fell behind for good, and
// a recorder saw the camera's clock drift from its own).
func TestPacerCatchesUpAfterAStall(t *testing.T) {
	t.Parallel()
	const stall = 300 * time.Millisecond
	// Half a slot past 2 s, so the run does not end on a slot.
	frames, start := paceWithStall(t, stall, 2*time.Second+5*time.Millisecond)
	for k, f := range frames {
		if k > 0 && f.ts-frames[k-1].ts != ptsStep {
			t.Fatalf("frame %d: timestamp step %d, want %d (no frame skipped)", k, f.ts-frames[k-1].ts, ptsStep)
		}
		if late := f.at.Sub(f.slot); late < 0 || late > stall {
			t.Fatalf("frame %d written %v after its slot, want 0 to %v", k, late, stall)
		}
		if want := time.Duration(f.ts) * time.Second / clockRate; f.slot.Sub(start) != want {
			t.Fatalf("frame %d: slot at %v, timestamp says %v", k, f.slot.Sub(start), want)
		}
	}
	// Caught up: a frame for every slot of the 2 s, and the last on time.
	if want := 2*testFPS + 1; len(frames) != want {
		t.Fatalf("%d frames in 2 s, want %d (one per slot)", len(frames), want)
	}
	if last := frames[len(frames)-1]; !last.at.Equal(last.slot) {
		t.Fatalf("last frame written %v after its slot, want on time", last.at.Sub(last.slot))
	}
}

// Held up for longer than maxLag, the pacer skips the slots it missed
// instead of sending a backlog: the timestamps jump once, and no frame is
// written late.
func TestPacerSkipsSlotsAfterALongStall(t *testing.T) {
	t.Parallel()
	const stall = 3 * time.Second
	frames, _ := paceWithStall(t, stall, 5*time.Second+5*time.Millisecond)
	jumps := 0
	for k, f := range frames {
		if late := f.at.Sub(f.slot); late != 0 {
			t.Fatalf("frame %d written %v after its slot, want on time", k, late)
		}
		if k == 0 {
			continue
		}
		switch step := f.ts - frames[k-1].ts; {
		case step == ptsStep:
		case step > ptsStep && time.Duration(step)*time.Second/clockRate >= stall-maxLag:
			jumps++
		default:
			t.Fatalf("frame %d: timestamp step %d", k, step)
		}
	}
	if jumps != 1 {
		t.Fatalf("%d timestamp jumps, want 1 (after the stall)", jumps)
	}
}
