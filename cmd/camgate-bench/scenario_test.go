package main

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/camgate/camgate/appsettings"
	"github.com/camgate/camgate/cameras"
	"github.com/camgate/camgate/cameras/testutil"
	"github.com/camgate/camgate/gateway"
	"github.com/camgate/camgate/oauth"
)

const testCameraID = "B3E7C0DE-0000-4BEC-8000-000000000001"

// inProcess is a gateway in this process, fed by the stamped bench camera
// looping the demo clip, and a signed-in client of it.
type inProcess struct {
	base   string
	camera *benchCamera
	gw     *gateway.Gateway
	client *client
	log    *slog.Logger
}

func startInProcess(t *testing.T, ctx context.Context) *inProcess {
	t.Helper()
	if testing.Short() {
		t.Skip("needs a few seconds of real streaming")
	}
	log := slog.New(slog.DiscardHandler)
	cam, err := startCamera("../../testdata/demo.h264", "127.0.0.1:0", 25, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cam.close)

	hash, err := oauth.HashPassword("bench")
	if err != nil {
		t.Fatal(err)
	}
	s := appsettings.Defaults()
	s.Http.Listen = "127.0.0.1:0"
	s.WebRTC.UdpPort = 0
	s.WebRTC.MDNS = "disabled"
	s.WebRTC.IPs = []string{"127.0.0.1"}
	s.DataDir = t.TempDir()
	s.Cameras = []appsettings.Camera{{Id: testCameraID, Name: "Bench", Transport: "tcp",
		Streams: []appsettings.Stream{{Id: "B3E7C0DE-0000-4BEC-8000-000000000002", Url: cam.url(), Default: true}}}}
	s.Auth.Roles = []appsettings.Role{{Name: "viewer", Live: []string{"*"}}}
	s.Auth.Users = []appsettings.User{{Username: "bench", PasswordHash: hash, Roles: []string{"viewer"}}}
	s.ApplyDefaults()
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", s.Http.Listen)
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	auth, err := oauth.New(context.Background(), oauth.Options{Auth: s.Auth, DataDir: s.DataDir, Issuer: base + "/API/IDP", Log: log, FailureDelay: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(auth.Close)
	reg := cameras.NewRegistry(s.Cameras, log)
	testutil.Run(t, reg.Run, reg.Started)
	gw, err := gateway.New(gateway.Options{Config: gateway.Config{HTTP: s.Http, CORS: s.CORS, Metrics: s.Metrics,
		WebRTC: s.WebRTC, Limits: s.Limits, WebSocket: s.WebSocket, SessionGrace: time.Duration(s.Auth.SessionGrace)},
		Cameras: reg, Auth: auth, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	gw.Serve(ln)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = gw.Close(ctx)
	})

	c, err := newClient(base, testCameraID, true)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.signIn(ctx, "bench", "bench"); err != nil {
		t.Fatal(err)
	}
	if err := c.waitStreaming(ctx); err != nil {
		t.Fatal(err)
	}
	return &inProcess{base: base, camera: cam, gw: gw, client: c, log: log}
}

// ramp runs steps 1 and 3 (batches of 2) and checks what every flow must
// give: no failed viewer, a first frame and its phases for each, frames
// received with stamps and latencies, camgate's counters, and no session
// left at the end. It checks the client's plumbing, never a speed.
func (e *inProcess) ramp(t *testing.T, ctx context.Context) []stepResult {
	t.Helper()
	sc := &scenario{
		client: e.client, pid: os.Getpid(), camera: e.camera, fps: 25, steps: []int{1, 3}, batch: 2,
		window: 1500 * time.Millisecond, settle: 200 * time.Millisecond, tail: 300 * time.Millisecond,
		connectTimeout: 10 * time.Second, log: e.log,
	}
	results, err := sc.run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(results) != 3 {
		t.Fatalf("%d rows, want the baseline and 2 steps", len(results))
	}
	for _, r := range results[1:] {
		if r.Failed != 0 || r.TTFF.N != r.Added {
			t.Fatalf("step %d: %d failed, %d first frames for %d added", r.Viewers, r.Failed, r.TTFF.N, r.Added)
		}
		for _, phase := range []string{"offer_received", "answered", "ice_connected", "dtls_connected", "first_packet"} {
			if d := r.FirstFramePhases[phase]; d.N != r.Added || d.Max <= 0 {
				t.Fatalf("step %d: phase %s = %+v for %d viewers added", r.Viewers, phase, d, r.Added)
			}
		}
		if r.CameraFrames == 0 || r.FramesReceived == 0 || r.FramesReceived > r.FramesExpected {
			t.Fatalf("step %d: received %d of %d frames (camera sent %d)", r.Viewers, r.FramesReceived, r.FramesExpected, r.CameraFrames)
		}
		if r.CamgateFramesOut == nil || *r.CamgateFramesOut == 0 {
			t.Fatalf("step %d: no frames out in camgate's /metrics", r.Viewers)
		}
		if r.Latency.N == 0 || r.PacketsRecv == 0 || r.CamgateRSSKB == 0 {
			t.Fatalf("step %d: latency samples %d, packets %d, RSS %d", r.Viewers, r.Latency.N, r.PacketsRecv, r.CamgateRSSKB)
		}
	}
	if e.gw.SessionCount() != 0 {
		t.Fatalf("%d sessions left after the scenario closed its viewers", e.gw.SessionCount())
	}
	return results
}

// sessionsCreated reads camgate_sessions_total{kind="…"} from /metrics.
func (e *inProcess) sessionsCreated(t *testing.T, kind string) int {
	t.Helper()
	resp, err := http.Get(e.base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^camgate_sessions_total\{kind="` + kind + `"\} (\d+)$`).FindSubmatch(b)
	if m == nil {
		t.Fatalf("/metrics has no camgate_sessions_total for kind %s", kind)
	}
	n, _ := strconv.Atoi(string(m[1]))
	return n
}

// TestScenarioAgainstInProcessGateway runs a short ramp (1 then 3 viewers)
// with the REST flow.
func TestScenarioAgainstInProcessGateway(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	e := startInProcess(t, ctx)
	e.ramp(t, ctx)
	if n := e.sessionsCreated(t, "live_rest"); n != 3 {
		t.Fatalf("camgate created %d REST sessions, want 3", n)
	}
	if n := e.sessionsCreated(t, "live_ws"); n != 0 {
		t.Fatalf("camgate created %d WebSocket sessions in the REST flow", n)
	}
}

// TestScenarioNoCandidatesFlow runs the ramp with viewers that answer
// without candidates and send none (go2rtc's way): camgate reaches each by
// its checks alone, and every viewer still gets its first frame.
func TestScenarioNoCandidatesFlow(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	e := startInProcess(t, ctx)
	e.client.noCandidates = true
	if f := e.client.flow(); f != flowRESTNoCandidates {
		t.Fatalf("flow %q, want %q", f, flowRESTNoCandidates)
	}
	e.ramp(t, ctx)
	if n := e.sessionsCreated(t, "live_rest"); n != 3 {
		t.Fatalf("camgate created %d REST sessions, want 3", n)
	}
}

// TestScenarioWebSocketFlow runs the same ramp with the WebSocket flow, two
// viewers to a socket: the three viewers need two sockets, every session
// is created over a socket, and candidates go both ways as trickles.
func TestScenarioWebSocketFlow(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	e := startInProcess(t, ctx)
	e.client.useWebSocket(2, e.log)
	e.ramp(t, ctx)
	st := e.client.ws.stats()
	if st.Sockets != 2 {
		t.Fatalf("%d sockets opened for 3 viewers at 2 per socket, want 2", st.Sockets)
	}
	if st.TricklesOut == 0 || st.TricklesIn == 0 {
		t.Fatalf("trickles: %d of the viewers' candidates sent, %d of camgate's applied; want both", st.TricklesOut, st.TricklesIn)
	}
	if n := e.sessionsCreated(t, "live_ws"); n != 3 {
		t.Fatalf("camgate created %d WebSocket sessions, want 3", n)
	}
	if n := e.sessionsCreated(t, "live_rest"); n != 0 {
		t.Fatalf("camgate created %d REST sessions in the WebSocket flow", n)
	}
	e.client.ws.mu.Lock()
	open := len(e.client.ws.sockets)
	e.client.ws.mu.Unlock()
	if open != 0 {
		t.Fatalf("%d sockets still open after the scenario", open)
	}
}
