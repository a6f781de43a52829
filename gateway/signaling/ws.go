package signaling

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/gorilla/websocket"

	"github.com/camgate/camgate/appsettings"
	"github.com/camgate/camgate/gateway/internal/errtext"
	"github.com/camgate/camgate/gateway/rtc"
	"github.com/camgate/camgate/oauth"
)

// WebSocket signaling, {api}/ws/webrtc/v1 (docs/api.md). The endpoint is not
// behind requireAuth: the token comes in the register message (browsers
// cannot set headers on a WebSocket), or as the Authorization header or
// ?access_token= of the upgrade for other clients.

const (
	// wsHardLimit closes a socket whose client sends a message larger than
	// this (close code 1009); messages between wsMaxMessage and it are
	// refused with an error and the socket stays open.
	wsHardLimit = 1 << 20
	// wsQueueLen bounds the messages waiting for the writer. While it is
	// full, whatever has a message for the client waits (the reader stops
	// reading the client's messages): a client that reads slowly slows its
	// own socket down, and memory stays bounded.
	wsQueueLen = 256
	// wsWriteWait bounds one write. A client that has not taken one
	// message in that long does not read, and its socket is closed (1008).
	wsWriteWait = 10 * time.Second
	// wsCloseGrace is how long camgate waits for the client's close frame
	// after sending its own.
	wsCloseGrace = time.Second
	// wsSubprotocol is ONVIF's; the XProtect sample asks for none.
	wsSubprotocol = "webrtc.onvif.org"
)

// wsHub owns the open sockets: it counts them per user for the limit and
// closes them all at shutdown.
type wsHub struct {
	cfg appsettings.WebSocket

	mu     sync.Mutex
	conns  map[*wsConn]struct{}
	users  map[string]int // registered sockets per user
	closed bool
	wg     sync.WaitGroup // one per socket, done when its goroutines have exited
}

func newWSHub(cfg appsettings.WebSocket) *wsHub {
	return &wsHub{cfg: cfg, conns: map[*wsConn]struct{}{}, users: map[string]int{}}
}

// add records a new socket; false once the hub is closing.
func (h *wsHub) add(c *wsConn) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return false
	}
	h.conns[c] = struct{}{}
	h.wg.Add(1)
	return true
}

func (h *wsHub) remove(c *wsConn) {
	h.mu.Lock()
	delete(h.conns, c)
	h.mu.Unlock()
	h.wg.Done()
}

// claimUser counts one more registered socket of user, unless the user has
// reached WebSocket.MaxConnectionsPerUser.
func (h *wsHub) claimUser(user string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.users[user] >= h.cfg.MaxConnectionsPerUser {
		return false
	}
	h.users[user]++
	return true
}

func (h *wsHub) releaseUser(user string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.users[user]--; h.users[user] <= 0 {
		delete(h.users, user)
	}
}

// closeAll closes every socket ("going away") and waits until their
// goroutines have exited. New sockets are refused from then on. A socket
// still open when ctx ends (its client does not take the close) is cut;
// closeAll returns how many were.
func (h *wsHub) closeAll(ctx context.Context) int {
	h.mu.Lock()
	h.closed = true
	all := make([]*wsConn, 0, len(h.conns))
	for c := range h.conns {
		all = append(all, c)
	}
	h.mu.Unlock()
	for _, c := range all {
		c.shutdown(websocket.CloseGoingAway, "camgate is shutting down")
	}
	done := make(chan struct{})
	go func() {
		h.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return 0
	case <-ctx.Done():
	}
	h.mu.Lock()
	cut := 0
	for c := range h.conns {
		if c.netConn != nil {
			_ = c.netConn.Close()
			cut++
		}
	}
	h.mu.Unlock()
	<-done
	return cut
}

// upgraded records the connection of an upgraded socket, for closeAll to
// cut.
func (h *wsHub) upgraded(c *wsConn, nc net.Conn) {
	h.mu.Lock()
	c.netConn = nc
	h.mu.Unlock()
}

// ServeWebSocket upgrades GET {api}/ws/webrtc/v1 and runs the socket until
// it closes.
func (a *API) ServeWebSocket(c *gin.Context) {
	r := c.Request
	if !websocket.IsWebSocketUpgrade(r) {
		WriteError(c, Errorf(http.StatusBadRequest, "this is the WebSocket signaling endpoint: open it with a WebSocket client (for example new WebSocket(\"wss://HOST/API/ws/webrtc/v1\")), or use the REST API under /API/REST/v1/WebRTC"))
		return
	}
	up := websocket.Upgrader{
		ReadBufferSize:  4096,
		WriteBufferSize: 4096,
		Subprotocols:    []string{wsSubprotocol},
		CheckOrigin:     a.originAllowed,
		Error: func(w http.ResponseWriter, r *http.Request, status int, reason error) {
			text := reason.Error()
			if status == http.StatusForbidden {
				text = fmt.Sprintf("origin %s may not open this WebSocket (see the CORS settings)", errtext.Truncate(r.Header.Get("Origin"), 100))
			}
			WriteErrorHTTP(w, Errorf(status, "%s", text))
		},
	}
	conn := &wsConn{
		api:      a,
		cfg:      a.ws.cfg,
		id:       rtc.NewID(),
		clientIP: a.clientAddr(r),
		out:      make(chan []byte, wsQueueLen),
		rate:     newWSRate(a.ws.cfg.MaxMessagesPerSecond, a.ws.cfg.MaxMessageBurst),
		done:     make(chan struct{}),
		sessions: map[string]*wsSession{},
		invites:  map[string]string{},
		nextID:   3, // the sample takes ids 1 and 2 for the answers to register and connect
	}
	conn.ctx, conn.cancel = context.WithCancel(context.Background())
	defer conn.cancel()
	// A token in the upgrade request is used when register carries none.
	if tok, ok := BearerToken(r.Header.Get("Authorization")); ok {
		conn.upgradeToken = tok
	} else {
		conn.upgradeToken = r.URL.Query().Get("access_token")
	}
	if !a.ws.add(conn) {
		WriteError(c, Errorf(http.StatusServiceUnavailable, "camgate is shutting down"))
		return
	}
	defer a.ws.remove(conn)
	ws, err := up.Upgrade(c.Writer, r, nil)
	if err != nil {
		return // Upgrade has answered
	}
	conn.ws = ws
	// The socket outlives the request: no deadline of the HTTP server's
	// applies to it any more (Http.ReadTimeout, Http.WriteTimeout); its
	// pings and per-write deadlines tell a dead client.
	_ = ws.NetConn().SetDeadline(time.Time{})
	if a.upgraded != nil {
		a.upgraded(r)
	}
	a.ws.upgraded(conn, ws.NetConn())
	conn.log = a.log.With("websocket", conn.id)
	conn.log.Debug("websocket opened", "client", conn.clientIP, "remote", r.RemoteAddr, "origin", errtext.Truncate(r.Header.Get("Origin"), 100))
	conn.run()
}

// wsConn is one socket. The reader goroutine (run's caller) decodes and
// handles the messages in order and owns the fields below "reader only";
// one writer goroutine sends everything, so that writes never interleave.
type wsConn struct {
	api          *API
	cfg          appsettings.WebSocket
	ws           *websocket.Conn
	netConn      net.Conn // under the hub's mu: closeAll cuts it
	id           string
	log          *slog.Logger
	clientIP     netip.Addr
	upgradeToken string

	ctx    context.Context // ends when the socket starts closing: a connect in progress stops
	cancel context.CancelFunc
	out    chan []byte
	done   chan struct{} // closed when the socket is to close

	closeOnce sync.Once
	closeCode int
	closeText string
	// writer only: a write failed, so nothing more can be sent
	writeBroken bool
	registered  atomic.Bool
	wg          sync.WaitGroup // the writer and the session watchers

	// reader only
	rate      wsRate
	principal *oauth.Principal
	rawToken  string
	user      string // principal's key in the hub
	sessions  map[string]*wsSession
	invites   map[string]string // invite id (idKey) -> session id
	nextID    uint64
}

// wsSession is a session created on this socket.
type wsSession struct {
	s      *rtc.Session
	invite string // idKey of the invite that waits for an answer; "" once answered
}

func (c *wsConn) run() {
	c.wg.Add(1)
	go c.writeLoop()
	timeout := time.Duration(c.cfg.RegisterTimeout)
	timer := time.AfterFunc(timeout, func() {
		if !c.registered.Load() {
			c.fail(newRPCError(rpcTimeout, "no register message within %s; closing the socket", timeout), websocket.ClosePolicyViolation)
		}
	})
	c.readLoop()
	timer.Stop()
	c.shutdown(websocket.CloseNormalClosure, "")
	c.endSessions()
	c.wg.Wait()
	_ = c.ws.Close()
	if c.user != "" {
		c.api.ws.releaseUser(c.user)
	}
	c.log.Debug("websocket closed", "code", c.closeCode, "reason", c.closeText)
}

// closing reports whether the socket is on its way out.
func (c *wsConn) closing() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

// shutdown starts closing the socket with a close code and reason; the
// first call wins.
func (c *wsConn) shutdown(code int, text string) {
	c.closeOnce.Do(func() {
		c.closeCode, c.closeText = code, text
		close(c.done)
		c.cancel()
	})
}

// fail sends an error notification, then closes the socket.
func (c *wsConn) fail(e *rpcError, code int) {
	c.send(errorNotification(e))
	c.shutdown(code, errtext.Truncate(e.Message, 100))
}

// send queues a message for the writer. While wsQueueLen messages wait it
// blocks until the writer has taken one or the socket closes: how fast a
// client reads is measured by the writer (wsWriteWait), not by how many
// messages a burst of requests queues, so a client that reads is never
// closed for not reading. The wait is bounded by wsWriteWait per message.
func (c *wsConn) send(m rpcOut) {
	b, err := json.Marshal(m)
	if err != nil {
		c.log.Error("encode websocket message", "error", err)
		return
	}
	if c.closing() {
		return
	}
	select {
	case c.out <- b:
	case <-c.done:
	}
}

// reply answers a request (id set) or, failing a notification or a message
// without a usable id, sends an error notification.
func (c *wsConn) reply(id json.RawMessage, result any, e *rpcError) {
	switch {
	case e != nil && id != nil:
		c.send(errorResponse(id, e))
	case e != nil:
		c.send(errorNotification(e))
	case id != nil:
		c.send(resultMessage(id, result))
	}
}

func (c *wsConn) writeLoop() {
	defer c.wg.Done()
	ping := time.NewTicker(time.Duration(c.cfg.PingInterval))
	defer ping.Stop()
	for {
		select {
		case b := <-c.out:
			if err := c.write(b); err != nil {
				c.writeFailed(err)
			}
		case <-ping.C:
			if err := c.ws.WriteControl(websocket.PingMessage, nil, time.Now().Add(wsWriteWait)); err != nil {
				c.writeFailed(err)
			}
		case <-c.done:
			c.flushAndClose()
			return
		}
	}
}

// writeFailed closes the socket after a failed write. A write that timed
// out means the client has not taken a message for wsWriteWait: it does
// not read (its buffers and camgate's are full).
func (c *wsConn) writeFailed(err error) {
	c.writeBroken = true
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		c.shutdown(websocket.ClosePolicyViolation, fmt.Sprintf("the client does not read: no message could be written to it for %s", wsWriteWait))
		return
	}
	c.shutdown(websocket.CloseAbnormalClosure, "write failed")
}

func (c *wsConn) write(b []byte) error {
	_ = c.ws.SetWriteDeadline(time.Now().Add(wsWriteWait))
	return c.ws.WriteMessage(websocket.TextMessage, b)
}

// flushAndClose sends what is still queued (a last error says why the
// socket closes), then the close frame, and gives the client wsCloseGrace to
// answer it before the connection is cut.
func (c *wsConn) flushAndClose() {
	if c.writeBroken {
		// Nothing more can be written; the client is gone or does not
		// read, and waiting for it would only hold the connection.
		_ = c.ws.NetConn().Close()
		return
	}
drain:
	for {
		select {
		case b := <-c.out:
			if c.write(b) != nil {
				break drain
			}
		default:
			break drain
		}
	}
	if c.closeCode != websocket.CloseAbnormalClosure {
		msg := websocket.FormatCloseMessage(c.closeCode, errtext.Truncate(c.closeText, 100))
		_ = c.ws.WriteControl(websocket.CloseMessage, msg, time.Now().Add(wsWriteWait))
	}
	_ = c.ws.SetReadDeadline(time.Now().Add(wsCloseGrace))
	conn := c.ws.NetConn()
	time.AfterFunc(wsCloseGrace, func() { _ = conn.Close() })
}

// keepAlive moves the read deadline: a socket on which nothing arrives, not
// even the pong to a ping, for two ping intervals is dead.
func (c *wsConn) keepAlive() {
	if !c.closing() {
		_ = c.ws.SetReadDeadline(time.Now().Add(2 * time.Duration(c.cfg.PingInterval)))
	}
}

func (c *wsConn) readLoop() {
	c.ws.SetReadLimit(wsHardLimit)
	c.keepAlive()
	c.ws.SetPongHandler(func(string) error {
		c.keepAlive()
		return nil
	})
	for {
		typ, r, err := c.ws.NextReader()
		if err != nil {
			if !websocket.IsCloseError(err, websocket.CloseNormalClosure, websocket.CloseGoingAway) && !c.closing() {
				c.log.Debug("websocket read ended", "error", err)
			}
			c.shutdown(websocket.CloseNormalClosure, "")
			return
		}
		c.keepAlive()
		if c.closing() {
			if _, err := io.Copy(io.Discard, r); err != nil {
				return
			}
			continue
		}
		b, err := io.ReadAll(io.LimitReader(r, wsMaxMessage+1))
		if err != nil {
			c.shutdown(websocket.CloseMessageTooBig, "read failed")
			return
		}
		if len(b) > wsMaxMessage {
			n, err := io.Copy(io.Discard, r)
			if err != nil {
				// Beyond wsHardLimit: gorilla has sent close 1009.
				c.shutdown(websocket.CloseMessageTooBig, fmt.Sprintf("a message is larger than %d bytes", wsHardLimit))
				return
			}
			c.reply(nil, nil, newRPCError(rpcInvalidRequest, "the message is %d bytes long; at most %d are allowed", int64(len(b))+n, wsMaxMessage))
			continue
		}
		if typ != websocket.TextMessage {
			c.reply(nil, nil, newRPCError(rpcInvalidRequest, "binary messages are not supported; send JSON text messages"))
			continue
		}
		if !c.rate.allow(time.Now()) {
			c.refuseOverRate(b)
			continue
		}
		c.handle(b)
	}
}

// endSessions runs when the socket has closed. Sessions that were answered
// play on (a session ends with its peer connection; as on XProtect, dropping the
// socket must not affect an established peer connection); sessions still
// waiting for their answer can never get it now and are closed.
func (c *wsConn) endSessions() {
	var wg sync.WaitGroup
	for _, ws := range c.sessions {
		ws.s.WatchCandidates(nil)
		if _, answered := ws.s.Answer(); answered {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			ws.s.Close()
		}()
	}
	wg.Wait()
	c.sessions = nil
	c.invites = nil
}
