package rtc

import (
	"math/bits"
	"strconv"
	"time"

	"github.com/pion/rtcp"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/camgate/camgate/ptz"
)

// Session metrics. Each gateway has a registry of its own (no default
// registry, no init registration), so two gateways in one process do not
// collide; the HTTP shell serves it at /metrics.
//
// Numbers that already exist elsewhere (a reader's drops) are read when
// Prometheus scrapes (droppedCollector). Only what nobody counted yet is
// counted on the way, with counters resolved once per session kind, so that
// a frame sent costs two atomic adds and no allocation.

// sessionKind is what a session plays and how it was signaled: the "kind"
// label of the session metrics.
type sessionKind int

const (
	kindLiveREST sessionKind = iota
	kindLiveWS
	kindPlaybackREST
	kindPlaybackWS
	numSessionKinds
)

func (k sessionKind) String() string {
	switch k {
	case kindLiveREST:
		return "live_rest"
	case kindLiveWS:
		return "live_ws"
	case kindPlaybackREST:
		return "playback_rest"
	case kindPlaybackWS:
		return "playback_ws"
	}
	return "kind_" + strconv.Itoa(int(k))
}

func (k sessionKind) live() bool { return k == kindLiveREST || k == kindLiveWS }

func kindOf(playback, webSocket bool) sessionKind {
	k := kindLiveREST
	if playback {
		k = kindPlaybackREST
	}
	if webSocket {
		k++
	}
	return k
}

// Metrics are the counters sessions keep on the way, registered in a
// gateway's registry. Every method is safe on a nil receiver (a manager
// built without metrics, in tests).
type Metrics struct {
	reg   prometheus.Registerer
	kinds [numSessionKinds]*kindMetrics
	ptz   *prometheus.CounterVec
	// refused counts the sessions a limit refused, by the limit's setting.
	refused *prometheus.CounterVec
}

// kindMetrics are the counters of one session kind. Every method is safe
// on a nil receiver (a session manager built without metrics, in tests).
type kindMetrics struct {
	kind                sessionKind
	parent              *Metrics
	open                prometheus.Gauge
	total               prometheus.Counter
	framesOut, bytesOut prometheus.Counter
	nackPackets         prometheus.Counter
	resent              prometheus.Counter
	resendExpired       prometheus.Counter
	resendRefused       prometheus.Counter
	pli, fir            prometheus.Counter
	firstFrame          prometheus.Observer
	signaling           prometheus.Observer
}

// NewMetrics makes the session counters and registers them in reg; the
// Manager built with them registers its scrape-time collector there too.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{reg: reg}
	kind := []string{"kind"}
	open := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "camgate_sessions_open",
		Help: "Sessions open now."}, kind)
	total := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "camgate_sessions_total",
		Help: "Sessions created (their peer connection was built)."}, kind)
	frames := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "camgate_session_frames_out_total",
		Help: "Video frames sent to viewers."}, kind)
	bytes := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "camgate_session_bytes_out_total",
		Help: "RTP payload bytes of the video frames sent to viewers (without RTP, SRTP, UDP and IP headers, and without retransmissions)."}, kind)
	nacks := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "camgate_session_nack_packets_total",
		Help: "RTP packets viewers reported lost and asked to be sent again (each sequence number of an RTCP NACK)."}, kind)
	resent := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "camgate_session_retransmitted_packets_total",
		Help: "RTP packets sent again in answer to a viewer's NACK."}, kind)
	notResent := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "camgate_session_retransmissions_skipped_total",
		Help: `Packets a viewer NACKed that were not sent again: "expired" (no longer among the last 1024 sent to it) or "budget" (the viewer asked for more than one resend per 4 packets sent).`},
		[]string{"kind", "reason"})
	keyReqs := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "camgate_session_keyframe_requests_total",
		Help: "Keyframe requests received from viewers (RTCP PLI or FIR), answered from the GOP cache at most once a second."},
		[]string{"kind", "type"})
	// Histogram buckets, in seconds. Time to first frame is aimed at well
	// under 200 ms; signaling is mostly ICE gathering (WebRTC.GatherTimeout,
	// 2 s by default, bounds it).
	firstFrameBuckets := []float64{.025, .05, .1, .15, .2, .3, .5, .75, 1, 1.5, 2, 3, 5, 10, 30}
	signalingBuckets := []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5}
	ttff := prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "camgate_session_time_to_first_frame_seconds",
		Help:    "Time from a session's creation (the signaling request) to its first video frame sent; it includes the client's answer, ICE and DTLS.",
		Buckets: firstFrameBuckets}, kind)
	signaling := prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "camgate_signaling_latency_seconds",
		Help:    "Time camgate takes to create a session and have its offer ready (POST Session or a WebSocket connect, after the token check): mostly ICE gathering.",
		Buckets: signalingBuckets}, kind)
	m.ptz = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "camgate_ptz_calls_total",
		Help: `PTZ requests answered, by method and result ("ok" or the error's reason, such as "busy" or "rate_limited").`},
		[]string{"method", "result"})
	m.refused = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "camgate_sessions_refused_total",
		Help: `Session requests refused by a limit, by its setting ("Limits.SessionsPerUser", "Limits.MaxSessions", …).`},
		[]string{"limit"})
	for _, l := range []string{limitSessionsPerUser, limitPendingSessionsPerUser, limitSessionsPerAddress, limitMaxSessions, limitMinFreeFileDescriptors} {
		m.refused.WithLabelValues(l) // every series from the start, at 0
	}
	for k := range numSessionKinds {
		name := k.String()
		m.kinds[k] = &kindMetrics{
			kind:          k,
			parent:        m,
			open:          open.WithLabelValues(name),
			total:         total.WithLabelValues(name),
			framesOut:     frames.WithLabelValues(name),
			bytesOut:      bytes.WithLabelValues(name),
			nackPackets:   nacks.WithLabelValues(name),
			resent:        resent.WithLabelValues(name),
			resendExpired: notResent.WithLabelValues(name, "expired"),
			resendRefused: notResent.WithLabelValues(name, "budget"),
			pli:           keyReqs.WithLabelValues(name, "pli"),
			fir:           keyReqs.WithLabelValues(name, "fir"),
			firstFrame:    ttff.WithLabelValues(name),
			signaling:     signaling.WithLabelValues(name),
		}
	}
	reg.MustRegister(open, total, frames, bytes, nacks, resent, notResent, keyReqs, ttff, signaling, m.ptz, m.refused)
	return m
}

// forKind returns the counters of a session kind; nil without metrics.
func (m *Metrics) forKind(k sessionKind) *kindMetrics {
	if m == nil {
		return nil
	}
	return m.kinds[k]
}

// sessionRefused counts a session request a limit refused.
func (m *Metrics) sessionRefused(limit string) {
	if m != nil && limit != "" {
		m.refused.WithLabelValues(limit).Inc()
	}
}

func (k *kindMetrics) opened() {
	if k != nil {
		k.open.Inc()
		k.total.Inc()
	}
}

func (k *kindMetrics) closed() {
	if k != nil {
		k.open.Dec()
	}
}

// offerReady observes the signaling latency of a session whose creation
// began at begin.
func (k *kindMetrics) offerReady(begin time.Time) {
	if k != nil {
		k.signaling.Observe(time.Since(begin).Seconds())
	}
}

// firstFrameSent observes the time to first frame of a session created at
// created.
func (k *kindMetrics) firstFrameSent(created time.Time) {
	if k != nil {
		k.firstFrame.Observe(time.Since(created).Seconds())
	}
}

// frameSent counts one frame of size payload bytes. It is on the media
// path: two atomic adds, no allocation.
func (k *kindMetrics) frameSent(size int) {
	if k != nil {
		k.framesOut.Inc()
		k.bytesOut.Add(float64(size))
	}
}

// retransmitted counts the outcome of one NACK.
func (k *kindMetrics) retransmitted(c retransmitCounts) {
	if k == nil {
		return
	}
	if c.sent > 0 {
		k.resent.Add(float64(c.sent))
	}
	if c.expired > 0 {
		k.resendExpired.Add(float64(c.expired))
	}
	if c.refused > 0 {
		k.resendRefused.Add(float64(c.refused))
	}
}

// rtcpReceived counts the feedback of one RTCP packet from a viewer.
func (k *kindMetrics) rtcpReceived(p rtcp.Packet) {
	if k == nil {
		return
	}
	switch p := p.(type) {
	case *rtcp.TransportLayerNack:
		n := 0
		for _, pair := range p.Nacks {
			n += 1 + bits.OnesCount16(uint16(pair.LostPackets))
		}
		k.nackPackets.Add(float64(n))
	case *rtcp.PictureLossIndication:
		k.pli.Inc()
	case *rtcp.FullIntraRequest:
		k.fir.Inc()
	}
}

// ptzCall counts a PTZ request answered on a session's data channel.
func (k *kindMetrics) ptzCall(method ptz.Method, err error) {
	if k != nil {
		k.parent.PTZCall(method, err)
	}
}

// PTZCall counts a PTZ request by method and result. It is the hook for
// the PTZ routes (the data channel and REST): call it once per reply, with
// the error the reply carries. Unknown method names count as "other", so
// that a client cannot add series at will.
func (m *Metrics) PTZCall(method ptz.Method, err error) {
	if m == nil {
		return
	}
	name := "other"
	for _, known := range ptz.Methods() {
		if method == known {
			name = string(method)
			break
		}
	}
	result := "ok"
	if err != nil {
		result = ptz.AsError(name, err).Code.String()
	}
	m.ptz.WithLabelValues(name, result).Inc()
}

// droppedFrames is how many frames the session's viewer lost because it was
// too slow (0 for sources that do not drop, such as playback).
func (s *Session) droppedFrames() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	if d, ok := s.source.(interface{ dropped() uint64 }); ok {
		return d.dropped()
	}
	return 0
}

// dropped is the live viewer's drop count; the session's mutex guards the
// reader, which start sets.
func (l *liveSource) dropped() uint64 {
	if l.reader == nil {
		return 0
	}
	return l.reader.Dropped()
}

// droppedCollector reads, at scrape time, the frames viewers lost: those of
// the open sessions from their readers, and those of ended ones, kept by
// the manager.
type droppedCollector struct {
	m       *Manager
	dropped *prometheus.Desc
}

func newDroppedCollector(m *Manager) *droppedCollector {
	return &droppedCollector{m: m, dropped: prometheus.NewDesc("camgate_session_dropped_frames_total",
		"Video frames viewers lost because their queue was full (a slow viewer skips to the next keyframe).",
		[]string{"kind"}, nil)}
}

func (c *droppedCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.dropped }

func (c *droppedCollector) Collect(ch chan<- prometheus.Metric) {
	dropped, _ := c.m.stats()
	for k := range numSessionKinds {
		ch <- prometheus.MustNewConstMetric(c.dropped, prometheus.CounterValue, float64(dropped[k]), k.String())
	}
}

// StreamKey names a camera stream.
type StreamKey struct{ Camera, Stream string }

// LiveViewers counts the open live sessions of each camera stream
// (connected or not yet).
func (m *Manager) LiveViewers() map[StreamKey]int {
	_, viewers := m.stats()
	return viewers
}

// stats reads the dropped frames per kind and the live viewers per stream.
// The sessions and the drops of ended ones are read together under the
// manager's lock, so that a session ending meanwhile is counted once; its
// own counters are read after, without that lock.
func (m *Manager) stats() (dropped [numSessionKinds]uint64, viewers map[StreamKey]int) {
	m.mu.Lock()
	open := make([]*Session, 0, len(m.sessions))
	for _, s := range m.sessions {
		open = append(open, s)
	}
	dropped = m.droppedEnded
	m.mu.Unlock()
	viewers = map[StreamKey]int{}
	for _, s := range open {
		k := kindLiveREST
		if s.metrics != nil {
			k = s.metrics.kind
		}
		dropped[k] += s.droppedFrames()
		if k.live() {
			viewers[StreamKey{s.CameraID, s.StreamID}]++
		}
	}
	return dropped, viewers
}
