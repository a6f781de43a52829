package cameras

import (
	"sync"
	"time"
)

// State is what a camera stream is doing.
type State string

// States of a camera stream, as served by the cameras API.
const (
	StateConnecting  State = "connecting"  // dialing, describing, setting up
	StateStreaming   State = "streaming"   // frames are arriving
	StateRetrying    State = "retrying"    // the last attempt failed; waiting to retry
	StateUnsupported State = "unsupported" // the camera offers no H.264 video
)

// Status is a snapshot of a stream's state.
type Status struct {
	State State
	// LastError is the reason of the last failure, without credentials.
	LastError string
	// Since is when the stream entered State.
	Since time.Time
}

// statusBox guards a Status shared by the supervisor and API readers.
type statusBox struct {
	mu sync.Mutex
	st Status
}

func (b *statusBox) set(state State, lastErr string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.st.State != state {
		b.st.Since = time.Now().UTC()
	}
	b.st.State = state
	if lastErr != "" {
		b.st.LastError = lastErr
	}
}

func (b *statusBox) get() Status {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.st
}
