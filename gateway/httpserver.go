package gateway

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/camgate/camgate/gateway/signaling"
)

// Timeouts of the HTTP server (Http.* settings):
//
//   - reading a request, headers and body: Http.ReadTimeout from its first
//     byte (http.Server's ReadHeaderTimeout and ReadTimeout);
//   - answering it: Http.WriteTimeout from the end of its headers
//     (http.Server's WriteTimeout), except an export download, which gets
//     Http.ExportTimeout in all and Http.WriteTimeout per piece
//     (exportPacer), and a WebSocket, which has no deadline of the server's
//     once upgraded (its pings tell a dead client);
//   - waiting for the next request on a keep-alive connection:
//     Http.IdleTimeout.
//
// Once a request's body has been read, its read deadline is lifted: while
// the handler runs, net/http reads the connection in the background to
// notice a client that goes away, and a read deadline passing there
// cancels the request's context. That would end an export download, or a
// session still gathering candidates, at Http.ReadTimeout.

// requestKind is what a request in flight is, for the shutdown's report of
// what it cut.
type requestKind int32

const (
	kindRequest requestKind = iota
	kindExport
	kindWebSocket
)

// inflight is a request being served.
type inflight struct {
	rc   *http.ResponseController
	kind atomic.Int32
}

func (r *inflight) setKind(k requestKind) { r.kind.Store(int32(k)) }

// liftReadDeadline ends the read deadline once the request is read (see
// above). A ResponseRecorder in tests cannot: that is fine.
func (r *inflight) liftReadDeadline() { _ = r.rc.SetReadDeadline(time.Time{}) }

type inflightKey struct{}

// inflightOf is the request's entry in the tracker; nil for a request
// that did not come through the gateway's handler.
func inflightOf(r *http.Request) *inflight {
	v, _ := r.Context().Value(inflightKey{}).(*inflight)
	return v
}

// requestTracker knows the requests being served, so that a shutdown can
// say what it cut and wait for their handlers to return.
type requestTracker struct {
	mu     sync.Mutex
	active map[*inflight]struct{}
	wg     sync.WaitGroup
}

func newRequestTracker() *requestTracker {
	return &requestTracker{active: map[*inflight]struct{}{}}
}

func (t *requestTracker) add(r *inflight) {
	t.mu.Lock()
	t.active[r] = struct{}{}
	t.wg.Add(1)
	t.mu.Unlock()
}

func (t *requestTracker) done(r *inflight) {
	t.mu.Lock()
	delete(t.active, r)
	t.mu.Unlock()
	t.wg.Done()
}

// count adds the requests in flight to rep: WebSockets are the hub's to
// count.
func (t *requestTracker) count(rep *ShutdownReport) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for r := range t.active {
		switch requestKind(r.kind.Load()) {
		case kindExport:
			rep.Exports++
		case kindRequest:
			rep.Requests++
		}
	}
}

// wait waits up to d for every handler to return; false if some still run.
func (t *requestTracker) wait(d time.Duration) bool {
	done := make(chan struct{})
	go func() {
		t.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return true
	case <-time.After(d):
		return false
	}
}

// trackRequests is the outermost handler: it registers every request with
// the tracker and manages its read deadline (see above).
func (g *Gateway) trackRequests(next http.Handler) http.Handler {
	readTimeout := time.Duration(g.httpCfg.ReadTimeout)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req := &inflight{rc: http.NewResponseController(w)}
		g.requests.add(req)
		defer g.requests.done(req)
		if r.Body == nil || r.Body == http.NoBody {
			req.liftReadDeadline()
		} else {
			r.Body = &deadlineBody{ReadCloser: r.Body, req: req, timeout: readTimeout}
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), inflightKey{}, req)))
	})
}

// errBodyTimeout is a request body that did not arrive in time.
var errBodyTimeout = errors.New("the request body did not arrive in time")

// deadlineBody lifts the read deadline when the body has been read, and
// names the setting when the deadline cut it short.
type deadlineBody struct {
	io.ReadCloser
	req     *inflight
	timeout time.Duration
	lifted  bool
}

func (b *deadlineBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	switch {
	case errors.Is(err, io.EOF) && !b.lifted:
		b.lifted = true
		b.req.liftReadDeadline()
	case errors.Is(err, os.ErrDeadlineExceeded):
		err = fmt.Errorf("%w: a request must arrive whole within %s (Http.ReadTimeout)", errBodyTimeout, b.timeout)
	}
	return n, err
}

// exportPieceSize is the most an export writes under one deadline: a
// client must take at least 16 KB per Http.WriteTimeout (about 4 kbit/s at
// the default 30 s) or it is taken for stalled. Http.ExportTimeout bounds
// the whole download.
const exportPieceSize = 16 << 10

// exportPacer gives an export download its deadlines: each piece must be
// taken by the client within Http.WriteTimeout, and the whole download
// ends at Http.ExportTimeout.
type exportPacer struct {
	req   *inflight
	piece time.Duration
	end   time.Time
}

// startExport marks the request as an export and returns its pacer and a
// context that ends with the download's deadline.
func (g *Gateway) startExport(r *http.Request) (signaling.ExportPacer, context.Context, context.CancelFunc) {
	p := &exportPacer{req: inflightOf(r), piece: time.Duration(g.httpCfg.WriteTimeout),
		end: time.Now().Add(time.Duration(g.httpCfg.ExportTimeout))}
	if p.req != nil {
		p.req.setKind(kindExport)
	}
	ctx, cancel := context.WithDeadline(r.Context(), p.end)
	return p, ctx, cancel
}

// Write writes b in pieces, each under its own deadline.
func (p *exportPacer) Write(w io.Writer, b []byte) (int, error) {
	written := 0
	for len(b) > 0 {
		n := min(len(b), exportPieceSize)
		if p.req != nil {
			deadline := time.Now().Add(p.piece)
			if deadline.After(p.end) {
				deadline = p.end
			}
			_ = p.req.rc.SetWriteDeadline(deadline)
		}
		m, err := w.Write(b[:n])
		written += m
		if err != nil {
			return written, err
		}
		b = b[n:]
	}
	return written, nil
}

// markWebSocket marks a request that became a WebSocket: the hub counts
// it at shutdown, not the tracker.
func markWebSocket(r *http.Request) {
	if req := inflightOf(r); req != nil {
		req.setKind(kindWebSocket)
	}
}

// newServer is the http.Server of the settings' timeouts.
func (g *Gateway) newServer() *http.Server {
	h := g.httpCfg
	return &http.Server{
		Handler:           g.handler,
		ReadHeaderTimeout: time.Duration(h.ReadTimeout),
		ReadTimeout:       time.Duration(h.ReadTimeout),
		WriteTimeout:      time.Duration(h.WriteTimeout),
		IdleTimeout:       time.Duration(h.IdleTimeout),
		// net/http's own complaints (accept errors, a handler's misuse
		// of its writer) go to camgate's log, not to standard error.
		ErrorLog: slog.NewLogLogger(g.log.Handler(), slog.LevelWarn),
	}
}

// ShutdownReport is what a shutdown cut at its deadline (Http.ShutdownTimeout):
// all zero when everything in flight finished in time.
type ShutdownReport struct {
	Exports    int // export downloads
	WebSockets int // WebSocket connections that did not close in time
	Requests   int // other requests
}

// Cut reports whether anything was cut.
func (r ShutdownReport) Cut() bool { return r.Exports+r.WebSockets+r.Requests > 0 }

// String lists what was cut: "1 export download, 2 requests".
func (r ShutdownReport) String() string {
	var parts []string
	add := func(n int, one, many string) {
		if n == 1 {
			parts = append(parts, "1 "+one)
		} else if n > 1 {
			parts = append(parts, fmt.Sprintf("%d %s", n, many))
		}
	}
	add(r.Exports, "export download", "export downloads")
	add(r.WebSockets, "WebSocket", "WebSockets")
	add(r.Requests, "request", "requests")
	if len(parts) == 0 {
		return "nothing"
	}
	out := parts[0]
	for _, p := range parts[1:] {
		out += ", " + p
	}
	return out
}

// handlerGrace bounds the wait for handlers after their connections were
// cut: they see the connection gone at their next read or write.
const handlerGrace = 2 * time.Second

// beginDrain makes /readyz answer 503 and every answer close its
// connection, so that clients and load balancers move on; the listener
// keeps serving.
func (g *Gateway) beginDrain() {
	if g.metrics.closing.Swap(true) {
		return
	}
	if g.srv != nil {
		g.srv.SetKeepAlivesEnabled(false)
	}
}

// Shutdown stops the gateway gracefully, as camgate does on SIGTERM:
// /readyz answers 503 at once while the listener keeps serving for
// Http.DrainPeriod; then the listener closes, sessions and WebSockets
// close telling their clients that camgate is shutting down, and the
// requests in flight get Http.ShutdownTimeout to finish. What still runs
// then is cut, logged in one line and returned; that is not an error.
// When ctx ends (a second signal), the drain and the wait end at once.
func (g *Gateway) Shutdown(ctx context.Context) (ShutdownReport, error) {
	g.beginDrain()
	if d := time.Duration(g.httpCfg.DrainPeriod); d > 0 {
		g.log.Info("draining: /readyz answers 503 while camgate still serves", "drainPeriod", d.String())
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
		}
	}
	stopCtx, cancel := context.WithTimeout(ctx, time.Duration(g.httpCfg.ShutdownTimeout))
	defer cancel()
	return g.stop(stopCtx)
}

// stop closes the listener, ends sessions and WebSockets, waits for the
// requests in flight until ctx ends and cuts what is left. Only the first
// call does the work; later ones wait for it and return its result.
func (g *Gateway) stop(ctx context.Context) (ShutdownReport, error) {
	g.stopOnce.Do(func() { g.stopReport, g.stopErr = g.stopNow(ctx) })
	return g.stopReport, g.stopErr
}

func (g *Gateway) stopNow(ctx context.Context) (ShutdownReport, error) {
	g.beginDrain()
	var rep ShutdownReport
	var err error
	if g.srv != nil {
		shut := make(chan error, 1)
		go func() { shut <- g.srv.Shutdown(ctx) }()
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			rep.WebSockets = g.api.CloseWebSockets(ctx)
		}()
		g.sessions.CloseAll()
		err = <-shut
		if ctxErr := ctx.Err(); ctxErr != nil && errors.Is(err, ctxErr) {
			g.requests.count(&rep)
			err = g.srv.Close()
		}
		wg.Wait()
		if !g.requests.wait(handlerGrace) {
			g.log.Warn("shutdown: some handlers still run after their connections were cut")
		}
		<-g.done
		g.conns.wait()
	} else {
		g.api.CloseWebSockets(ctx)
		g.sessions.CloseAll()
	}
	g.sessions.Close()
	if rep.Cut() {
		g.log.Warn("shutdown deadline reached: cut "+rep.String(), "shutdownTimeout", time.Duration(g.httpCfg.ShutdownTimeout).String())
	}
	return rep, err
}
