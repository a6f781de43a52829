package gateway

import (
	"encoding/json"
	"time"
)

// sessionEvent is the params of a "session" event on the commands data
// channel, sent right before camgate closes a session on its own:
//
//	{"type":"event","event":"session","params":{"kind":"closing","cause":"shutdown",
//	 "message":"camgate is shutting down"}}
//
// cause is "shutdown" for now; the client should reconnect later (to
// another instance behind a load balancer).
type sessionEvent struct {
	Kind    string `json:"kind"`
	Cause   string `json:"cause"`
	Message string `json:"message"`
}

// endEventWait bounds how long a closing session waits for its client to
// acknowledge the event (the channel's buffered amount drops to 0 when the
// client's SCTP has acknowledged it).
const endEventWait = time.Second

// announceShutdown tells the session's client, on its commands channel,
// that the session closes because camgate shuts down, and waits a moment
// for the message to arrive: closing the peer connection drops what the
// channel has not sent yet.
func (s *Session) announceShutdown() {
	if s.events == nil {
		return
	}
	b, _ := json.Marshal(commandMessage{Type: "event", Event: "session",
		Params: sessionEvent{Kind: "closing", Cause: "shutdown", Message: "camgate is shutting down"}})
	if !s.events.send(b) {
		return // no open channel: nobody would read it
	}
	deadline := time.Now().Add(endEventWait)
	for !s.events.sent() && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
}
