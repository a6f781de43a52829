package rtc

import (
	"sync"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/camgate/camgate/ptz"
)

// CommandCodec is the wire format of the commands channel, which package
// signaling owns: rtc hands it the raw messages and the typed events, and
// sends the bytes it returns.
type CommandCodec interface {
	// DecodeRequest decodes one message of the client. Its error is the
	// reply's (a *ptz.Error naming what was wrong); the request carries
	// what could be read (its method, its id) for the reply.
	DecodeRequest(msg []byte) (ptz.Request, error)
	// EncodeReply is the one reply to a request: its result, or err.
	EncodeReply(req ptz.Request, result any, err error) []byte
	// EncodeEvent is a message camgate sends unasked.
	EncodeEvent(e Event) []byte
}

// Event is a message camgate sends unasked on a session's commands
// channel: CameraStateEvent, PlaybackEvent or SessionEvent.
type Event interface {
	// EventName is the message's event name.
	EventName() string
}

// SessionEvent is sent right before camgate closes a session on its own.
// Cause is "shutdown" for now; the client should reconnect later (to
// another instance behind a load balancer).
type SessionEvent struct {
	Kind    string // "closing"
	Cause   string
	Message string
}

// EventName is "session".
func (SessionEvent) EventName() string { return "session" }

// commandsProtocol is the subprotocol of the data channel XProtect clients
// open for PTZ and aux commands.
const commandsProtocol = "videoos-commands"

// onDataChannel accepts the client's "videoos-commands" channel and closes
// any other, as ONVIF prescribes for subprotocols that were not agreed.
//
// Every message on the channel is a PTZ request (docs/ptz.md) and gets one
// reply on the same channel: decoded by the codec, refused when
// the camera has no PTZ, the session plays recordings or the session's
// current principal lacks the right (ptzRefusal), else handed to the
// camera's controller in arrival order. Submit never waits for the camera,
// so a slow camera never holds up this callback (pion delivers a channel's
// messages one at a time). Bad input gets an error reply and the channel
// stays open. When the channel closes, the session's PTZ is released: its
// move stops and its lease frees.
func (s *Session) onDataChannel(dc *webrtc.DataChannel) {
	if dc.Protocol() != commandsProtocol {
		s.log.Info("closing data channel with unknown protocol", "label", dc.Label(), "protocol", dc.Protocol())
		_ = dc.Close()
		return
	}
	send := func(b []byte) {
		// Fails only when the channel or the connection has closed:
		// nobody is left to read the reply.
		_ = dc.SendText(string(b))
	}
	dc.OnMessage(func(msg webrtc.DataChannelMessage) {
		req, err := s.codec.DecodeRequest(msg.Data)
		if err == nil {
			err = s.ptzRefusal(req)
		}
		if err != nil {
			s.metrics.ptzCall(req.Method, err)
			send(s.codec.EncodeReply(req, nil, err))
			return
		}
		s.ptz.Submit(s.ctx, s.ID, req, func(res any, err error) {
			s.metrics.ptzCall(req.Method, err)
			send(s.codec.EncodeReply(req, res, err))
		})
	})
	dc.OnClose(func() {
		s.log.Debug("commands channel closed")
		s.releasePTZ("commands channel closed")
	})
}

// errPTZInPlayback refuses PTZ on a session that plays recordings: PTZ
// steers the live camera, which such a viewer does not see (XProtect has no
// PTZ in playback either).
var errPTZInPlayback = &ptz.Error{Code: ptz.CodeUnavailable,
	Message: "this session plays recordings; PTZ steers the live camera: use a live session"}

// ptzRefusal is the error a decoded request gets before it reaches the
// controller: the camera has no PTZ, the session plays recordings, or the
// session's owner (its current token, which a refresh replaces) may not
// send it. nil lets it through.
func (s *Session) ptzRefusal(req ptz.Request) error {
	if s.ptz == nil {
		return ptz.ErrNoPTZ
	}
	if s.right == RightPlayback {
		return errPTZInPlayback
	}
	if e := PTZRefusal(s.Owner(), req.Method, s.CameraID, time.Now()); e != nil {
		s.log.Debug("ptz command refused", "method", string(req.Method), "reason", e.Message)
		return e
	}
	return nil
}

// releasePTZ ends the session's part in its camera's PTZ: a move of its
// stops, its lease frees, its queued commands are dropped. It does not wait
// and may be called any number of times.
func (s *Session) releasePTZ(why string) {
	if s.ptz == nil {
		return
	}
	s.log.Debug("releasing ptz control", "reason", why)
	s.ptz.Release(s.ID)
}

// PTZController is the camera's controller, or nil when the camera has no
// PTZ (or the gateway runs without a registry).
func PTZController(reg *ptz.Registry, cameraID string) *ptz.Controller {
	if reg == nil {
		return nil
	}
	c, ok := reg.Get(cameraID)
	if !ok {
		return nil
	}
	return c
}

// PTZRefusal says why p may not send a request of method m to a camera,
// or nil when it may; the data channel and the REST PTZ API both ask it:
//
//   - ptzStatus and ptzPresets (Method.ReadOnly) need the live or the ptz
//     right: whoever may watch the camera may see where it points;
//   - every other method, stop included, needs the ptz right;
//   - a token that has expired steers nothing, even while the session
//     plays on through its grace period: the client must refresh it.
func PTZRefusal(p Owner, m ptz.Method, cameraID string, now time.Time) *ptz.Error {
	if p == nil {
		return ptz.ErrForbidden
	}
	if exp := p.ExpiresAt(); !exp.IsZero() && now.After(exp) {
		return &ptz.Error{Code: ptz.CodeForbidden, Message: "your access token has expired: refresh it to steer the camera"}
	}
	if p.Can(RightPTZ, cameraID) || m.ReadOnly() && p.Can(RightLive, cameraID) {
		return nil
	}
	return ptz.ErrForbidden
}

// maxQueuedEvents bounds the messages kept for a commands channel that is
// not open yet; the client opens it right after its answer.
const maxQueuedEvents = 64

// commandEvents sends camgate's own messages on a session's commands data
// channel, in order: those sent before the client opened the channel are
// kept (up to maxQueuedEvents) and go out when it opens. Sends after the
// channel closed are lost: nobody is left to read them.
type commandEvents struct {
	codec   CommandCodec
	mu      sync.Mutex
	dc      *webrtc.DataChannel
	open    bool
	backlog [][]byte
	dropped int
}

func newCommandEvents(codec CommandCodec) *commandEvents { return &commandEvents{codec: codec} }

// send sends e, or queues it while the channel is not open yet; true when
// it went to an open channel.
func (q *commandEvents) send(e Event) bool {
	return q.sendBytes(q.codec.EncodeEvent(e))
}

func (q *commandEvents) sendBytes(b []byte) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	if !q.open {
		if len(q.backlog) < maxQueuedEvents {
			q.backlog = append(q.backlog, b)
		} else {
			q.dropped++
		}
		return false
	}
	return q.dc.SendText(string(b)) == nil
}

// sent reports whether the client has acknowledged everything sent on the
// channel (or the channel is gone).
func (q *commandEvents) sent() bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return !q.open || q.dc.ReadyState() != webrtc.DataChannelStateOpen || q.dc.BufferedAmount() == 0
}

// attach makes dc the channel; the backlog goes out when it opens.
func (q *commandEvents) attach(dc *webrtc.DataChannel) {
	q.mu.Lock()
	q.dc, q.open = dc, false
	q.mu.Unlock()
	dc.OnOpen(func() {
		q.mu.Lock()
		defer q.mu.Unlock()
		if q.dc != dc {
			return
		}
		q.open = true
		for _, b := range q.backlog {
			_ = dc.SendText(string(b))
		}
		q.backlog = nil
	})
}

// acceptDataChannel takes a channel the client opened: the commands
// channel's requests are handled by onDataChannel (datachannel.go), and
// camgate's own events go out on it too.
func (s *Session) acceptDataChannel(dc *webrtc.DataChannel) {
	s.onDataChannel(dc)
	if dc.Protocol() == commandsProtocol {
		s.events.attach(dc)
	}
}
