package gateway

import (
	"context"
	"time"

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

// catchUpStep is the timestamp distance between frames replayed from the GOP
// cache. They are sent back to back, and near-equal timestamps make the
// browser decode them at once and show the live edge without waiting.
const catchUpStep = time.Millisecond

// liveSender writes one viewer's video: it takes frames from the viewer's
// queue and rewrites what must differ per viewer (sequence number and
// timestamp; pion sets SSRC and payload type). It allocates nothing per
// packet.
type liveSender struct {
	track  *webrtc.TrackLocalStaticRTP
	reader *cameras.Reader
	clock  rtpClock
	// start is the session's reference time: RTP timestamps count from it,
	// so the XProtect client's frame clock (start + rtpTimestamp) shows the
	// wall time of the frame.
	start time.Time

	pkt     rtp.Packet
	started bool
	rebase  bool // the next live frame re-anchors the timestamp mapping
	epoch   uint64
	inBase  int64 // PTS (90 kHz) of the anchor frame
	outBase int64 // RTP timestamp (ticks) of the anchor frame
	lastOut int64

	framesSent  uint64
	firstFrame  time.Time
	onFirstSent func()
}

func newLiveSender(track *webrtc.TrackLocalStaticRTP, reader *cameras.Reader, clock rtpClock, start time.Time) *liveSender {
	s := &liveSender{track: track, reader: reader, clock: clock, start: start, rebase: true}
	s.pkt.Version = 2
	s.pkt.SequenceNumber = uint16(time.Now().UnixNano())
	return s
}

// run sends until ctx ends or the reader is closed.
func (s *liveSender) run(ctx context.Context) {
	for {
		it, err := s.reader.Next(ctx)
		if err != nil {
			return
		}
		s.send(it)
	}
}

func (s *liveSender) send(it cameras.Item) {
	f := it.Frame
	ts := s.timestamp(it)
	s.pkt.Timestamp = uint32(ts)
	last := len(f.Payloads) - 1
	for i, p := range f.Payloads {
		s.pkt.Marker = i == last
		s.pkt.Payload = p
		s.pkt.SequenceNumber++
		// A write error means the peer connection is closing; the session
		// notices through its state callbacks.
		_ = s.track.WriteRTP(&s.pkt)
	}
	s.pkt.Payload = nil
	s.framesSent++
	if s.framesSent == 1 && s.onFirstSent != nil {
		s.onFirstSent()
	}
}

// timestamp maps a frame to the viewer's RTP clock. Catch-up frames follow
// each other one step apart; a live frame after catch-up, after a camera
// reconnect (new epoch) or at the start re-anchors on the wall clock since
// the session started; other live frames follow the camera's PTS, so pacing
// and gaps are the camera's.
func (s *liveSender) timestamp(it cameras.Item) int64 {
	f := it.Frame
	now := s.clock.fromDuration(time.Since(s.start))
	var ts int64
	switch {
	case it.CatchUp:
		if s.started {
			ts = s.lastOut + s.clock.fromDuration(catchUpStep)
		} else {
			ts = now
		}
		s.rebase = true
	case s.rebase || !s.started || f.Epoch != s.epoch:
		ts = max(now, s.lastOut+s.clock.fromDuration(catchUpStep))
		s.inBase, s.outBase, s.epoch = f.PTS, ts, f.Epoch
		s.rebase = false
	default:
		ts = s.outBase + s.clock.fromPTS(f.PTS-s.inBase)
		if ts <= s.lastOut {
			// A camera whose clock went backwards: keep timestamps
			// increasing, which decoders require.
			ts = s.lastOut + 1
			s.inBase, s.outBase = f.PTS, ts
		}
	}
	s.started = true
	s.lastOut = ts
	return ts
}
