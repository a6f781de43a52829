package signaling

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/camgate/camgate/gateway/signaling/signalingtest"
)

// The case table's kinds and codes are this package's.
func TestWSCaseConstants(t *testing.T) {
	t.Parallel()
	if wsKind(signalingtest.Request) != wsRequest || wsKind(signalingtest.Notification) != wsNotification || wsKind(signalingtest.Response) != wsResponse ||
		signalingtest.ParseError != rpcParseError || signalingtest.InvalidRequest != rpcInvalidRequest || wsMaxMessage != 64<<10 {
		t.Fatal("signalingtest's kinds or codes differ from the decoder's")
	}
}

func TestDecodeWSMessage(t *testing.T) {
	t.Parallel()
	for _, c := range signalingtest.WSMessages() {
		t.Run(c.Name, func(t *testing.T) {
			m, e := decodeWSMessage([]byte(c.Msg))
			if string(m.ID) != c.ID {
				t.Errorf("id = %s, want %s", m.ID, c.ID)
			}
			if c.Kind == 0 {
				if e == nil || e.Code != c.Code {
					t.Fatalf("error %v, want code %d", e, c.Code)
				}
				checkRPCText(t, e.Message)
				return
			}
			if e != nil {
				t.Fatalf("error %v", e)
			}
			if m.Kind != wsKind(c.Kind) || m.Method != c.Method {
				t.Fatalf("kind %d method %q, want %d %q", m.Kind, m.Method, c.Kind, c.Method)
			}
		})
	}
}

// The connect params of the 2025 R2 sample, as its code spells them, and as
// its README does.
func TestConnectParams(t *testing.T) {
	t.Parallel()
	for _, body := range []string{
		`{"authorization":"tok","peer":"CAM","streamID":"S","includeAudio":true,"iceServers":[{"urls":"stun:a"},{"urls":"turn:b","username":"u","credential":"p"}]}`,
		`{"Peer":"CAM","streamId":"S","includeAudio":"true","iceServers":[{"url":"stun:a"},{"urls":["turn:b"],"username":"u","credential":"p"}]}`,
		`{"deviceId":"CAM","StreamID":"S","PlaybackTime":"","skipGaps":"false","PlaybackSpeed":"","iceServers":["stun:a",{"urls":"turn:b","username":"u","credential":"p"}]}`,
	} {
		var p wsConnectParams
		if e := decodeParams(json.RawMessage(body), &p); e != nil {
			t.Fatalf("%s: %v", body, e)
		}
		if p.device() != "CAM" || string(p.StreamID) != "S" || !p.isLive() {
			t.Fatalf("%s: device %q stream %q live %v", body, p.device(), p.StreamID, p.isLive())
		}
		ice, err := permissiveManager().Check(iceServersOf(p.IceServers))
		if err != nil || len(ice) != 2 || ice[1].Username != "u" {
			t.Fatalf("%s: ice servers %+v, %v", body, ice, err)
		}
	}
	var p wsConnectParams
	if e := decodeParams(json.RawMessage(`{"peer":"CAM","PlaybackTime":"2024-05-01T10:00:00Z","PlaybackSpeed":"2","skipGaps":true}`), &p); e != nil || p.isLive() || p.PlaybackSpeed.Value != 2 || !p.SkipGaps.Value {
		t.Fatalf("playback params: %+v %v", p, e)
	}
	for body, field := range map[string]string{
		`{"peer":"CAM","skipGaps":"maybe"}`:  "skipGaps",
		`{"peer":"CAM","PlaybackSpeed":"x"}`: "playbackSpeed",
		`{"peer":{}}`:                        "peer",
		`{"iceServers":{"urls":"stun:a"}}`:   "iceServers",
	} {
		e := decodeParams(json.RawMessage(body), &p)
		if e == nil || e.Code != rpcInvalidParams || !strings.Contains(e.Message, field) {
			t.Errorf("%s: %v, want -32602 naming %s", body, e, field)
		}
	}
	if e := decodeParams(json.RawMessage(`[1]`), &p); e == nil || e.Code != rpcInvalidParams {
		t.Errorf("params as a list: %v", e)
	}
}

// Every error text camgate sends is one short line.
func checkRPCText(t *testing.T, text string) {
	t.Helper()
	if text == "" || len(text) > maxErrorText || strings.ContainsAny(text, "\r\n") {
		t.Fatalf("error text %.200q (%d bytes): want one line of at most %d bytes", text, len(text), maxErrorText)
	}
}

// FuzzWSMessage decodes a client message and everything a handler derives
// from it before any session is touched: params of each method, the answer,
// the candidate. It must never panic, every refusal has a JSON-RPC code and
// a short text, and whatever camgate would send back encodes.
//
//	go test -run '^$' -fuzz FuzzWSMessage -fuzztime 60s ./gateway
func FuzzWSMessage(f *testing.F) {
	for _, c := range signalingtest.WSMessages() {
		f.Add([]byte(c.Msg))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, e := decodeWSMessage(b)
		if e != nil {
			if e.Code != rpcParseError && e.Code != rpcInvalidRequest {
				t.Fatalf("decode error code %d", e.Code)
			}
			checkRPCText(t, e.Message)
			checkEncodes(t, m.ID, e)
			return
		}
		if m.ID != nil && !json.Valid(m.ID) {
			t.Fatalf("id %q is not JSON", m.ID)
		}
		switch m.Kind {
		case wsRequest, wsNotification:
			if m.Method == "" || m.Method != strings.ToLower(m.Method) {
				t.Fatalf("method %q", m.Method)
			}
			fuzzParams(t, m.Params)
		case wsResponse:
			if m.ID == nil || (m.Result == nil && m.Error == nil) {
				t.Fatalf("response without id or result: %+v", m)
			}
			if m.Result != nil && m.Result[0] == '{' {
				var r wsAnswerResult
				if json.Unmarshal(m.Result, &r) == nil {
					if answer, ok := jsonOrString(nonNull(r.Answer)); ok && answer != "" {
						if _, err := parseAnswer(answer); err != nil {
							checkBadRequest(t, err)
						}
					}
				}
			}
		default:
			t.Fatalf("kind %d", m.Kind)
		}
	})
}

func fuzzParams(t *testing.T, params json.RawMessage) {
	var reg wsRegisterParams
	if e := decodeParams(params, &reg); e != nil {
		if e.Code != rpcInvalidParams {
			t.Fatalf("register params: code %d", e.Code)
		}
		checkRPCText(t, e.Message)
	}
	var cp wsConnectParams
	if e := decodeParams(params, &cp); e != nil {
		checkRPCText(t, e.Message)
	} else {
		if d := cp.device(); d != strings.TrimSpace(d) {
			t.Fatalf("device %q is not trimmed", d)
		}
		_ = cp.isLive()
		if _, err := permissiveManager().Check(iceServersOf(cp.IceServers)); err != nil {
			checkBadRequest(t, err)
		}
	}
	var tp wsTrickleParams
	if e := decodeParams(params, &tp); e != nil {
		checkRPCText(t, e.Message)
		return
	}
	raw, ok := jsonOrString(nonNull(tp.Candidate))
	if !ok || raw == "" {
		return
	}
	if _, err := parseClientCandidate(raw); err != nil {
		checkRPCText(t, err.Error())
	}
}

// checkEncodes checks that the answer to a refused message encodes to JSON
// that a client can read back.
func checkEncodes(t *testing.T, id json.RawMessage, e *rpcError) {
	out := errorNotification(e)
	if id != nil {
		out = errorResponse(id, e)
	}
	b, err := json.Marshal(out)
	if err != nil || !json.Valid(b) {
		t.Fatalf("answer does not encode: %v", err)
	}
}
