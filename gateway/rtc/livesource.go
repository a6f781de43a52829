package rtc

import (
	"context"
	"fmt"
	"time"

	"github.com/camgate/camgate/cameras"
)

// Catch-up: a new viewer (or one that sent a PLI) gets the stream's cached
// GOP before the live frames, so it decodes at once instead of waiting up to
// a GOP for the camera's next keyframe.
const (
	// catchUpStep is the timestamp distance between frames replayed from
	// the GOP cache: near-equal timestamps make the browser show each as
	// soon as it arrives, a fast-forward to the live edge, and leave the
	// live frames' timestamps free to follow their arrival.
	catchUpStep = time.Millisecond
	// catchUpSpeed paces the replay: the keyframe goes at once (it sets the
	// time to first frame), the rest of the GOP at this multiple of real
	// time, about this multiple of the camera's bitrate. Sent in one burst,
	// a 4 s GOP at 2 Mbit/s (about 850 packets) per joining viewer
	// overflowed socket buffers and set off NACK storms under load; at 8×
	// it takes half a second.
	catchUpSpeed = 8
	// maxCatchUpGap bounds the wait between two replayed frames, so that a
	// jump in the camera's timestamps inside the cached GOP cannot stall
	// the viewer (the live frames queued behind would overflow).
	maxCatchUpGap = 100 * time.Millisecond
)

// liveSource plays the camera stream: a reader of its hub, attached when
// the session starts so the GOP cache reaches the viewer first, and the
// mapping of camera time to the viewer's clock.
type liveSource struct {
	hub      *cameras.Stream
	video    cameras.Codec // the session's: a frame of another codec ends the sending (codecChangedError)
	queueLen int
	reader   *cameras.Reader
	clock    rtpClock
	// fastForward times catch-up frames 1 ms apart (a browser shows them
	// as they come); false keeps the GOP's real spacing, for relays that
	// pass timestamps on to decoders that honour them (Profile).
	fastForward bool
	// origin is the session's reference time: RTP timestamps count from
	// it, so the XProtect client's frame clock (origin + rtpTimestamp)
	// shows the wall time of the frame.
	origin time.Time

	begun   bool
	rebase  bool // the next live frame re-anchors the timestamp mapping
	epoch   uint64
	inBase  int64 // DTS (90 kHz) of the anchor frame
	outBase int64 // RTP timestamp (ticks) of the anchor frame
	lastOut int64
	lastDTS int64 // of the last frame sent
	lastGap int64 // between the last two timestamps sent

	// The replay being paced: when its last frame was due and its DTS.
	paceDue time.Time
	paceDTS int64
	pace    *time.Timer // reused: waiting allocates nothing per frame
}

// newLiveSource returns the live source of a hub. The session guards
// start, requestKeyframe and close with its mutex.
func newLiveSource(hub *cameras.Stream, video cameras.Codec, queueLen int, clock rtpClock, origin time.Time) *liveSource {
	return &liveSource{hub: hub, video: video, queueLen: queueLen, clock: clock, origin: origin, rebase: true, fastForward: true}
}

func (l *liveSource) start() { l.reader = l.hub.AddReader(l.queueLen) }

// next returns the next frame to send. Frames of a run of the camera that
// has failed since they were queued (cameras.Stream.Interrupt) are
// skipped, however long the viewer's queue is: the picture from before a
// failure is never shown as live. The check follows a catch-up's wait,
// during which the camera may fail.
func (l *liveSource) next(ctx context.Context) (*cameras.Frame, uint32, error) {
	for {
		// An ended session gets nothing more, even when the next frame
		// is already queued and due (a catch-up frame whose time has
		// passed does not wait, so the wait would not notice).
		if err := ctx.Err(); err != nil {
			return nil, 0, err
		}
		it, err := l.reader.Next(ctx)
		if err != nil {
			return nil, 0, err
		}
		if it.CatchUp && !l.hub.Stale(it.Frame) {
			if err := l.paceCatchUp(ctx, it.Frame); err != nil {
				return nil, 0, err
			}
		}
		if l.hub.Stale(it.Frame) {
			continue
		}
		if it.Frame.Codec != l.video {
			// The camera sends another codec than the session negotiated
			// (reconfigured since, or not yet known when the session was
			// made): the viewer's decoder cannot use the frames, and
			// skipping them would leave it black without a word.
			return nil, 0, &codecChangedError{negotiated: l.video, camera: it.Frame.Codec}
		}
		return it.Frame, uint32(l.timestamp(it)), nil
	}
}

// paceCatchUp waits until a replayed frame is due (catchUpDue). It does
// not wait while the reader's queue is three quarters full: live frames
// arriving behind a long replay must not overflow it, which would drop them
// up to the next keyframe.
func (l *liveSource) paceCatchUp(ctx context.Context, f *cameras.Frame) error {
	now := time.Now()
	wait := l.catchUpDue(f, now).Sub(now)
	if wait <= 0 {
		return nil
	}
	if queued, capacity := l.reader.Backlog(); queued*4 >= capacity*3 {
		return nil
	}
	if l.pace == nil {
		l.pace = time.NewTimer(wait)
	} else {
		l.pace.Reset(wait)
	}
	select {
	case <-l.pace.C:
		return nil
	case <-ctx.Done():
		l.pace.Stop()
		return ctx.Err()
	}
}

// catchUpDue is when a replayed frame should be sent: a replay starts with
// its keyframe, due at once; each later frame is due its camera spacing
// divided by catchUpSpeed after the one before, at most maxCatchUpGap (and
// never in the past: a late frame does not make the next ones hurry).
func (l *liveSource) catchUpDue(f *cameras.Frame, now time.Time) time.Time {
	if f.Key {
		l.paceDue, l.paceDTS = now, f.DTS
		return now
	}
	// The camera's spacing in 90 kHz ticks (decode order: the frames come
	// so), clamped first so that a huge jump cannot overflow the
	// conversion.
	const maxGapTicks = int64(maxCatchUpGap) * 90000 * catchUpSpeed / int64(time.Second)
	gap := min(max(f.DTS-l.paceDTS, 0), maxGapTicks)
	due := l.paceDue.Add(time.Duration(gap) * time.Second / (90000 * catchUpSpeed))
	if due.Before(now) {
		due = now
	}
	l.paceDue, l.paceDTS = due, f.DTS
	return due
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
// reconnect (new epoch) or at the start re-anchors on the time it reached
// the hub (the wall clock since the session started), so frames that
// queued behind a paced catch-up keep the time they were captured and the
// browser does not hold the live ones back by the queueing delay; other
// live frames follow the camera's decode times (Frame.DTS), so pacing and
// gaps are the camera's. Frames come in decode order: timed by their PTS, a
// camera with B-frames would step back at every B-frame, and re-anchoring
// there would move the clock forward a frame each time (it ran 1.6–2×
// real time).
func (l *liveSource) timestamp(it cameras.Item) int64 {
	f := it.Frame
	step := l.clock.fromDuration(catchUpStep)
	var ts int64
	switch {
	case !l.fastForward && it.CatchUp && l.begun && f.Key && f.Epoch == l.epoch:
		// A relay's replay (a PLI): the GOP again, after what was sent,
		// with its real spacing, and the live frames after it on the
		// same anchor. The relay's picture falls behind by the GOP's age,
		// but its timestamps never squeeze nor step back.
		ts = l.lastOut + max(l.lastGap, 1)
		l.inBase, l.outBase = f.DTS, ts
	case !l.fastForward && it.CatchUp && l.begun:
		ts = l.follow(f)
	case it.CatchUp && l.fastForward:
		if l.begun {
			ts = l.lastOut + step
		} else {
			ts = l.clock.fromDuration(time.Since(l.origin))
		}
		l.rebase = true
	case l.rebase || !l.begun || f.Epoch != l.epoch:
		arrived := f.Arrived
		if arrived.IsZero() {
			arrived = time.Now()
		}
		ts = max(l.clock.fromDuration(arrived.Sub(l.origin)), l.lastOut+step)
		l.inBase, l.outBase, l.epoch = f.DTS, ts, f.Epoch
		l.rebase = false
	default:
		ts = l.follow(f)
	}
	if l.begun {
		l.lastGap = ts - l.lastOut
	}
	l.begun = true
	l.lastOut, l.lastDTS = ts, f.DTS
	return ts
}

// follow times a frame by the camera's decode time from the anchor.
func (l *liveSource) follow(f *cameras.Frame) int64 {
	ts := l.outBase + l.clock.fromPTS(f.DTS-l.inBase)
	if ts <= l.lastOut {
		// Keep timestamps increasing, which decoders require. Frames
		// closer than a tick of the viewer's clock (the DTS extractor's 1
		// ms steps at the start of a B-frame GOP) leave the anchor where it
		// is, so the clock stays at real time; a camera whose clock jumped
		// back is followed from here.
		ts = l.lastOut + 1
		if f.DTS < l.lastDTS {
			l.inBase, l.outBase = f.DTS, ts
		}
	}
	return ts
}

// codecChangedError ends a live session whose camera sends another video
// codec than the session negotiated: the client must open a new session,
// whose offer will carry the camera's codec.
type codecChangedError struct{ negotiated, camera cameras.Codec }

func (e *codecChangedError) Error() string {
	return fmt.Sprintf("the camera now sends %s, and this session negotiated %s: open a new session", e.camera, e.negotiated)
}
