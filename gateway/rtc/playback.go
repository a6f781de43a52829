package rtc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/camgate/camgate/cameras"
	"github.com/camgate/camgate/playback"
)

// Playback sessions: a REST playbackTimeNode or the WebSocket PlaybackTime
// parameters make a session play the camera's recordings instead of its
// live stream. The session is the same as a live one; only its mediaSource
// differs (playbackSource here, liveSource in livesource.go), and the
// player's events go out on the commands data channel.

// Playback asks a session for recorded video.
type Playback struct {
	Time     time.Time // the requested playback time T
	Speed    float64   // 0 < Speed ≤ playback.MaxSpeed
	SkipGaps bool
}

// openPlayback opens the player of a session: it finds where playback
// starts (or answers why it cannot) before the session exists, and starts
// forwarding the player's events to the session's commands channel.
//
// The store's errors are returned as they are: they are typed (playback's
// *RequestError, *RangeError, ErrClosed), and signaling maps them.
func (m *Manager) openPlayback(ctx context.Context, cameraID string, p Playback, clock rtpClock, events *commandEvents, log *slog.Logger) (mediaSource, error) {
	if m.store == nil {
		return nil, Errorf(NotImplemented, "playback is not available: this gateway runs without a recording store")
	}
	player, err := m.store.Open(ctx, playback.PlayRequest{CameraID: cameraID, Start: p.Time, Speed: p.Speed, SkipGaps: p.SkipGaps})
	if err != nil {
		if !playback.IsTyped(err) {
			log.Warn("playback: cannot open the recordings", "error", err)
		}
		return nil, fmt.Errorf("playback: %w", err)
	}
	src := &playbackSource{player: player, rate: uint32(clock.ticksPerSecond), events: events, log: log}
	src.fwd.Add(1)
	go src.forward()
	return src, nil
}

// playbackSource plays a camera's recordings. The player paces the frames
// (recorded time divided by the speed, gaps as the gap mode says); their
// RTP timestamps count the recorded time since the requested playback time
// on the session's clock (milliseconds by default), jumping over gaps, so
// XProtect's frame clock (playbackTime + rtpTimestamp) shows recorded time.
// The frames before the requested time (the lead-in from the keyframe
// before it) count from 0 up, 1 ms apart: never below the requested time's
// value, a fast-forward to it.
type playbackSource struct {
	player *playback.Player
	rate   uint32 // RTP ticks per second: 1000 or 90000
	events *commandEvents
	log    *slog.Logger
	fwd    sync.WaitGroup
}

// start does nothing: the player opened with the session, and its first
// frame goes out at the first next.
func (p *playbackSource) start() {}

// errH265Recording ends the sending of a playback that reached H.265
// frames.
var errH265Recording = errors.New("the recording is H.265")

func (p *playbackSource) next(ctx context.Context) (*cameras.Frame, uint32, error) {
	f, err := p.player.Next(ctx)
	if err != nil {
		if !errors.Is(err, io.EOF) && !errors.Is(err, playback.ErrClosed) && ctx.Err() == nil {
			// A recording that cannot be read: say so on the channel,
			// since the picture just stops.
			p.log.Warn("playback: reading the recordings failed; playback stops", "error", err)
			p.events.send(PlaybackEvent{Kind: "error", Message: "the recording cannot be read; playback stopped", ClockRate: p.rate})
		}
		return nil, 0, err
	}
	if f.Frame.Codec != cameras.CodecH264 {
		// Sessions are H.264; an H.265 recording would play black.
		p.log.Warn("playback: the recording is H.265, which camgate does not play to browsers yet; playback stops")
		p.events.send(PlaybackEvent{Kind: "error", Message: "the recording is H.265, which camgate does not play to browsers yet; export it instead", ClockRate: p.rate})
		return nil, 0, errH265Recording
	}
	return f.Frame, f.RTPTimestamp(p.rate), nil
}

// requestKeyframe does nothing: a recording has its keyframes where they
// were recorded, and the first frame sent is one.
func (p *playbackSource) requestKeyframe() {}

// close stops the player and waits for the event forwarder.
func (p *playbackSource) close() {
	p.player.Close()
	p.fwd.Wait()
}

// forward sends the player's events to the commands channel until the
// player closes its event channel.
func (p *playbackSource) forward() {
	defer p.fwd.Done()
	for e := range p.player.Events() {
		p.events.send(eventOf(e, p.rate))
	}
}

// PlaybackEvent tells a playback session's client what the player does
// (docs/api.md): Kind is start, gap, resume, end or error; Time is a
// recorded time, Until the end of a gap; RTPTimestamp is Time on the
// session's RTP clock, signed (nil for an error); ClockRate its ticks per
// second.
type PlaybackEvent struct {
	Kind         string
	Time         time.Time
	Until        time.Time
	RTPTimestamp *int32
	ClockRate    uint32
	Speed        float64
	Message      string
}

// EventName is "playback".
func (PlaybackEvent) EventName() string { return "playback" }

func eventOf(e playback.Event, rate uint32) PlaybackEvent {
	ts := int32(playback.PlayFrame{Offset: e.Offset}.RTPTimestamp(rate))
	return PlaybackEvent{Kind: string(e.Type), Time: e.Time, Until: e.Until, RTPTimestamp: &ts, ClockRate: rate, Speed: e.Speed}
}
