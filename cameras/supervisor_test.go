package cameras

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bluenviron/gortsplib/v4"
	"github.com/bluenviron/gortsplib/v4/pkg/base"
	"github.com/bluenviron/gortsplib/v4/pkg/description"
	"github.com/bluenviron/gortsplib/v4/pkg/format"

	"github.com/camgate/camgate/appsettings"
	"github.com/camgate/camgate/cameras/demo"
	"github.com/camgate/camgate/cameras/testutil"
)

// These tests run the registry and its supervisors against real RTSP servers
// on loopback: cameras/demo (an H.264 camera) and, for the unsupported case,
// a bare gortsplib server. Nothing asserts on elapsed time; states are
// polled with a generous deadline.

const (
	// svDeadline bounds every wait for a state. It is far above what a test
	// needs (a keyframe arrives within milliseconds at the raised FPS, and a
	// retry within about a second), so a slow CI machine does not flake.
	svDeadline = 20 * time.Second
	// svFPS paces the test cameras: 4x real time, an IDR every second.
	svFPS = 100
	// testClipPath is the repository's demo clip, seen from this package.
	testClipPath = "../testdata/demo.h264"
)

// captureLog returns a debug-level logger whose output the test can inspect.
func captureLog() (*slog.Logger, *testutil.SyncBuffer) {
	buf := &testutil.SyncBuffer{}
	return slog.New(slog.NewTextHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug})), buf
}

func discardLog() *slog.Logger { return slog.New(slog.DiscardHandler) }

func loadTestClip(t *testing.T) *demo.Clip {
	t.Helper()
	c, err := demo.LoadClip(testClipPath)
	if err != nil {
		t.Fatalf("LoadClip: %v", err)
	}
	return c
}

// startTestCamera starts a demo camera on a free loopback port with test
// defaults (the repository clip at svFPS, starting with an IDR at the first
// PLAY), lets configure change them, and closes it when the test ends.
func startTestCamera(t *testing.T, configure func(*demo.Server)) *demo.Server {
	t.Helper()
	s := &demo.Server{
		Address:          "127.0.0.1:0",
		Clip:             loadTestClip(t),
		FPS:              svFPS,
		StartOnFirstPlay: true,
		Logger:           discardLog(),
	}
	if configure != nil {
		configure(s)
	}
	if err := s.Start(); err != nil {
		t.Fatalf("demo camera: %v", err)
	}
	t.Cleanup(s.Close)
	return s
}

// oneCamera is settings with one single-stream camera.
func oneCamera(id, rawURL string, transport appsettings.Transport) appsettings.Settings {
	s := appsettings.Defaults()
	s.Cameras = []appsettings.Camera{{
		Id:        id,
		Name:      "Camera " + id,
		Transport: transport,
		Streams:   []appsettings.Stream{{Id: id + "-main", Name: "main", Url: rawURL}},
	}}
	return s
}

// startTestRegistry builds a registry and runs it until the test ends.
func startTestRegistry(t *testing.T, s appsettings.Settings, log *slog.Logger) *Registry {
	t.Helper()
	r, _ := startRetryingRegistry(t, s, log, nil)
	return r
}

// quickRetry retries within a tenth of a second whatever failed, for tests
// that wait for a second attempt after a failure that would otherwise be
// retried only after defaultRetry.LongCap.
var quickRetry = &retryPolicy{First: 20 * time.Millisecond, RecentCap: 100 * time.Millisecond,
	RecentWindow: time.Minute, LongCap: 100 * time.Millisecond}

// startRetryingRegistry is startTestRegistry with the supervisors' back-off
// figures replaced by p (nil: the defaults). stop ends Run and returns when
// it has returned.
func startRetryingRegistry(t *testing.T, s appsettings.Settings, log *slog.Logger, p *retryPolicy) (r *Registry, stop func()) {
	t.Helper()
	r = NewRegistry(s.Cameras, log)
	for _, cam := range r.Cameras() {
		for _, cs := range cam.Streams {
			cs.sv.retry = p
		}
	}
	return r, testutil.Run(t, r.Run, r.Started)
}

// defaultStreamOf returns the default stream of camera id.
func defaultStreamOf(t *testing.T, r *Registry, id string) *CameraStream {
	t.Helper()
	cam, ok := r.Camera(id)
	if !ok {
		t.Fatalf("camera %q not in the registry", id)
	}
	cs := cam.DefaultStream()
	if cs == nil {
		t.Fatalf("camera %q has no default stream", id)
	}
	return cs
}

// eventually polls cond until it holds or svDeadline passes; describe tells
// what was seen last, for the failure message.
func eventually(t *testing.T, what string, cond func() bool, describe func() string) {
	t.Helper()
	deadline := time.Now().Add(svDeadline)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not reached within %v; last seen: %s", what, svDeadline, describe())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// waitStatus waits until the stream's status satisfies ok and returns it.
func waitStatus(t *testing.T, cs *CameraStream, what string, ok func(Status) bool) Status {
	t.Helper()
	var st Status
	eventually(t, what, func() bool { st = cs.Status(); return ok(st) },
		func() string { return fmt.Sprintf("%+v", cs.Status()) })
	return st
}

func waitState(t *testing.T, cs *CameraStream, want State) Status {
	t.Helper()
	return waitStatus(t, cs, "state "+string(want), func(st Status) bool { return st.State == want })
}

// waitFrames waits until the hub has received more than n frames.
func waitFrames(t *testing.T, hub *Stream, n uint64) StreamStats {
	t.Helper()
	var st StreamStats
	eventually(t, fmt.Sprintf("more than %d frames in the hub", n),
		func() bool { st = hub.Stats(); return st.FramesIn > n },
		func() string { return fmt.Sprintf("%+v", hub.Stats()) })
	return st
}

// freeAddr returns a loopback host:port nobody listens on (it was free a
// moment ago; the kernel does not hand it out again at once).
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	if err := ln.Close(); err != nil {
		t.Fatal(err)
	}
	return addr
}

// exposed is everything the registry shows to its users (the API, the
// console), as text, for the "no secrets" checks.
func exposed(t *testing.T, r *Registry) string {
	t.Helper()
	var b strings.Builder
	js, err := json.Marshal(r.Cameras())
	if err != nil {
		t.Fatalf("marshal cameras: %v", err)
	}
	b.Write(js)
	for _, cam := range r.Cameras() {
		fmt.Fprintf(&b, "\n%s %s", cam.ID, cam.Name)
		for _, s := range cam.Streams {
			fmt.Fprintf(&b, "\n%s %s %+v %+v %s/%s", s.ID, s.Name, s.Status(), s.Hub.Stats(), s.Hub.CameraID, s.Hub.StreamID)
		}
	}
	return b.String()
}

// assertNoSecret fails if any of the secrets, or their URL-escaped forms,
// appear in text.
func assertNoSecret(t *testing.T, where, text string, secrets ...string) {
	t.Helper()
	for _, s := range secrets {
		for _, f := range []string{s, url.PathEscape(s), url.QueryEscape(s), url.UserPassword("x", s).String()[2:]} {
			if strings.Contains(text, f) {
				t.Errorf("%s contains the secret %q:\n%s", where, f, text)
				break
			}
		}
	}
}

func TestSupervisorTransports(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		transport appsettings.Transport
		tcpOnly   bool
		// wantErr, when set, means the stream must fail with a Detail
		// that contains it; otherwise it must stream.
		wantErr string
	}{
		{name: "udp", transport: "udp"},
		{name: "tcp", transport: "tcp"},
		{name: "auto", transport: "auto"},
		{name: "auto falls back to tcp", transport: "auto", tcpOnly: true},
		{name: "tcp against tcp-only", transport: "tcp", tcpOnly: true},
		{name: "udp against tcp-only", transport: "udp", tcpOnly: true, wantErr: "461"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cam := startTestCamera(t, func(s *demo.Server) { s.TCPOnly = tc.tcpOnly })
			r := startTestRegistry(t, oneCamera("cam", cam.URL(), tc.transport), discardLog())
			cs := defaultStreamOf(t, r, "cam")
			if tc.wantErr != "" {
				st := waitStatus(t, cs, "offline with an error", func(st Status) bool {
					return st.State == StateOffline && st.Detail != ""
				})
				if !strings.Contains(st.Detail, tc.wantErr) || !strings.Contains(st.Detail, "setup") {
					t.Fatalf("Detail = %q, want the failed SETUP and %q (unsupported transport)", st.Detail, tc.wantErr)
				}
				if st.Cause != CauseTransport || !strings.Contains(st.Reason, "Transport") {
					t.Fatalf("status = %+v, want cause %q and a reason that names the Transport setting", st, CauseTransport)
				}
				if cs.Hub.Stats().FramesIn != 0 {
					t.Fatalf("frames arrived although the transport was refused: %+v", cs.Hub.Stats())
				}
				return
			}
			waitState(t, cs, StateStreaming)
			st := waitFrames(t, cs.Hub, 10)
			if st.Keyframes == 0 || st.GOPFrames == 0 {
				t.Fatalf("streaming without a cached keyframe: %+v", st)
			}
		})
	}
}

func TestSupervisorAuth(t *testing.T) {
	t.Parallel()
	const (
		user = "operator"
		// Characters that URLs must escape, so both the plain and the
		// escaped forms are checked.
		password      = "Rt5p/S3cr3t@Gate:1"
		wrongPassword = "Wr0ng/Pa55@Word:2"
	)
	withPassword := func(raw, pw string) string {
		u, err := url.Parse(raw)
		if err != nil {
			t.Fatal(err)
		}
		u.User = url.UserPassword(user, pw)
		return u.String()
	}
	for _, tc := range []struct {
		name       string
		allowBasic bool
		password   string // in the camera URL
		wantStream bool
	}{
		{name: "digest, right password", password: password, wantStream: true},
		{name: "digest, wrong password", password: wrongPassword},
		{name: "basic allowed, right password", allowBasic: true, password: password, wantStream: true},
		{name: "basic allowed, wrong password", allowBasic: true, password: wrongPassword},
		{name: "no credentials", password: ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cam := startTestCamera(t, func(s *demo.Server) {
				s.Username, s.Password, s.AllowBasicAuth = user, password, tc.allowBasic
			})
			camURL := cam.URL()
			if tc.password == "" {
				camURL = "rtsp://" + cam.Addr() + "/" + demo.DefaultPath
			} else {
				camURL = withPassword(camURL, tc.password)
			}
			log, logs := captureLog()
			r, stop := startRetryingRegistry(t, oneCamera("cam", camURL, "auto"), log, quickRetry)
			cs := defaultStreamOf(t, r, "cam")
			if tc.wantStream {
				waitState(t, cs, StateStreaming)
				waitFrames(t, cs.Hub, 5)
			} else {
				st := waitStatus(t, cs, "offline after a 401", func(st Status) bool {
					return st.State == StateOffline && st.Detail != ""
				})
				low := strings.ToLower(st.Detail)
				if !strings.Contains(low, "401") && !strings.Contains(low, "unauthorized") {
					t.Fatalf("Detail = %q, want it to say 401 / unauthorized", st.Detail)
				}
				wantReason := "wrong user name or password"
				if tc.password == "" {
					wantReason = "the camera asks for a user name and password; the stream's Url has none"
				}
				if st.Cause != CauseUnauthorized || st.Reason != wantReason {
					t.Fatalf("status = %+v, want cause %q and reason %q", st, CauseUnauthorized, wantReason)
				}
				// A second attempt, so the retry path is logged too.
				eventually(t, "two failed attempts logged",
					func() bool { return strings.Contains(logs.String(), "camera still offline") },
					logs.String)
				if n := cs.Hub.Stats().FramesIn; n != 0 {
					t.Fatalf("%d frames arrived without valid credentials", n)
				}
				assertNoSecret(t, "the status", fmt.Sprintf("%+v", st), password, wrongPassword)
			}
			stop() // flush every log line before reading the log
			assertNoSecret(t, "the log", logs.String(), password, wrongPassword)
			assertNoSecret(t, "the registry's API", exposed(t, r), password, wrongPassword)
			if !strings.Contains(logs.String(), "camera=cam") {
				t.Fatalf("the log does not name the camera:\n%s", logs.String())
			}
		})
	}
}

// TestSupervisorUnparsableURLKeepsItsPassword feeds a URL that does not
// parse (settings validation would reject it; the registry must not rely on
// that): the error says so without quoting the URL and its password.
func TestSupervisorUnparsableURLKeepsItsPassword(t *testing.T) {
	t.Parallel()
	const secret = "Unp4rsable-S3cret"
	for _, raw := range []string{
		"rtsp://admin:" + secret + "@127.0.0.1:55x4/stream", // bad port
		"rtsp://admin:" + secret + "@cam example/stream",    // space in the host
		"rtsp://admin:" + secret + "@127.0.0.1/str\x7feam",  // control character
	} {
		log, logs := captureLog()
		r, stop := startRetryingRegistry(t, oneCamera("cam", raw, "tcp"), log, nil)
		cs := defaultStreamOf(t, r, "cam")
		st := waitStatus(t, cs, "offline", func(st Status) bool { return st.State == StateOffline && st.Detail != "" })
		if !strings.Contains(st.Detail, "bad RTSP URL") || st.Cause != CauseBadURL {
			t.Errorf("status = %+v, want cause %q and a Detail saying the URL is bad", st, CauseBadURL)
		}
		stop()
		assertNoSecret(t, "the status", fmt.Sprintf("%+v", st), secret)
		assertNoSecret(t, "the log", logs.String(), secret)
		assertNoSecret(t, "the registry's API", exposed(t, r), secret)
	}
}

// unsupportedCamera is an RTSP server whose only stream has no H.264.
type unsupportedCamera struct {
	mu     sync.Mutex
	stream *gortsplib.ServerStream
}

func (h *unsupportedCamera) OnDescribe(*gortsplib.ServerHandlerOnDescribeCtx) (*base.Response, *gortsplib.ServerStream, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return &base.Response{StatusCode: base.StatusOK}, h.stream, nil
}

func (h *unsupportedCamera) OnSetup(*gortsplib.ServerHandlerOnSetupCtx) (*base.Response, *gortsplib.ServerStream, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return &base.Response{StatusCode: base.StatusOK}, h.stream, nil
}

func (h *unsupportedCamera) OnPlay(*gortsplib.ServerHandlerOnPlayCtx) (*base.Response, error) {
	return &base.Response{StatusCode: base.StatusOK}, nil
}

// startUnsupportedCamera serves medias (TCP only) on a free loopback port and
// returns the stream URL.
func startUnsupportedCamera(t *testing.T, medias ...*description.Media) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	h := &unsupportedCamera{}
	srv := &gortsplib.Server{
		Handler:     h,
		RTSPAddress: ln.Addr().String(),
		Listen:      func(string, string) (net.Listener, error) { return ln, nil },
	}
	if err := srv.Start(); err != nil {
		ln.Close()
		t.Fatalf("gortsplib server: %v", err)
	}
	st := &gortsplib.ServerStream{Server: srv, Desc: &description.Session{Medias: medias}}
	if err := st.Initialize(); err != nil {
		srv.Close()
		t.Fatalf("server stream: %v", err)
	}
	h.mu.Lock()
	h.stream = st
	h.mu.Unlock()
	t.Cleanup(func() {
		st.Close()
		srv.Close()
	})
	return "rtsp://" + ln.Addr().String() + "/cam"
}

func TestSupervisorUnsupportedCamera(t *testing.T) {
	t.Parallel()
	camURL := startUnsupportedCamera(t,
		&description.Media{Type: description.MediaTypeVideo, Formats: []format.Format{&format.MJPEG{}}},
		&description.Media{Type: description.MediaTypeAudio, Formats: []format.Format{&format.G711{
			PayloadTyp: 0, MULaw: true, SampleRate: 8000, ChannelCount: 1,
		}}},
	)
	r := startTestRegistry(t, oneCamera("mjpeg-cam", camURL, "tcp"), discardLog())
	cs := defaultStreamOf(t, r, "mjpeg-cam")
	st := waitState(t, cs, StateUnsupported)
	for _, codec := range []string{"H.264", (&format.MJPEG{}).Codec(), (&format.G711{}).Codec()} {
		if !strings.Contains(st.Detail, codec) {
			t.Errorf("Detail = %q, want it to name %q", st.Detail, codec)
		}
	}
	if st.Cause != CauseUnsupportedCodec || st.Reason != "the camera sends MJPEG, not H.264 or H.265" {
		t.Errorf("status = %+v, want cause %q and the reason naming MJPEG", st, CauseUnsupportedCodec)
	}
	if n := cs.Hub.Stats().FramesIn; n != 0 {
		t.Errorf("an unsupported camera delivered %d frames", n)
	}
}

func TestSupervisorCameraAppearsLater(t *testing.T) {
	t.Parallel()
	addr := freeAddr(t)
	camURL := "rtsp://" + addr + "/" + demo.DefaultPath
	r := startTestRegistry(t, oneCamera("late", camURL, "auto"), discardLog())
	cs := defaultStreamOf(t, r, "late")
	st := waitStatus(t, cs, "offline while nobody listens", func(st Status) bool {
		return st.State == StateOffline && st.Detail != ""
	})
	if !strings.Contains(st.Detail, "refused") || st.Cause != CauseRefused || st.Reason != "the camera refused the connection" {
		t.Errorf("status = %+v, want the refused connection", st)
	}
	// The camera comes up on that very address; the back-off is still short.
	startTestCamera(t, func(s *demo.Server) { s.Address = addr })
	waitState(t, cs, StateStreaming)
	waitFrames(t, cs.Hub, 5)
}

func TestSupervisorReconnects(t *testing.T) {
	t.Parallel()
	for _, transport := range []appsettings.Transport{"tcp", "udp"} {
		t.Run(string(transport), func(t *testing.T) {
			t.Parallel()
			cam := startTestCamera(t, nil)
			r := startTestRegistry(t, oneCamera("flaky", cam.URL(), transport), discardLog())
			cs := defaultStreamOf(t, r, "flaky")
			waitState(t, cs, StateStreaming)
			before := waitFrames(t, cs.Hub, 5)
			if n := cs.IngestStats().Reconnects; n != 0 {
				t.Fatalf("Reconnects = %d before any outage", n)
			}
			// A viewer attached before the outage must survive it.
			viewer := cs.Hub.AddReader(512)
			defer viewer.Close()

			cam.Close()
			waitStatus(t, cs, "reconnecting or offline", func(st Status) bool {
				return st.State == StateReconnecting || st.State == StateOffline
			})
			if err := cam.Start(); err != nil { // same port: the URL does not change
				t.Fatalf("restart camera: %v", err)
			}
			waitState(t, cs, StateStreaming)
			after := waitFrames(t, cs.Hub, cs.Hub.Stats().FramesIn+5)
			if after.Epoch <= before.Epoch {
				t.Fatalf("epoch %d after the reconnect, want more than %d", after.Epoch, before.Epoch)
			}
			if n := cs.IngestStats().Reconnects; n == 0 {
				t.Fatalf("Reconnects = 0 after the camera came back")
			}

			ctx, cancel := context.WithTimeout(context.Background(), svDeadline)
			defer cancel()
			for {
				it, err := viewer.Next(ctx)
				if err != nil {
					t.Fatalf("the viewer got no frame of the new epoch %d: %v", after.Epoch, err)
				}
				if it.Frame.Epoch > before.Epoch {
					if !it.Frame.Key {
						t.Fatalf("the first frame of epoch %d is not a keyframe", it.Frame.Epoch)
					}
					break
				}
			}
		})
	}
}

func TestSupervisorSurvivesGarbage(t *testing.T) {
	t.Parallel()
	bad := startTestCamera(t, func(s *demo.Server) {
		garbage, truncate := demo.GarbageEvery(7, 42), demo.TruncateEvery(5)
		s.Corrupt = func(frame int, au [][]byte) [][]byte { return garbage(frame, truncate(frame, au)) }
		s.CorruptRTP = demo.DropFragmentEvery(11)
		s.InBandParameterSets = true
	})
	good := startTestCamera(t, nil)
	s := appsettings.Defaults()
	for _, c := range []struct{ id, url string }{{"bad", bad.URL()}, {"good", good.URL()}} {
		s.Cameras = append(s.Cameras, appsettings.Camera{
			Id: c.id, Transport: "tcp",
			Streams: []appsettings.Stream{{Id: c.id + "-main", Url: c.url}},
		})
	}
	r := startTestRegistry(t, s, discardLog())
	badStream, goodStream := defaultStreamOf(t, r, "bad"), defaultStreamOf(t, r, "good")

	badStart := waitState(t, badStream, StateStreaming)
	waitState(t, goodStream, StateStreaming)
	badStats := waitFrames(t, badStream.Hub, 0)
	goodStats := waitFrames(t, goodStream.Hub, 0)

	// Two seconds of the clip at svFPS: dozens of damaged frames.
	badLater := waitFrames(t, badStream.Hub, badStats.FramesIn+2*svFPS)
	goodLater := waitFrames(t, goodStream.Hub, goodStats.FramesIn+2*svFPS)

	if st := badStream.Status(); st.State != StateStreaming || !st.Since.Equal(badStart.Since) {
		t.Fatalf("the damaged camera left streaming: %+v (streaming since %v)", st, badStart.Since)
	}
	if badLater.Epoch != badStats.Epoch {
		t.Fatalf("the damaged camera reconnected (epoch %d -> %d)", badStats.Epoch, badLater.Epoch)
	}
	if badLater.Keyframes <= badStats.Keyframes {
		t.Fatalf("no keyframe got through the damage: %+v", badLater)
	}
	if goodLater.Epoch != goodStats.Epoch || goodStream.Status().State != StateStreaming {
		t.Fatalf("the healthy camera was disturbed: %+v %+v", goodStream.Status(), goodLater)
	}
	eventually(t, "decode errors counted", func() bool { return badStream.sv.counters.decodeErrors.Load() > 0 },
		func() string { return fmt.Sprint(badStream.sv.counters.decodeErrors.Load()) })
	if n := goodStream.sv.counters.decodeErrors.Load(); n != 0 {
		t.Errorf("the healthy camera counted %d decode errors", n)
	}
	if st := badStream.IngestStats(); st.DecodeErrors == 0 || st.Reconnects != 0 {
		t.Errorf("IngestStats of the damaged camera = %+v, want decode errors and no reconnect", st)
	}
}

// TestSupervisorRunLeavesNoGoroutine checks the contract Registry.Close
// relies on: the supervisor's run returns only when the goroutines it
// started have left its code (its problem reporter included), even when it
// stops at once.
func TestSupervisorRunLeavesNoGoroutine(t *testing.T) {
	t.Parallel()
	for range 50 {
		sv := &supervisor{url: "rtsp://" + freeAddr(t) + "/x", transport: "tcp", stream: NewStream("cam", "s"), log: discardLog()}
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		sv.run(ctx)
		// Frames name their receiver: only this supervisor's goroutines.
		if left := goroutinesIn(fmt.Sprintf("cameras.(*supervisor).run(%p", sv),
			fmt.Sprintf("cameras.(*supervisor).reportProblems(%p", sv)); len(left) != 0 {
			t.Fatalf("run returned with its goroutines still running:\n%s", strings.Join(left, "\n\n"))
		}
	}
}
