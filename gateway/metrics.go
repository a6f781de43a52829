package gateway

import (
	"log/slog"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/camgate/camgate/appsettings"
	"github.com/camgate/camgate/cameras"
	"github.com/camgate/camgate/gateway/rtc"
)

// Metrics. Each Gateway has a registry of its own (no default registry, no
// init registration), so two gateways in one process do not collide. The
// sessions' counters are rtc's (rtc.Metrics), registered here; the numbers
// other parts keep are read at scrape time (gatewayCollector).

// gatewayMetrics is a gateway's registry, with what the monitoring
// endpoints need (metrics_http.go).
type gatewayMetrics struct {
	reg    *prometheus.Registry
	log    *slog.Logger
	access metricsAccess
	// closing is set when the gateway's Close begins: /readyz answers 503.
	closing atomic.Bool
	// sessions are the session and PTZ counters.
	sessions *rtc.Metrics
}

func newGatewayMetrics(g *Gateway, cfg appsettings.Metrics) *gatewayMetrics {
	m := &gatewayMetrics{reg: prometheus.NewRegistry(), log: g.log, access: newMetricsAccess(cfg)}
	m.sessions = rtc.NewMetrics(m.reg)
	m.reg.MustRegister(newGatewayCollector(g),
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// gatewayCollector reads, at scrape time, the numbers other parts keep:
// the cameras' hubs, supervisors and states, and the live viewers per
// stream. The sessions' own counters are rtc's (rtc.Metrics).
type gatewayCollector struct {
	g *Gateway

	cameraState, framesIn, bytesIn, keyframes, reconnects, decodeErrors,
	packetsLost, viewers, readers *prometheus.Desc
}

func newGatewayCollector(g *Gateway) *gatewayCollector {
	cameraLabels := []string{"camera", "stream"}
	return &gatewayCollector{
		g: g,
		cameraState: prometheus.NewDesc("camgate_camera_state",
			"The camera stream's state: 1 for the current one (connecting, streaming, degraded, reconnecting, offline, unsupported), 0 for the others.",
			[]string{"camera", "stream", "state"}, nil),
		framesIn: prometheus.NewDesc("camgate_camera_frames_in_total",
			"Decodable video frames received from the camera.", cameraLabels, nil),
		bytesIn: prometheus.NewDesc("camgate_camera_bytes_in_total",
			"Bytes of those frames, as packetized for WebRTC (RTP payload bytes).", cameraLabels, nil),
		keyframes: prometheus.NewDesc("camgate_camera_keyframes_total",
			"Keyframes (IDR) received from the camera.", cameraLabels, nil),
		reconnects: prometheus.NewDesc("camgate_camera_reconnects_total",
			"Connection attempts after the first one, each after a failed or ended RTSP session.", cameraLabels, nil),
		decodeErrors: prometheus.NewDesc("camgate_camera_decode_errors_total",
			"RTP packets or access units from the camera that could not be decoded and were skipped.", cameraLabels, nil),
		packetsLost: prometheus.NewDesc("camgate_camera_packets_lost_total",
			"RTP packets from the camera that never arrived (sequence number gaps).", cameraLabels, nil),
		viewers: prometheus.NewDesc("camgate_camera_viewers",
			"Open live sessions of the camera stream (connected or not yet).", cameraLabels, nil),
		readers: prometheus.NewDesc("camgate_camera_readers",
			"Consumers attached to the stream's hub now: live viewers whose media started, and the recorder.", cameraLabels, nil),
	}
}

func (c *gatewayCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.cameraState, c.framesIn, c.bytesIn, c.keyframes, c.reconnects,
		c.decodeErrors, c.packetsLost, c.viewers, c.readers} {
		ch <- d
	}
}

func (c *gatewayCollector) Collect(ch chan<- prometheus.Metric) {
	g := c.g
	if g.cameras == nil {
		return
	}
	viewers := g.sessions.LiveViewers()
	cameraStates := []cameras.State{cameras.StateConnecting, cameras.StateStreaming, cameras.StateDegraded,
		cameras.StateReconnecting, cameras.StateOffline, cameras.StateUnsupported}
	for _, cam := range g.cameras.Cameras() {
		for _, cs := range cam.Streams {
			labels := []string{cam.ID, cs.ID}
			st, hub, in := cs.Status(), cs.Hub.Stats(), cs.IngestStats()
			known := false
			for _, state := range cameraStates {
				v := 0.0
				if st.State == state {
					v, known = 1, true
				}
				ch <- prometheus.MustNewConstMetric(c.cameraState, prometheus.GaugeValue, v, cam.ID, cs.ID, string(state))
			}
			if !known && st.State != "" {
				ch <- prometheus.MustNewConstMetric(c.cameraState, prometheus.GaugeValue, 1, cam.ID, cs.ID, string(st.State))
			}
			counter := func(d *prometheus.Desc, v uint64) {
				ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
			}
			counter(c.framesIn, hub.FramesIn)
			counter(c.bytesIn, hub.BytesIn)
			counter(c.keyframes, hub.Keyframes)
			counter(c.reconnects, in.Reconnects)
			counter(c.decodeErrors, in.DecodeErrors)
			counter(c.packetsLost, in.PacketsLost)
			ch <- prometheus.MustNewConstMetric(c.viewers, prometheus.GaugeValue, float64(viewers[rtc.StreamKey{Camera: cam.ID, Stream: cs.ID}]), labels...)
			ch <- prometheus.MustNewConstMetric(c.readers, prometheus.GaugeValue, float64(hub.Readers), labels...)
		}
	}
}
