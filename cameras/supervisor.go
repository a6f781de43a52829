package cameras

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"sync/atomic"
	"time"

	"github.com/camgate/camgate/appsettings"
)

// Reconnect back-off (docs/cameras.md, "Camera states"). The delay grows
// only while attempts in a row deliver no frame, and starts over as soon as
// frames flow: a camera that flaps gets the short delays after every
// outage, however many there are and however short its up-time between
// them. The cap depends on how long ago the camera last streamed, so a
// camera that was streaming minutes ago is back within about a second of
// answering again, while one that has been down for long (or never
// streamed) is tried less often.
func defaultRetry() retryPolicy {
	return retryPolicy{
		// The wait before the first attempt after a failure; each further
		// failed attempt doubles it up to the cap.
		First: 250 * time.Millisecond,
		// With the jitter a camera that streamed within RecentWindow is
		// tried at least every 1.2 s, so viewers get video about a second
		// after it answers again (plus its wait for a keyframe).
		RecentCap:    time.Second,
		RecentWindow: 5 * time.Minute,
		// For a camera down longer than RecentWindow or that never streamed,
		// and after a failure that needs the operator.
		LongCap: 10 * time.Second,
	}
}

// problemsPeriod is how often per-packet problems are summed up in the log.
const problemsPeriod = 30 * time.Second

// retryPolicy is the back-off's figures (defaultRetry; tests shorten them).
type retryPolicy struct {
	First        time.Duration // the first delay after a failure
	RecentCap    time.Duration // the cap while the camera streamed within RecentWindow
	RecentWindow time.Duration // how long after its last frame a camera counts as recent
	LongCap      time.Duration // the cap otherwise; the delay after failures that need the operator
}

// backoff is the supervisor's retry schedule; see defaultRetry.
type backoff struct {
	policy       retryPolicy
	failures     int       // attempts in a row that delivered no frame
	lastStreamed time.Time // when a run last delivered frames (zero: never)
}

// next returns the wait before the next attempt, for an attempt that ended
// at now; streamed tells whether it delivered frames.
func (b *backoff) next(now time.Time, streamed bool, f *Failure) time.Duration {
	p := b.policy
	if streamed {
		b.failures, b.lastStreamed = 0, now
	}
	b.failures++
	if f.needsOperator() {
		// Retrying soon cannot fix it, and it spares cameras that lock
		// an account after a few failed logins.
		return p.LongCap
	}
	limit := p.LongCap
	if !b.lastStreamed.IsZero() && now.Sub(b.lastStreamed) < p.RecentWindow {
		limit = p.RecentCap
	}
	// Shifted at most 10 times: past any sensible cap, without overflow.
	return min(p.First<<min(b.failures-1, 10), limit)
}

// pullFunc is one run of a stream's source: it returns when the
// connection fails or ctx ends, and calls firstFrame when the first frame
// reaches the hub.
type pullFunc func(ctx context.Context, firstFrame func()) error

// supervisor keeps one camera stream pulled: it runs the RTSP source, records
// the stream's state and retries with back-off and jitter.
type supervisor struct {
	url       string
	transport appsettings.Transport
	stream    *Stream
	log       *slog.Logger
	status    statusBox
	counters  ingestCounters
	// reconnects counts the connection attempts after the first.
	reconnects atomic.Uint64
	// pull replaces the RTSP source in tests (nil: RTSP).
	pull pullFunc
	// retry replaces defaultRetry in tests (nil: defaultRetry).
	retry *retryPolicy
}

// pullRTSP is the RTSP source's run.
func (sv *supervisor) pullRTSP(ctx context.Context, firstFrame func()) error {
	p := &rtspPull{
		url:          sv.url,
		transport:    sv.transport,
		stream:       sv.stream,
		counters:     &sv.counters,
		log:          sv.log,
		onFirstFrame: firstFrame,
	}
	return p.run(ctx)
}

func (sv *supervisor) run(ctx context.Context) {
	pull := sv.pull
	if pull == nil {
		pull = sv.pullRTSP
	}
	// run returns only once ctx is done; it waits for the reporter so that
	// Registry.Run returns with no goroutine of the supervisor left.
	reporterDone := make(chan struct{})
	go func() {
		defer close(reporterDone)
		sv.reportProblems(ctx)
	}()
	defer func() { <-reporterDone }()
	sv.stream.setHooks(streamHooks{
		reordered: func() {
			f := bFramesFailure()
			sv.status.set(StateDegraded, f)
			sv.log.Warn("camera degraded", "cause", string(f.Cause), "reason", f.Reason, "error", f.Detail)
		},
		badTimestamps: sv.counters.decodeError,
	})
	bo := backoff{policy: defaultRetry()}
	if sv.retry != nil {
		bo.policy = *sv.retry
	}
	var (
		last     Failure // of the attempt before, to log a repeat at debug
		attempts int     // failed attempts in a row with the same failure
	)
	for {
		var streamed atomic.Bool
		err := pull(ctx, func() {
			streamed.Store(true)
			sv.status.set(StateStreaming, nil)
			sv.log.Info("camera streaming")
		})
		if ctx.Err() != nil {
			return
		}
		// Before anyone hears of the failure: from here on no viewer,
		// new or old, gets a frame from before it.
		sv.stream.Interrupt()
		f := classify(err, sv.url)
		wait := jitter(bo.next(time.Now(), streamed.Load(), &f))
		state := StateOffline
		switch {
		case f.Cause == CauseUnsupportedCodec || f.Cause == CauseNoVideo:
			state = StateUnsupported
		case streamed.Load():
			state = StateReconnecting
		}
		sv.status.set(state, &f)
		// One warning per new failure; a camera that stays away for an
		// hour does not write a line per attempt.
		if streamed.Load() || f.Cause != last.Cause || f.Reason != last.Reason {
			attempts = 0
			sv.log.Warn("camera "+string(state), "cause", string(f.Cause), "reason", f.Reason, "error", f.Detail,
				"retryIn", wait.Round(time.Millisecond))
		} else {
			sv.log.Debug("camera still "+string(state), "cause", string(f.Cause), "error", f.Detail,
				"attempts", attempts+1, "retryIn", wait.Round(time.Millisecond))
		}
		last = f
		attempts++
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		sv.reconnects.Add(1)
	}
}

// reportProblems logs per-packet problems as one line per period instead of
// one line per packet.
func (sv *supervisor) reportProblems(ctx context.Context) {
	t := time.NewTicker(problemsPeriod)
	defer t.Stop()
	var lastDecode, lastLost uint64
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		dec, lost := sv.counters.decodeErrors.Load(), sv.counters.packetsLost.Load()
		if dec == lastDecode && lost == lastLost {
			continue
		}
		last, _ := sv.counters.lastError.Load().(string)
		sv.log.Warn("camera stream problems", "decodeErrors", dec-lastDecode, "packetsLost", lost-lastLost,
			"period", problemsPeriod, "lastError", scrubText(last, sv.url))
		lastDecode, lastLost = dec, lost
	}
}

// jitter spreads retries of many cameras (after a switch reboots, say) over
// ±20% of the delay so they do not reconnect in lockstep.
func jitter(d time.Duration) time.Duration {
	return time.Duration(float64(d) * (0.8 + 0.4*rand.Float64()))
}
