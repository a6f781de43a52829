package gateway

import (
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/camgate/camgate/oauth"
	"github.com/camgate/camgate/ptz"
)

// commandsProtocol is the subprotocol of the data channel XProtect clients
// open for PTZ and aux commands.
const commandsProtocol = "videoos-commands"

// onDataChannel accepts the client's "videoos-commands" channel and closes
// any other, as ONVIF prescribes for subprotocols that were not agreed.
//
// Every message on the channel is a PTZ request (docs/ptz.md) and gets one
// reply on the same channel: decoded with ptz.DecodeRequest, refused when
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
		req, err := ptz.DecodeRequest(msg.Data)
		if err == nil {
			err = s.ptzRefusal(req)
		}
		if err != nil {
			s.metrics.ptzCall(req.Method, err)
			send(ptz.EncodeReply(req, nil, err))
			return
		}
		s.ptz.Submit(s.ctx, s.ID, req, func(res any, err error) {
			s.metrics.ptzCall(req.Method, err)
			send(ptz.EncodeReply(req, res, err))
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
	if s.right == oauth.RightPlayback {
		return errPTZInPlayback
	}
	if e := ptzRightsError(s.Owner(), req.Method, s.CameraID, time.Now()); e != nil {
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
