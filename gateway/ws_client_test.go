package gateway_test

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/pion/stun/v4"
	"github.com/pion/webrtc/v4"

	"github.com/camgate/camgate/appsettings"
	"github.com/camgate/camgate/cameras/demo"
)

// wsClient talks to the WebSocket signaling endpoint the way the XProtect
// WebRTC JavaScript sample (2025 R2, websocket.js) does, with pion peers in
// place of the browser's. A reader goroutine applies the server's trickles
// to the peers and hands every other message to the test goroutine, which
// makes all the assertions.
type wsClient struct {
	t    *testing.T
	env  *testEnv
	conn *websocket.Conn

	wmu sync.Mutex // one writer at a time: pion's candidate callbacks send too

	in   chan wsIn
	done chan struct{} // closed when the reader has stopped

	mu       sync.Mutex
	peers    map[string]*webrtc.PeerConnection
	trickles map[string]int // server trickles applied, per session
	sent     map[string]int // client trickles sent, per session
	problems []string       // what the reader goroutine found wrong
	readErr  error

	// api builds the peers (nil: clientAPI), whose wait for a missing
	// packet is hold (see reorder).
	api  *webrtc.API
	hold time.Duration
}

// wsIn is a message from camgate.
type wsIn struct {
	JSONRPC string          `json:"jsonrpc"`
	Method  string          `json:"method"`
	Params  json.RawMessage `json:"params"`
	Result  json.RawMessage `json:"result"`
	Error   *struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
	ID  json.RawMessage `json:"id"`
	Raw string          `json:"-"`
}

// notice is an "error" notification's params.
type notice struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
	Session string `json:"session"`
}

func (e *testEnv) wsURL(query string) string {
	u := "ws" + strings.TrimPrefix(e.base, "http") + "/ws/webrtc/v1"
	if query != "" {
		u += "?" + query
	}
	return u
}

// dialWS opens a socket; header may carry Origin or Authorization.
func (e *testEnv) dialWS(query string, header http.Header) (*wsClient, *http.Response, error) {
	d := websocket.Dialer{HandshakeTimeout: 5 * time.Second}
	conn, resp, err := d.Dial(e.wsURL(query), header)
	if err != nil {
		return nil, resp, err
	}
	c := &wsClient{
		t: e.t, env: e, conn: conn,
		in: make(chan wsIn, 1024), done: make(chan struct{}),
		peers: map[string]*webrtc.PeerConnection{}, trickles: map[string]int{}, sent: map[string]int{},
	}
	e.t.Cleanup(func() { _ = conn.Close() })
	go c.read()
	return c, resp, nil
}

func (e *testEnv) mustDialWS() *wsClient {
	e.t.Helper()
	c, resp, err := e.dialWS("", nil)
	if err != nil {
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		e.t.Fatalf("dial %s: %v (status %d)", e.wsURL(""), err, status)
	}
	return c
}

func (c *wsClient) problem(format string, args ...any) {
	c.mu.Lock()
	c.problems = append(c.problems, fmt.Sprintf(format, args...))
	c.mu.Unlock()
}

func (c *wsClient) read() {
	defer close(c.done)
	for {
		_, b, err := c.conn.ReadMessage()
		if err != nil {
			c.mu.Lock()
			c.readErr = err
			c.mu.Unlock()
			return
		}
		var m wsIn
		if err := json.Unmarshal(b, &m); err != nil {
			c.problem("message %q is not JSON: %v", b, err)
			continue
		}
		m.Raw = string(b)
		if m.JSONRPC != "2.0" {
			c.problem(`message %s lacks "jsonrpc":"2.0"`, b)
		}
		if m.Method == "trickle" {
			c.applyTrickle(m)
			continue
		}
		c.in <- m
	}
}

// applyTrickle adds a server candidate as the sample does:
// pc.addIceCandidate(params.candidate), which takes an object.
func (c *wsClient) applyTrickle(m wsIn) {
	if m.ID != nil {
		c.problem("server trickle %s has an id", m.Raw)
	}
	var p struct {
		Session   string          `json:"session"`
		Candidate json.RawMessage `json:"candidate"`
	}
	if err := json.Unmarshal(m.Params, &p); err != nil || len(p.Candidate) == 0 || p.Candidate[0] != '{' {
		c.problem("server trickle %s: candidate is not an object", m.Raw)
		return
	}
	var init webrtc.ICECandidateInit
	if err := json.Unmarshal(p.Candidate, &init); err != nil {
		c.problem("server trickle %s: %v", m.Raw, err)
		return
	}
	c.mu.Lock()
	pc := c.peers[p.Session]
	c.mu.Unlock()
	if pc == nil {
		c.problem("server trickle for session %s, which has no peer (before the answer?)", p.Session)
		return
	}
	if err := pc.AddICECandidate(init); err != nil {
		c.problem("addIceCandidate(%s): %v", p.Candidate, err)
		return
	}
	c.mu.Lock()
	c.trickles[p.Session]++
	c.mu.Unlock()
}

// checkProblems fails the test with what the reader goroutine saw.
func (c *wsClient) checkProblems() {
	c.t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, p := range c.problems {
		c.t.Error(p)
	}
}

func (c *wsClient) sendRaw(msg string) {
	c.t.Helper()
	if err := c.write(websocket.TextMessage, []byte(msg)); err != nil {
		c.t.Fatalf("send %.100s: %v", msg, err)
	}
}

func (c *wsClient) write(typ int, b []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_ = c.conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
	return c.conn.WriteMessage(typ, b)
}

// next returns the next message other than a trickle.
func (c *wsClient) next(timeout time.Duration) wsIn {
	c.t.Helper()
	select {
	case m := <-c.in:
		return m
	case <-time.After(timeout):
		c.t.Fatalf("no message from camgate within %v", timeout)
	case <-c.done:
		select {
		case m := <-c.in:
			return m
		default:
		}
		c.t.Fatalf("the socket closed: %v", c.closeErr())
	}
	return wsIn{}
}

func (c *wsClient) closeErr() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.readErr
}

// waitClosed waits for camgate to close the socket and returns the close
// error the client saw.
func (c *wsClient) waitClosed(timeout time.Duration) error {
	c.t.Helper()
	select {
	case <-c.done:
		return c.closeErr()
	case <-time.After(timeout):
		c.t.Fatalf("the socket is still open after %v", timeout)
	}
	return nil
}

// expectResult waits for the result answering id (the id's JSON text).
func (c *wsClient) expectResult(id string) json.RawMessage {
	c.t.Helper()
	m := c.next(10 * time.Second)
	if string(m.ID) != id || m.Error != nil || m.Result == nil || m.Method != "" {
		c.t.Fatalf("got %s, want a result with id %s", m.Raw, id)
	}
	return m.Result
}

// expectError waits for an error: the response to id, or for id "" an
// "error" notification. It returns the message text.
func (c *wsClient) expectError(id string, code int) notice {
	c.t.Helper()
	m := c.next(10 * time.Second)
	return c.checkError(m, id, code)
}

func (c *wsClient) checkError(m wsIn, id string, code int) notice {
	c.t.Helper()
	if id == "" {
		var n notice
		if m.Method != "error" || m.ID != nil || json.Unmarshal(m.Params, &n) != nil || n.Code != code || n.Message == "" {
			c.t.Fatalf("got %s, want an error notification with code %d", m.Raw, code)
		}
		return n
	}
	if string(m.ID) != id || m.Error == nil || m.Error.Code != code || m.Error.Message == "" || m.Result != nil {
		c.t.Fatalf("got %s, want an error response with id %s and code %d", m.Raw, id, code)
	}
	return notice{Code: m.Error.Code, Message: m.Error.Message}
}

// register sends the sample's first message.
func (c *wsClient) register(token string) {
	c.t.Helper()
	c.sendRaw(`{"jsonrpc":"2.0","method":"register","params":{"authorization":` + mustJSON(token) + `},"id":1}`)
	var r struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(c.expectResult("1"), &r); err != nil || r.ID == "" {
		c.t.Fatalf("register result: want {\"id\": \"…\"} (%v)", err)
	}
}

// connect sends a connect with the given request id and params and returns
// the session id from the result.
func (c *wsClient) connect(id string, params map[string]any) string {
	c.t.Helper()
	c.sendRaw(`{"jsonrpc":"2.0","method":"connect","id":` + id + `,"params":` + mustJSON(params) + `}`)
	var r struct {
		Session    string            `json:"session"`
		IceServers []json.RawMessage `json:"iceServers"`
	}
	if err := json.Unmarshal(c.expectResult(id), &r); err != nil || r.Session == "" || r.IceServers == nil {
		c.t.Fatalf("connect result: want {session, iceServers} (%v)", err)
	}
	return r.Session
}

// invite is the server's invite request.
type invite struct {
	id      json.RawMessage
	session string
	offer   webrtc.SessionDescription
}

func (c *wsClient) expectInvite(session string) invite {
	c.t.Helper()
	m := c.next(10 * time.Second)
	var p struct {
		Session string `json:"session"`
		Offer   string `json:"offer"`
	}
	if m.Method != "invite" || m.ID == nil || json.Unmarshal(m.Params, &p) != nil {
		c.t.Fatalf("got %s, want an invite", m.Raw)
	}
	// The sample treats id 1 and 2 (compared with ==) as the answers to
	// register and connect.
	if k := strings.Trim(string(m.ID), `"`); k == "1" || k == "2" {
		c.t.Fatalf("invite id %s: must never be 1 or 2", m.ID)
	}
	if p.Session != session {
		c.t.Fatalf("invite for session %q, want %q (the connect result's)", p.Session, session)
	}
	var offer webrtc.SessionDescription
	if err := json.Unmarshal([]byte(p.Offer), &offer); err != nil || offer.Type != webrtc.SDPTypeOffer {
		c.t.Fatalf("invite offer is not the JSON string of an offer: %v", err)
	}
	return invite{id: m.ID, session: p.Session, offer: offer}
}

// answer does what the sample's invite handler does: setRemoteDescription,
// createAnswer, setLocalDescription, send the answer as the invite's result;
// local candidates trickle as JSON strings. It returns the peer, which
// collects the frames it receives.
func (c *wsClient) answer(inv invite) *xprotectClient {
	c.t.Helper()
	x := &xprotectClient{t: c.t, env: c.env, sessionID: inv.session, hold: c.hold, frameCh: make(chan struct{}, 1), cmdReplys: make(chan string, 16)}
	api := c.api
	if api == nil {
		api = clientAPI(c.t)
	}
	pc, err := api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		c.t.Fatal(err)
	}
	x.pc = pc
	c.t.Cleanup(func() { _ = pc.Close() })
	pc.OnTrack(x.onTrack)
	pc.OnICECandidate(func(cand *webrtc.ICECandidate) {
		if cand == nil {
			return // the sample filters the null candidate
		}
		b, _ := json.Marshal(cand.ToJSON())
		msg := `{"jsonrpc":"2.0","method":"trickle","params":{"session":` + mustJSON(inv.session) + `,"candidate":` + mustJSON(string(b)) + `}}`
		if err := c.write(websocket.TextMessage, []byte(msg)); err == nil {
			c.mu.Lock()
			c.sent[inv.session]++
			c.mu.Unlock()
		}
	})
	c.mu.Lock()
	c.peers[inv.session] = pc
	c.mu.Unlock()
	if err := pc.SetRemoteDescription(inv.offer); err != nil {
		c.t.Fatalf("setRemoteDescription(offer): %v", err)
	}
	ans, err := pc.CreateAnswer(nil)
	if err != nil {
		c.t.Fatal(err)
	}
	if err := pc.SetLocalDescription(ans); err != nil {
		c.t.Fatal(err)
	}
	b, _ := json.Marshal(pc.LocalDescription())
	c.sendRaw(`{"jsonrpc":"2.0","result":{"answer":` + mustJSON(string(b)) + `},"id":` + string(inv.id) + `}`)
	proto := "videoos-commands"
	dc, err := pc.CreateDataChannel("commands", &webrtc.DataChannelInit{Protocol: &proto})
	if err != nil {
		c.t.Fatal(err)
	}
	x.commands = dc
	return x
}

// play runs connect → result → invite → answer for a camera with the
// sample's connect params plus extra, and returns the peer.
//
//nolint:unparam // id: each call spells the request id, "2" as in XProtect's sample
func (c *wsClient) play(id, camera string, extra map[string]any) *xprotectClient {
	c.t.Helper()
	params := map[string]any{"authorization": c.env.token, "peer": camera, "includeAudio": true}
	for k, v := range extra {
		params[k] = v
	}
	posted := time.Now()
	session := c.connect(id, params)
	x := c.answer(c.expectInvite(session))
	x.posted = posted
	return x
}

func (c *wsClient) counts(session string) (trickled, sent int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.trickles[session], c.sent[session]
}

// stunServer answers STUN binding requests on loopback, so that iceServers
// in a connect point at a server that exists.
func stunServer(t *testing.T) string {
	t.Helper()
	pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pc.Close() })
	go func() {
		buf := make([]byte, 1500)
		for {
			n, addr, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			req := &stun.Message{Raw: append([]byte(nil), buf[:n]...)}
			if req.Decode() != nil || req.Type != stun.BindingRequest {
				continue
			}
			ua := addr.(*net.UDPAddr)
			resp, err := stun.Build(stun.NewTransactionIDSetter(req.TransactionID), stun.BindingSuccess,
				&stun.XORMappedAddress{IP: ua.IP, Port: ua.Port}, stun.Fingerprint)
			if err == nil {
				_, _ = pc.WriteTo(resp.Raw, addr)
			}
		}
	}()
	return "stun:" + pc.LocalAddr().String()
}

const (
	secondCameraID = "6C0D9F0E-3333-4A2B-8C3D-0123456789AB"
	secondStreamID = "6C0D9F0E-4444-4A2B-8C3D-0123456789AB"
)

// newTwoCameraEnv is the test environment with a second camera, pulled from
// a second in-process RTSP server; both stream when it returns.
func newTwoCameraEnv(t *testing.T) (*testEnv, string) {
	t.Helper()
	cam := &demo.Server{Address: "127.0.0.1:0", Clip: loadClip(t), InBandParameterSets: true, Logger: testLogger(t)}
	if err := cam.Start(); err != nil {
		t.Fatalf("start the second RTSP camera: %v", err)
	}
	t.Cleanup(cam.Close)
	env := newTestEnv(t, envOptions{inBandParams: true, mutate: func(s *appsettings.Settings) {
		s.Cameras = append(s.Cameras, appsettings.Camera{
			Id: secondCameraID, Name: "Second camera", Transport: "tcp",
			Streams: []appsettings.Stream{{Id: secondStreamID, Url: cam.URL(), Default: true}},
		})
	}})
	env.waitStreaming()
	cam2, _ := env.registry.Camera(secondCameraID)
	deadline := time.Now().Add(15 * time.Second)
	for cam2.DefaultStream().Hub.Stats().GOPFrames == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("the second camera never streamed: %+v", cam2.DefaultStream().Status())
		}
		time.Sleep(20 * time.Millisecond)
	}
	return env, secondCameraID
}
