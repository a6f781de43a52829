package signaling

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/camgate/camgate/gateway/internal/errtext"
	"github.com/camgate/camgate/gateway/rtc"
)

// The WebSocket signaling contract of XProtect 2025 R1+ (docs/api.md): one JSON
// object per text message, JSON-RPC 2.0 style, with ONVIF's method names and
// error codes. This file decodes what clients send and encodes what camgate
// sends; ws.go runs the socket and ws_methods.go the methods.

// wsMaxMessage bounds a client message. A larger one is refused with an
// error and the socket stays open.
const wsMaxMessage = 64 << 10

// JSON-RPC error codes, and ONVIF's where they fit (docs/api.md). They are the
// "code" of an error response and of an "error" notification.
const (
	rpcParseError     = -32700 // the message is not JSON
	rpcInvalidRequest = -32600 // JSON, but not a request, notification or response
	rpcMethodNotFound = -32601
	rpcInvalidParams  = -32602
	rpcInternalError  = -32603

	rpcBadRequest     = 400 // a bad answer SDP or session (ONVIF)
	rpcUnauthorized   = 401 // no, an invalid or an expired token; register first
	rpcForbidden      = 403 // no right on the camera, or another user's session
	rpcNotFound       = 404 // unknown camera, stream or session
	rpcTimeout        = 408 // no register in time; a session ended without an answer
	rpcConflict       = 409 // a second answer for a session
	rpcUnavailable    = 480 // camgate is shutting down
	rpcNotImplemented = 501 // playback on a gateway without a recording store

	rpcInsufficientResources = 1001 // a limit of WebSocket.* or Limits.* is reached
	rpcPeerDisconnected      = 1002 // a session ended
	rpcMalformedCandidate    = 1003 // a trickled candidate does not parse
)

// rpcError is an error to send: as the error object of a response when the
// message had an id, else as the params of an "error" notification.
type rpcError struct {
	Code    int
	Message string
	// Session is the session concerned, if any (notifications only).
	Session string
}

func (e *rpcError) Error() string { return fmt.Sprintf("%d: %s", e.Code, e.Message) }

func newRPCError(code int, format string, args ...any) *rpcError {
	return &rpcError{Code: code, Message: fmt.Sprintf(format, args...)}
}

// rpcErrorOf maps an error to a JSON-RPC code: the WebSocket API's one
// table, as errors.go is REST's. A bad input becomes badRequest, which
// depends on what the client sent: -32602 for a request's params, 400 for
// an answer; a request too large for a limit of the settings
// (rtc.OverLimit) is -32602 always, and a caller over its share of
// sessions or a full process (an rtc.Error with a Limit) is 1001. The HTTP
// layer's own errors reaching here (a 401 from the token check) keep their
// status as the code.
func rpcErrorOf(err error, badRequest int) *rpcError {
	var re *rpcError
	if errors.As(err, &re) {
		return re
	}
	var ae *HTTPError
	if errors.As(err, &ae) {
		return &rpcError{Code: ae.Status, Message: ae.Text}
	}
	e, ok := kindError(err)
	if !ok {
		return &rpcError{Code: rpcInternalError, Message: "internal error"}
	}
	var code int
	switch {
	case e.Limit != "":
		// A limit of Limits.*, whether the user's share or the
		// process's: the socket stays usable, a later connect may pass.
		code = rpcInsufficientResources
	case e.Kind == rtc.OverLimit:
		code = rpcInvalidParams // a limit of the settings, whatever the request
	case e.Kind == rtc.BadInput:
		code = badRequest
	case e.Kind == rtc.NotFound, e.Kind == rtc.Gone:
		code = rpcNotFound
	case e.Kind == rtc.Conflict:
		code = rpcConflict
	case e.Kind == rtc.Forbidden:
		code = rpcForbidden
	case e.Kind == rtc.TooMany:
		code = rpcInsufficientResources
	case e.Kind == rtc.Unavailable:
		code = rpcUnavailable
	case e.Kind == rtc.NotImplemented:
		code = rpcNotImplemented
	default:
		return &rpcError{Code: rpcInternalError, Message: "internal error"}
	}
	return &rpcError{Code: code, Message: e.Text}
}

// wsKind tells requests, notifications and responses apart.
type wsKind int

const (
	wsRequest      wsKind = iota + 1 // method and id: answered with a result or an error
	wsNotification                   // method, no id: answered only when it fails
	wsResponse                       // result or error and id: the client's answer to an invite
)

// wsMessage is one decoded client message.
type wsMessage struct {
	Kind   wsKind
	Method string          // lower case; "" for a response
	Params json.RawMessage // nil when absent or null
	// ID is the id exactly as the client sent it (a number or a string),
	// echoed in the answer; nil for a notification.
	ID     json.RawMessage
	Result json.RawMessage // responses only
	Error  json.RawMessage // responses only
}

// decodeWSMessage decodes one client message. "jsonrpc" and "ApiVersion"
// are both accepted and neither is required (the 2025 R1 sample sent
// "ApiVersion":"1.0"). Member names are matched without regard to case. On
// failure the returned message still carries the id when one could be
// read, so that the error answers the request it concerns.
func decodeWSMessage(b []byte) (wsMessage, *rpcError) {
	var m wsMessage
	if len(b) > wsMaxMessage {
		return m, newRPCError(rpcInvalidRequest, "the message is %d bytes long; at most %d are allowed", len(b), wsMaxMessage)
	}
	b = bytes.TrimSpace(b)
	switch {
	case len(b) == 0:
		return m, newRPCError(rpcParseError, "the message is empty; send one JSON object per message")
	case !json.Valid(b):
		var v any
		err := json.Unmarshal(b, &v)
		return m, newRPCError(rpcParseError, "the message is not JSON: %s", errtext.Truncate(describeJSONError(err), errtext.MaxQuoted))
	case b[0] == '[':
		return m, newRPCError(rpcInvalidRequest, "batches are not supported; send one JSON object per message")
	case b[0] != '{':
		return m, newRPCError(rpcInvalidRequest, "the message must be a JSON object")
	}
	var raw struct {
		Method json.RawMessage `json:"method"`
		Params json.RawMessage `json:"params"`
		ID     json.RawMessage `json:"id"`
		Result json.RawMessage `json:"result"`
		Error  json.RawMessage `json:"error"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return m, newRPCError(rpcInvalidRequest, "the message is not valid: %s", errtext.Truncate(describeJSONError(err), errtext.MaxQuoted))
	}
	// An id of null is taken as none: the XProtect sample tells messages
	// apart by their id, and null has no request to refer to.
	if id := nonNull(raw.ID); id != nil {
		if id[0] != '"' && id[0] != '-' && (id[0] < '0' || id[0] > '9') {
			return m, newRPCError(rpcInvalidRequest, "id must be a number or a string")
		}
		m.ID = id
	}
	m.Params = nonNull(raw.Params)
	if method := nonNull(raw.Method); method != nil {
		var name string
		if err := json.Unmarshal(method, &name); err != nil {
			return m, newRPCError(rpcInvalidRequest, "method must be a string")
		}
		if name = strings.TrimSpace(name); name == "" {
			return m, newRPCError(rpcInvalidRequest, "method must not be empty")
		}
		m.Method = strings.ToLower(name)
		m.Kind = wsNotification
		if m.ID != nil {
			m.Kind = wsRequest
		}
		return m, nil
	}
	m.Result, m.Error = nonNull(raw.Result), nonNull(raw.Error)
	switch {
	case m.Result == nil && m.Error == nil:
		return m, newRPCError(rpcInvalidRequest, `the message has neither a method (a request or notification) nor a result or error (a response)`)
	case m.ID == nil:
		return m, newRPCError(rpcInvalidRequest, "a response needs the id of the request it answers")
	}
	m.Kind = wsResponse
	return m, nil
}

func nonNull(r json.RawMessage) json.RawMessage {
	if len(r) == 0 || string(r) == "null" {
		return nil
	}
	return r
}

// idKey is an id in a form that compares equal however the client wrote it:
// 3 and "3" are the same invite.
func idKey(id json.RawMessage) string {
	if len(id) > 0 && id[0] == '"' {
		var s string
		if json.Unmarshal(id, &s) == nil {
			return s
		}
	}
	return string(id)
}

// decodeParams decodes a method's params, which must be an object (absent
// means {}). Type errors name the field.
func decodeParams(raw json.RawMessage, dst any) *rpcError {
	if raw == nil {
		return nil
	}
	if raw[0] != '{' {
		return newRPCError(rpcInvalidParams, "params must be an object")
	}
	if err := json.Unmarshal(raw, dst); err != nil {
		return newRPCError(rpcInvalidParams, "params are not valid: %s", errtext.Truncate(describeJSONError(err), errtext.MaxQuoted))
	}
	return nil
}

// jsonOrString takes a value that XProtect clients send as a JSON string of
// an object (the answer, a candidate) and ONVIF clients as the object
// itself, and returns the object's JSON text. ok is false for anything else.
func jsonOrString(raw json.RawMessage) (text string, ok bool) {
	switch {
	case raw == nil:
		return "", true
	case raw[0] == '"':
		if err := json.Unmarshal(raw, &text); err != nil {
			return "", false
		}
		return text, true
	case raw[0] == '{':
		return string(raw), true
	}
	return "", false
}

// wsRegisterParams are register's params.
type wsRegisterParams struct {
	// Authorization is the access token, raw (the XProtect sample) or
	// with "Bearer " in front (the events WebSocket API).
	Authorization flexString `json:"authorization"`
}

// wsConnectParams are connect's params, with the names of the 2025 R2 sample
// (streamID, PlaybackTime, PlaybackSpeed) matched without regard to case,
// as its README spells them (streamId, playbackTime, playbackSpeed).
type wsConnectParams struct {
	Authorization flexString `json:"authorization"`
	// Peer is the device (camera) id. deviceId and cameraId are accepted
	// as aliases.
	Peer          flexString        `json:"peer"`
	DeviceID      flexString        `json:"deviceId"`
	CameraID      flexString        `json:"cameraId"`
	StreamID      flexString        `json:"streamId"`
	PlaybackTime  flexString        `json:"playbackTime"`
	SkipGaps      flexBool          `json:"skipGaps"`
	PlaybackSpeed flexFloat         `json:"playbackSpeed"`
	IncludeAudio  flexBool          `json:"includeAudio"`
	IceServers    []iceServerJSON   `json:"iceServers"`
	PlaybackNode  *playbackTimeNode `json:"playbackTimeNode"` // the REST body's form, in case a client mixes them
	ClientProfile flexString        `json:"clientProfile"`    // as the REST body's (docs/clients.md)
}

func (p *wsConnectParams) device() string {
	for _, d := range []flexString{p.Peer, p.DeviceID, p.CameraID} {
		if s := strings.TrimSpace(string(d)); s != "" {
			return s
		}
	}
	return ""
}

func (p *wsConnectParams) isLive() bool {
	return strings.TrimSpace(string(p.PlaybackTime)) == "" && p.PlaybackNode.isLive()
}

// playback returns the checked playback parameters; nil for live. The
// sample's PlaybackTime, skipGaps and PlaybackSpeed come first; a REST-style
// playbackTimeNode is read when PlaybackTime is empty.
func (p *wsConnectParams) playback() (*rtc.Playback, *rpcError) {
	if p.isLive() {
		return nil, nil
	}
	var pb *rtc.Playback
	var err error
	if t := strings.TrimSpace(string(p.PlaybackTime)); t != "" {
		pb, err = parsePlayback(t, p.PlaybackSpeed, p.SkipGaps, wsPlaybackNames())
	} else {
		n := p.PlaybackNode
		pb, err = parsePlayback(string(n.PlaybackTime), n.Speed, n.SkipGaps, restPlaybackNames())
	}
	if err != nil {
		return nil, rpcErrorOf(err, rpcInvalidParams)
	}
	return pb, nil
}

// wsTrickleParams are a trickle's params. Candidate is the JSON string of an
// RTCIceCandidate (the XProtect sample) or the object itself (ONVIF).
type wsTrickleParams struct {
	Session   flexString      `json:"session"`
	Candidate json.RawMessage `json:"candidate"`
}

// wsAnswerResult is the result of the client's response to an invite.
type wsAnswerResult struct {
	// Answer is the JSON string of {type:"answer", sdp} (the sample) or the
	// object itself.
	Answer json.RawMessage `json:"answer"`
}

// ---- what camgate sends ----

// rpcOut is every message camgate sends. "jsonrpc":"2.0" is always there.
type rpcOut struct {
	JSONRPC string          `json:"jsonrpc"`
	Method  string          `json:"method,omitempty"`
	Params  any             `json:"params,omitempty"`
	Result  any             `json:"result,omitempty"`
	Error   *rpcErrorObject `json:"error,omitempty"`
	ID      json.RawMessage `json:"id,omitempty"`
}

type rpcErrorObject struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

// errorParams are the params of an "error" notification (ONVIF's fields;
// the sample prints message).
type errorParams struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
	Session string `json:"session,omitempty"`
}

type registerResult struct {
	ID string `json:"id"`
}

type connectResult struct {
	Session    string          `json:"session"`
	IceServers []iceServerInfo `json:"iceServers"`
}

// iceServerInfo is an ICE server as a browser's RTCIceServer.
type iceServerInfo struct {
	URLs []string `json:"urls"`
}

type inviteParams struct {
	Session string `json:"session"`
	// Offer is the JSON string of {type:"offer", sdp}, as the sample
	// expects (it JSON.parses the string).
	Offer string `json:"offer"`
}

type trickleParams struct {
	Session string `json:"session"`
	// Candidate is an RTCIceCandidateInit object: the sample passes it
	// straight to addIceCandidate.
	Candidate json.RawMessage `json:"candidate"`
}

func resultMessage(id json.RawMessage, result any) rpcOut {
	return rpcOut{JSONRPC: "2.0", Result: result, ID: id}
}

func errorResponse(id json.RawMessage, e *rpcError) rpcOut {
	return rpcOut{JSONRPC: "2.0", Error: &rpcErrorObject{Code: e.Code, Message: e.Message}, ID: id}
}

func errorNotification(e *rpcError) rpcOut {
	return rpcOut{JSONRPC: "2.0", Method: "error", Params: errorParams{Code: e.Code, Message: e.Message, Session: e.Session}}
}

func inviteMessage(id uint64, session, offer string) rpcOut {
	return rpcOut{JSONRPC: "2.0", Method: "invite", Params: inviteParams{Session: session, Offer: offer},
		ID: json.RawMessage(strconv.FormatUint(id, 10))}
}

func trickleMessage(session, candidate string) rpcOut {
	return rpcOut{JSONRPC: "2.0", Method: "trickle", Params: trickleParams{Session: session, Candidate: json.RawMessage(candidate)}}
}
