package gateway_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/camgate/camgate/appsettings"
	"github.com/camgate/camgate/gateway"
	"github.com/camgate/camgate/playback"
)

// smallBuffers shrinks the send buffer of every accepted connection, so that
// a client that does not read blocks the server's writes after a few KB
// instead of a few MB.
type smallBuffers struct{ net.Listener }

func (l smallBuffers) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if tcp, ok := c.(*net.TCPConn); ok {
		_ = tcp.SetWriteBuffer(4096)
	}
	return c, err
}

// exportEnv records the harness camera at 100 fps (about 350 KB a second)
// until 2 s are recorded; testUser may export.
func exportEnv(t *testing.T, mutate func(*appsettings.Settings)) (*testEnv, playback.Span) {
	t.Helper()
	env := newTestEnv(t, envOptions{inBandParams: true, fps: 100,
		listener: func(ln net.Listener) net.Listener { return smallBuffers{ln} },
		mutate: func(s *appsettings.Settings) {
			s.Cameras[0].Recording.Enabled = true
			s.Auth.Roles[0].Export = []string{"*"}
			mutate(s)
		}})
	deadline := time.Now().Add(hangBound)
	for {
		sp, err := env.store.Spans(context.Background(), testCameraID, time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if len(sp) > 0 && sp[0].End.Sub(sp[0].Start) >= 2*time.Second {
			return env, sp[0]
		}
		if time.Now().After(deadline) {
			t.Fatalf("no 2 s of recording: %v", sp)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// startSlowExport asks for 2 s of export on a connection whose client takes
// nothing after the answer's headers (a small receive buffer, no reads).
func (e *testEnv) startSlowExport(t *testing.T, sp playback.Span) *http.Response {
	t.Helper()
	c := e.dialFrom(t, "127.0.0.1")
	_ = c.(*net.TCPConn).SetReadBuffer(4096)
	path := "/API/rest/v1/cameras/" + testCameraID + "/recordings/export?start=" + sp.Start.UTC().Format(time.RFC3339Nano) + "&duration=2"
	fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\n\r\n", path, e.host(), e.token)
	_ = c.SetReadDeadline(time.Now().Add(hangBound))
	resp, err := http.ReadResponse(bufio.NewReaderSize(c, 512), nil)
	if err != nil {
		t.Fatalf("export: %v", err)
	}
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "video/mp4" {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("export: %d %s", resp.StatusCode, b)
	}
	return resp
}

// cutShort reads the rest of an export and fails unless the server cut it:
// a chunked body that ends without its last chunk.
func cutShort(t *testing.T, resp *http.Response, what string) {
	t.Helper()
	n, err := io.Copy(io.Discard, resp.Body)
	if err == nil {
		t.Fatalf("%s: the whole export arrived (%d bytes); want it cut", what, n)
	}
	if !errors.Is(err, io.ErrUnexpectedEOF) && !strings.Contains(err.Error(), "reset") {
		t.Fatalf("%s: read ended with %v; want the server to have cut the connection", what, err)
	}
}

// An export whose client stops taking it is cut when a piece has waited
// Http.WriteTimeout. (4 s, not 1 s: the harness's sign-in, argon2 under the
// race detector on a busy machine, must fit in it.)
func TestExportStalledClientIsCut(t *testing.T) {
	t.Parallel()
	env, sp := exportEnv(t, func(s *appsettings.Settings) {
		s.Http.WriteTimeout = appsettings.Duration(4 * time.Second)
	})
	resp := env.startSlowExport(t, sp)
	time.Sleep(6 * time.Second) // the client reads nothing (not a measurement)
	cutShort(t, resp, "stalled export")
}

// A shutdown with an export download in flight waits Http.ShutdownTimeout,
// then cuts it and says so; that is not an error.
func TestShutdownCutsExportDownload(t *testing.T) {
	t.Parallel()
	env, sp := exportEnv(t, func(s *appsettings.Settings) {
		s.Http.DrainPeriod = 0
		s.Http.ShutdownTimeout = appsettings.Duration(time.Second)
	})
	resp := env.startSlowExport(t, sp)
	rep, err := env.gw.Shutdown(context.Background())
	if err != nil {
		t.Fatalf("Shutdown: %v (a cut download is not an error)", err)
	}
	if want := (gateway.ShutdownReport{Exports: 1}); rep != want || rep.String() != "1 export download" {
		t.Fatalf("Shutdown cut %+v (%q); want the export download only", rep, rep)
	}
	cutShort(t, resp, "export at the shutdown deadline")
}
