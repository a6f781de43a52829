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
	s.tellClosing("shutdown", "camgate is shutting down")
}

// tellClosing sends the client a closing event on its commands channel and
// waits a moment for it to arrive: closing the peer connection drops what
// the channel has not sent yet.
func (s *Session) tellClosing(cause, message string) {
	if s.events == nil {
		return
	}
	if !s.events.send(SessionEvent{Kind: "closing", Cause: cause, Message: message}) {
		return // no open channel: nobody would read it
	}
	deadline := time.Now().Add(endEventWait)
	for !s.events.sent() && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
}

// endFor ends the session for a reason of camgate's (not the client's or
// the network's): the client hears the cause on its commands channel, a
// WebSocket client in the error that tells the session ended (EndReason),
// and the log has it. It returns at once: Close waits for the session's
// goroutines, one of which may be the caller.
func (s *Session) endFor(cause, message string) {
	s.mu.Lock()
	s.endReason = message
	s.mu.Unlock()
	s.log.Warn("session ends", "cause", cause, "reason", message)
	s.tellClosing(cause, message)
	go s.Close()
}

// EndReason is why camgate ended the session, when it did (endFor); empty
// when the session is open or ended for another reason (the client, its
// peer connection, its token).
func (s *Session) EndReason() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.endReason
}
