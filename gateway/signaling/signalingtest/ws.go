package signalingtest

import "strings"

// WSMessage is one client message and what decoding makes of it. The table
// seeds FuzzWSMessage, and the socket test in ws_errors_test.go sends every
// case that decoding refuses (WSRefusedMessages) to a live socket.
type WSMessage struct {
	Name   string
	Msg    string
	Kind   Kind // 0: decoding refuses the message with Code
	Method string
	ID     string // the id's JSON text as echoed; "" for none
	Code   int
}

// Kind is what a message is (signaling's wsKind).
type Kind int

// The kinds of messages.
const (
	Request Kind = iota + 1
	Notification
	Response
)

// The JSON-RPC codes of a message decoding refuses.
const (
	ParseError     = -32700
	InvalidRequest = -32600
)

// WSMessages is the table of WebSocket messages.
func WSMessages() []WSMessage {
	return []WSMessage{
		// What the XProtect samples and ONVIF clients send.
		{Name: "sample register", Msg: `{"jsonrpc":"2.0","method":"register","params":{"authorization":"tok"},"id":1}`, Kind: Request, Method: "register", ID: "1"},
		{Name: "2025 R1 ApiVersion", Msg: `{"ApiVersion":"1.0","method":"register","params":{"authorization":"tok"},"id":1}`, Kind: Request, Method: "register", ID: "1"},
		{Name: "no version at all", Msg: `{"method":"register","params":{},"id":1}`, Kind: Request, Method: "register", ID: "1"},
		{Name: "sample connect", Msg: `{"jsonrpc":"2.0","method":"connect","id":2,"params":{"authorization":"tok","peer":"CAM","streamID":"S","PlaybackTime":"2024-05-01T10:00:00Z","skipGaps":true,"PlaybackSpeed":"2","iceServers":[{"urls":"stun:a"}],"includeAudio":true}}`, Kind: Request, Method: "connect", ID: "2"},
		{Name: "member names in any case", Msg: `{"JSONRPC":"2.0","Method":"Connect","ID":2,"Params":{"Peer":"CAM"}}`, Kind: Request, Method: "connect", ID: "2"},
		{Name: "string id", Msg: `{"method":"connect","id":"two","params":{}}`, Kind: Request, Method: "connect", ID: `"two"`},
		{Name: "fractional id", Msg: `{"method":"connect","id":7.5}`, Kind: Request, Method: "connect", ID: "7.5"},
		{Name: "negative id", Msg: `{"method":"connect","id":-3}`, Kind: Request, Method: "connect", ID: "-3"},
		{Name: "sample trickle", Msg: `{"jsonrpc":"2.0","method":"trickle","params":{"session":"S","candidate":"{\"candidate\":\"candidate:1 1 udp 2122260223 127.0.0.1 54321 typ host\",\"sdpMid\":\"0\",\"sdpMLineIndex\":0}"}}`, Kind: Notification, Method: "trickle"},
		{Name: "ONVIF trickle with an object", Msg: `{"jsonrpc":"2.0","method":"trickle","params":{"session":"S","candidate":{"candidate":"","sdpMid":"0"}}}`, Kind: Notification, Method: "trickle"},
		{Name: "null id is no id", Msg: `{"method":"trickle","id":null,"params":{}}`, Kind: Notification, Method: "trickle"},
		{Name: "sample answer", Msg: `{"jsonrpc":"2.0","result":{"answer":"{\"type\":\"answer\",\"sdp\":\"v=0\\r\\n\"}"},"id":3}`, Kind: Response, ID: "3"},
		{Name: "answer to a string id", Msg: `{"result":{"answer":{"type":"answer","sdp":"v=0\r\n"}},"id":"3"}`, Kind: Response, ID: `"3"`},
		{Name: "error response", Msg: `{"jsonrpc":"2.0","error":{"code":400,"message":"bad offer"},"id":3}`, Kind: Response, ID: "3"},
		{Name: "unknown members are ignored", Msg: `{"method":"register","extra":[1,2],"id":1}`, Kind: Request, Method: "register", ID: "1"},

		// Refused by the decoder: the socket answers and stays open.
		{Name: "not JSON", Msg: `{"jsonrpc":`, Code: ParseError},
		{Name: "trailing comma", Msg: `{"method":"register","id":1,}`, Code: ParseError},
		{Name: "two objects", Msg: `{"method":"register"} {}`, Code: ParseError},
		{Name: "empty message", Msg: ``, Code: ParseError},
		{Name: "blank message", Msg: " \r\n\t", Code: ParseError},
		{Name: "a number", Msg: `42`, Code: InvalidRequest},
		{Name: "a string", Msg: `"register"`, Code: InvalidRequest},
		{Name: "null", Msg: `null`, Code: InvalidRequest},
		{Name: "a batch", Msg: `[{"method":"register","id":1}]`, Code: InvalidRequest},
		{Name: "method is a number", Msg: `{"method":5,"id":9}`, ID: "9", Code: InvalidRequest},
		{Name: "method is empty", Msg: `{"method":" ","id":"x"}`, ID: `"x"`, Code: InvalidRequest},
		{Name: "id is an object", Msg: `{"method":"register","id":{}}`, Code: InvalidRequest},
		{Name: "id is a boolean", Msg: `{"method":"register","id":true}`, Code: InvalidRequest},
		{Name: "neither method nor result", Msg: `{"jsonrpc":"2.0","id":3}`, ID: "3", Code: InvalidRequest},
		{Name: "response without id", Msg: `{"jsonrpc":"2.0","result":{"answer":"x"}}`, Code: InvalidRequest},
		{Name: "member of the wrong type", Msg: `{"method":"register","params":{},"id":1,"result":5,"error":[]}`, Kind: Request, Method: "register", ID: "1"},
		{Name: "over 64 KB", Msg: `{"method":"register","params":{"pad":"` + strings.Repeat("x", 64<<10) + `"},"id":1}`, Code: InvalidRequest},
	}
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
	for _, c := range WSMessages() {
		if c.Kind == 0 {
			out = append(out, struct {
				Name, Msg, ID string
				Code          int
			}{c.Name, c.Msg, c.ID, c.Code})
		}
	}
	return out
}
