package demo

import (
	"strings"
	"sync"

	"github.com/bluenviron/gortsplib/v4"
	"github.com/bluenviron/gortsplib/v4/pkg/base"
	"github.com/bluenviron/gortsplib/v4/pkg/liberrors"
)

// handler answers RTSP requests for one running Server: it checks the path
// and the credentials and hands out the single stream. It logs nothing, so a
// client that retries in a loop cannot flood the logs.
type handler struct {
	path     string // with the leading slash
	username string
	password string
	stats    *counters
	// played is closed at the first PLAY (see Server.StartOnFirstPlay).
	played   chan struct{}
	playOnce sync.Once

	mu     sync.RWMutex
	stream *gortsplib.ServerStream // nil until the stream is ready
}

// Interfaces gortsplib discovers by type assertion; listed so a rename in
// gortsplib breaks the build instead of silently disabling a callback.
var (
	_ gortsplib.ServerHandlerOnSessionOpen  = (*handler)(nil)
	_ gortsplib.ServerHandlerOnSessionClose = (*handler)(nil)
	_ gortsplib.ServerHandlerOnDescribe     = (*handler)(nil)
	_ gortsplib.ServerHandlerOnSetup        = (*handler)(nil)
	_ gortsplib.ServerHandlerOnPlay         = (*handler)(nil)
)

func (h *handler) setStream(st *gortsplib.ServerStream) {
	h.mu.Lock()
	h.stream = st
	h.mu.Unlock()
}

// OnSessionOpen counts open sessions.
func (h *handler) OnSessionOpen(*gortsplib.ServerHandlerOnSessionOpenCtx) {
	h.stats.sessions.Add(1)
}

// OnSessionClose counts open sessions.
func (h *handler) OnSessionClose(*gortsplib.ServerHandlerOnSessionCloseCtx) {
	h.stats.sessions.Add(-1)
}

// OnDescribe returns the SDP of the stream.
func (h *handler) OnDescribe(ctx *gortsplib.ServerHandlerOnDescribeCtx) (*base.Response, *gortsplib.ServerStream, error) {
	return h.authorize(ctx.Conn, ctx.Request, ctx.Path)
}

// OnSetup attaches a reader to the stream. Credentials are checked again
// because a client may SETUP without a DESCRIBE on the same connection.
func (h *handler) OnSetup(ctx *gortsplib.ServerHandlerOnSetupCtx) (*base.Response, *gortsplib.ServerStream, error) {
	return h.authorize(ctx.Conn, ctx.Request, ctx.Path)
}

// OnPlay starts delivery; the session was authorized at SETUP.
func (h *handler) OnPlay(*gortsplib.ServerHandlerOnPlayCtx) (*base.Response, error) {
	h.stats.plays.Add(1)
	h.playOnce.Do(func() { close(h.played) })
	return &base.Response{StatusCode: base.StatusOK}, nil
}

func (h *handler) authorize(conn *gortsplib.ServerConn, req *base.Request, path string) (*base.Response, *gortsplib.ServerStream, error) {
	if h.username != "" && !conn.VerifyCredentials(req, h.username, h.password) {
		// ErrServerAuth makes gortsplib add the WWW-Authenticate challenge
		// and keep the connection open for the retry.
		return &base.Response{StatusCode: base.StatusUnauthorized}, nil, liberrors.ErrServerAuth{}
	}
	if "/"+strings.Trim(path, "/") != h.path {
		return &base.Response{StatusCode: base.StatusNotFound}, nil, nil
	}
	h.mu.RLock()
	defer h.mu.RUnlock()
	if h.stream == nil {
		return &base.Response{StatusCode: base.StatusServiceUnavailable}, nil, nil
	}
	return &base.Response{StatusCode: base.StatusOK}, h.stream, nil
}
