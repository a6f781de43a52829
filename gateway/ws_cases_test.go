package gateway

import (
	"encoding/json"
	"strings"
	"testing"
)

// wsCase is one client message and what decoding makes of it. The table
// seeds FuzzWSMessage, and the socket test in ws_errors_test.go sends every
// case that decoding refuses (WSRefusedMessages) to a live socket.
type wsCase struct {
	name   string
	msg    string
	kind   wsKind // 0: decoding refuses the message with code
	method string
	id     string // the id's JSON text as echoed; "" for none
	code   int
}

var wsCases = []wsCase{
	// What the XProtect samples and ONVIF clients send.
	{name: "sample register", msg: `{"jsonrpc":"2.0","method":"register","params":{"authorization":"tok"},"id":1}`, kind: wsRequest, method: "register", id: "1"},
	{name: "2025 R1 ApiVersion", msg: `{"ApiVersion":"1.0","method":"register","params":{"authorization":"tok"},"id":1}`, kind: wsRequest, method: "register", id: "1"},
	{name: "no version at all", msg: `{"method":"register","params":{},"id":1}`, kind: wsRequest, method: "register", id: "1"},
	{name: "sample connect", msg: `{"jsonrpc":"2.0","method":"connect","id":2,"params":{"authorization":"tok","peer":"CAM","streamID":"S","PlaybackTime":"2024-05-01T10:00:00Z","skipGaps":true,"PlaybackSpeed":"2","iceServers":[{"urls":"stun:a"}],"includeAudio":true}}`, kind: wsRequest, method: "connect", id: "2"},
	{name: "member names in any case", msg: `{"JSONRPC":"2.0","Method":"Connect","ID":2,"Params":{"Peer":"CAM"}}`, kind: wsRequest, method: "connect", id: "2"},
	{name: "string id", msg: `{"method":"connect","id":"two","params":{}}`, kind: wsRequest, method: "connect", id: `"two"`},
	{name: "fractional id", msg: `{"method":"connect","id":7.5}`, kind: wsRequest, method: "connect", id: "7.5"},
	{name: "negative id", msg: `{"method":"connect","id":-3}`, kind: wsRequest, method: "connect", id: "-3"},
	{name: "sample trickle", msg: `{"jsonrpc":"2.0","method":"trickle","params":{"session":"S","candidate":"{\"candidate\":\"candidate:1 1 udp 2122260223 127.0.0.1 54321 typ host\",\"sdpMid\":\"0\",\"sdpMLineIndex\":0}"}}`, kind: wsNotification, method: "trickle"},
	{name: "ONVIF trickle with an object", msg: `{"jsonrpc":"2.0","method":"trickle","params":{"session":"S","candidate":{"candidate":"","sdpMid":"0"}}}`, kind: wsNotification, method: "trickle"},
	{name: "null id is no id", msg: `{"method":"trickle","id":null,"params":{}}`, kind: wsNotification, method: "trickle"},
	{name: "sample answer", msg: `{"jsonrpc":"2.0","result":{"answer":"{\"type\":\"answer\",\"sdp\":\"v=0\\r\\n\"}"},"id":3}`, kind: wsResponse, id: "3"},
	{name: "answer to a string id", msg: `{"result":{"answer":{"type":"answer","sdp":"v=0\r\n"}},"id":"3"}`, kind: wsResponse, id: `"3"`},
	{name: "error response", msg: `{"jsonrpc":"2.0","error":{"code":400,"message":"bad offer"},"id":3}`, kind: wsResponse, id: "3"},
	{name: "unknown members are ignored", msg: `{"method":"register","extra":[1,2],"id":1}`, kind: wsRequest, method: "register", id: "1"},

	// Refused by the decoder: the socket answers and stays open.
	{name: "not JSON", msg: `{"jsonrpc":`, code: rpcParseError},
	{name: "trailing comma", msg: `{"method":"register","id":1,}`, code: rpcParseError},
	{name: "two objects", msg: `{"method":"register"} {}`, code: rpcParseError},
	{name: "empty message", msg: ``, code: rpcParseError},
	{name: "blank message", msg: " \r\n\t", code: rpcParseError},
	{name: "a number", msg: `42`, code: rpcInvalidRequest},
	{name: "a string", msg: `"register"`, code: rpcInvalidRequest},
	{name: "null", msg: `null`, code: rpcInvalidRequest},
	{name: "a batch", msg: `[{"method":"register","id":1}]`, code: rpcInvalidRequest},
	{name: "method is a number", msg: `{"method":5,"id":9}`, id: "9", code: rpcInvalidRequest},
	{name: "method is empty", msg: `{"method":" ","id":"x"}`, id: `"x"`, code: rpcInvalidRequest},
	{name: "id is an object", msg: `{"method":"register","id":{}}`, code: rpcInvalidRequest},
	{name: "id is a boolean", msg: `{"method":"register","id":true}`, code: rpcInvalidRequest},
	{name: "neither method nor result", msg: `{"jsonrpc":"2.0","id":3}`, id: "3", code: rpcInvalidRequest},
	{name: "response without id", msg: `{"jsonrpc":"2.0","result":{"answer":"x"}}`, code: rpcInvalidRequest},
	{name: "member of the wrong type", msg: `{"method":"register","params":{},"id":1,"result":5,"error":[]}`, kind: wsRequest, method: "register", id: "1"},
	{name: "over 64 KB", msg: `{"method":"register","params":{"pad":"` + strings.Repeat("x", wsMaxMessage) + `"},"id":1}`, code: rpcInvalidRequest},
}

// WSRefusedMessages are the messages decoding refuses, with the code and the
// id (JSON text, "" for none) of the expected answer.
func WSRefusedMessages() []struct {
	Name, Msg, ID string
	Code          int
} {
	var out []struct {
		Name, Msg, ID string
		Code          int
	}
	for _, c := range wsCases {
		if c.kind == 0 {
			out = append(out, struct {
				Name, Msg, ID string
				Code          int
			}{c.name, c.msg, c.id, c.code})
		}
	}
	return out
}

func TestDecodeWSMessage(t *testing.T) {
	t.Parallel()
	for _, c := range wsCases {
		t.Run(c.name, func(t *testing.T) {
			m, e := decodeWSMessage([]byte(c.msg))
			if string(m.ID) != c.id {
				t.Errorf("id = %s, want %s", m.ID, c.id)
			}
			if c.kind == 0 {
				if e == nil || e.Code != c.code {
					t.Fatalf("error %v, want code %d", e, c.code)
				}
				checkRPCText(t, e.Message)
				return
			}
			if e != nil {
				t.Fatalf("error %v", e)
			}
			if m.Kind != c.kind || m.Method != c.method {
				t.Fatalf("kind %d method %q, want %d %q", m.Kind, m.Method, c.kind, c.method)
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
	for _, c := range wsCases {
		f.Add([]byte(c.msg))
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
