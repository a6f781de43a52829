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

// catchUpStep is the timestamp distance between frames replayed from the GOP
// cache. They are sent back to back, and near-equal timestamps make the
// browser decode them at once and show the live edge without waiting.
const catchUpStep = time.Millisecond

// mediaSender writes one viewer's video: it takes frames from a source and
// rewrites what must differ per viewer (sequence number, and the timestamp
// the source chose; pion sets SSRC and payload type). It allocates nothing
// per packet.
type mediaSender struct {
	track *webrtc.TrackLocalStaticRTP
	pkt   rtp.Packet

	framesSent  uint64
	onFirstSent func()
	// stats counts the frames and bytes sent (metrics.go); nil: not
	// counted.
	stats *kindMetrics
}

func newMediaSender(track *webrtc.TrackLocalStaticRTP) *mediaSender {
	s := &mediaSender{track: track}
	s.pkt.Version = 2
	s.pkt.SequenceNumber = uint16(time.Now().UnixNano())
	return s
}

// run sends until ctx ends or the source returns an error, which it
// returns.
func (s *mediaSender) run(ctx context.Context, src mediaSource) error {
	for {
		f, ts, err := src.next(ctx)
		if err != nil {
			return err
		}
		s.write(f, ts)
	}
}

// write sends one frame, the marker bit on its last packet.
func (s *mediaSender) write(f *cameras.Frame, ts uint32) {
	s.pkt.Timestamp = ts
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
	s.stats.frameSent(f.Size)
	if s.framesSent == 1 && s.onFirstSent != nil {
		s.onFirstSent()
	}
}

// liveSource plays the camera stream: a reader of its hub, attached when
// the session starts so the GOP cache reaches the viewer first, and the
// mapping of camera time to the viewer's clock.
type liveSource struct {
	hub      *cameras.Stream
	queueLen int
	reader   *cameras.Reader
	clock    rtpClock
	// origin is the session's reference time: RTP timestamps count from
	// it, so the XProtect client's frame clock (origin + rtpTimestamp)
	// shows the wall time of the frame.
	origin time.Time

	begun   bool
	rebase  bool // the next live frame re-anchors the timestamp mapping
	epoch   uint64
	inBase  int64 // PTS (90 kHz) of the anchor frame
	outBase int64 // RTP timestamp (ticks) of the anchor frame
	lastOut int64
}

// newLiveSource returns the live source of a hub. The session guards
// start, requestKeyframe and close with its mutex.
func newLiveSource(hub *cameras.Stream, queueLen int, clock rtpClock, origin time.Time) *liveSource {
	return &liveSource{hub: hub, queueLen: queueLen, clock: clock, origin: origin, rebase: true}
}

func (l *liveSource) start() { l.reader = l.hub.AddReader(l.queueLen) }

func (l *liveSource) next(ctx context.Context) (*cameras.Frame, uint32, error) {
	it, err := l.reader.Next(ctx)
	if err != nil {
		return nil, 0, err
	}
	return it.Frame, uint32(l.timestamp(it)), nil
}

// requestKeyframe replays the GOP cache: RTSP cameras cannot be asked for
// an IDR.
func (l *liveSource) requestKeyframe() {
	if l.reader != nil {
		l.reader.RequestKeyframe()
	}
}

func (l *liveSource) close() {
	if l.reader != nil {
		l.reader.Close()
	}
}

// timestamp maps a frame to the viewer's RTP clock. Catch-up frames follow
// each other one step apart; a live frame after catch-up, after a camera
// reconnect (new epoch) or at the start re-anchors on the wall clock since
// the session started; other live frames follow the camera's PTS, so pacing
// and gaps are the camera's.
func (l *liveSource) timestamp(it cameras.Item) int64 {
	f := it.Frame
	now := l.clock.fromDuration(time.Since(l.origin))
	var ts int64
	switch {
	case it.CatchUp:
		if l.begun {
			ts = l.lastOut + l.clock.fromDuration(catchUpStep)
		} else {
			ts = now
		}
		l.rebase = true
	case l.rebase || !l.begun || f.Epoch != l.epoch:
		ts = max(now, l.lastOut+l.clock.fromDuration(catchUpStep))
		l.inBase, l.outBase, l.epoch = f.PTS, ts, f.Epoch
		l.rebase = false
	default:
		ts = l.outBase + l.clock.fromPTS(f.PTS-l.inBase)
		if ts <= l.lastOut {
			// A camera whose clock went backwards: keep timestamps
			// increasing, which decoders require.
			ts = l.lastOut + 1
			l.inBase, l.outBase = f.PTS, ts
		}
	}
	l.begun = true
	l.lastOut = ts
	return ts
}
