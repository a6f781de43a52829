package rtc

import (
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/pion/rtcp"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/camgate/camgate/cameras"
	"github.com/camgate/camgate/cameras/testutil"
	"github.com/camgate/camgate/gateway/internal/metricstest"
	"github.com/camgate/camgate/ptz"
)

func testMetrics(t *testing.T) *Metrics {
	t.Helper()
	return NewMetrics(prometheus.NewRegistry())
}

// gathered is the registry m was built with.
func gathered(m *Metrics) prometheus.Gatherer { return m.reg.(prometheus.Gatherer) }

func TestKindOf(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		playback, ws bool
		want         string
		live         bool
	}{
		{false, false, "live_rest", true},
		{false, true, "live_ws", true},
		{true, false, "playback_rest", false},
		{true, true, "playback_ws", false},
	} {
		k := kindOf(tc.playback, tc.ws)
		if k.String() != tc.want || k.live() != tc.live {
			t.Errorf("kindOf(%v, %v) = %s (live %v), want %s (live %v)", tc.playback, tc.ws, k, k.live(), tc.want, tc.live)
		}
	}
}

func TestRTCPFeedbackCounts(t *testing.T) {
	t.Parallel()
	m := testMetrics(t)
	k := m.forKind(kindLiveWS)
	for _, p := range []rtcp.Packet{
		// 1 + 3 packets, then 1: five sequence numbers asked for.
		&rtcp.TransportLayerNack{Nacks: []rtcp.NackPair{{PacketID: 100, LostPackets: 0b1011}, {PacketID: 200}}},
		&rtcp.PictureLossIndication{},
		&rtcp.PictureLossIndication{},
		&rtcp.FullIntraRequest{},
		&rtcp.ReceiverReport{}, // not feedback: not counted
	} {
		k.rtcpReceived(p)
	}
	for _, tc := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"camgate_session_nack_packets_total", []string{"live_ws"}, 5},
		{"camgate_session_keyframe_requests_total", []string{"live_ws", "pli"}, 2},
		{"camgate_session_keyframe_requests_total", []string{"live_ws", "fir"}, 1},
		{"camgate_session_nack_packets_total", []string{"live_rest"}, 0},
	} {
		if got := metricstest.Value(t, gathered(m), tc.name, tc.labels...); got != tc.want {
			t.Errorf("%s%v = %v, want %v", tc.name, tc.labels, got, tc.want)
		}
	}
}

func TestPTZCallCounts(t *testing.T) {
	t.Parallel()
	m := testMetrics(t)
	m.PTZCall(ptz.MethodMove, nil)
	m.PTZCall(ptz.MethodMove, nil)
	m.PTZCall(ptz.MethodGotoPreset, &ptz.Error{Code: ptz.CodeBusy, Message: "busy"})
	m.PTZCall(ptz.MethodStatus, errors.New("some driver failure"))
	m.PTZCall(ptz.Method("no-such-method-"+string(make([]byte, 40))), ptz.ErrForbidden)
	m.forKind(kindLiveREST).ptzCall(ptz.MethodMove, nil) // through a session's counters
	for _, tc := range []struct {
		method, result string
		want           float64
	}{
		{"ptzMove", "ok", 3},
		{"ptzGotoPreset", "busy", 1},
		{"ptzStatus", "unavailable", 1}, // ptz.AsError's reading of an unknown error
		{"other", "forbidden", 1},
	} {
		if got := metricstest.Value(t, gathered(m), "camgate_ptz_calls_total", tc.method, tc.result); got != tc.want {
			t.Errorf("ptz_calls_total{%s,%s} = %v, want %v", tc.method, tc.result, got, tc.want)
		}
	}
}

// Every counting method is a no-op without metrics (a session manager
// built by a test or a benchmark).
func TestNilMetricsAreNoOps(t *testing.T) {
	t.Parallel()
	var m *Metrics
	k := m.forKind(kindLiveREST)
	if k != nil {
		t.Fatal("forKind of nil metrics is not nil")
	}
	k.opened()
	k.closed()
	k.frameSent(100)
	k.rtcpReceived(&rtcp.PictureLossIndication{})
	k.ptzCall(ptz.MethodMove, nil)
	m.PTZCall(ptz.MethodMove, nil)
}

// Counting a sent frame allocates nothing: it is on the media path.
func TestFrameSentAllocatesNothing(t *testing.T) {
	// Not parallel: testing.AllocsPerRun refuses to run in a parallel test
	// (other tests' allocations would count).
	k := testMetrics(t).forKind(kindLiveREST)
	if n := testing.AllocsPerRun(1000, func() { k.frameSent(1188) }); n != 0 {
		t.Fatalf("frameSent allocates %v times per call", n)
	}
}

// A slow viewer's drops are read from its reader while the session is open
// and kept when it ends: the counter never goes down.
func TestDroppedFramesOutliveTheSession(t *testing.T) {
	t.Parallel()
	metrics := testMetrics(t)
	m := newManager(testMediaConfig(), nil, nil, slog.New(slog.DiscardHandler))
	m.metrics = metrics
	metrics.reg.MustRegister(newDroppedCollector(m))

	hub := cameras.NewStream("cam", "main")
	hub.BeginEpoch(benchSPS, benchPPS)
	src := newLiveSource(hub, cameras.CodecH264, 8, rtpClock{ticksPerSecond: 1000}, time.Now())
	src.start()
	s := &Session{ID: "s1", CameraID: "cam", StreamID: "main", source: src, metrics: metrics.forKind(kindLiveREST)}
	m.sessions[s.ID] = s
	s.metrics.opened()

	hub.WriteAU(0, [][]byte{testutil.H264Slice(true, 100)})
	for i := 1; i <= 20; i++ { // nobody reads: the queue of 8 overflows
		hub.WriteAU(int64(i)*3600, [][]byte{testutil.H264Slice(false, 100)})
	}
	dropped := float64(src.reader.Dropped())
	if dropped == 0 {
		t.Fatal("the reader dropped nothing")
	}
	if got := metricstest.Value(t, gathered(metrics), "camgate_session_dropped_frames_total", "live_rest"); got != dropped {
		t.Fatalf("dropped frames while open = %v, want %v", got, dropped)
	}
	if got := metricstest.Value(t, gathered(metrics), "camgate_sessions_open", "live_rest"); got != 1 {
		t.Fatalf("sessions open = %v, want 1", got)
	}

	src.close()
	m.remove(s)
	if got := metricstest.Value(t, gathered(metrics), "camgate_session_dropped_frames_total", "live_rest"); got != dropped {
		t.Fatalf("dropped frames after the session ended = %v, want %v", got, dropped)
	}
	if got := metricstest.Value(t, gathered(metrics), "camgate_sessions_open", "live_rest"); got != 0 {
		t.Fatalf("sessions open after the end = %v, want 0", got)
	}
	if got := metricstest.Value(t, gathered(metrics), "camgate_session_dropped_frames_total", "playback_rest"); got != 0 {
		t.Fatalf("playback drops = %v, want 0", got)
	}
}
