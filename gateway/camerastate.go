package gateway

import (
	"encoding/json"
	"sync"

	"github.com/camgate/camgate/cameras"
)

// Honest state: a live viewer learns at once when its camera stops (and
// starts again), on the commands data channel and, for a session signaled
// over the WebSocket, as a notification on that socket. docs/api.md has
// the shapes, docs/cameras.md what the states mean.

// cameraStateEvent is the params of a "cameraState" event on the commands
// data channel:
//
//	{"type":"event","event":"cameraState","params":{"cameraId":"…","streamId":"…",
//	 "state":"offline","cause":"unauthorized","reason":"wrong user name or password",
//	 "since":"2026-01-15T10:02:50.000Z"}}
//
// state is connecting, streaming, degraded, reconnecting, offline or
// unsupported; cause and reason say why while it is not streaming. The library's raw
// text of the failure is only in the cameras API's detail field and the
// log.
type cameraStateEvent struct {
	CameraID string `json:"cameraId"`
	StreamID string `json:"streamId"`
	State    string `json:"state"`
	Cause    string `json:"cause,omitempty"`
	Reason   string `json:"reason,omitempty"`
	Since    string `json:"since"`
}

// encodeCommandEvent is a message camgate sends unasked on a commands
// channel: {"type":"event","event":name,"params":params}.
func encodeCommandEvent(name string, params any) []byte {
	b, _ := json.Marshal(commandMessage{Type: "event", Event: name, Params: params})
	return b
}

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
	last   *cameraStateEvent // the last one sent, for a hook set later
	hook   func(cameraStateEvent)
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
	ev := cameraStateEvent{
		CameraID: r.ids.camera, StreamID: r.ids.stream,
		State: string(st.State), Cause: string(st.Cause), Reason: st.Reason, Since: formatTime(st.Since),
	}
	r.last = &ev
	r.events.send(encodeCommandEvent("cameraState", ev))
	if r.hook != nil {
		r.hook(ev)
	}
}

// onCameraState has fn called with every later state change of the
// session's camera, and at once with the last one sent, if any. fn must
// not block.
func (s *Session) onCameraState(fn func(cameraStateEvent)) {
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

// wsCameraStateParams are the params of a "cameraState" notification on
// the WebSocket: the data channel event's, the session's id, and a
// message for the XProtect sample, which prints params.message of any
// notification it does not know.
type wsCameraStateParams struct {
	Session string `json:"session"`
	cameraStateEvent
	Message string `json:"message"`
}

func cameraStateNotification(session string, ev cameraStateEvent) rpcOut {
	msg := "camera " + ev.CameraID + " is " + ev.State
	if ev.Reason != "" {
		msg += ": " + ev.Reason
	}
	return rpcOut{JSONRPC: "2.0", Method: "cameraState", Params: wsCameraStateParams{Session: session, cameraStateEvent: ev, Message: msg}}
}
