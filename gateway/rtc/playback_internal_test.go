package rtc

import (
	"fmt"
	"testing"
	"time"

	"github.com/camgate/camgate/playback"
)

// The player's events as the session's typed events: their time on the
// session's RTP clock, signed.
func TestPlaybackEventOf(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 1, 15, 10, 2, 50, 0, time.UTC)
	e := eventOf(playback.Event{Type: playback.EventGap, Time: at, Until: at.Add(80 * time.Second), Offset: -1500 * time.Millisecond, Speed: 4}, 1000)
	if e.Kind != "gap" || !e.Time.Equal(at) || !e.Until.Equal(at.Add(80*time.Second)) || e.RTPTimestamp == nil || *e.RTPTimestamp != -1500 || e.ClockRate != 1000 || e.Speed != 4 {
		t.Errorf("gap event %+v", e)
	}
	e = eventOf(playback.Event{Type: playback.EventStart, Time: at, Offset: time.Second, Speed: 1}, 90000)
	if e.RTPTimestamp == nil || *e.RTPTimestamp != 90000 || e.ClockRate != 90000 || !e.Until.IsZero() {
		t.Errorf("start event at 90 kHz: %+v", e)
	}
}

// Events sent before the client opened its commands channel wait for it,
// up to a bound.
func TestCommandEventsBacklog(t *testing.T) {
	t.Parallel()
	q := newCommandEvents(testCodec{})
	for i := range maxQueuedEvents + 5 {
		q.sendBytes([]byte(fmt.Sprint(i)))
	}
	if len(q.backlog) != maxQueuedEvents || q.dropped != 5 || string(q.backlog[0]) != "0" {
		t.Fatalf("backlog %d, dropped %d", len(q.backlog), q.dropped)
	}
}
