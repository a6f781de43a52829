package signaling

import (
	"time"
)

// wsRate is a socket's token bucket for the messages its client sends
// (WebSocket.MaxMessagesPerSecond and MaxMessageBurst). Only the reader
// goroutine uses it, so it needs no lock.
type wsRate struct {
	perSecond float64
	burst     float64
	tokens    float64
	last      time.Time
}

func newWSRate(perSecond, burst int) wsRate {
	return wsRate{perSecond: float64(perSecond), burst: float64(burst), tokens: float64(burst)}
}

// allow takes a token for a message that arrived at now, or reports that
// there is none.
func (r *wsRate) allow(now time.Time) bool {
	if !r.last.IsZero() {
		r.tokens = min(r.burst, r.tokens+now.Sub(r.last).Seconds()*r.perSecond)
	}
	r.last = now
	if r.tokens < 1 {
		return false
	}
	r.tokens--
	return true
}

// refuseOverRate answers a message that came over the socket's rate
// without handling it: a request (or a message whose id could be read)
// gets error 1001 with its id, anything else an error notification (an "error" notification of the client's
// nothing, so that two sides cannot loop). The socket stays open.
func (c *wsConn) refuseOverRate(b []byte) {
	m, _ := decodeWSMessage(b)
	if m.Kind == wsNotification && m.Method == "error" {
		return
	}
	e := newRPCError(rpcInsufficientResources,
		"too many messages: a socket may send %d per second, and %d at once (WebSocket.MaxMessagesPerSecond, WebSocket.MaxMessageBurst); this one was not handled, send it again later",
		c.cfg.MaxMessagesPerSecond, c.cfg.MaxMessageBurst)
	if m.Kind == wsResponse {
		// Its id is camgate's invite's: the invite stays open.
		c.reply(nil, nil, e)
		return
	}
	c.reply(m.ID, nil, e)
}
