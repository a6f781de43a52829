package gateway

import (
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/camgate/camgate/appsettings"
	"github.com/camgate/camgate/gateway/clientaddr"
	"github.com/camgate/camgate/gateway/rtc"
	"github.com/camgate/camgate/gateway/signaling"
)

// Connection limits. Every TCP connection costs a file descriptor, a
// goroutine and buffers before any request on it is authenticated, so the
// listener counts them: Http.MaxConnectionsPerAddress per client address
// and Http.MaxConnections in all. A connection over either is answered by
// the listener itself, before http.Server sees it, and closed: 429 for one
// address over its share, 503 when camgate as a whole is full (as every
// limit answers, docs/security.md), both with Retry-After.

const (
	// refuseAtOnce bounds the refused connections being answered at the
	// same time; more are closed without an answer, so that a flood of
	// refusals cannot itself hold file descriptors.
	refuseAtOnce = 16
	// refuseWait bounds how long a refused connection is kept to read its
	// request and take the answer (a client that closes with unread data gets
	// a reset instead of the answer).
	refuseWait = time.Second
	// refuseLogEvery spaces the log lines about refusals: a flood must not
	// become a flood of log lines. The metric counts each one.
	refuseLogEvery = 10 * time.Second
	// refuseRetryAfter is the Retry-After of a refusal, in seconds.
	refuseRetryAfter = 5
)

// The limits a connection can be refused by, as named in the metric and
// the log.
const (
	limitPerAddress = "per_address"
	limitTotal      = "total"
)

// connLimiter counts the open connections of a listener.
type connLimiter struct {
	perAddress int
	max        int // Http.MaxConnections, lowered to the open-file limit's share by wrap
	clients    *clientaddr.Resolver
	log        *slog.Logger
	refusing   chan struct{} // semaphore of the refusals being answered
	answering  sync.WaitGroup

	refused *prometheus.CounterVec
	open    prometheus.GaugeFunc

	mu      sync.Mutex
	total   int
	perKey  map[netip.Prefix]int
	lastLog map[string]time.Time
	unseen  map[string]int // refusals since the last log line, per limit
}

func newConnLimiter(h appsettings.HTTP, clients *clientaddr.Resolver, log *slog.Logger) *connLimiter {
	l := &connLimiter{
		perAddress: h.MaxConnectionsPerAddress,
		max:        h.MaxConnections,
		clients:    clients,
		log:        log,
		refusing:   make(chan struct{}, refuseAtOnce),
		perKey:     map[netip.Prefix]int{},
		lastLog:    map[string]time.Time{},
		unseen:     map[string]int{},
	}
	l.refused = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "camgate_http_connections_refused_total",
		Help: `TCP connections refused because a limit was reached: "per_address" (Http.MaxConnectionsPerAddress, answered 429) or "total" (Http.MaxConnections, answered 503).`},
		[]string{"limit"})
	l.refused.WithLabelValues(limitPerAddress)
	l.refused.WithLabelValues(limitTotal)
	l.open = prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "camgate_http_connections_open",
		Help: "TCP connections to the HTTP listener open now (WebSockets included)."},
		func() float64 {
			l.mu.Lock()
			defer l.mu.Unlock()
			return float64(l.total)
		})
	return l
}

func (l *connLimiter) collectors() []prometheus.Collector {
	return []prometheus.Collector{l.refused, l.open}
}

// wrap returns ln with the limits applied. fdLimit is the process's
// open-file limit (0: unknown): the ceiling is lowered to half of it, so
// that connections alone cannot use every descriptor that sessions,
// cameras and recordings need.
func (l *connLimiter) wrap(ln net.Listener, fdLimit uint64) net.Listener {
	if half := fdLimit / 2; fdLimit > 0 && half < uint64(l.max) {
		l.log.Warn("Http.MaxConnections lowered to half the open-file limit",
			"maxConnections", max(half, 1), "setting", l.max, "openFileLimit", fdLimit)
		l.max = int(max(half, 1))
	}
	return &limitListener{Listener: ln, l: l}
}

// wait returns when every refused connection has been answered and closed
// (within refuseWait).
func (l *connLimiter) wait() { l.answering.Wait() }

// admit counts a new connection from peer, or says which limit refuses it.
// A trusted proxy (or a peer that is not an IP address) counts only toward
// the total.
func (l *connLimiter) admit(peer netip.Addr) (key netip.Prefix, counted bool, refusedBy string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.total >= l.max {
		return key, false, limitTotal
	}
	counted = peer.IsValid() && !l.clients.TrustsPeer(peer)
	if counted {
		key = rtc.AddressKey(peer) // as Limits.SessionsPerAddress counts (limits.go)
		if l.perKey[key] >= l.perAddress {
			return key, false, limitPerAddress
		}
		l.perKey[key]++
	}
	l.total++
	return key, counted, ""
}

func (l *connLimiter) release(key netip.Prefix, counted bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.total--
	if !counted {
		return
	}
	if l.perKey[key]--; l.perKey[key] <= 0 {
		delete(l.perKey, key)
	}
}

// refuse answers a connection over a limit with an error that names the
// limit's setting, and closes it.
func (l *connLimiter) refuse(c net.Conn, peer netip.Addr, limit string) {
	l.refused.WithLabelValues(limit).Inc()
	setting, n := "Http.MaxConnections", l.max
	e := signaling.Errorf(http.StatusServiceUnavailable, "camgate has %d connections open, its limit (%s); try again later", n, setting)
	if limit == limitPerAddress {
		setting, n = "Http.MaxConnectionsPerAddress", l.perAddress
		e = signaling.Errorf(http.StatusTooManyRequests, "your address has %d connections open to camgate, the limit (%s); close some or try again later", n, setting)
	}
	l.logRefusal(limit, setting, n, peer)
	select {
	case l.refusing <- struct{}{}:
		l.answering.Add(1)
		go func() {
			defer func() {
				<-l.refusing
				l.answering.Done()
			}()
			answerRefusal(c, e)
		}()
	default:
		_ = c.Close()
	}
}

func (l *connLimiter) logRefusal(limit, setting string, n int, peer netip.Addr) {
	l.mu.Lock()
	l.unseen[limit]++
	now := time.Now()
	if now.Sub(l.lastLog[limit]) < refuseLogEvery {
		l.mu.Unlock()
		return
	}
	count := l.unseen[limit]
	l.unseen[limit], l.lastLog[limit] = 0, now
	l.mu.Unlock()
	// refused counts the refusals since the previous line of this limit
	// (at most one line every refuseLogEvery).
	l.log.Warn("connections refused: "+setting+" reached", "limit", n, "refused", count, "client", peer)
}

// answerRefusal reads what the client sent of its request (so that closing
// does not reset the connection before the client reads the answer),
// writes e in the API's JSON error shape, and closes the connection.
func answerRefusal(c net.Conn, e *signaling.HTTPError) {
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(refuseWait))
	buf := make([]byte, 0, 4096)
	for len(buf) < cap(buf) && !bytes.Contains(buf, []byte("\r\n\r\n")) {
		n, err := c.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err != nil {
			break
		}
	}
	body := e.JSON()
	head := fmt.Sprintf("HTTP/1.1 %d %s\r\n", e.Status, http.StatusText(e.Status)) +
		"Content-Type: application/json; charset=utf-8\r\n" +
		"Retry-After: " + strconv.Itoa(refuseRetryAfter) + "\r\nCache-Control: no-store\r\nConnection: close\r\n" +
		"Content-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n"
	if _, err := c.Write(append([]byte(head), body...)); err != nil {
		return
	}
	if cw, ok := c.(interface{ CloseWrite() error }); ok {
		_ = cw.CloseWrite()
		_, _ = io.Copy(io.Discard, io.LimitReader(c, 64<<10))
	}
}

// limitListener applies a connLimiter to the connections it accepts.
type limitListener struct {
	net.Listener
	l *connLimiter
}

// Accept returns the next connection within the limits; those over a limit
// are refused here and never reach the server.
func (ln *limitListener) Accept() (net.Conn, error) {
	for {
		c, err := ln.Listener.Accept()
		if err != nil {
			return nil, err
		}
		peer := peerAddr(c.RemoteAddr())
		key, counted, refusedBy := ln.l.admit(peer)
		if refusedBy != "" {
			ln.l.refuse(c, peer, refusedBy)
			continue
		}
		return &limitedConn{Conn: c, l: ln.l, key: key, counted: counted}, nil
	}
}

func peerAddr(a net.Addr) netip.Addr {
	if tcp, ok := a.(*net.TCPAddr); ok {
		return tcp.AddrPort().Addr().WithZone("").Unmap()
	}
	return netip.Addr{}
}

// limitedConn gives its place back when it closes (http.Server closes it,
// or the WebSocket that hijacked it does).
type limitedConn struct {
	net.Conn
	l       *connLimiter
	key     netip.Prefix
	counted bool
	once    sync.Once
}

func (c *limitedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() { c.l.release(c.key, c.counted) })
	return err
}

// CloseWrite lets http.Server half-close the connection as it does a bare
// TCP connection, so that the client reads a final answer before the close.
func (c *limitedConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

// ReadFrom keeps sendfile for static files, as on a bare TCP connection.
func (c *limitedConn) ReadFrom(r io.Reader) (int64, error) {
	if rf, ok := c.Conn.(io.ReaderFrom); ok {
		return rf.ReadFrom(r)
	}
	return io.Copy(struct{ io.Writer }{c.Conn}, r)
}
