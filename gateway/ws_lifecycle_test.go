package gateway_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/pion/webrtc/v4"

	"github.com/camgate/camgate/appsettings"
)

// The token may come as register's authorization (raw, as the sample sends
// it, or with "Bearer "), or with the upgrade: an Authorization header or
// ?access_token= (ONVIF clients), for a register without one.
func TestWebSocketRegisterTokenSources(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t, envOptions{inBandParams: true})
	for _, tc := range []struct {
		name   string
		query  string
		header http.Header
		params string
	}{
		{"raw token", "", nil, `{"authorization":"` + env.token + `"}`},
		{"Bearer prefix", "", nil, `{"authorization":"Bearer ` + env.token + `"}`},
		{"bearer prefix in lower case", "", nil, `{"Authorization":"bearer ` + env.token + `"}`},
		{"Authorization header", "", http.Header{"Authorization": {"Bearer " + env.token}}, `{}`},
		{"access_token query", "access_token=" + url.QueryEscape(env.token), nil, `{}`},
		{"query, register without params", "access_token=" + url.QueryEscape(env.token), nil, ``},
		{"register's token wins over a bad header", "", http.Header{"Authorization": {"Bearer garbage"}}, `{"authorization":"` + env.token + `"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, _, err := env.dialWS(tc.query, tc.header)
			if err != nil {
				t.Fatal(err)
			}
			msg := `{"jsonrpc":"2.0","method":"register","id":1`
			if tc.params != "" {
				msg += `,"params":` + tc.params
			}
			c.sendRaw(msg + `}`)
			c.expectResult("1")
			_ = c.conn.Close()
		})
	}
	// A bad token in the header, none in register: refused.
	c, _, err := env.dialWS("", http.Header{"Authorization": {"Bearer garbage"}})
	if err != nil {
		t.Fatal(err)
	}
	c.sendRaw(`{"jsonrpc":"2.0","method":"register","params":{},"id":1}`)
	c.expectError("1", 401)
}

// The upgrade checks Origin: without CORS only camgate's own origin (and
// clients that send none) may open the socket; with CORS, the listed
// origins too. Others get a 403 JSON error and no socket.
func TestWebSocketOriginCheck(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		cors  appsettings.CORS
		allow []string // origins that may connect ("self" is camgate's own)
		deny  []string
	}{
		{"CORS off", appsettings.CORS{},
			[]string{"", "self"},
			[]string{"https://evil.example", "null", "https://portal.example"}},
		{"CORS with a list", appsettings.CORS{Enabled: true, AllowOrigin: "https://portal.example", AllowHeaders: "*", AllowMethods: "*"},
			[]string{"", "self", "https://portal.example", "https://PORTAL.example"},
			[]string{"https://evil.example", "null", "http://portal.example"}},
		{"CORS for any origin", appsettings.CORS{Enabled: true, AllowOrigin: "*", AllowHeaders: "*", AllowMethods: "*"},
			[]string{"https://evil.example", "null"},
			nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := newTestEnv(t, envOptions{inBandParams: true, mutate: func(s *appsettings.Settings) { s.CORS = tc.cors }})
			self := strings.TrimSuffix(env.base, "/API")
			header := func(origin string) http.Header {
				switch origin {
				case "":
					return nil
				case "self":
					return http.Header{"Origin": {self}}
				}
				return http.Header{"Origin": {origin}}
			}
			for _, o := range tc.allow {
				c, resp, err := env.dialWS("", header(o))
				if err != nil {
					t.Fatalf("origin %q: %v (status %v)", o, err, statusOf(resp))
				}
				c.register(env.token)
				_ = c.conn.Close()
			}
			for _, o := range tc.deny {
				_, resp, err := env.dialWS("", header(o))
				if err == nil || resp == nil || resp.StatusCode != http.StatusForbidden {
					t.Fatalf("origin %q: err %v, status %v; want a 403", o, err, statusOf(resp))
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				var e struct {
					Error struct {
						HTTPCode int `json:"httpCode"`
						Details  []struct {
							ErrorText string `json:"errorText"`
						} `json:"details"`
					} `json:"error"`
				}
				if json.Unmarshal(body, &e) != nil || e.Error.HTTPCode != 403 || !strings.Contains(e.Error.Details[0].ErrorText, "origin") {
					t.Fatalf("origin %q: 403 body %s", o, body)
				}
			}
		})
	}
}

func statusOf(resp *http.Response) any {
	if resp == nil {
		return "none"
	}
	return resp.StatusCode
}

// The endpoint is a WebSocket: a plain GET is a 400 that says so, another
// method a 405; the path is case-insensitive.
func TestWebSocketEndpointHTTP(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t, envOptions{inBandParams: true})
	if st, body := env.doAs("", "GET", "/ws/webrtc/v1", nil); st != http.StatusBadRequest || !strings.Contains(string(body), "WebSocket") {
		t.Fatalf("plain GET: %d %s", st, body)
	}
	if st, body := env.doAs("", "POST", "/WS/WebRTC/V1", "{}"); st != http.StatusMethodNotAllowed {
		t.Fatalf("POST: %d %s", st, body)
	}
	d := websocket.Dialer{HandshakeTimeout: 5 * time.Second}
	conn, _, err := d.Dial(strings.Replace(env.wsURL(""), "/API/ws/webrtc/v1", "/api/WS/WebRTC/V1/", 1), nil)
	if err != nil {
		t.Fatalf("mixed-case path: %v", err)
	}
	conn.Close()
	// ONVIF clients ask for their subprotocol; it is granted.
	d.Subprotocols = []string{"webrtc.onvif.org"}
	conn, resp, err := d.Dial(env.wsURL(""), nil)
	if err != nil || resp.Header.Get("Sec-WebSocket-Protocol") != "webrtc.onvif.org" {
		t.Fatalf("ONVIF subprotocol: %v, %q", err, statusOf(resp))
	}
	conn.Close()
}

// Closing the socket leaves a connected session playing (the sample never
// closes it; ONVIF says the peer connection must not depend on it), while a
// session that never got its answer is closed with the socket.
func TestWebSocketCloseKeepsConnectedMedia(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t, envOptions{inBandParams: true})
	env.waitStreaming()
	c := env.mustDialWS()
	c.register(env.token)
	x := c.play("2", testCameraID, nil)
	x.waitFrames(10, 20*time.Second)
	pending := c.connect("2", map[string]any{"peer": testCameraID})
	c.expectInvite(pending)
	if n := env.gw.SessionCount(); n != 2 {
		t.Fatalf("sessions = %d, want 2", n)
	}
	c.checkProblems()
	_ = c.conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
	_ = c.waitClosed(10 * time.Second) // that it closes, not how

	waitUntil(t, 10*time.Second, "the unanswered session to close", func() bool { return env.gw.SessionCount() == 1 })
	n := x.frameCount()
	x.waitFrames(n+30, 20*time.Second)
	if st := x.pc.ConnectionState(); st != webrtc.PeerConnectionStateConnected {
		t.Fatalf("the connected session's peer is %s after the socket closed", st)
	}
	// It still ends with its peer connection.
	_ = x.pc.Close()
	waitUntil(t, 20*time.Second, "the session to end with its peer", func() bool { return env.gw.SessionCount() == 0 })
}

// waitUntil polls cond until it holds; the timeout only bounds a failure.
func waitUntil(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// A socket may hold WebSocket.MaxSessionsPerConnection open sessions; a
// connect beyond is refused with 1001 until one ends. A session left
// without an answer ends after WebRTC.AnswerTimeout with a 408 notice.
func TestWebSocketSessionLimit(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t, envOptions{inBandParams: true, mutate: func(s *appsettings.Settings) {
		s.WebSocket.MaxSessionsPerConnection = 2
		// The third session must be answered within it on a busy machine.
		s.WebRTC.AnswerTimeout = appsettings.Duration(5 * time.Second)
	}})
	env.waitStreaming()
	c := env.mustDialWS()
	c.register(env.token)
	first := c.connect("2", map[string]any{"peer": testCameraID})
	c.expectInvite(first)
	second := c.connect("2", map[string]any{"peer": testCameraID})
	c.expectInvite(second)
	c.sendRaw(`{"jsonrpc":"2.0","method":"connect","params":{"peer":"` + testCameraID + `"},"id":2}`)
	n := c.expectError("2", 1001)
	if !strings.Contains(n.Message, "MaxSessionsPerConnection") {
		t.Fatalf("limit text %q", n.Message)
	}
	// Neither is answered: both end, and the socket is told.
	ended := map[string]bool{}
	for range 2 {
		n := c.expectError("", 408)
		ended[n.Session] = true
	}
	if !ended[first] || !ended[second] {
		t.Fatalf("408 notices for %v, want %s and %s", ended, first, second)
	}
	// Room again.
	third := c.connect("2", map[string]any{"peer": testCameraID})
	c.answer(c.expectInvite(third)).waitFrames(1, 20*time.Second)
	c.checkProblems()
}

// One user may have WebSocket.MaxConnectionsPerUser registered sockets; the
// register of one more is refused with 1001 and that socket closed. Other
// users are not affected, and a closed socket frees its place.
func TestWebSocketConnectionLimit(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t, envOptions{inBandParams: true, mutate: func(s *appsettings.Settings) {
		s.WebSocket.MaxConnectionsPerUser = 2
	}})
	a, b := env.mustDialWS(), env.mustDialWS()
	a.register(env.token)
	b.register(env.signIn(testUser, testPassword)) // another token of the same user
	over := env.mustDialWS()
	over.sendRaw(`{"jsonrpc":"2.0","method":"register","params":{"authorization":"` + env.token + `"},"id":1}`)
	n := over.expectError("1", 1001)
	if !strings.Contains(n.Message, "MaxConnectionsPerUser") {
		t.Fatalf("limit text %q", n.Message)
	}
	var ce *websocket.CloseError
	if err := over.waitClosed(10 * time.Second); !errors.As(err, &ce) || ce.Code != websocket.ClosePolicyViolation {
		t.Fatalf("the refused socket closed with %v, want close 1008", err)
	}
	stranger := env.mustDialWS()
	stranger.register(env.signIn(otherUser, testPassword))

	_ = a.conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
	_ = a.waitClosed(10 * time.Second) // that it closes, not how
	// camgate frees the place once it has seen the close.
	deadline := time.Now().Add(10 * time.Second)
	for {
		again := env.mustDialWS()
		again.sendRaw(`{"jsonrpc":"2.0","method":"register","params":{"authorization":"` + env.token + `"},"id":1}`)
		m := again.next(10 * time.Second)
		if m.Error == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("a closed socket did not free its place: %s", m.Raw)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// camgate pings; a client that answers (every WebSocket library does while
// it reads) stays, one that does not is closed after two intervals, and a
// socket that never registers is closed after WebSocket.RegisterTimeout.
func TestWebSocketKeepAliveAndRegisterTimeout(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t, envOptions{inBandParams: true, mutate: func(s *appsettings.Settings) {
		s.WebSocket.PingInterval = appsettings.Duration(2 * time.Second)
		s.WebSocket.RegisterTimeout = appsettings.Duration(time.Second)
	}})
	// Never registers: a 408 notice, then close 1008.
	silent := env.mustDialWS()
	silent.expectError("", 408)
	var ce *websocket.CloseError
	if err := silent.waitClosed(10 * time.Second); !errors.As(err, &ce) || ce.Code != websocket.ClosePolicyViolation {
		t.Fatalf("unregistered socket closed with %v, want close 1008", err)
	}

	// Reads, so it answers pings: still open after several intervals.
	d := websocket.Dialer{HandshakeTimeout: 5 * time.Second}
	alive, _, err := d.Dial(env.wsURL(""), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer alive.Close()
	var pings atomic.Int32
	alive.SetPingHandler(func(data string) error {
		pings.Add(1)
		return alive.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(time.Second))
	})
	replies := make(chan string, 16)
	go func() {
		defer close(replies)
		for {
			_, b, err := alive.ReadMessage()
			if err != nil {
				return
			}
			replies <- string(b)
		}
	}()
	reply := func() string {
		t.Helper()
		select {
		case r, ok := <-replies:
			if !ok {
				t.Fatal("the socket that answers pings was closed")
			}
			return r
		case <-time.After(10 * time.Second):
			t.Fatal("no reply")
		}
		return ""
	}
	if err := alive.WriteMessage(websocket.TextMessage, []byte(`{"jsonrpc":"2.0","method":"register","params":{"authorization":"`+env.token+`"},"id":1}`)); err != nil {
		t.Fatal(err)
	}
	if r := reply(); !strings.Contains(r, `"result"`) {
		t.Fatalf("register: %s", r)
	}

	// Does not read, so it never answers: closed. Its TCP connection is
	// closed by camgate, which the client sees when it reads again.
	deaf, _, err := d.Dial(env.wsURL(""), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer deaf.Close()
	if err := deaf.WriteMessage(websocket.TextMessage, []byte(`{"jsonrpc":"2.0","method":"register","params":{"authorization":"`+env.token+`"},"id":1}`)); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, 30*time.Second, "pings to the reading client", func() bool { return pings.Load() >= 3 })
	// By now (3 intervals), the deaf socket has had no pong for longer than
	// two intervals.
	_ = deaf.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		if _, _, err := deaf.ReadMessage(); err != nil {
			var ne interface{ Timeout() bool }
			if errors.As(err, &ne) && ne.Timeout() {
				t.Fatal("the socket that answers no ping is still open")
			}
			break
		}
	}
	if err := alive.WriteMessage(websocket.TextMessage, []byte(`{"jsonrpc":"2.0","method":"nosuch","id":7}`)); err != nil {
		t.Fatalf("the socket that answers pings: %v", err)
	}
	if r := reply(); !strings.Contains(r, "-32601") {
		t.Fatalf("reply %s", r)
	}
}

// A socket's token expires (it authenticates the media too): its sessions end after the grace
// unless they got a new token, through register on the socket or through the
// 2025 sample's PATCH …/ws/webrtc/v1/Session/{id}; connect then needs a new
// register.
func TestWebSocketTokenExpiry(t *testing.T) {
	t.Parallel()
	var offset atomic.Int64
	clock := func() time.Time { return time.Now().Add(time.Duration(offset.Load())) }
	// Tokens issued now were issued 35 s ago: env.token expires in about
	// 25 s, time enough for three sessions on a busy machine.
	offset.Store(int64(-35 * time.Second))
	env := newTestEnv(t, envOptions{inBandParams: true, authNow: clock, mutate: func(s *appsettings.Settings) {
		s.Auth.BuiltIn.TokenLifetime = appsettings.Duration(time.Minute)
		s.Auth.SessionGrace = appsettings.Duration(time.Second)
	}})
	offset.Store(0)
	env.waitStreaming()

	s1 := env.mustDialWS()
	s1.register(env.token)
	patched := s1.play("2", testCameraID, nil)
	expiring := s1.play("2", testCameraID, nil)
	s2 := env.mustDialWS()
	s2.register(env.token)
	reregistered := s2.play("2", testCameraID, nil)
	fresh := env.signIn(testUser, testPassword) // lasts a minute
	if st, body := env.doAs(fresh, "PATCH", "/ws/webrtc/v1/Session/"+patched.sessionID, `{"token":"`+fresh+`"}`); st != http.StatusOK || strings.Contains(string(body), fresh) {
		t.Fatalf("PATCH …/ws/webrtc/v1/Session: %d %s", st, body)
	}
	if st, _ := env.doAs(fresh, "PATCH", "/ws/webrtc/v1/Session/"+patched.sessionID, `{"token":"`+env.signIn(otherUser, testPassword)+`"}`); st != http.StatusForbidden {
		t.Fatalf("PATCH with another user's token: %d, want 403", st)
	}
	s2.sendRaw(`{"jsonrpc":"2.0","method":"register","params":{"authorization":"` + fresh + `"},"id":1}`)
	s2.expectResult("1")
	for _, x := range []*xprotectClient{patched, expiring, reregistered} {
		x.waitFrames(1, 20*time.Second)
	}

	// The token expires about 25 s after the start, the grace is 1 s.
	n := s1.checkError(s1.next(40*time.Second), "", 1002)
	if n.Session != expiring.sessionID {
		t.Fatalf("session %s ended, want %s (the one without a new token)", n.Session, expiring.sessionID)
	}
	// The notice goes out as the session starts closing.
	waitUntil(t, 10*time.Second, "two sessions, those with new tokens", func() bool { return env.gw.SessionCount() == 2 })
	for _, x := range []*xprotectClient{patched, reregistered} {
		k := x.frameCount()
		x.waitFrames(k+10, 20*time.Second)
	}
	// s1 still runs on the expired token: a connect says to register again,
	// and so does a register with it.
	s1.sendRaw(`{"jsonrpc":"2.0","method":"connect","params":{"peer":"` + testCameraID + `"},"id":2}`)
	if n := s1.expectError("2", 401); !strings.Contains(n.Message, "token expired") || !strings.Contains(n.Message, "register again") {
		t.Fatalf("connect on an expired socket: %q", n.Message)
	}
	s1.sendRaw(`{"jsonrpc":"2.0","method":"register","params":{"authorization":"` + env.token + `"},"id":1}`)
	s1.expectError("1", 401)
	s1.register(fresh)
	s1.connect("2", map[string]any{"peer": testCameraID})
	s1.checkProblems()
	s2.checkProblems()
}

// Gateway.Close ends every socket with "going away" and returns when their
// goroutines are gone.
func TestWebSocketGatewayCloseEndsSockets(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t, envOptions{inBandParams: true})
	registered, fresh := env.mustDialWS(), env.mustDialWS()
	registered.register(env.token)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := env.gw.Close(ctx); err != nil {
		t.Fatalf("Close: %v", err)
	}
	for _, c := range []*wsClient{registered, fresh} {
		var ce *websocket.CloseError
		if err := c.waitClosed(5 * time.Second); !errors.As(err, &ce) || ce.Code != websocket.CloseGoingAway {
			t.Fatalf("socket closed with %v, want close 1001", err)
		}
	}
}
