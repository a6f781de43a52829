package gateway

import (
	"errors"
	"log/slog"
	"net/netip"
	"testing"
	"time"

	"github.com/pion/rtcp"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/camgate/camgate/appsettings"
	"github.com/camgate/camgate/cameras"
	"github.com/camgate/camgate/ptz"
)

func testMetrics(t *testing.T) *gatewayMetrics {
	t.Helper()
	g := &Gateway{log: slog.New(slog.DiscardHandler)}
	return newGatewayMetrics(g, appsettings.Defaults().Metrics)
}

// counterValue gathers m's registry and returns the value of the series of
// name with exactly the given label values (in the labels' order).
func counterValue(t *testing.T, reg prometheus.Gatherer, name string, labels ...string) float64 {
	t.Helper()
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fams {
		if f.GetName() != name {
			continue
		}
	next:
		for _, m := range f.GetMetric() {
			if len(m.GetLabel()) != len(labels) {
				continue
			}
			for i, l := range m.GetLabel() {
				if l.GetValue() != labels[i] {
					continue next
				}
			}
			return value(m)
		}
	}
	return -1
}

func value(m *dto.Metric) float64 {
	switch {
	case m.Counter != nil:
		return m.Counter.GetValue()
	case m.Gauge != nil:
		return m.Gauge.GetValue()
	case m.Histogram != nil:
		return float64(m.Histogram.GetSampleCount())
	}
	return -1
}

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
		if got := counterValue(t, m.reg, tc.name, tc.labels...); got != tc.want {
			t.Errorf("%s%v = %v, want %v", tc.name, tc.labels, got, tc.want)
		}
	}
}

func TestPTZCallCounts(t *testing.T) {
	t.Parallel()
	m := testMetrics(t)
	m.ptzCall(ptz.MethodMove, nil)
	m.ptzCall(ptz.MethodMove, nil)
	m.ptzCall(ptz.MethodGotoPreset, &ptz.Error{Code: ptz.CodeBusy, Message: "busy"})
	m.ptzCall(ptz.MethodStatus, errors.New("some driver failure"))
	m.ptzCall(ptz.Method("no-such-method-"+string(make([]byte, 40))), ptz.ErrForbidden)
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
		if got := counterValue(t, m.reg, "camgate_ptz_calls_total", tc.method, tc.result); got != tc.want {
			t.Errorf("ptz_calls_total{%s,%s} = %v, want %v", tc.method, tc.result, got, tc.want)
		}
	}
}

// Every counting method is a no-op without metrics (a session manager
// built by a test or a benchmark).
func TestNilMetricsAreNoOps(t *testing.T) {
	t.Parallel()
	var m *gatewayMetrics
	k := m.forKind(kindLiveREST)
	if k != nil {
		t.Fatal("forKind of nil metrics is not nil")
	}
	k.opened()
	k.closed()
	k.frameSent(100)
	k.rtcpReceived(&rtcp.PictureLossIndication{})
	k.ptzCall(ptz.MethodMove, nil)
	m.ptzCall(ptz.MethodMove, nil)
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

func TestMetricsAllowFrom(t *testing.T) {
	t.Parallel()
	a := newMetricsAccess(appsettings.Metrics{AllowFrom: []string{"127.0.0.1/32", "::1/128", "10.0.0.0/8"}})
	for _, tc := range []struct {
		addr string
		want bool
	}{
		{"127.0.0.1", true},
		{"127.0.0.2", false},
		{"::1", true},
		{"::ffff:127.0.0.1", true},
		{"10.200.0.1", true},
		{"11.0.0.1", false},
		{"2001:db8::1", false},
	} {
		if got := a.allowed(netip.MustParseAddr(tc.addr)); got != tc.want {
			t.Errorf("allowed(%s) = %v, want %v", tc.addr, got, tc.want)
		}
	}
	if newMetricsAccess(appsettings.Metrics{}).allowed(netip.MustParseAddr("127.0.0.1")) {
		t.Error("an empty AllowFrom allows loopback")
	}
}

// A slow viewer's drops are read from its reader while the session is open
// and kept when it ends: the counter never goes down.
func TestDroppedFramesOutliveTheSession(t *testing.T) {
	t.Parallel()
	g := &Gateway{log: slog.New(slog.DiscardHandler)}
	g.sessions = &sessionManager{sessions: map[string]*Session{}}
	g.metrics = newGatewayMetrics(g, appsettings.Defaults().Metrics)
	g.sessions.metrics = g.metrics

	hub := cameras.NewStream("cam", "main")
	hub.BeginEpoch(benchSPS, benchPPS)
	src := newLiveSource(hub, 8, rtpClock{ticksPerSecond: 1000}, time.Now())
	src.start()
	s := &Session{ID: "s1", CameraID: "cam", StreamID: "main", source: src, metrics: g.metrics.forKind(kindLiveREST)}
	g.sessions.sessions[s.ID] = s
	s.metrics.opened()

	hub.WriteAU(0, [][]byte{benchNALU(true, 100)})
	for i := 1; i <= 20; i++ { // nobody reads: the queue of 8 overflows
		hub.WriteAU(int64(i)*3600, [][]byte{benchNALU(false, 100)})
	}
	dropped := float64(src.reader.Dropped())
	if dropped == 0 {
		t.Fatal("the reader dropped nothing")
	}
	if got := counterValue(t, g.metrics.reg, "camgate_session_dropped_frames_total", "live_rest"); got != dropped {
		t.Fatalf("dropped frames while open = %v, want %v", got, dropped)
	}
	if got := counterValue(t, g.metrics.reg, "camgate_sessions_open", "live_rest"); got != 1 {
		t.Fatalf("sessions open = %v, want 1", got)
	}

	src.close()
	g.sessions.remove(s)
	if got := counterValue(t, g.metrics.reg, "camgate_session_dropped_frames_total", "live_rest"); got != dropped {
		t.Fatalf("dropped frames after the session ended = %v, want %v", got, dropped)
	}
	if got := counterValue(t, g.metrics.reg, "camgate_sessions_open", "live_rest"); got != 0 {
		t.Fatalf("sessions open after the end = %v, want 0", got)
	}
	if got := counterValue(t, g.metrics.reg, "camgate_session_dropped_frames_total", "playback_rest"); got != 0 {
		t.Fatalf("playback drops = %v, want 0", got)
	}
}
