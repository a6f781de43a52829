package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/camgate/camgate/cameras"
	"github.com/camgate/camgate/playback"
)

// Playback sessions: a REST playbackTimeNode or the WebSocket PlaybackTime
// parameters make a session play the camera's recordings instead of its
// live stream. The session is the same as a live one; only its mediaSource
// differs (playbackSource here, liveSource in livesource.go), and the
// player's events go out on the commands data channel.

// playbackParams are the checked playback parameters of a session request.
type playbackParams struct {
	Time     time.Time // the requested playback time T
	Speed    float64   // 0 < Speed ≤ playback.MaxSpeed
	SkipGaps bool
}

// playbackNames are the names a client gave the playback parameters, for
// error texts that name the field it sent.
type playbackNames struct{ time, speed string }

// restPlaybackNames are the names in REST's playbackTimeNode.
func restPlaybackNames() playbackNames {
	return playbackNames{time: "playbackTimeNode.playbackTime", speed: "playbackTimeNode.speed"}
}

// wsPlaybackNames are the names in a WebSocket connect.
func wsPlaybackNames() playbackNames {
	return playbackNames{time: "PlaybackTime", speed: "PlaybackSpeed"}
}

// parsePlayback checks a playback request: the time in ISO 8601 and a
// speed more than 0 and at most 32 (1 when unset). Its errors are 400s
// naming the field.
func parsePlayback(rawTime string, speed flexFloat, skipGaps flexBool, names playbackNames) (*playbackParams, error) {
	t, err := parseISOTime(rawTime)
	if err != nil {
		return nil, errorf(http.StatusBadRequest, "%s: %s", names.time, err)
	}
	p := &playbackParams{Time: t, Speed: 1, SkipGaps: skipGaps.Set && skipGaps.Value}
	if speed.Set {
		p.Speed = speed.Value
	}
	if !(p.Speed > 0 && p.Speed <= playback.MaxSpeed) {
		return nil, errorf(http.StatusBadRequest, "%s must be more than 0 and at most %d (got %g)", names.speed, playback.MaxSpeed, p.Speed)
	}
	return p, nil
}

// parseISOTime reads an ISO 8601 date and time with a time zone, as the
// XProtect sample sends it (Date.toISOString(): 2024-05-01T10:00:00.000Z)
// and its README documents it (2020-07-10T17:00:00.000+02:00). A time
// without a zone is refused rather than guessed.
func parseISOTime(raw string) (time.Time, error) {
	s := strings.ToUpper(strings.TrimSpace(raw))
	// The forms accepted: a date, "T", a time with optional fractional
	// seconds (after "." or ","), and a zone, "Z" or an offset as +02:00,
	// +0200 or +02.
	isoLayouts := []string{time.RFC3339, "2006-01-02T15:04:05Z0700", "2006-01-02T15:04:05Z07"}
	for _, layout := range isoLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	if _, err := time.Parse("2006-01-02T15:04:05", s); err == nil {
		return time.Time{}, fmt.Errorf("%s has no time zone; add Z (UTC) or an offset such as +02:00", quoteInput(raw, 40))
	}
	return time.Time{}, fmt.Errorf("%s is not an ISO 8601 time such as 2024-05-01T10:00:00Z or 2024-05-01T12:00:00.000+02:00", quoteInput(raw, 40))
}

// formatTime writes a time as the API does: UTC, milliseconds, "Z".
func formatTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z07:00") }

// playbackError maps an error of the recording store to the API's status,
// the one place where that happens: a bad parameter is a 400, a time with
// no recording a 404 whose text gives the available range, a closed store
// a 503. Anything else is a 500 that does not show its text.
func playbackError(err error) error {
	var req *playback.RequestError
	var rng *playback.RangeError
	switch {
	case errors.As(err, &req):
		return errorf(http.StatusBadRequest, "%s", req.Error())
	case errors.As(err, &rng):
		return errorf(http.StatusNotFound, "%s", rng.Error())
	case errors.Is(err, playback.ErrClosed):
		return errorf(http.StatusServiceUnavailable, "camgate is shutting down")
	}
	return err
}

// openPlayback opens the player of a session: it finds where playback
// starts (or answers why it cannot) before the session exists, and starts
// forwarding the player's events to the session's commands channel.
func (m *sessionManager) openPlayback(ctx context.Context, cameraID string, p playbackParams, events *commandEvents, log *slog.Logger) (mediaSource, error) {
	if m.store == nil {
		return nil, errorf(http.StatusNotImplemented, "playback is not available: this gateway runs without a recording store")
	}
	player, err := m.store.Open(ctx, playback.PlayRequest{CameraID: cameraID, Start: p.Time, Speed: p.Speed, SkipGaps: p.SkipGaps})
	if err != nil {
		mapped := playbackError(err)
		if mapped == err { //nolint:errorlint // the same value: playbackError knew no status for it
			log.Warn("playback: cannot open the recordings", "error", err)
		}
		return nil, mapped
	}
	src := &playbackSource{player: player, rate: uint32(m.clock.ticksPerSecond), events: events, log: log}
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

func (p *playbackSource) next(ctx context.Context) (*cameras.Frame, uint32, error) {
	f, err := p.player.Next(ctx)
	if err != nil {
		if !errors.Is(err, io.EOF) && !errors.Is(err, playback.ErrClosed) && ctx.Err() == nil {
			// A recording that cannot be read: say so on the channel,
			// since the picture just stops.
			p.log.Warn("playback: reading the recordings failed; playback stops", "error", err)
			p.events.send(encodeEvent(playbackEvent{Kind: "error", Message: "the recording cannot be read; playback stopped", ClockRate: p.rate}))
		}
		return nil, 0, err
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
		p.events.send(encodeEvent(eventOf(e, p.rate)))
	}
}

// playbackEvent is the params of a "playback" event on the commands data
// channel:
//
//	{"type":"event","event":"playback","params":{"kind":"gap","time":"2026-01-15T10:02:50.000Z",
//	 "until":"2026-01-15T10:04:10.000Z","rtpTimestamp":170000,"clockRate":1000,"speed":4}}
//
// kind is start, gap, resume, end or error; time is a recorded time (see
// docs/api.md), until the end of a gap; rtpTimestamp is time on the
// session's RTP clock, signed (the value a client reads as
// rtpTimestamp | 0); clockRate its ticks per second.
type playbackEvent struct {
	Kind         string  `json:"kind"`
	Time         string  `json:"time,omitempty"`
	Until        string  `json:"until,omitempty"`
	RTPTimestamp *int32  `json:"rtpTimestamp,omitempty"`
	ClockRate    uint32  `json:"clockRate"`
	Speed        float64 `json:"speed,omitempty"`
	Message      string  `json:"message,omitempty"`
}

func eventOf(e playback.Event, rate uint32) playbackEvent {
	ts := int32(playback.PlayFrame{Offset: e.Offset}.RTPTimestamp(rate))
	out := playbackEvent{Kind: string(e.Type), Time: formatTime(e.Time), RTPTimestamp: &ts, ClockRate: rate, Speed: e.Speed}
	if !e.Until.IsZero() {
		out.Until = formatTime(e.Until)
	}
	return out
}

// commandMessage is a message camgate sends on the commands channel on its
// own (replies to requests have "type":"response").
type commandMessage struct {
	Type   string `json:"type"`
	Event  string `json:"event"`
	Params any    `json:"params"`
}

func encodeEvent(e playbackEvent) []byte {
	b, _ := json.Marshal(commandMessage{Type: "event", Event: "playback", Params: e})
	return b
}

// maxQueuedEvents bounds the messages kept for a commands channel that is
// not open yet; the client opens it right after its answer.
const maxQueuedEvents = 64

// commandEvents sends camgate's own messages on a session's commands data
// channel, in order: those sent before the client opened the channel are
// kept (up to maxQueuedEvents) and go out when it opens. Sends after the
// channel closed are lost: nobody is left to read them.
type commandEvents struct {
	mu      sync.Mutex
	dc      *webrtc.DataChannel
	open    bool
	backlog [][]byte
	dropped int
}

func newCommandEvents() *commandEvents { return &commandEvents{} }

// send sends b, or queues it while the channel is not open yet; true when
// it went to an open channel.
func (q *commandEvents) send(b []byte) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	if !q.open {
		if len(q.backlog) < maxQueuedEvents {
			q.backlog = append(q.backlog, b)
		} else {
			q.dropped++
		}
		return false
	}
	return q.dc.SendText(string(b)) == nil
}

// sent reports whether the client has acknowledged everything sent on the
// channel (or the channel is gone).
func (q *commandEvents) sent() bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return !q.open || q.dc.ReadyState() != webrtc.DataChannelStateOpen || q.dc.BufferedAmount() == 0
}

// attach makes dc the channel; the backlog goes out when it opens.
func (q *commandEvents) attach(dc *webrtc.DataChannel) {
	q.mu.Lock()
	q.dc, q.open = dc, false
	q.mu.Unlock()
	dc.OnOpen(func() {
		q.mu.Lock()
		defer q.mu.Unlock()
		if q.dc != dc {
			return
		}
		q.open = true
		for _, b := range q.backlog {
			_ = dc.SendText(string(b))
		}
		q.backlog = nil
	})
}

// acceptDataChannel takes a channel the client opened: the commands
// channel's requests are handled by onDataChannel (datachannel.go), and
// camgate's own events go out on it too.
func (s *Session) acceptDataChannel(dc *webrtc.DataChannel) {
	s.onDataChannel(dc)
	if dc.Protocol() == commandsProtocol {
		s.events.attach(dc)
	}
}
