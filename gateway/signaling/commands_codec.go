package signaling

import (
	"encoding/json"

	"github.com/camgate/camgate/gateway/rtc"
	"github.com/camgate/camgate/ptz"
)

// CommandCodec is the wire format of the commands data channel
// ("videoos-commands", docs/api.md and docs/ptz.md), which rtc sessions
// use through rtc.CommandCodec: PTZ requests and their replies, and the
// events camgate sends unasked.
type CommandCodec struct{}

// DecodeRequest decodes a PTZ request (DecodePTZRequest).
func (CommandCodec) DecodeRequest(msg []byte) (ptz.Request, error) { return DecodePTZRequest(msg) }

// EncodeReply encodes the reply to a request (EncodePTZReply).
func (CommandCodec) EncodeReply(req ptz.Request, result any, err error) []byte {
	return EncodePTZReply(req, result, err)
}

// EncodeEvent writes {"type":"event","event":name,"params":…}.
func (CommandCodec) EncodeEvent(e rtc.Event) []byte {
	var params any
	switch e := e.(type) {
	case rtc.CameraStateEvent:
		params = cameraStateJSON(e)
	case rtc.PlaybackEvent:
		params = playbackEventJSON(e)
	case rtc.SessionEvent:
		params = sessionEvent{Kind: e.Kind, Cause: e.Cause, Message: e.Message}
	default:
		params = struct{}{}
	}
	b, _ := json.Marshal(commandMessage{Type: "event", Event: e.EventName(), Params: params})
	return b
}

// commandMessage is a message camgate sends on the commands channel on its
// own (replies to requests have "type":"response").
type commandMessage struct {
	Type   string `json:"type"`
	Event  string `json:"event"`
	Params any    `json:"params"`
}

// cameraStateEvent is the params of a "cameraState" event on the commands
// data channel:
//
//	{"type":"event","event":"cameraState","params":{"cameraId":"…","streamId":"…",
//	 "state":"offline","cause":"unauthorized","reason":"wrong user name or password",
//	 "since":"2026-01-15T10:02:50.000Z"}}
//
// state is connecting, streaming, degraded, reconnecting, offline or
// unsupported; cause and reason say why while it is not streaming.
type cameraStateEvent struct {
	CameraID string `json:"cameraId"`
	StreamID string `json:"streamId"`
	State    string `json:"state"`
	Cause    string `json:"cause,omitempty"`
	Reason   string `json:"reason,omitempty"`
	Since    string `json:"since"`
}

func cameraStateJSON(e rtc.CameraStateEvent) cameraStateEvent {
	return cameraStateEvent{CameraID: e.CameraID, StreamID: e.StreamID, State: e.State, Cause: e.Cause, Reason: e.Reason, Since: formatTime(e.Since)}
}

// playbackEvent is the params of a "playback" event on the commands data
// channel:
//
//	{"type":"event","event":"playback","params":{"kind":"gap","time":"2026-01-15T10:02:50.000Z",
//	 "until":"2026-01-15T10:04:10.000Z","rtpTimestamp":170000,"clockRate":1000,"speed":4}}
//
// kind is start, gap, resume, end or error; time is a recorded time (see
// docs/api.md), until the end of a gap; rtpTimestamp is time on the
// session's RTP clock, signed (the value a client reads as
// rtpTimestamp | 0); clockRate its ticks per second.
type playbackEvent struct {
	Kind         string  `json:"kind"`
	Time         string  `json:"time,omitempty"`
	Until        string  `json:"until,omitempty"`
	RTPTimestamp *int32  `json:"rtpTimestamp,omitempty"`
	ClockRate    uint32  `json:"clockRate"`
	Speed        float64 `json:"speed,omitempty"`
	Message      string  `json:"message,omitempty"`
}

func playbackEventJSON(e rtc.PlaybackEvent) playbackEvent {
	out := playbackEvent{Kind: e.Kind, RTPTimestamp: e.RTPTimestamp, ClockRate: e.ClockRate, Speed: e.Speed, Message: e.Message}
	if !e.Time.IsZero() {
		out.Time = formatTime(e.Time)
	}
	if !e.Until.IsZero() {
		out.Until = formatTime(e.Until)
	}
	return out
}

// sessionEvent is the params of a "session" event on the commands data
// channel, sent right before camgate closes a session on its own:
//
//	{"type":"event","event":"session","params":{"kind":"closing","cause":"shutdown",
//	 "message":"camgate is shutting down"}}
type sessionEvent struct {
	Kind    string `json:"kind"`
	Cause   string `json:"cause"`
	Message string `json:"message"`
}
