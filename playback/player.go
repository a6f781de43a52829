package playback

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/camgate/camgate/cameras"
	"github.com/camgate/camgate/playback/internal/index"
)

// MaxSpeed is the fastest playback speed (XProtect's limit).
const MaxSpeed = 32

const (
	// maxLag is how late a frame may be before the player re-anchors its
	// schedule instead of sending a burst to catch up (slow disk).
	maxLag = 500 * time.Millisecond
	// tailPoll is how often a player at the live edge looks for new data.
	tailPoll = 200 * time.Millisecond
	// eventQueue is the capacity of a player's event channel.
	eventQueue = 32
)

// The lead-in: when T falls inside a GOP, the frames from the keyframe
// before T up to T are needed to decode the frame at T, but the viewer asked
// to see T, not the seconds before it. They go out as a fast-forward, as
// the live GOP catch-up does (gateway/livesource.go): quickly, and stamped
// on the playback clock from 0 (T) up, one step apart, so that a browser
// decodes and shows each as it arrives and the XProtect sample's clock
// (playbackTime + rtpTimestamp) never shows a time before T, let alone a
// wrapped one.
const (
	// leadInStep is the playback-clock distance between lead-in frames:
	// one tick of the millisecond RTP clock, the smallest step that keeps
	// the timestamps of consecutive frames apart (a receiver takes packets
	// with equal timestamps as one frame).
	leadInStep = time.Millisecond
	// leadInSpeed paces the lead-in at this multiple of real time (or the
	// playback speed, if faster): the keyframe at once, half a second for
	// a 4 s GOP, at the bitrate the live catch-up has been measured at.
	leadInSpeed = 8
	// maxLeadInGap bounds the wait between two lead-in frames, as for the
	// live catch-up: a jump in the recorded times cannot stall it.
	maxLeadInGap = 100 * time.Millisecond
)

// PlayRequest asks for playback of a camera's recordings, as XProtect's
// PlaybackTimeNode does.
type PlayRequest struct {
	// CameraID is the camera (its GUID; case does not matter).
	CameraID string
	// Start is the requested playback time T.
	Start time.Time
	// Speed is the playback speed S: more than 0 and at most MaxSpeed.
	Speed float64
	// SkipGaps false sends nothing while playback crosses a gap in the
	// recording (the gap takes gap/S of wall time); true jumps to the next
	// recording at once. It also decides a T before the oldest recording:
	// an error without SkipGaps, the oldest recording with it.
	SkipGaps bool
}

// PlayFrame is one frame of playback.
type PlayFrame struct {
	// Frame has the shape of a live frame: Key, AU (NAL units without start
	// codes, SPS and PPS in front of every IDR), Payloads (RTP payloads of
	// at most cameras.MaxPayloadSize bytes, the last one ends the frame) and
	// Size. Epoch is always 1 and PTS is Offset in 90 kHz units, so a sender
	// that stamps RTP from PTS gets the playback clock. Treat it as
	// immutable.
	Frame *cameras.Frame
	// Time is the frame's recorded wall time (UTC).
	Time time.Time
	// Offset is the frame's position on the playback clock, which its RTP
	// timestamp carries: Time minus the requested playback time T, so it
	// jumps by the length of a gap, in both gap modes. Lead-in frames
	// (LeadIn) count from 0 by leadInStep instead, so it is never below 0
	// (the clock's value at T). As those steps can add up to more than the
	// distance from T to the first frame at or after it, that frame and
	// the next may run ahead of Time − T, by at most one step per lead-in
	// frame, each one step after the one before, until recorded time
	// catches up (a frame or two later: it gains a frame's length less a
	// step per frame).
	Offset time.Duration
	// LeadIn marks the frames before T: the keyframe at or before T and
	// the frames after it up to T, sent as a fast-forward so the decoder
	// reaches T (see leadInStep). The frames from T on are paced at the
	// playback speed. Played as keyframes only (fast speeds), there is no
	// lead-in: playback starts at the first keyframe at or after T.
	LeadIn bool
}

// RTPTimestamp returns the frame's RTP timestamp for a clock of clockRate
// ticks per second: round(Offset × clockRate) modulo 2^32 (a negative
// offset, which only an event before T has, in two's complement). With
// clockRate 1000 this is XProtect's video clock, milliseconds since the
// requested playback time; 90000 is the H.264 clock.
func (f PlayFrame) RTPTimestamp(clockRate uint32) uint32 {
	off := int64(f.Offset)
	neg := off < 0
	if neg {
		off = -off
	}
	sec, rem := off/int64(time.Second), off%int64(time.Second)
	v := sec*int64(clockRate) + (rem*int64(clockRate)+int64(time.Second)/2)/int64(time.Second)
	if neg {
		v = -v
	}
	return uint32(v)
}

// EventType names a playback event.
type EventType string

// Playback events, sent on Player.Events.
const (
	// EventStart: playback starts; Time is the recorded time of the first
	// frame at or after T (the first one after the lead-in). It is sent
	// when the player opens, or, after a lead-in, when that frame is
	// known.
	EventStart EventType = "start"
	// EventGap: the recording stops; Time is where it stopped (or T when
	// nothing was recorded before) and Until where it resumes. Without
	// SkipGaps it comes when playback reaches Time; with it, just before the
	// resume.
	EventGap EventType = "gap"
	// EventResume: the first frame after a gap goes out; Time is its
	// recorded time.
	EventResume EventType = "resume"
	// EventEnd: nothing more to play; Time is the end of the last frame.
	EventEnd EventType = "end"
)

// Event is a playback event, for the data channel.
type Event struct {
	Type EventType
	// Time is a recorded wall time (see the EventType).
	Time time.Time
	// Until is, for a gap, where the recording resumes.
	Until time.Time
	// Offset is the playback clock's position at Time: the RTP timestamp
	// a frame recorded at Time has (PlayFrame.Offset). Before T (a gap
	// that began before it) it is negative.
	Offset time.Duration
	// Speed is the playback speed.
	Speed float64
}

// PlayerStats are a player's counters.
type PlayerStats struct {
	// Frames and Keyframes count the frames Next returned.
	Frames, Keyframes uint64
	// KeyframesOnly reports that the current recording is played as
	// keyframes only (speed × bitrate or frame rate above the budget).
	KeyframesOnly bool
	// DroppedEvents counts events lost because nobody read Events.
	DroppedEvents uint64
}

// Player plays a camera's recordings from a time, at a speed, with a gap
// mode. Next paces itself on the system clock; one goroutine calls Next,
// any goroutine may call Close.
type Player struct {
	store *Store
	cam   *camera
	req   PlayRequest
	t0    int64 // requested time, ns

	maxFPS  float64
	maxKbps float64
	keyStep int64 // media ns between keyframes when decimating

	build *cameras.FrameBuilder // shapes recorded samples as live frames
	timer *time.Timer           // reused: pacing allocates no timer per frame

	events chan Event
	done   chan struct{}
	mu     sync.Mutex // guards closed and sends on events
	closed bool
	nextMu sync.Mutex // held by Next; Close takes it to release files

	cur      *cursor
	peeked   *sample
	gap      *gapInfo
	opened   time.Time
	started  bool
	ended    bool
	wall0    time.Time
	m0       int64
	lastEnd  int64
	nextKeyT int64
	lastDec  bool

	resumePending bool

	// The lead-in (the frames before T): whether it is being sent, how many
	// frames went, and when the last was due and was recorded.
	leadIn bool
	leadN  int64
	leadAt time.Time
	leadT  int64
	// The playback clock of the last frame sent (ns), its recorded time,
	// and how far the clock runs ahead of recorded time after a lead-in.
	lastClock, lastT, ahead int64

	frames, keyframes, droppedEvents atomic.Uint64
	keyOnly                          atomic.Bool
}

type gapInfo struct{ from, until int64 }

// Open starts playback: it finds the keyframe at or before req.Start (or,
// when req.Start is in a gap, the first keyframe after it), reads the
// first frame, and sends EventStart (after the lead-in, when req.Start is
// after that keyframe: see Next). The first Next returns that frame at
// once, except in a gap without SkipGaps, where it is due (next − T)/S
// later.
//
// Errors: *RequestError for a bad speed, time or camera id; *RangeError
// when there is nothing to play at req.Start (no recordings, T after the
// newest, or T before the oldest without SkipGaps).
func (s *Store) Open(ctx context.Context, req PlayRequest) (*Player, error) {
	if !(req.Speed > 0 && req.Speed <= MaxSpeed) {
		return nil, &RequestError{Field: "speed", Msg: fmt.Sprintf("must be more than 0 and at most %d (got %s)", MaxSpeed, fmtSpeed(req.Speed))}
	}
	if req.Start.IsZero() {
		return nil, &RequestError{Field: "playbackTime", Msg: "is required"}
	}
	c, err := s.camera(ctx, req.CameraID, false)
	if err != nil {
		return nil, err
	}
	if c == nil {
		return nil, &RangeError{Requested: req.Start}
	}
	t := req.Start.UnixNano()
	lo, hi, ok, err := c.db.Range(ctx)
	if err != nil {
		return nil, fmt.Errorf("playback: %w", err)
	}
	if !ok {
		return nil, &RangeError{Requested: req.Start}
	}
	rangeErr := &RangeError{Requested: req.Start, Oldest: nsTime(lo), Newest: nsTime(hi)}
	if t >= hi {
		return nil, rangeErr
	}
	p := &Player{
		store:   s,
		cam:     c,
		req:     req,
		t0:      t,
		build:   cameras.NewFrameBuilder(nil, nil),
		maxFPS:  float64(s.rec.PlaybackMaxFrameRate),
		maxKbps: float64(s.rec.PlaybackMaxBitrate),
		keyStep: int64(req.Speed * float64(time.Second) / float64(s.rec.PlaybackKeyframeRate)),
		events:  make(chan Event, eventQueue),
		done:    make(chan struct{}),
	}
	kf, found, err := c.db.KeyframeAtOrBefore(ctx, t)
	if err != nil {
		return nil, fmt.Errorf("playback: %w", err)
	}
	var (
		seg     index.Segment
		startKf *index.Keyframe
	)
	inGap, gapFrom := false, t
	if found {
		ks, ok, err := c.db.Segment(ctx, kf.SegmentID)
		if err != nil {
			return nil, fmt.Errorf("playback: %w", err)
		}
		if ok && t < ks.End {
			seg, startKf = ks, &kf
		} else {
			inGap = true
			if ok {
				gapFrom = ks.End
			}
		}
	} else {
		if t < lo && !req.SkipGaps {
			return nil, rangeErr
		}
		inGap = true
	}
	if inGap {
		next, ok, err := c.db.SegmentAfter(ctx, t)
		if err != nil {
			return nil, fmt.Errorf("playback: %w", err)
		}
		if !ok {
			return nil, rangeErr
		}
		seg = next
		p.gap = &gapInfo{from: gapFrom, until: next.Start}
	}
	if err := p.openCursor(ctx, seg, startKf); err != nil {
		return nil, err
	}
	// Keyframes only, nothing needs decoding before T: the first frame is
	// the first keyframe at or after it.
	p.nextKeyT = t
	first, err := p.nextSample(ctx)
	if err != nil {
		p.cur.close()
		if errors.Is(err, io.EOF) {
			return nil, rangeErr
		}
		return nil, err
	}
	if err := s.addPlayer(p); err != nil {
		p.cur.close()
		return nil, err
	}
	p.peeked = &first
	p.opened = time.Now()
	if first.t >= t {
		p.emit(Event{Type: EventStart, Time: nsTime(first.t), Offset: time.Duration(first.t - t)})
	}
	// Otherwise T is inside a GOP: start is sent when the lead-in ends.
	return p, nil
}

func fmtSpeed(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return fmt.Sprint(v)
	}
	return fmt.Sprintf("%g", v)
}

// Events returns the channel of playback events. It is buffered; events
// nobody reads are dropped (and counted). It is closed by Close.
func (p *Player) Events() <-chan Event { return p.events }

// Request returns the request the player was opened with.
func (p *Player) Request() PlayRequest { return p.req }

// Stats returns the player's counters.
func (p *Player) Stats() PlayerStats {
	return PlayerStats{
		Frames:        p.frames.Load(),
		Keyframes:     p.keyframes.Load(),
		KeyframesOnly: p.keyOnly.Load(),
		DroppedEvents: p.droppedEvents.Load(),
	}
}

// Close stops the player: a Next waiting for a frame's due time returns
// ErrClosed, files are released and Events is closed.
func (p *Player) Close() {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return
	}
	p.closed = true
	close(p.done)
	close(p.events)
	p.mu.Unlock()
	p.nextMu.Lock()
	p.cur.close()
	p.cur = nil
	p.nextMu.Unlock()
	p.store.removePlayer(p)
}

func (p *Player) emit(e Event) {
	e.Speed = p.req.Speed
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return
	}
	select {
	case p.events <- e:
	default:
		p.droppedEvents.Add(1)
	}
}

// Next returns the next frame when it is due: the first at once (see
// Open), then frame f at wall₀ + (time_f − time₀)/S. When T is inside a
// GOP, the frames from the keyframe before T up to T come first as a
// lead-in (PlayFrame.LeadIn), at leadInSpeed times real time; the schedule
// then starts at T. It returns io.EOF after the last frame (and sends
// EventEnd), ErrClosed after Close, and ctx.Err() when ctx ends first (the
// frame is kept for the next call).
func (p *Player) Next(ctx context.Context) (PlayFrame, error) {
	p.nextMu.Lock()
	defer p.nextMu.Unlock()
	select {
	case <-p.done:
		return PlayFrame{}, ErrClosed
	default:
	}
	if p.ended {
		return PlayFrame{}, io.EOF
	}
	if p.peeked == nil {
		s, err := p.nextSample(ctx)
		if err != nil {
			if errors.Is(err, io.EOF) {
				p.ended = true
				p.emit(Event{Type: EventEnd, Time: nsTime(p.lastEnd), Offset: time.Duration(p.clock(p.lastEnd))})
			}
			return PlayFrame{}, err
		}
		p.peeked = &s
	}
	s := *p.peeked
	if !p.started {
		p.started = true
		switch {
		case s.t < p.t0:
			p.leadIn = true
		case p.gap != nil && !p.req.SkipGaps:
			// T is in a gap: the clock runs from T, so the first frame is
			// due (next − T)/S after the request.
			p.anchor(p.opened, p.t0)
		default:
			p.anchor(time.Now(), s.t)
		}
	}
	if p.leadIn {
		if s.t < p.t0 {
			return p.nextLeadIn(ctx, s)
		}
		// The first frame at or after T: playback paces from T, from the
		// end of the lead-in.
		p.leadIn = false
		p.anchor(time.Now(), p.t0)
		p.emit(Event{Type: EventStart, Time: nsTime(s.t), Offset: time.Duration(p.clock(s.t))})
	}
	if gap := p.gap; gap != nil {
		if !p.req.SkipGaps {
			// Announce the gap when playback reaches it.
			if err := p.waitUntil(ctx, p.due(gap.from)); err != nil {
				return PlayFrame{}, err
			}
		}
		p.emit(Event{Type: EventGap, Time: nsTime(gap.from), Until: nsTime(gap.until), Offset: time.Duration(p.clock(gap.from))})
		p.gap = nil
		p.resumePending = true
		if p.req.SkipGaps {
			p.anchor(time.Now(), s.t)
		}
	}
	due := p.due(s.t)
	if err := p.waitUntil(ctx, due); err != nil {
		return PlayFrame{}, err
	}
	if now := time.Now(); now.Sub(due) > maxLag {
		// Fell behind (slow disk): start a new schedule here rather than
		// send a burst.
		p.anchor(now, s.t)
	}
	if p.resumePending {
		p.resumePending = false
		p.emit(Event{Type: EventResume, Time: nsTime(s.t), Offset: time.Duration(p.clock(s.t))})
	}
	return p.deliver(s, p.clock(s.t), false), nil
}

// nextLeadIn sends a frame of the lead-in: the keyframe at once, each
// later one its recorded distance from the one before divided by
// leadInSpeed (or the playback speed, if faster) after it, at most
// maxLeadInGap, and never in the past (a late frame does not make the next
// ones hurry). They are stamped 0, leadInStep, 2 × leadInStep…
func (p *Player) nextLeadIn(ctx context.Context, s sample) (PlayFrame, error) {
	now := time.Now()
	due := now
	if p.leadN > 0 {
		speed := max(float64(leadInSpeed), p.req.Speed)
		wait := min(time.Duration(float64(max(s.t-p.leadT, 0))/speed), maxLeadInGap)
		if due = p.leadAt.Add(wait); due.Before(now) {
			due = now
		}
	}
	if err := p.waitUntil(ctx, due); err != nil {
		return PlayFrame{}, err
	}
	p.leadAt, p.leadT = due, s.t
	clock := p.leadN * int64(leadInStep)
	p.leadN++
	return p.deliver(s, clock, true), nil
}

// clock is the playback clock at recorded time t (ns from T): t − T, or,
// while a lead-in has left the clock ahead of recorded time, at least
// leadInStep past the last frame's clock, which keeps the timestamps
// increasing and meets t − T again a few frames after T.
func (p *Player) clock(t int64) int64 {
	exact := t - p.t0
	if p.ahead <= 0 {
		return exact
	}
	return max(exact, p.lastClock+int64(leadInStep))
}

// deliver hands out frame s stamped at clock (ns) and counts it.
func (p *Player) deliver(s sample, clock int64, leadIn bool) PlayFrame {
	p.peeked = nil
	// Playback goes in decode order on its own clock: the frame's decode
	// and presentation times are the same here.
	s.frame.PTS = nsToTicksSigned(clock)
	s.frame.DTS = s.frame.PTS
	p.lastClock, p.lastT, p.ahead = clock, s.t, clock-(s.t-p.t0)
	p.lastEnd = s.t + s.dur
	if p.cur != nil && p.cur.decimate {
		p.nextKeyT = s.t + p.keyStep
	}
	p.frames.Add(1)
	if s.frame.Key {
		p.keyframes.Add(1)
	}
	return PlayFrame{Frame: s.frame, Time: nsTime(s.t), Offset: time.Duration(clock), LeadIn: leadIn}
}

// anchor starts a schedule: media time m is due at wall.
func (p *Player) anchor(wall time.Time, m int64) { p.wall0, p.m0 = wall, m }

// due is when media time m is due on the current schedule.
func (p *Player) due(m int64) time.Time {
	return p.wall0.Add(time.Duration(float64(m-p.m0) / p.req.Speed))
}

// waitUntil sleeps until t, ctx ends or the player is closed.
func (p *Player) waitUntil(ctx context.Context, t time.Time) error {
	d := time.Until(t)
	if d <= 0 {
		return nil
	}
	return p.sleep(ctx, d)
}

// sleep waits for d on the player's timer, or until ctx ends or the player
// is closed.
func (p *Player) sleep(ctx context.Context, d time.Duration) error {
	if p.timer == nil {
		p.timer = time.NewTimer(d)
	} else {
		p.timer.Reset(d)
	}
	select {
	case <-p.timer.C:
		return nil
	case <-ctx.Done():
		p.timer.Stop()
		return ctx.Err()
	case <-p.done:
		p.timer.Stop()
		return ErrClosed
	}
}

func nsToTicksSigned(ns int64) int64 {
	if ns < 0 {
		return -(-ns * 9 / 100000)
	}
	return ns * 9 / 100000
}
