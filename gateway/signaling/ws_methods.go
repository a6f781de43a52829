package signaling

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/gorilla/websocket"
	"github.com/pion/webrtc/v4"

	"github.com/camgate/camgate/gateway/internal/errtext"
	"github.com/camgate/camgate/gateway/rtc"
)

// handle decodes one client message and acts on it. It runs on the reader
// goroutine, so a socket's messages are handled one after the other: the
// result of a connect and its invite are queued before the next message is
// read.
func (c *wsConn) handle(b []byte) {
	m, e := decodeWSMessage(b)
	if e != nil {
		c.reply(m.ID, nil, e)
		return
	}
	defer func() {
		// A bug must not take down the socket's other sessions.
		if v := recover(); v != nil {
			c.log.Error("websocket handler panic", "panic", fmt.Sprint(v), "method", m.Method)
			c.reply(m.ID, nil, newRPCError(rpcInternalError, "internal error"))
		}
	}()
	if m.Kind == wsResponse {
		c.onResponse(m)
		return
	}
	var (
		result any
		after  func()
	)
	switch m.Method {
	case "register":
		result, after, e = c.register(m.Params)
	case "connect":
		if e = c.needRegister(); e == nil {
			result, after, e = c.connect(m.Params)
		}
	case "trickle":
		if e = c.needRegister(); e == nil {
			e = c.trickle(m.Params)
			result = struct{}{}
		}
	case "error":
		// The client reports a problem of its own; answering it with
		// another error could loop.
		c.log.Debug("client error notification", "params", errtext.Truncate(string(m.Params), errtext.MaxQuoted))
		return
	default:
		e = newRPCError(rpcMethodNotFound, "method %s is not known; the methods are register, connect and trickle", errtext.Quote(m.Method, 40))
	}
	c.reply(m.ID, result, e)
	if after != nil {
		after()
	}
}

func (c *wsConn) needRegister() *rpcError {
	if c.principal == nil {
		return newRPCError(rpcUnauthorized, `register first: send {"jsonrpc":"2.0","method":"register","params":{"authorization":"<access token>"},"id":1}`)
	}
	return nil
}

// register authenticates the socket. The token is params.authorization
// (raw or "Bearer …"), else the upgrade's Authorization header or
// ?access_token=. A later register with a new token of the same user
// refreshes the socket and its sessions.
func (c *wsConn) register(params json.RawMessage) (any, func(), *rpcError) {
	var p wsRegisterParams
	if e := decodeParams(params, &p); e != nil {
		return nil, nil, e
	}
	raw := strings.TrimSpace(string(p.Authorization))
	if tok, ok := BearerToken(raw); ok {
		raw = tok
	}
	if raw == "" {
		raw = c.upgradeToken
	}
	if raw == "" {
		return nil, nil, newRPCError(rpcUnauthorized, "params.authorization is required: an access token from /API/IDP/connect/token")
	}
	pr, err := VerifyToken(c.ctx, c.api.auth, raw)
	if err != nil {
		return nil, nil, rpcErrorOf(err, rpcUnauthorized)
	}
	if c.principal != nil {
		if !pr.SameCaller(c.principal) {
			return nil, nil, newRPCError(rpcForbidden, "this socket is registered to %s; the token belongs to another user", Caller(c.principal))
		}
		c.principal, c.rawToken = pr, raw
		for _, ws := range c.sessions {
			if !ws.s.Ended() {
				// Another user's token, or one without the session's
				// right any more, leaves the session as it is.
				_ = ws.s.ReplaceOwner(OwnerOf(pr))
			}
		}
		return registerResult{ID: c.id}, nil, nil
	}
	user := userKey(pr)
	if !c.api.ws.claimUser(user) {
		e := newRPCError(rpcInsufficientResources, "%s already has %d WebSocket connections open (WebSocket.MaxConnectionsPerUser); closing this one", Caller(pr), c.cfg.MaxConnectionsPerUser)
		return nil, func() { c.shutdown(websocket.ClosePolicyViolation, "too many connections for this user") }, e
	}
	c.principal, c.rawToken, c.user = pr, raw, user
	c.registered.Store(true)
	c.log = c.log.With("user", Caller(pr))
	c.log.Info("websocket registered")
	return registerResult{ID: c.id}, nil, nil
}

// connect creates a session for params.peer and, once its result is sent,
// invites the client with the offer.
func (c *wsConn) connect(params json.RawMessage) (any, func(), *rpcError) {
	var p wsConnectParams
	if e := decodeParams(params, &p); e != nil {
		return nil, nil, e
	}
	device := p.device()
	if device == "" {
		return nil, nil, newRPCError(rpcInvalidParams, "params.peer is required: the deviceId of the camera to play")
	}
	pb, e := p.playback()
	if e != nil {
		return nil, nil, e
	}
	// The socket's token is checked again: it may have expired since
	// register, and then the client must register with a new one.
	pr, err := VerifyToken(c.ctx, c.api.auth, c.rawToken)
	if err != nil {
		e := rpcErrorOf(err, rpcUnauthorized)
		e.Message += "; register again with a new token"
		return nil, nil, e
	}
	if raw := strings.TrimSpace(string(p.Authorization)); raw != "" {
		if tok, ok := BearerToken(raw); ok {
			raw = tok
		}
		own, err := VerifyToken(c.ctx, c.api.auth, raw)
		if err != nil {
			e := rpcErrorOf(err, rpcUnauthorized)
			e.Message = "params.authorization: " + e.Message
			return nil, nil, e
		}
		if !own.SameCaller(pr) {
			return nil, nil, newRPCError(rpcForbidden, "params.authorization belongs to another user than the socket's register")
		}
		pr = own
	}
	if n := c.liveSessions(); n >= c.cfg.MaxSessionsPerConnection {
		return nil, nil, newRPCError(rpcInsufficientResources, "this socket already has %d open sessions (WebSocket.MaxSessionsPerConnection); end one first", n)
	}
	profile, err := clientProfile("params.clientProfile", string(p.ClientProfile), pr)
	if err != nil {
		return nil, nil, rpcErrorOf(err, rpcInvalidParams)
	}
	s, err := c.api.sessions.Create(c.ctx, rtc.CreateRequest{
		Profile:    profile,
		Owner:      OwnerOf(pr),
		DeviceID:   device,
		StreamID:   strings.TrimSpace(string(p.StreamID)),
		IceServers: iceServersOf(p.IceServers),
		ClientIP:   c.clientIP,
		WebSocket:  true,
		Playback:   pb,
	})
	if err != nil {
		return nil, nil, rpcErrorOf(err, rpcInvalidParams)
	}
	inviteID := c.nextID
	c.nextID++
	key := strconv.FormatUint(inviteID, 10)
	c.sessions[s.ID] = &wsSession{s: s, invite: key}
	c.invites[key] = s.ID
	c.watch(s)
	result := connectResult{Session: s.ID, IceServers: publicICEServers(c.api.sessions)}
	return result, func() {
		c.send(inviteMessage(inviteID, s.ID, descriptionJSON(s.Offer())))
		// After the result and the invite, so that the client knows the
		// session by then: the camera's state changes (and the state
		// at the start when the camera is not streaming).
		s.OnCameraState(func(ev rtc.CameraStateEvent) { c.send(cameraStateNotification(s.ID, ev)) })
	}, nil
}

// liveSessions counts the sessions of this socket that are still open,
// forgetting the ended ones.
func (c *wsConn) liveSessions() int {
	for id, ws := range c.sessions {
		if ws.s.Ended() {
			delete(c.sessions, id)
			if ws.invite != "" {
				delete(c.invites, ws.invite)
			}
		}
	}
	return len(c.sessions)
}

// watch tells the client when a session of this socket ends while the
// socket is open.
func (c *wsConn) watch(s *rtc.Session) {
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		select {
		case <-s.Done():
		case <-c.done:
			return
		}
		if s.Refused() {
			return // the error answering its invite response said why
		}
		e := &rpcError{Code: rpcPeerDisconnected, Session: s.ID,
			Message: fmt.Sprintf("session %s ended: its peer connection closed or failed, or its token expired", s.ID)}
		if why := s.EndReason(); why != "" {
			e.Message = fmt.Sprintf("session %s ended: %s", s.ID, why)
		} else if _, answered := s.Answer(); !answered {
			e.Code = rpcTimeout
			e.Message = fmt.Sprintf("session %s ended without an answer to its invite", s.ID)
		}
		c.send(errorNotification(e))
	}()
}

// onResponse takes the client's response to an invite: the answer, or an
// error when the client could not use the offer.
func (c *wsConn) onResponse(m wsMessage) {
	if e := c.needRegister(); e != nil {
		c.reply(nil, nil, e)
		return
	}
	key := idKey(m.ID)
	c.liveSessions()
	sid, ok := c.invites[key]
	if !ok {
		c.reply(nil, nil, newRPCError(rpcInvalidRequest, "no invite with id %s is waiting for an answer", errtext.Truncate(string(m.ID), 40)))
		return
	}
	ws := c.sessions[sid]
	if m.Error != nil {
		c.log.Info("client refused the invite; closing the session", "session", sid, "error", errtext.Truncate(string(m.Error), errtext.MaxQuoted))
		delete(c.invites, key)
		ws.invite = ""
		ws.s.Close()
		return
	}
	var res wsAnswerResult
	if m.Result[0] != '{' {
		c.reply(nil, nil, &rpcError{Code: rpcBadRequest, Session: sid, Message: `result must be an object {"answer": …}`})
		return
	}
	if err := json.Unmarshal(m.Result, &res); err != nil {
		c.reply(nil, nil, &rpcError{Code: rpcBadRequest, Session: sid, Message: "result is not valid: " + errtext.Truncate(describeJSONError(err), errtext.MaxQuoted)})
		return
	}
	answer, ok := jsonOrString(nonNull(res.Answer))
	if !ok || answer == "" {
		c.reply(nil, nil, &rpcError{Code: rpcBadRequest, Session: sid, Message: `result.answer is required: the JSON string of the answer {"type":"answer","sdp":…}`})
		return
	}
	if err := setAnswer(ws.s, answer); err != nil {
		e := rpcErrorOf(err, rpcBadRequest)
		e.Session = sid
		c.reply(nil, nil, e)
		if e.Code == rpcConflict {
			delete(c.invites, key)
			ws.invite = ""
		}
		return
	}
	delete(c.invites, key)
	ws.invite = ""
	// Trickle the server's candidates now that the client has applied the
	// offer (addIceCandidate fails before that), and each later one as it
	// is gathered. The offer carries those gathered before it; they are
	// sent again for clients that only use trickled ones.
	s := ws.s
	for _, cand := range s.WatchCandidates(func(cand webrtc.ICECandidateInit) { c.send(trickleMessage(s.ID, candidateJSON(cand))) }) {
		c.send(trickleMessage(s.ID, candidateJSON(cand)))
	}
}

// trickle takes one client candidate. Before the answer it is kept and
// applied after it, as over REST.
func (c *wsConn) trickle(params json.RawMessage) *rpcError {
	var p wsTrickleParams
	if e := decodeParams(params, &p); e != nil {
		return e
	}
	sid := strings.TrimSpace(string(p.Session))
	if sid == "" {
		return newRPCError(rpcInvalidParams, "params.session is required")
	}
	s, err := c.api.sessions.Get(sid)
	if err != nil {
		e := rpcErrorOf(err, rpcInvalidParams)
		e.Session = errtext.Truncate(sid, 64)
		return e
	}
	if err := s.CheckCaller(OwnerOf(c.principal)); err != nil {
		e := rpcErrorOf(err, rpcInvalidParams)
		e.Session = s.ID
		return e
	}
	raw, ok := jsonOrString(nonNull(p.Candidate))
	if !ok {
		return &rpcError{Code: rpcMalformedCandidate, Session: s.ID, Message: "params.candidate must be the JSON string of an RTCIceCandidate"}
	}
	if strings.TrimSpace(raw) == "" {
		return nil // end of candidates
	}
	if _, err := parseClientCandidate(raw); err != nil {
		return &rpcError{Code: rpcMalformedCandidate, Session: s.ID, Message: "params.candidate: " + err.Error()}
	}
	if err := addCandidates(s, []string{raw}); err != nil {
		e := rpcErrorOf(err, rpcMalformedCandidate)
		e.Session = s.ID
		return e
	}
	return nil
}

// publicICEServers are the configured STUN servers, for a connect result.
// TURN servers are left out: their credentials are camgate's own.
func publicICEServers(m *rtc.Manager) []iceServerInfo {
	out := []iceServerInfo{}
	for _, urls := range m.PublicICEServers() {
		out = append(out, iceServerInfo{URLs: urls})
	}
	return out
}
