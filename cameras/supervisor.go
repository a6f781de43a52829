package cameras

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"sync/atomic"
	"time"
)

// Reconnect back-off. A run that streamed for healthyRun resets the delay, so
// a camera that drops once a day reconnects at once, while one that fails
// repeatedly is retried ever more slowly up to maxRetryDelay.
const (
	minRetryDelay  = 500 * time.Millisecond
	maxRetryDelay  = 30 * time.Second
	healthyRun     = 10 * time.Second
	problemsPeriod = 30 * time.Second
)

// supervisor keeps one camera stream pulled: it runs the RTSP source, records
// the stream's state and retries with exponential back-off and jitter.
type supervisor struct {
	url       string
	transport string
	stream    *Stream
	log       *slog.Logger
	status    statusBox
	counters  ingestCounters
	// reconnects counts the connection attempts after the first.
	reconnects atomic.Uint64
}

func (sv *supervisor) run(ctx context.Context) {
	delay := minRetryDelay
	// run returns only once ctx is done; it waits for the reporter so that
	// Registry.Close returns with no goroutine of the supervisor left.
	reporterDone := make(chan struct{})
	go func() {
		defer close(reporterDone)
		sv.reportProblems(ctx)
	}()
	defer func() { <-reporterDone }()
	for {
		sv.status.set(StateConnecting, "")
		started := time.Now()
		pull := &rtspPull{
			url:       sv.url,
			transport: sv.transport,
			stream:    sv.stream,
			counters:  &sv.counters,
			log:       sv.log,
			onFirstFrame: func() {
				sv.status.set(StateStreaming, "")
				sv.log.Info("camera streaming")
			},
		}
		err := pull.run(ctx)
		if ctx.Err() != nil {
			return
		}
		if time.Since(started) >= healthyRun {
			delay = minRetryDelay
		}
		wait := jitter(delay)
		var unsupported *UnsupportedError
		if errors.As(err, &unsupported) {
			sv.status.set(StateUnsupported, unsupported.Reason)
			sv.log.Warn("camera unsupported", "reason", unsupported.Reason)
			wait = maxRetryDelay
		} else {
			msg := "stream ended"
			if err != nil {
				msg = err.Error()
			}
			sv.status.set(StateRetrying, msg)
			sv.log.Warn("camera stream failed; retrying", "error", msg, "retryIn", wait.Round(time.Millisecond))
			delay = min(delay*2, maxRetryDelay)
		}
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
