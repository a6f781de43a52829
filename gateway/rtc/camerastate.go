package rtc

import (
	"sync"
	"time"

	"github.com/camgate/camgate/cameras"
)

// Honest state: a live viewer learns at once when its camera stops (and
// starts again), on the commands data channel and, for a session signaled
// over the WebSocket, as a notification on that socket. docs/api.md has
// the shapes, docs/cameras.md what the states mean.

// CameraStateEvent tells a live viewer that its camera stream changed
// state: State is connecting, streaming, degraded, reconnecting, offline
// or unsupported; Cause and Reason say why while it is not streaming. The
// library's raw text of the failure is only in the cameras API's detail
// field and the log.
type CameraStateEvent struct {
	CameraID string
	StreamID string
	State    string
	Cause    string
	Reason   string
	Since    time.Time
}

// EventName is "cameraState".
func (CameraStateEvent) EventName() string { return "cameraState" }

// cameraStateRelay passes a live session's camera state changes on: to the
// commands channel always, and to a hook (the WebSocket's notification)
// once one is set. A viewer takes its camera to work until told otherwise,
// so only news is sent: a session that starts while the camera streams (or
// makes its first connection, at camgate's start) hears nothing until the
// camera fails; one that starts while it is down is told at once.
type cameraStateRelay struct {
	mu     sync.Mutex
	events *commandEvents
	ids    struct{ camera, stream string }
	told   cameras.Status    // what the viewer knows: State, Cause, Reason
	last   *CameraStateEvent // the last one sent, for a hook set later
	hook   func(CameraStateEvent)
	stop   func()
}

// watchCamera starts relaying the state of the session's camera stream.
func (s *Session) watchCamera() {
	r := &s.camState
	r.events = s.events
	r.ids.camera, r.ids.stream = s.CameraID, s.StreamID
	r.told = cameras.Status{State: cameras.StateStreaming}
	stop := s.stream.Watch(r.changed)
	r.mu.Lock()
	r.stop = stop
	r.mu.Unlock()
	if s.ctx.Err() != nil {
		// Close ran meanwhile (it cancels first, then ends the watch):
		// it may have found nothing to stop.
		s.endCameraWatch()
	}
}

// changed runs on the camera's supervisor (cameras.CameraStream.Watch): it
// only queues messages, it never waits for the viewer.
func (r *cameraStateRelay) changed(st cameras.Status) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if st.State == cameras.StateConnecting {
		// The first connection since camgate started: nothing has failed.
		st = cameras.Status{State: cameras.StateStreaming, Since: st.Since}
	}
	if st.State == r.told.State && st.Cause == r.told.Cause && st.Reason == r.told.Reason {
		return // no news
	}
	r.told = st
	ev := CameraStateEvent{
		CameraID: r.ids.camera, StreamID: r.ids.stream,
		State: string(st.State), Cause: string(st.Cause), Reason: st.Reason, Since: st.Since,
	}
	r.last = &ev
	r.events.send(ev)
	if r.hook != nil {
		r.hook(ev)
	}
}

// OnCameraState has fn called with every later state change of the
// session's camera, and at once with the last one sent, if any. fn must
// not block.
func (s *Session) OnCameraState(fn func(CameraStateEvent)) {
	r := &s.camState
	r.mu.Lock()
	defer r.mu.Unlock()
	r.hook = fn
	if r.last != nil {
		fn(*r.last)
	}
}

// endCameraWatch stops the relay; nothing is sent after it returns.
func (s *Session) endCameraWatch() {
	r := &s.camState
	r.mu.Lock()
	stop := r.stop
	r.stop, r.hook = nil, nil
	r.mu.Unlock()
	if stop != nil {
		stop()
	}
}
