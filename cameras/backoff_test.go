package cameras

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/bluenviron/gortsplib/v4/pkg/base"
	"github.com/bluenviron/gortsplib/v4/pkg/liberrors"
)

// The back-off tests run the supervisor against a fake camera in a
// synctest bubble: time is virtual, so outages of half a minute take no
// time and the figures asserted are exact, not wall-clock measurements.

// fakeCamera is a source whose availability the test switches. While it
// is down an attempt fails at once (connection refused, or refuse when
// set); while it is up an attempt delivers its first frame after
// fakeConnectTime and lasts until the camera goes down.
type fakeCamera struct {
	mu       sync.Mutex
	up       bool
	down     chan struct{} // closed when the camera goes down
	refuse   error         // what a down camera answers (nil: connection refused)
	attempts []time.Time   // when each attempt started
	frames   []time.Time   // when each attempt delivered its first frame
}

// fakeConnectTime is a camera's connect, DESCRIBE, SETUP, PLAY and first
// keyframe.
const fakeConnectTime = 30 * time.Millisecond

func errRefused() error {
	return fmt.Errorf("describe: %w", &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)})
}

func (c *fakeCamera) pull(ctx context.Context, firstFrame func()) error {
	c.mu.Lock()
	c.attempts = append(c.attempts, time.Now())
	up, down, refuse := c.up, c.down, c.refuse
	c.mu.Unlock()
	if !up {
		if refuse != nil {
			return refuse
		}
		return errRefused()
	}
	select {
	case <-time.After(fakeConnectTime):
	case <-down:
		return io.EOF
	case <-ctx.Done():
		return ctx.Err()
	}
	c.mu.Lock()
	c.frames = append(c.frames, time.Now())
	c.mu.Unlock()
	firstFrame()
	select {
	case <-down:
		return io.EOF
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (c *fakeCamera) setUp(up bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if up == c.up {
		return
	}
	c.up = up
	if up {
		c.down = make(chan struct{})
	} else {
		close(c.down)
	}
}

// firstFrameAfter is when the camera first delivered a frame at or after t.
func (c *fakeCamera) firstFrameAfter(t time.Time) (time.Time, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, f := range c.frames {
		if !f.Before(t) {
			return f, true
		}
	}
	return time.Time{}, false
}

// gaps returns the time between the starts of attempts made in [from, to).
func (c *fakeCamera) gaps(from, to time.Time) []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []time.Duration
	var prev time.Time
	for _, a := range c.attempts {
		if a.Before(from) || !a.Before(to) {
			continue
		}
		if !prev.IsZero() {
			out = append(out, a.Sub(prev))
		}
		prev = a
	}
	return out
}

// runFakeSupervisor runs a supervisor on cam until the test's bubble ends.
func runFakeSupervisor(t *testing.T, cam *fakeCamera) *supervisor {
	t.Helper()
	sv := &supervisor{url: "rtsp://cam.invalid/stream", transport: "tcp", stream: NewStream("cam", "s"), log: discardLog(), pull: cam.pull}
	sv.status.set(StateConnecting, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		sv.run(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	return sv
}

// maxResume is the longest a flapping camera may take to deliver video
// after it answers again: the recent cap with its jitter, then the
// camera's own connect time. The budget is 2 s.
const maxResume = time.Duration(float64(time.Second)*1.2) + fakeConnectTime

func TestBackoffFlappingCameraResumesQuickly(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		up      []time.Duration // before each outage
		outages []time.Duration
	}{
		// The pattern: it came back after 1.1, 1.1, 6, 12 and
		// 24–33 s before the back-off reset on frames.
		{"3 s down, 5 s up, five times", []time.Duration{5 * time.Second, 5 * time.Second, 5 * time.Second, 5 * time.Second, 5 * time.Second},
			[]time.Duration{3 * time.Second, 3 * time.Second, 3 * time.Second, 3 * time.Second, 3 * time.Second}},
		{"outages of 1 to 30 s, short and long up-times", []time.Duration{time.Second, 200 * time.Millisecond, 40 * time.Second, 2 * time.Second, 500 * time.Millisecond, 90 * time.Second},
			[]time.Duration{30 * time.Second, time.Second, 12 * time.Second, 2 * time.Second, 25 * time.Second, 7 * time.Second}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				cam := &fakeCamera{}
				cam.setUp(true)
				runFakeSupervisor(t, cam)
				for i, outage := range tc.outages {
					time.Sleep(tc.up[i])
					cam.setUp(false)
					time.Sleep(outage)
					back := time.Now()
					cam.setUp(true)
					time.Sleep(2 * maxResume)
					got, ok := cam.firstFrameAfter(back)
					if !ok {
						t.Fatalf("outage %d (%v): no frame within %v of the camera's return", i+1, outage, 2*maxResume)
					}
					if d := got.Sub(back); d > maxResume {
						t.Errorf("outage %d (%v): video %v after the camera answered again, want at most %v", i+1, outage, d, maxResume)
					} else {
						t.Logf("outage %d (%v): video %v after the camera answered again", i+1, outage, d)
					}
				}
			})
		})
	}
}

func TestBackoffGrowsWhileDownAndIsCapped(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		p := defaultRetry()
		cam := &fakeCamera{}
		cam.setUp(true)
		runFakeSupervisor(t, cam)
		time.Sleep(time.Second)
		wentDown := time.Now()
		cam.setUp(false)
		// Down for 20 minutes: the recent cap first, the long cap once
		// the camera last streamed more than RecentWindow ago.
		time.Sleep(20 * time.Minute)
		recent := cam.gaps(wentDown, wentDown.Add(p.RecentWindow))
		if len(recent) < 4 {
			t.Fatalf("only %d attempts in the first %v of the outage", len(recent)+1, p.RecentWindow)
		}
		for i, g := range recent {
			// The attempt after the failure came First after it; the
			// gaps from there double up to the cap.
			want := min(p.First<<min(i+1, 10), p.RecentCap)
			if g < time.Duration(float64(want)*0.8) || g > time.Duration(float64(want)*1.2)+time.Millisecond {
				t.Fatalf("gap %d after the camera went down = %v, want %v ±20%% (gaps %v)", i+1, g, want, recent[:min(len(recent), 8)])
			}
		}
		long := cam.gaps(wentDown.Add(p.RecentWindow+2*p.LongCap), time.Now())
		if len(long) == 0 {
			t.Fatal("no attempts after the recent window")
		}
		for i, g := range long {
			if g < time.Duration(float64(p.LongCap)*0.8) || g > time.Duration(float64(p.LongCap)*1.2)+time.Millisecond {
				t.Fatalf("gap %d long after the camera went down = %v, want the long cap %v ±20%%", i+1, g, p.LongCap)
			}
		}
		// Back after 20 minutes: within the long cap, and then the next
		// outage starts from the first delay again.
		back := time.Now()
		cam.setUp(true)
		time.Sleep(p.LongCap*2 + time.Second)
		if _, ok := cam.firstFrameAfter(back); !ok {
			t.Fatal("no frame within two long caps of the camera's return")
		}
		again := time.Now()
		cam.setUp(false)
		time.Sleep(3 * time.Second)
		g := cam.gaps(again, time.Now())
		if len(g) == 0 || g[0] > time.Duration(float64(2*p.First)*1.2)+time.Millisecond {
			t.Fatalf("gaps after frames flowed again = %v, want the back-off reset (second delay %v)", g, 2*p.First)
		}
	})
}

// A camera that never streams is tried ever more slowly up to the long
// cap; so is one whose failure needs the operator, at once.
func TestBackoffNeverStreamedAndOperatorFailures(t *testing.T) {
	t.Parallel()
	p := defaultRetry()
	for _, tc := range []struct {
		name   string
		refuse error
		// wantFirst is the second gap's expected delay (the first one
		// follows the first attempt, made at once).
		wantLong bool
	}{
		{name: "refused, never streamed", refuse: nil},
		{name: "wrong password", refuse: fmt.Errorf("describe: %w", liberrors.ErrClientBadStatusCode{Code: base.StatusUnauthorized, Message: "Unauthorized"}), wantLong: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				cam := &fakeCamera{refuse: tc.refuse}
				start := time.Now()
				sv := runFakeSupervisor(t, cam)
				time.Sleep(3 * time.Minute)
				gaps := cam.gaps(start, time.Now())
				for i, g := range gaps {
					want := min(p.First<<min(i, 10), p.LongCap)
					if tc.wantLong {
						want = p.LongCap
					}
					if g < time.Duration(float64(want)*0.8) || g > time.Duration(float64(want)*1.2)+time.Millisecond {
						t.Fatalf("gap %d = %v, want %v ±20%% (gaps %v)", i+1, g, want, gaps[:min(len(gaps), 10)])
					}
				}
				if st := sv.status.get(); st.State != StateOffline {
					t.Fatalf("status = %+v, want offline", st)
				}
			})
		})
	}
}

// The states a viewer is told about, in order, with the hub already empty
// of the picture from before the failure when it hears of it.
func TestSupervisorStatesAndInterrupt(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		cam := &fakeCamera{}
		sv := runFakeSupervisor(t, cam)
		type seen struct {
			st        Status
			gopFrames int
		}
		var mu sync.Mutex
		var got []seen
		stop := sv.status.watch(func(st Status) {
			mu.Lock()
			defer mu.Unlock()
			got = append(got, seen{st, sv.stream.Stats().GOPFrames})
		})
		defer stop()
		time.Sleep(5 * time.Second) // offline: refused
		cam.setUp(true)
		// Never streamed: the next attempt may be up to the long cap away.
		time.Sleep(defaultRetry().LongCap*2 + time.Second) // streaming
		// The hub has a picture; the failure must drop it before anyone
		// is told.
		sv.stream.BeginEpoch(testSPS, testPPS)
		feed(sv.stream, 0, 10, 25)
		cam.setUp(false)
		time.Sleep(5 * time.Second) // reconnecting, then offline
		cam.setUp(true)
		time.Sleep(2 * time.Second) // streaming again: it streamed recently

		mu.Lock()
		defer mu.Unlock()
		want := []struct {
			state State
			cause Cause
		}{
			{StateConnecting, ""},
			{StateOffline, CauseRefused},
			{StateStreaming, ""},
			{StateReconnecting, CauseEnded},
			{StateOffline, CauseRefused},
			{StateStreaming, ""},
		}
		if len(got) != len(want) {
			t.Fatalf("saw %d states, want %d: %+v", len(got), len(want), got)
		}
		for i, w := range want {
			g := got[i]
			if g.st.State != w.state || g.st.Cause != w.cause {
				t.Errorf("change %d = %s/%s, want %s/%s", i, g.st.State, g.st.Cause, w.state, w.cause)
			}
			if g.st.State != StateStreaming && g.gopFrames != 0 {
				t.Errorf("change %d (%s): the hub still held %d frames of the GOP from before the failure", i, g.st.State, g.gopFrames)
			}
		}
		if got[3].st.Reason != "the camera ended the stream" || got[4].st.Reason != "the camera refused the connection" {
			t.Errorf("reasons = %q, %q", got[3].st.Reason, got[4].st.Reason)
		}
	})
}
