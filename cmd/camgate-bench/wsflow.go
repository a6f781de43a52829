package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
	"github.com/pion/webrtc/v4"
)

// The WebSocket signaling flow (--flow ws): {api}/ws/webrtc/v1, the
// contract of XProtect 2025 R1+ that camgate implements (gateway/ws.go,
// docs/api.md), used as the XProtect sample's websocket.js and camgate's
// console (web/static/ws.js) use it:
//
//	client → register {authorization: <raw access token>}, id 1
//	       ← result {id}
//	client → connect {authorization, peer: deviceId, includeAudio}, id 2, 3, …
//	       ← result {session, iceServers}
//	       ← invite {session, offer: JSON string of {type, sdp}}, camgate's id
//	client → result {answer: JSON string of {type, sdp}} with the invite's id
//	both   ↔ trickle {session, candidate} (no id): the client's candidates as
//	         JSON strings, camgate's as objects
//	       ← error {code, message, session} (no id) when a session ends
//
// A real console multiplexes all its tiles on one socket, so viewers share
// sockets: each socket carries up to --ws-viewers-per-socket sessions (16, a
// 4×4 wall) and a new one is opened when they are all taken. One socket for
// every viewer would hit camgate's WebSocket.MaxSessionsPerConnection (64 by
// default) and one per batch of 10 its MaxConnectionsPerUser (16) at 200
// viewers; 16 per socket keeps 200 viewers on 13 sockets. The sessions are
// ended with DELETE …/Session/{id}, as the console does: the contract has no
// method for it.

// wsPool is the client's sockets.
type wsPool struct {
	c         *client
	perSocket int
	log       *slog.Logger

	// mu is held while a socket is opened, so that the viewers of a batch
	// that need a new socket open one between them.
	mu      sync.Mutex
	sockets []*wsSocket
	opened  int

	tricklesIn  atomic.Int64 // camgate's candidates applied
	tricklesOut atomic.Int64 // the viewers' candidates sent
}

// useWebSocket makes the viewers signal over WebSockets, perSocket
// sessions to a socket.
func (c *client) useWebSocket(perSocket int, log *slog.Logger) {
	c.ws = &wsPool{c: c, perSocket: max(1, perSocket), log: log}
}

// url is the signaling endpoint: the base URL with ws(s) for http(s).
func (p *wsPool) url() string {
	u := p.c.base
	if rest, ok := strings.CutPrefix(u, "https://"); ok {
		u = "wss://" + rest
	} else if rest, ok := strings.CutPrefix(u, "http://"); ok {
		u = "ws://" + rest
	}
	return u + "/API/ws/webrtc/v1"
}

// wsStats are what the pool did, for the report and the tests.
type wsStats struct {
	Sockets     int   `json:"sockets_opened"`
	TricklesIn  int64 `json:"server_candidates_applied"`
	TricklesOut int64 `json:"client_candidates_sent"`
}

func (p *wsPool) stats() wsStats {
	p.mu.Lock()
	defer p.mu.Unlock()
	return wsStats{Sockets: p.opened, TricklesIn: p.tricklesIn.Load(), TricklesOut: p.tricklesOut.Load()}
}

// acquire takes a place for one viewer on an open socket, opening a new
// socket when every place is taken.
func (p *wsPool) acquire(ctx context.Context) (*wsSocket, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, s := range p.sockets {
		if s.take(p.perSocket) {
			return s, nil
		}
	}
	s, err := p.dial(ctx)
	if err != nil {
		return nil, err
	}
	p.sockets = append(p.sockets, s)
	p.opened++
	s.take(p.perSocket)
	return s, nil
}

// dial opens a socket and registers it with the access token, raw, as the
// XProtect sample does.
func (p *wsPool) dial(ctx context.Context) (*wsSocket, error) {
	d := websocket.Dialer{HandshakeTimeout: 10 * time.Second}
	conn, resp, err := d.DialContext(ctx, p.url(), nil)
	if err != nil {
		if resp != nil {
			b, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
			resp.Body.Close()
			err = fmt.Errorf("%w: %s: %s", err, resp.Status, truncate(string(b), 300))
		}
		return nil, fmt.Errorf("open the signaling WebSocket %s: %w", p.url(), err)
	}
	s := &wsSocket{
		pool: p, n: p.opened + 1, conn: conn, done: make(chan struct{}),
		nextID: 2, pending: map[int64]wsPending{}, views: map[string]*wsView{},
	}
	go s.read()
	if _, err := s.call(ctx, 1, "register", map[string]string{"authorization": p.c.token}, nil); err != nil {
		s.close()
		return nil, fmt.Errorf("register on the signaling WebSocket: %w", err)
	}
	return s, nil
}

// release gives the viewer's place back and forgets its session, so that
// camgate's notice of the session's end is not taken for a failure.
func (p *wsPool) release(v *viewer) {
	s := v.sock
	if s == nil {
		return
	}
	v.sock = nil
	s.mu.Lock()
	if view := s.views[v.sessionID]; view != nil && view.v == v {
		delete(s.views, v.sessionID)
	}
	s.viewers--
	s.mu.Unlock()
}

// close closes every socket. Sessions that were answered would play on
// (camgate keeps them when their socket closes); the scenario ends them
// first.
func (p *wsPool) close() {
	p.mu.Lock()
	all := p.sockets
	p.sockets = nil
	p.mu.Unlock()
	for _, s := range all {
		s.close()
	}
}

// open signals one viewer's session over a socket: connect, the invite's
// offer, the answer as the invite's result, and trickles both ways. It
// returns once the answer is sent.
func (p *wsPool) open(ctx context.Context, v *viewer) error {
	s, err := p.acquire(ctx)
	if err != nil {
		return err
	}
	v.sock = s
	view := &wsView{v: v, invite: make(chan wsInvite, 1)}
	params := map[string]any{"authorization": p.c.token, "peer": p.c.camera, "includeAudio": false}
	v.posted = time.Now()
	res, err := s.call(ctx, s.newID(), "connect", params, view)
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	var created struct {
		Session string `json:"session"`
	}
	if json.Unmarshal(res, &created) != nil || created.Session == "" {
		return fmt.Errorf("connect: the result %s has no session", truncate(string(res), 200))
	}
	v.sessionID = created.Session
	var inv wsInvite
	select {
	case inv = <-view.invite:
	case <-v.lost:
		return v.failure()
	case <-s.done:
		return fmt.Errorf("no invite: %w", s.closedErr())
	case <-ctx.Done():
		return fmt.Errorf("no invite: %w", ctx.Err())
	}
	v.mark(&v.phases.Offer)
	var offer webrtc.SessionDescription
	if err := json.Unmarshal([]byte(inv.offer), &offer); err != nil {
		return fmt.Errorf("invite: the offer is not the JSON string of {type, sdp}: %w", err)
	}
	pc, err := p.c.newPeer(v)
	if err != nil {
		return err
	}
	session := created.Session
	pc.OnICECandidate(func(cand *webrtc.ICECandidate) {
		if cand == nil {
			return // the sample does not send the end of candidates
		}
		b, err := json.Marshal(cand.ToJSON())
		if err != nil {
			return
		}
		msg := wsOut{Method: "trickle", Params: map[string]string{"session": session, "candidate": string(b)}}
		if s.send(msg) == nil {
			p.tricklesOut.Add(1)
		}
	})
	if err := pc.SetRemoteDescription(offer); err != nil {
		return fmt.Errorf("set offer: %w", err)
	}
	answer, err := pc.CreateAnswer(nil)
	if err != nil {
		return err
	}
	if err := pc.SetLocalDescription(answer); err != nil {
		return err
	}
	view.setPeer(pc, s)
	ans, err := json.Marshal(pc.LocalDescription())
	if err != nil {
		return err
	}
	if err := s.send(wsOut{Result: map[string]string{"answer": string(ans)}, ID: inv.id}); err != nil {
		return fmt.Errorf("send the answer: %w", err)
	}
	v.mark(&v.phases.Answered)
	return nil
}

// wsSocket is one signaling socket. Its reader goroutine hands results to
// the requests waiting for them, invites to their viewers, and applies
// camgate's trickled candidates.
type wsSocket struct {
	pool *wsPool
	n    int // 1, 2, … in the order opened
	conn *websocket.Conn
	wmu  sync.Mutex    // one writer at a time
	done chan struct{} // closed when the reader has stopped

	mu      sync.Mutex
	nextID  int64
	pending map[int64]wsPending
	views   map[string]*wsView // by session id, from the connect result on
	viewers int                // places taken
	err     error              // why the socket closed
	notice  string             // camgate's last error about the socket itself
	closing bool
}

type wsPending struct {
	reply chan wsReply
	view  *wsView // for a connect: its result's session is routed to it
}

type wsReply struct {
	result json.RawMessage
	err    error
}

// wsView is a viewer's session on a socket.
type wsView struct {
	v      *viewer
	invite chan wsInvite

	mu    sync.Mutex
	pc    *webrtc.PeerConnection
	early []webrtc.ICECandidateInit // camgate's candidates that came before the peer
}

type wsInvite struct {
	id    json.RawMessage
	offer string
}

// wsOut is a message to camgate.
type wsOut struct {
	JSONRPC string          `json:"jsonrpc"`
	Method  string          `json:"method,omitempty"`
	Params  any             `json:"params,omitempty"`
	Result  any             `json:"result,omitempty"`
	Error   *wsErrorObject  `json:"error,omitempty"`
	ID      json.RawMessage `json:"id,omitempty"`
}

type wsErrorObject struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

// wsIn is a message from camgate.
type wsIn struct {
	Method string          `json:"method"`
	Params json.RawMessage `json:"params"`
	Result json.RawMessage `json:"result"`
	Error  *wsErrorObject  `json:"error"`
	ID     json.RawMessage `json:"id"`
}

// take reserves a place unless the socket is full or closed.
func (s *wsSocket) take(limit int) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil || s.closing || s.viewers >= limit {
		return false
	}
	s.viewers++
	return true
}

func (s *wsSocket) newID() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	id := s.nextID
	s.nextID++
	return id
}

func (s *wsSocket) send(m wsOut) error {
	m.JSONRPC = "2.0"
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	s.wmu.Lock()
	defer s.wmu.Unlock()
	_ = s.conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
	return s.conn.WriteMessage(websocket.TextMessage, b)
}

// call sends a request and waits for its result.
func (s *wsSocket) call(ctx context.Context, id int64, method string, params any, view *wsView) (json.RawMessage, error) {
	reply := make(chan wsReply, 1)
	s.mu.Lock()
	if s.err != nil {
		s.mu.Unlock()
		return nil, s.err
	}
	s.pending[id] = wsPending{reply: reply, view: view}
	s.mu.Unlock()
	forget := func() {
		s.mu.Lock()
		delete(s.pending, id)
		s.mu.Unlock()
	}
	if err := s.send(wsOut{Method: method, Params: params, ID: json.RawMessage(strconv.FormatInt(id, 10))}); err != nil {
		forget()
		return nil, err
	}
	select {
	case r := <-reply:
		return r.result, r.err
	case <-s.done:
		select {
		case r := <-reply:
			return r.result, r.err
		default:
		}
		return nil, s.closedErr()
	case <-ctx.Done():
		forget()
		return nil, fmt.Errorf("no answer to %s: %w", method, ctx.Err())
	}
}

func (s *wsSocket) closedErr() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

func (s *wsSocket) read() {
	defer close(s.done)
	for {
		_, b, err := s.conn.ReadMessage()
		if err != nil {
			s.mu.Lock()
			if s.closing {
				s.err = errors.New("the signaling WebSocket was closed")
			} else {
				s.err = fmt.Errorf("signaling WebSocket %d closed: %w", s.n, err)
				if s.notice != "" {
					s.err = fmt.Errorf("%w (camgate said: %s)", s.err, s.notice)
				}
			}
			s.pending = map[int64]wsPending{}
			s.mu.Unlock()
			return
		}
		s.dispatch(b)
	}
}

func (s *wsSocket) dispatch(b []byte) {
	var m wsIn
	if err := json.Unmarshal(b, &m); err != nil {
		s.pool.log.Warn("camgate sent a message that is not JSON", "socket", s.n, "message", truncate(string(b), 200))
		return
	}
	switch {
	case m.Method == "" && m.ID != nil:
		s.onReply(m)
	case m.Method == "invite":
		s.onInvite(m)
	case m.Method == "trickle":
		s.onTrickle(m)
	case m.Method == "error":
		s.onError(m)
	default:
		s.pool.log.Warn("camgate sent an unexpected message", "socket", s.n, "message", truncate(string(b), 200))
	}
}

func (s *wsSocket) onReply(m wsIn) {
	var id int64
	if json.Unmarshal(m.ID, &id) != nil {
		return
	}
	s.mu.Lock()
	p, ok := s.pending[id]
	delete(s.pending, id)
	if ok && m.Error == nil && p.view != nil {
		var r struct {
			Session string `json:"session"`
		}
		if json.Unmarshal(m.Result, &r) == nil && r.Session != "" {
			s.views[r.Session] = p.view
		}
	}
	s.mu.Unlock()
	if !ok {
		return
	}
	if m.Error != nil {
		p.reply <- wsReply{err: fmt.Errorf("camgate: %d %s", m.Error.Code, m.Error.Message)}
		return
	}
	p.reply <- wsReply{result: m.Result}
}

func (s *wsSocket) view(session string) *wsView {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.views[session]
}

func (s *wsSocket) onInvite(m wsIn) {
	var p struct {
		Session string `json:"session"`
		Offer   string `json:"offer"`
	}
	_ = json.Unmarshal(m.Params, &p)
	view := s.view(p.Session)
	if view == nil {
		// The viewer gave up before its invite: refusing it makes camgate
		// close the session.
		_ = s.send(wsOut{Error: &wsErrorObject{Code: 410, Message: "no viewer waits for this session any more"}, ID: m.ID})
		return
	}
	select {
	case view.invite <- wsInvite{id: m.ID, offer: p.Offer}:
	default:
		s.pool.log.Warn("a second invite for a session", "socket", s.n, "session", p.Session)
	}
}

func (s *wsSocket) onTrickle(m wsIn) {
	var p struct {
		Session   string          `json:"session"`
		Candidate json.RawMessage `json:"candidate"`
	}
	if json.Unmarshal(m.Params, &p) != nil || len(p.Candidate) == 0 {
		s.pool.log.Warn("camgate sent a trickle without a candidate", "socket", s.n)
		return
	}
	raw := []byte(p.Candidate)
	if raw[0] == '"' { // a JSON string of the object, in case
		var text string
		if json.Unmarshal(raw, &text) == nil {
			raw = []byte(text)
		}
	}
	var cand webrtc.ICECandidateInit
	if err := json.Unmarshal(raw, &cand); err != nil {
		s.pool.log.Warn("camgate trickled a candidate that does not parse", "socket", s.n, "candidate", truncate(string(p.Candidate), 200))
		return
	}
	if view := s.view(p.Session); view != nil {
		view.add(cand, s)
	}
}

func (s *wsSocket) onError(m wsIn) {
	var p struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
		Session string `json:"session"`
	}
	_ = json.Unmarshal(m.Params, &p)
	err := fmt.Errorf("camgate: %d %s", p.Code, p.Message)
	if p.Session == "" {
		s.pool.log.Warn("camgate reported an error on the signaling socket", "socket", s.n, "error", err)
		s.mu.Lock()
		s.notice = fmt.Sprintf("%d %s", p.Code, p.Message)
		s.mu.Unlock()
		return
	}
	if view := s.view(p.Session); view != nil {
		s.pool.log.Warn("camgate ended a session", "socket", s.n, "viewer", view.v.id, "error", err)
		view.v.fail(err)
	}
}

// setPeer gives the view its peer connection, once the offer is applied,
// and applies the candidates that came before.
func (w *wsView) setPeer(pc *webrtc.PeerConnection, s *wsSocket) {
	w.mu.Lock()
	w.pc = pc
	early := w.early
	w.early = nil
	w.mu.Unlock()
	for _, c := range early {
		w.apply(pc, c, s)
	}
}

// add applies one of camgate's candidates, or keeps it until the peer
// exists.
func (w *wsView) add(c webrtc.ICECandidateInit, s *wsSocket) {
	w.mu.Lock()
	pc := w.pc
	if pc == nil {
		w.early = append(w.early, c)
	}
	w.mu.Unlock()
	if pc != nil {
		w.apply(pc, c, s)
	}
}

func (w *wsView) apply(pc *webrtc.PeerConnection, c webrtc.ICECandidateInit, s *wsSocket) {
	if err := pc.AddICECandidate(c); err != nil {
		s.pool.log.Warn("addIceCandidate failed", "socket", s.n, "viewer", w.v.id, "error", err)
		return
	}
	s.pool.tricklesIn.Add(1)
}

// close sends a close frame, waits a little for camgate's, and closes the
// connection.
func (s *wsSocket) close() {
	s.mu.Lock()
	s.closing = true
	s.mu.Unlock()
	_ = s.conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, "camgate-bench is done"), time.Now().Add(time.Second))
	select {
	case <-s.done:
	case <-time.After(2 * time.Second):
	}
	_ = s.conn.Close()
	<-s.done
}
