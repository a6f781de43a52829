package gateway

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/camgate/camgate/appsettings"
	"github.com/camgate/camgate/gateway/clientaddr"
	"github.com/camgate/camgate/gateway/internal/metricstest"
)

// serveWith serves h on loopback behind g's request tracker, with the
// server g's settings make, on ln wrapped by wrap (nil: none).
func serveWith(t *testing.T, g *Gateway, h http.Handler, wrap func(net.Listener) net.Listener) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	if wrap != nil {
		ln = wrap(ln)
	}
	g.handler = g.trackRequests(h)
	srv := g.newServer()
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return addr
}

func testGateway(h appsettings.HTTP) *Gateway {
	return &Gateway{log: slog.New(slog.DiscardHandler), httpCfg: h, requests: newRequestTracker()}
}

// An export outlives Http.WriteTimeout and Http.ReadTimeout as long as its
// client keeps taking it: each piece gets its own write deadline, and the
// read deadline, which would cancel the request's context, is lifted.
func TestExportPacerOutlivesServerTimeouts(t *testing.T) {
	t.Parallel()
	h := appsettings.Defaults().Http
	h.WriteTimeout = appsettings.Duration(500 * time.Millisecond)
	h.ReadTimeout = appsettings.Duration(500 * time.Millisecond)
	g := testGateway(h)
	const size = 2 << 20
	served := make(chan error, 1)
	addr := serveWith(t, g, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, ctx, cancel := g.startExport(r)
		defer cancel()
		piece := bytes.Repeat([]byte{'x'}, 256<<10)
		for sent := 0; sent < size; sent += len(piece) {
			if err := ctx.Err(); err != nil {
				served <- fmt.Errorf("the request's context ended: %w", err)
				return
			}
			if _, err := p.Write(w, piece); err != nil {
				served <- err
				return
			}
		}
		served <- nil
	}), func(ln net.Listener) net.Listener { return smallSendBuffers{ln} })

	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprintf(c, "GET /export HTTP/1.1\r\nHost: %s\r\n\r\n", addr)
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	// Take the body slowly, at most 64 KB every 20 ms: 2 MB then last
	// several write timeouts.
	var got int64
	buf := make([]byte, 64<<10)
	for {
		n, err := resp.Body.Read(buf)
		got += int64(n)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("after %d bytes: %v (the server cut a download that kept going; handler: %v)", got, err, <-served)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if got != size {
		t.Fatalf("read %d of %d bytes", got, size)
	}
	if err := <-served; err != nil {
		t.Fatalf("handler: %v", err)
	}
}

// smallSendBuffers shrinks the send buffer of every accepted connection, so
// that a slow client holds the server's writes back.
type smallSendBuffers struct{ net.Listener }

func (l smallSendBuffers) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if tcp, ok := c.(*net.TCPConn); ok {
		_ = tcp.SetWriteBuffer(4096)
	}
	return c, err
}

// Http.MaxConnections counts every connection, a trusted proxy's too, and
// is lowered to half the open-file limit; the connection beyond it gets a
// 503 naming the setting and is counted in the metric.
func TestConnectionCeiling(t *testing.T) {
	t.Parallel()
	h := appsettings.Defaults().Http
	h.MaxConnections = 100
	h.TrustedProxies = []string{"127.0.0.1/32"}
	g := testGateway(h)
	clients, err := clientaddr.New(h)
	if err != nil {
		t.Fatal(err)
	}
	l := newConnLimiter(h, clients, g.log)
	reg := prometheus.NewRegistry()
	reg.MustRegister(l.collectors()...)
	addr := serveWith(t, g, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "ok")
	}), func(ln net.Listener) net.Listener { return l.wrap(ln, 4) }) // 4 files: 2 connections

	// get opens a connection (kept open until the test ends) and asks it
	// for one response.
	get := func() (int, string) {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = c.Close() })
		fmt.Fprintf(c, "GET / HTTP/1.1\r\nHost: %s\r\n\r\n", addr)
		_ = c.SetReadDeadline(time.Now().Add(30 * time.Second))
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK && resp.Header.Get("Retry-After") == "" {
			t.Errorf("%d without Retry-After", resp.StatusCode)
		}
		return resp.StatusCode, string(b)
	}
	for i := range 2 {
		if status, body := get(); status != http.StatusOK {
			t.Fatalf("connection %d: %d %s", i+1, status, body)
		}
	}
	status, body := get()
	if status != http.StatusServiceUnavailable || !strings.Contains(body, "Http.MaxConnections") || strings.Contains(body, "PerAddress") {
		t.Fatalf("3rd connection: %d %s; want 503 naming Http.MaxConnections", status, body)
	}
	if got := metricstest.Value(t, reg, "camgate_http_connections_refused_total", limitTotal); got != 1 {
		t.Errorf("refused total = %v, want 1", got)
	}
	if got := metricstest.Value(t, reg, "camgate_http_connections_open"); got != 2 {
		t.Errorf("open = %v, want 2", got)
	}
}
