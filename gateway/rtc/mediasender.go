package rtc

import (
	"context"
	"sync"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"

	"github.com/camgate/camgate/cameras"
)

// rtpClock converts between camgate's 90 kHz media time and the unit of the
// RTP timestamps sent to a viewer.
type rtpClock struct {
	ticksPerSecond int64 // 1000 (XProtect's milliseconds) or 90000
}

func (c rtpClock) fromPTS(pts90k int64) int64 { return pts90k * c.ticksPerSecond / 90000 }
func (c rtpClock) fromDuration(d time.Duration) int64 {
	return int64(d) * c.ticksPerSecond / int64(time.Second)
}

// mediaSource is what a session plays: the camera's live stream
// (liveSource) or its recordings (playbackSource, playback_session.go). The
// session and its sender do not know which: they start the source when the
// peer connection connects, send what next returns, forward keyframe
// requests and close it with the session.
type mediaSource interface {
	// start is called once, when the peer connection is up, before the
	// first next.
	start()
	// next blocks until the next frame is due and returns it with its RTP
	// timestamp on the session's clock. An error ends the sending: ctx
	// ended, the source was closed, or it has nothing more to send
	// (io.EOF).
	next(ctx context.Context) (f *cameras.Frame, rtpTimestamp uint32, err error)
	// requestKeyframe asks for a keyframe soon (the viewer sent a PLI).
	requestKeyframe()
	// close releases the source; a next waiting returns an error. It may
	// be called without start.
	close()
}

// mediaSender writes one viewer's video: it takes frames from a source and
// rewrites what must differ per viewer (sequence number, and the timestamp
// the source chose; pion sets SSRC and payload type), and sends packets
// again when the viewer reports them lost. It allocates nothing per packet.
type mediaSender struct {
	track *webrtc.TrackLocalStaticRTP
	pkt   rtp.Packet

	// mu serialises the sender goroutine's frames and the RTCP goroutine's
	// retransmissions, which share the history.
	mu       sync.Mutex
	history  sendHistory
	resendPk rtp.Packet

	// reports are the viewer's RTCP sender reports (senderreport.go); nil:
	// none (benchmarks).
	reports *senderReports

	framesSent  uint64
	onFirstSent func()
	// stats counts the frames and bytes sent (metrics.go); nil: not
	// counted.
	stats *kindMetrics
}

func newMediaSender(track *webrtc.TrackLocalStaticRTP) *mediaSender {
	s := &mediaSender{track: track}
	s.pkt.Version = 2
	s.resendPk.Version = 2
	s.pkt.SequenceNumber = uint16(time.Now().UnixNano())
	return s
}

// run sends until ctx ends or the source returns an error, which it
// returns.
func (s *mediaSender) run(ctx context.Context, src mediaSource) error {
	for {
		f, ts, err := src.next(ctx)
		if err != nil {
			// A playback session stays open after its last frame: let go
			// of the frames the history holds, which nobody else shares.
			s.mu.Lock()
			s.history.forget()
			s.mu.Unlock()
			return err
		}
		s.write(f, ts)
	}
}

// write sends one frame, the marker bit on its last packet.
func (s *mediaSender) write(f *cameras.Frame, ts uint32) {
	s.mu.Lock()
	var start time.Time
	if s.reports != nil {
		start = time.Now()
	}
	s.pkt.Timestamp = ts
	last := len(f.Payloads) - 1
	for i, p := range f.Payloads {
		s.pkt.Marker = i == last
		s.pkt.Payload = p
		s.pkt.SequenceNumber++
		s.history.record(s.pkt.SequenceNumber, ts, f, i)
		// A write error means the peer connection is closing; the session
		// notices through its state callbacks.
		_ = s.track.WriteRTP(&s.pkt)
	}
	s.pkt.Payload = nil
	s.reports.count(len(f.Payloads), f.Size)
	s.reports.afterFrame(ts, start)
	s.mu.Unlock()
	s.framesSent++
	s.stats.frameSent(f.Size)
	if s.framesSent == 1 && s.onFirstSent != nil {
		s.onFirstSent()
	}
}

// retransmit answers a viewer's NACK from the history (retransmit.go):
// each packet again with its own sequence number, as RFC 4585 has it
// without RTX.
func (s *mediaSender) retransmit(nack *rtcp.TransportLayerNack) {
	s.mu.Lock()
	c := s.history.resend(nack, func(p *sentPacket) {
		s.resendPk.SequenceNumber = p.seq
		s.resendPk.Timestamp = p.timestamp
		s.resendPk.Marker = p.marker()
		s.resendPk.Payload = p.payload()
		_ = s.track.WriteRTP(&s.resendPk)
	})
	s.resendPk.Payload = nil
	s.reports.count(c.sent, c.sentBytes)
	s.mu.Unlock()
	s.stats.retransmitted(c)
}
