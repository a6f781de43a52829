package rtc

import (
	"time"
)

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
	if !s.events.send(SessionEvent{Kind: "closing", Cause: "shutdown", Message: "camgate is shutting down"}) {
		return // no open channel: nobody would read it
	}
	deadline := time.Now().Add(endEventWait)
	for !s.events.sent() && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
}
