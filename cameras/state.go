package cameras

import (
	"sync"
	"time"
)

// State is what a camera stream is doing. docs/cameras.md ("Camera states")
// says what each means to an operator and what to do about it.
type State string

// States of a camera stream, as served by the cameras API and the
// cameraState events.
const (
	// StateConnecting: the first attempt since camgate started (dialing,
	// describing, setting up, waiting for the first frame).
	StateConnecting State = "connecting"
	// StateStreaming: frames are arriving.
	StateStreaming State = "streaming"
	// StateDegraded: frames are arriving and viewers get them, but the
	// camera sends something browsers play badly (B-frames); Cause and
	// Reason say what and what to do.
	StateDegraded State = "degraded"
	// StateReconnecting: the connection of a streaming camera has just
	// failed and camgate is connecting again; no frame from before the
	// failure is served.
	StateReconnecting State = "reconnecting"
	// StateOffline: an attempt failed (the camera does not answer, refuses
	// the connection or the stream, wants other credentials); camgate
	// retries with back-off.
	StateOffline State = "offline"
	// StateUnsupported: the camera answers but offers nothing camgate can
	// serve (H.265, MJPEG, no video at all).
	StateUnsupported State = "unsupported"
)

// Status is a snapshot of a stream's state.
type Status struct {
	State State
	// Cause classifies the last failure while the stream is not
	// streaming; empty while streaming and before the first failure.
	Cause Cause
	// Reason is the failure as a short sentence for a person ("wrong
	// user name or password"); empty when Cause is.
	Reason string
	// Detail is the library's own text of the failure, without
	// credentials: for the API's detail field and the log.
	Detail string
	// Since is when the stream entered State.
	Since time.Time
}

// statusBox guards a Status shared by the supervisor and its readers (the
// API, and the watchers that relay changes to viewers).
type statusBox struct {
	mu       sync.Mutex
	st       Status
	watchers map[*statusWatcher]struct{}
}

type statusWatcher struct{ fn func(Status) }

// set moves the stream to state with the failure f (nil: none) and tells
// the watchers when the state or the reason changed. A new Detail alone
// (the same failure in other words) is kept without a notice.
func (b *statusBox) set(state State, f *Failure) {
	b.mu.Lock()
	defer b.mu.Unlock()
	next := Status{State: state, Since: b.st.Since}
	if f != nil {
		next.Cause, next.Reason, next.Detail = f.Cause, f.Reason, f.Detail
	}
	changed := next.State != b.st.State || next.Cause != b.st.Cause || next.Reason != b.st.Reason
	if next.State != b.st.State || next.Since.IsZero() {
		next.Since = time.Now().UTC()
	}
	b.st = next
	if !changed {
		return
	}
	// Under the lock, so that every watcher sees the changes in order
	// and none after its stop returned.
	for w := range b.watchers {
		w.fn(next)
	}
}

func (b *statusBox) get() Status {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.st
}

// watch calls fn with the status now, then at every change, until stop.
func (b *statusBox) watch(fn func(Status)) (stop func()) {
	w := &statusWatcher{fn: fn}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.watchers == nil {
		b.watchers = map[*statusWatcher]struct{}{}
	}
	b.watchers[w] = struct{}{}
	fn(b.st)
	return func() {
		b.mu.Lock()
		delete(b.watchers, w)
		b.mu.Unlock()
	}
}
