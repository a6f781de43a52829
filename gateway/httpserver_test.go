package gateway_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/camgate/camgate/appsettings"
	"github.com/camgate/camgate/gateway"
)

// hangBound only bounds a hang: every wait below ends on an event (the
// server closing a connection, an answer); none measures a duration.
const hangBound = 30 * time.Second

// host is the gateway's address, for raw requests.
func (e *testEnv) host() string {
	return strings.TrimSuffix(strings.TrimPrefix(e.base, "http://"), "/API")
}

// dialFrom opens a TCP connection to the gateway from a loopback address
// of the test's choice, so that the connections of other clients (the
// harness signs in from 127.0.0.1) do not count toward its limits.
func (e *testEnv) dialFrom(t *testing.T, local string) net.Conn {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(local)}, Timeout: 5 * time.Second}
	c, err := d.Dial("tcp", e.host())
	if err != nil {
		t.Fatalf("dial from %s: %v", local, err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// rawGet sends a keep-alive GET on c and reads the answer.
func rawGet(t *testing.T, c net.Conn, br *bufio.Reader, host, path string) (int, string) {
	t.Helper()
	if _, err := fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: %s\r\n\r\n", path, host); err != nil {
		t.Fatalf("write GET %s: %v", path, err)
	}
	_ = c.SetReadDeadline(time.Now().Add(hangBound))
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// closedByServer reads c until the server closes it; it fails when the
// connection is still open after hangBound (the client's own read
// deadline), which is what a missing server timeout looks like.
func closedByServer(t *testing.T, c net.Conn, r io.Reader, what string) {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(hangBound))
	_, err := io.Copy(io.Discard, r)
	if errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("%s: the server kept the connection open", what)
	}
	// nil is the server's FIN; a reset is a close too.
}

// An idle keep-alive connection is closed at Http.IdleTimeout.
func TestIdleConnectionIsClosed(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t, envOptions{mutate: func(s *appsettings.Settings) {
		s.Http.IdleTimeout = appsettings.Duration(time.Second)
	}})
	c := env.dialFrom(t, "127.0.0.1")
	br := bufio.NewReader(c)
	if status, body := rawGet(t, c, br, env.host(), "/healthz"); status != http.StatusOK {
		t.Fatalf("GET /healthz: %d %s", status, body)
	}
	closedByServer(t, c, br, "idle keep-alive connection")
}

// A client that sends the headers of a sign-in and then only part of its
// body is cut off at Http.ReadTimeout, before any token check.
func TestSlowBodyIsClosed(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t, envOptions{mutate: func(s *appsettings.Settings) {
		s.Http.ReadTimeout = appsettings.Duration(time.Second)
	}})
	c := env.dialFrom(t, "127.0.0.1")
	fmt.Fprintf(c, "POST /API/IDP/connect/token HTTP/1.1\r\nHost: %s\r\nContent-Type: application/x-www-form-urlencoded\r\n"+
		"Content-Length: 200\r\n\r\ngrant_type=password&username=", env.host())
	br := bufio.NewReader(c)
	_ = c.SetReadDeadline(time.Now().Add(hangBound))
	if resp, err := http.ReadResponse(br, nil); err == nil {
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			t.Fatalf("a half-sent sign-in got 200: %s", b)
		}
	} else if errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatal("half-sent sign-in: the server kept the connection open")
	}
	closedByServer(t, c, br, "half-sent sign-in")
}

// Http.MaxConnectionsPerAddress: one address beyond the limit gets a 429
// that names the setting, and its connection is closed; another address is
// not affected, and a connection that closes frees its place. A trusted
// proxy is not counted per address.
func TestConnectionsPerAddressAreLimited(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t, envOptions{mutate: func(s *appsettings.Settings) {
		s.Http.MaxConnectionsPerAddress = 3
		s.Http.TrustedProxies = []string{"127.0.0.3"}
	}})
	host := env.host()
	var held []net.Conn
	for range 3 {
		c := env.dialFrom(t, "127.0.0.2")
		if status, body := rawGet(t, c, bufio.NewReader(c), host, "/healthz"); status != http.StatusOK {
			t.Fatalf("connection %d: %d %s", len(held)+1, status, body)
		}
		held = append(held, c)
	}

	over := env.dialFrom(t, "127.0.0.2")
	br := bufio.NewReader(over)
	status, body := rawGet(t, over, br, host, "/healthz")
	if status != http.StatusTooManyRequests || !strings.Contains(body, "Http.MaxConnectionsPerAddress") {
		t.Fatalf("4th connection from one address: %d %s; want 429 naming Http.MaxConnectionsPerAddress", status, body)
	}
	closedByServer(t, over, br, "connection over the limit")

	// Another address, and a trusted proxy beyond the per-address limit.
	other := env.dialFrom(t, "127.0.0.4")
	if status, body := rawGet(t, other, bufio.NewReader(other), host, "/healthz"); status != http.StatusOK {
		t.Fatalf("another address: %d %s", status, body)
	}
	for i := range 4 {
		c := env.dialFrom(t, "127.0.0.3")
		if status, body := rawGet(t, c, bufio.NewReader(c), host, "/healthz"); status != http.StatusOK {
			t.Fatalf("trusted proxy, connection %d: %d %s", i+1, status, body)
		}
	}

	// A closed connection gives its place back once the server sees it
	// close.
	_ = held[0].Close()
	deadline := time.Now().Add(hangBound)
	for {
		c := env.dialFrom(t, "127.0.0.2")
		status, _ := rawGet(t, c, bufio.NewReader(c), host, "/healthz")
		_ = c.Close()
		if status == http.StatusOK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the place of a closed connection was never given back")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// A WebSocket lives on past Http.ReadTimeout and Http.IdleTimeout: once
// upgraded, only its pings decide. (Http.WriteTimeout stays at its
// default: the harness's sign-in, argon2 under the race detector, needs
// it.)
func TestWebSocketOutlivesHTTPTimeouts(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t, envOptions{mutate: func(s *appsettings.Settings) {
		s.Http.ReadTimeout = appsettings.Duration(time.Second)
		s.Http.IdleTimeout = appsettings.Duration(time.Second)
	}})
	ws := env.mustDialWS()
	ws.register(env.token)
	time.Sleep(3 * time.Second) // past every HTTP timeout (not a measurement)
	ws.sendRaw(`{"jsonrpc":"2.0","method":"noSuchMethod","id":7}`)
	ws.expectError("7", -32601)
}

// Shutdown: /readyz answers 503 at once while the listener still serves;
// after Http.DrainPeriod the sessions are told why they close, and a
// request still in flight at Http.ShutdownTimeout (a half-sent sign-in) is
// cut and reported, which is not an error.
func TestShutdownDrainsThenCuts(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t, envOptions{inBandParams: true, mutate: func(s *appsettings.Settings) {
		s.Http.DrainPeriod = appsettings.Duration(2 * time.Second)
		s.Http.ShutdownTimeout = appsettings.Duration(time.Second)
		s.Http.ReadTimeout = appsettings.Duration(time.Minute) // the slow sign-in outlasts the shutdown
	}})
	env.waitStreaming()
	viewer := env.play(liveBody)
	opened := make(chan struct{})
	viewer.commands.OnOpen(func() { close(opened) })
	select {
	case <-opened:
	case <-time.After(hangBound):
		t.Fatal("commands channel did not open")
	}

	slow := env.dialFrom(t, "127.0.0.1")
	fmt.Fprintf(slow, "POST /API/IDP/connect/token HTTP/1.1\r\nHost: %s\r\nContent-Type: application/x-www-form-urlencoded\r\n"+
		"Content-Length: 200\r\n\r\ngrant_type=password", env.host())
	// The request is in flight once the server reads it: its answer to a
	// request on another connection proves the server is up; the slow one
	// is read as soon as it arrives.
	readyz := func() (int, string) {
		c := env.dialFrom(t, "127.0.0.1")
		defer c.Close()
		return rawGet(t, c, bufio.NewReader(c), env.host(), "/readyz")
	}
	if status, body := readyz(); status != http.StatusOK {
		t.Fatalf("/readyz before the shutdown: %d %s", status, body)
	}

	type result struct {
		rep gateway.ShutdownReport
		err error
	}
	done := make(chan result, 1)
	go func() {
		rep, err := env.gw.Shutdown(context.Background())
		done <- result{rep, err}
	}()

	// During the drain the listener serves, and /readyz says 503.
	status, body := readyz()
	for status == http.StatusOK {
		status, body = readyz()
	}
	if status != http.StatusServiceUnavailable || !strings.Contains(body, "shutting down") {
		t.Fatalf("/readyz during the drain: %d %s", status, body)
	}

	var res result
	select {
	case res = <-done:
	case <-time.After(hangBound):
		t.Fatal("Shutdown did not return")
	}
	if res.err != nil {
		t.Fatalf("Shutdown: %v (a cut request is not an error)", res.err)
	}
	if want := (gateway.ShutdownReport{Requests: 1}); res.rep != want || res.rep.String() != "1 request" {
		t.Fatalf("Shutdown cut %+v (%q); want the half-sent sign-in only", res.rep, res.rep)
	}
	closedByServer(t, slow, slow, "half-sent sign-in at the shutdown deadline")

	// The viewer was told why its session ended.
	deadline := time.After(hangBound)
	for {
		select {
		case m := <-viewer.cmdReplys:
			var msg struct {
				Type, Event string
				Params      struct{ Kind, Cause, Message string }
			}
			if json.Unmarshal([]byte(m), &msg) == nil && msg.Type == "event" && msg.Event == "session" {
				if msg.Params.Kind != "closing" || msg.Params.Cause != "shutdown" || msg.Params.Message == "" {
					t.Fatalf("session event %s: want kind closing, cause shutdown and a message", m)
				}
				return
			}
		case <-deadline:
			t.Fatal("the viewer got no session event saying camgate shuts down")
		}
	}
}
