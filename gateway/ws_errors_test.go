package gateway_test

import (
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/camgate/camgate/gateway/signaling/signalingtest"
)

// wsBadCase is a message sent on a live socket and the error it must get:
// the response to id (JSON text), or an "error" notification when id is "".
// code 0 means no answer at all.
type wsBadCase struct {
	name     string
	msg      string
	id       string
	code     int
	contains string // a piece of the error text
	session  bool   // the notification names the session
}

// TestWebSocketBadMessagesKeepTheSocket sends every kind of bad message on
// one socket: each gets a JSON-RPC error or an error notification, with a
// text and no token in it, and the socket stays open for the next, up to a
// connect that works at the end.
func TestWebSocketBadMessagesKeepTheSocket(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t, envOptions{inBandParams: true})
	env.waitStreaming()
	stranger := env.signIn(otherUser, testPassword)
	c := env.mustDialWS()
	vars := strings.NewReplacer("{CAM}", testCameraID, "{STREAM}", testStreamID, "{TOKEN}", env.token, "{STRANGER}", stranger)
	run := func(cases []wsBadCase) {
		t.Helper()
		for _, tc := range cases {
			msg := vars.Replace(tc.msg)
			if tc.name == "binary message" {
				if err := c.write(websocket.BinaryMessage, []byte(msg)); err != nil {
					t.Fatal(err)
				}
			} else {
				c.sendRaw(msg)
			}
			if tc.code == 0 {
				// Nothing comes back: the next answer is the sentinel's.
				c.sendRaw(`{"jsonrpc":"2.0","method":"sentinel","id":"sentinel"}`)
				c.expectError(`"sentinel"`, -32601)
				continue
			}
			m := c.next(10 * time.Second)
			func() {
				defer func() {
					if t.Failed() {
						t.Logf("case %q", tc.name)
					}
				}()
				n := c.checkError(m, tc.id, tc.code)
				if tc.contains != "" && !strings.Contains(n.Message, tc.contains) {
					t.Fatalf("case %q: error text %q lacks %q", tc.name, n.Message, tc.contains)
				}
				if tc.session && n.Session == "" {
					t.Fatalf("case %q: the notification names no session: %s", tc.name, m.Raw)
				}
				if strings.Contains(m.Raw, env.token) || strings.Contains(m.Raw, stranger) {
					t.Fatalf("case %q: the answer repeats a token", tc.name)
				}
			}()
		}
	}

	// Before register: decoding errors, unknown methods, bad register
	// params, and everything else is a 401.
	var refused []wsBadCase
	for _, r := range signalingtest.WSRefusedMessages() {
		refused = append(refused, wsBadCase{name: r.Name, msg: r.Msg, id: r.ID, code: r.Code})
	}
	run(refused)
	run([]wsBadCase{
		{name: "binary message", msg: `{"method":"register","id":1}`, code: -32600, contains: "binary"},
		{name: "unknown method", msg: `{"jsonrpc":"2.0","method":"subscribe","id":4}`, id: "4", code: -32601, contains: "subscribe"},
		{name: "unknown notification", msg: `{"jsonrpc":"2.0","method":"subscribe"}`, code: -32601},
		{name: "connect before register", msg: `{"jsonrpc":"2.0","method":"connect","params":{"peer":"{CAM}"},"id":2}`, id: "2", code: 401, contains: "register first"},
		{name: "trickle before register", msg: `{"jsonrpc":"2.0","method":"trickle","params":{"session":"x","candidate":"{}"}}`, code: 401},
		{name: "answer before register", msg: `{"jsonrpc":"2.0","result":{"answer":"{}"},"id":3}`, code: 401},
		{name: "register params as a list", msg: `{"jsonrpc":"2.0","method":"register","params":["{TOKEN}"],"id":1}`, id: "1", code: -32602},
		{name: "register authorization as an object", msg: `{"jsonrpc":"2.0","method":"register","params":{"authorization":{}},"id":1}`, id: "1", code: -32602, contains: "authorization"},
		{name: "register without a token", msg: `{"jsonrpc":"2.0","method":"register","params":{},"id":1}`, id: "1", code: 401, contains: "authorization is required"},
		{name: "register with a bad token", msg: `{"jsonrpc":"2.0","method":"register","params":{"authorization":"not-a-jwt"},"id":1}`, id: "1", code: 401, contains: "invalid token"},
		{name: "the client's error notification gets no answer", msg: `{"jsonrpc":"2.0","method":"error","params":{"message":"x"}}`},
	})
	c.register(env.token)

	run([]wsBadCase{
		{name: "connect params as a list", msg: `{"jsonrpc":"2.0","method":"connect","params":[],"id":2}`, id: "2", code: -32602},
		{name: "connect without peer", msg: `{"jsonrpc":"2.0","method":"connect","params":{"includeAudio":true},"id":2}`, id: "2", code: -32602, contains: "peer"},
		{name: "connect with a bad boolean", msg: `{"jsonrpc":"2.0","method":"connect","params":{"peer":"{CAM}","skipGaps":"maybe"},"id":2}`, id: "2", code: -32602, contains: "skipGaps"},
		{name: "connect with a bad speed", msg: `{"jsonrpc":"2.0","method":"connect","params":{"peer":"{CAM}","PlaybackSpeed":"fast"},"id":2}`, id: "2", code: -32602, contains: "playbackSpeed"},
		{name: "playback without the playback right", msg: `{"jsonrpc":"2.0","method":"connect","params":{"peer":"{CAM}","PlaybackTime":"2024-05-01T10:00:00Z","skipGaps":true},"id":2}`, id: "2", code: 403, contains: "playback right"},
		{name: "playback at speed 0", msg: `{"jsonrpc":"2.0","method":"connect","params":{"peer":"{CAM}","PlaybackTime":"2024-05-01T10:00:00Z","PlaybackSpeed":"0"},"id":2}`, id: "2", code: -32602, contains: "PlaybackSpeed must be more than 0 and at most 32"},
		{name: "playback time that is not ISO 8601", msg: `{"jsonrpc":"2.0","method":"connect","params":{"peer":"{CAM}","PlaybackTime":"yesterday"},"id":2}`, id: "2", code: -32602, contains: "PlaybackTime"},
		{name: "unknown camera", msg: `{"jsonrpc":"2.0","method":"connect","params":{"peer":"00000000-0000-4000-8000-000000000000"},"id":2}`, id: "2", code: 404, contains: "does not exist"},
		{name: "unknown stream", msg: `{"jsonrpc":"2.0","method":"connect","params":{"peer":"{CAM}","streamID":"00000000-0000-4000-8000-000000000000"},"id":2}`, id: "2", code: 404, contains: "stream"},
		{name: "bad ICE server", msg: `{"jsonrpc":"2.0","method":"connect","params":{"peer":"{CAM}","iceServers":[{"urls":"ftp://x"}]},"id":2}`, id: "2", code: -32602, contains: "iceServers[0]"},
		{name: "TURN without credentials", msg: `{"jsonrpc":"2.0","method":"connect","params":{"peer":"{CAM}","iceServers":[{"urls":"turn:127.0.0.1:3478"}]},"id":2}`, id: "2", code: -32602, contains: "credential"},
		{name: "connect with a bad token of its own", msg: `{"jsonrpc":"2.0","method":"connect","params":{"peer":"{CAM}","authorization":"garbage"},"id":2}`, id: "2", code: 401, contains: "params.authorization"},
		{name: "connect with another user's token", msg: `{"jsonrpc":"2.0","method":"connect","params":{"peer":"{CAM}","authorization":"{STRANGER}"},"id":2}`, id: "2", code: 403, contains: "another user"},
		{name: "register as another user", msg: `{"jsonrpc":"2.0","method":"register","params":{"authorization":"{STRANGER}"},"id":1}`, id: "1", code: 403, contains: "registered to"},
		{name: "trickle without session", msg: `{"jsonrpc":"2.0","method":"trickle","params":{"candidate":"{}"}}`, code: -32602, contains: "session"},
		{name: "trickle for an unknown session", msg: `{"jsonrpc":"2.0","method":"trickle","params":{"session":"00000000-0000-4000-8000-000000000000","candidate":"{}"}}`, code: 404, session: true},
		{name: "trickle request for an unknown session", msg: `{"jsonrpc":"2.0","method":"trickle","params":{"session":"nope","candidate":"{}"},"id":5}`, id: "5", code: 404},
		{name: "trickle params as a string", msg: `{"jsonrpc":"2.0","method":"trickle","params":"x"}`, code: -32602},
		{name: "answer to an invite that was never sent", msg: `{"jsonrpc":"2.0","result":{"answer":"{}"},"id":99}`, code: -32600, contains: "99"},
	})
	if n := env.gw.SessionCount(); n != 0 {
		t.Fatalf("refused connects left %d sessions", n)
	}

	// A real session for the session-level cases.
	session := c.connect("2", map[string]any{"peer": testCameraID})
	inv := c.expectInvite(session)
	vars = strings.NewReplacer("{SESSION}", session, "{INVITE}", string(inv.id))
	goodCandidate := mustJSON(`{"candidate":"candidate:1 1 udp 2122260223 127.0.0.1 54321 typ host","sdpMid":"0","sdpMLineIndex":0}`)
	run([]wsBadCase{
		{name: "candidate is a number", msg: `{"jsonrpc":"2.0","method":"trickle","params":{"session":"{SESSION}","candidate":5}}`, code: 1003, session: true},
		{name: "candidate is not JSON", msg: `{"jsonrpc":"2.0","method":"trickle","params":{"session":"{SESSION}","candidate":"candidate:1 1 udp"}}`, code: 1003, session: true, contains: "JSON"},
		{name: "candidate line does not parse", msg: `{"jsonrpc":"2.0","method":"trickle","params":{"session":"{SESSION}","candidate":"{\"candidate\":\"candidate:garbage\"}"}}`, code: 1003, session: true, contains: "does not parse"},
		{name: "a good candidate before the answer is kept", msg: `{"jsonrpc":"2.0","method":"trickle","params":{"session":"{SESSION}","candidate":` + goodCandidate + `}}`},
		{name: "end of candidates", msg: `{"jsonrpc":"2.0","method":"trickle","params":{"session":"{SESSION}","candidate":""}}`},
		{name: "end of candidates as an object", msg: `{"jsonrpc":"2.0","method":"trickle","params":{"session":"{SESSION}","candidate":{"candidate":""}}}`},
		{name: "answer result is not an object", msg: `{"jsonrpc":"2.0","result":"x","id":{INVITE}}`, code: 400, session: true},
		{name: "answer missing", msg: `{"jsonrpc":"2.0","result":{},"id":{INVITE}}`, code: 400, session: true, contains: "answer"},
		{name: "answer is an offer", msg: `{"jsonrpc":"2.0","result":{"answer":"{\"type\":\"offer\",\"sdp\":\"v=0\"}"},"id":{INVITE}}`, code: 400, session: true, contains: "offer"},
		{name: "answer does not parse", msg: `{"jsonrpc":"2.0","result":{"answer":"{\"type\":\"answer\",\"sdp\":\"garbage\"}"},"id":{INVITE}}`, code: 400, session: true},
		{name: "answer of the wrong type", msg: `{"jsonrpc":"2.0","result":{"answer":7},"id":{INVITE}}`, code: 400, session: true},
	})
	// The client refuses the invite: the session ends, and camgate says it
	// ended without an answer.
	c.sendRaw(`{"jsonrpc":"2.0","error":{"code":400,"message":"cannot use the offer"},"id":` + string(inv.id) + `}`)
	n := c.expectError("", 408)
	if n.Session != session {
		t.Fatalf("408 for session %q, want %q", n.Session, session)
	}
	waitUntil(t, 10*time.Second, "the refused invite's session to close", func() bool { return env.gw.SessionCount() == 0 })

	// The same socket still plays.
	x := c.play("2", testCameraID, nil)
	x.waitFrames(5, 20*time.Second)
	c.checkProblems()
}

// A user without the right to watch the camera is refused at connect, as
// over REST.
func TestWebSocketRightsAreCheckedAtConnect(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t, envOptions{inBandParams: true})
	env.waitStreaming()
	c := env.mustDialWS()
	c.register(env.signIn(otherUser, testPassword))
	c.sendRaw(`{"jsonrpc":"2.0","method":"connect","params":{"peer":"` + testCameraID + `"},"id":2}`)
	n := c.expectError("2", 403)
	if !strings.Contains(n.Message, "no live right") {
		t.Fatalf("403 text %q", n.Message)
	}
	if env.gw.SessionCount() != 0 {
		t.Fatal("a forbidden connect created a session")
	}
	// The camera exists for the owner of the right, on another socket.
	owner := env.mustDialWS()
	owner.register(env.token)
	owner.connect("2", map[string]any{"peer": testCameraID})
}
