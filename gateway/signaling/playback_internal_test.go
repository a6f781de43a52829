package signaling

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/camgate/camgate/gateway/rtc"
	"github.com/camgate/camgate/playback"
)

// isoTimeCases are playback times as clients send them; the table seeds
// FuzzParseISOTime too.
var isoTimeCases = []struct {
	raw  string
	want string // RFC 3339 in UTC; "" means refused
	err  string // substring of the refusal
}{
	{raw: "2024-05-01T10:00:00.000Z", want: "2024-05-01T10:00:00Z"},      // XProtect sample (Date.toISOString)
	{raw: "2020-07-10T17:00:00.000+02:00", want: "2020-07-10T15:00:00Z"}, // XProtect README
	{raw: "2024-05-01T10:00:00Z", want: "2024-05-01T10:00:00Z"},          // no fraction
	{raw: "2024-05-01T10:00:00.123456789Z", want: "2024-05-01T10:00:00.123456789Z"},
	{raw: "2024-05-01T10:00:00,5Z", want: "2024-05-01T10:00:00.5Z"}, // ISO 8601 decimal comma
	{raw: "2024-05-01T12:30:00-0130", want: "2024-05-01T14:00:00Z"}, // basic offset
	{raw: "2024-05-01T12:00:00+02", want: "2024-05-01T10:00:00Z"},   // hour-only offset
	{raw: " 2024-05-01t10:00:00z ", want: "2024-05-01T10:00:00Z"},   // lower case, spaces
	{raw: "2024-05-01T10:00:00", err: "no time zone"},
	{raw: "2024-05-01T10:00:00.000", err: "no time zone"},
	{raw: "2024-05-01", err: "not an ISO 8601 time"},
	{raw: "yesterday", err: "not an ISO 8601 time"},
	{raw: "1714557600", err: "not an ISO 8601 time"},
	{raw: "2024-13-01T10:00:00Z", err: "not an ISO 8601 time"},
	{raw: "2024-05-01T25:00:00Z", err: "not an ISO 8601 time"},
	{raw: "2024-05-01 10:00:00Z", err: "not an ISO 8601 time"},
	{raw: strings.Repeat("9", 1000), err: "not an ISO 8601 time"},
}

func TestParseISOTime(t *testing.T) {
	t.Parallel()
	for _, tc := range isoTimeCases {
		got, err := parseISOTime(tc.raw)
		if tc.want != "" {
			want, _ := time.Parse(time.RFC3339Nano, tc.want)
			if err != nil || !got.Equal(want) {
				t.Errorf("parseISOTime(%q) = %v, %v; want %v", tc.raw, got, err, want)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tc.err) {
			t.Errorf("parseISOTime(%q) = %v, %v; want an error saying %q", tc.raw, got, err, tc.err)
		}
		if len(err.Error()) > 200 {
			t.Errorf("parseISOTime(%q): error of %d bytes quotes too much", tc.raw, len(err.Error()))
		}
	}
}

func FuzzParseISOTime(f *testing.F) {
	for _, tc := range isoTimeCases {
		f.Add(tc.raw)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		got, err := parseISOTime(raw)
		if err != nil {
			if len(err.Error()) > 200 {
				t.Fatalf("error of %d bytes", len(err.Error()))
			}
			return
		}
		// What parses is a time a second parse of its RFC 3339 form gives back.
		again, err := parseISOTime(got.Format(time.RFC3339Nano))
		if err != nil || !again.Equal(got) {
			t.Fatalf("%q → %v, reparsed %v, %v", raw, got, again, err)
		}
	})
}

func TestParsePlayback(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		speed flexFloat
		skip  flexBool
		want  float64
		err   string
	}{
		{want: 1},
		{speed: flexFloat{Set: true, Value: 0.25}, want: 0.25},
		{speed: flexFloat{Set: true, Value: 32}, skip: flexBool{Set: true, Value: true}, want: 32},
		{speed: flexFloat{Set: true, Value: 0}, err: "PlaybackSpeed must be more than 0 and at most 32 (got 0)"},
		{speed: flexFloat{Set: true, Value: 32.5}, err: "got 32.5"},
		{speed: flexFloat{Set: true, Value: -4}, err: "got -4"},
	} {
		p, err := parsePlayback("2024-05-01T10:00:00Z", tc.speed, tc.skip, wsPlaybackNames())
		if tc.err != "" {
			if ae := asAPIError(err); ae.Status != http.StatusBadRequest || !strings.Contains(ae.Text, tc.err) {
				t.Errorf("speed %+v: %v, want a 400 saying %q", tc.speed, err, tc.err)
			}
			continue
		}
		if err != nil || p.Speed != tc.want || p.SkipGaps != tc.skip.Value || !p.Time.Equal(time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)) {
			t.Errorf("speed %+v: %+v, %v", tc.speed, p, err)
		}
	}
	if _, err := parsePlayback("noon", flexFloat{}, flexBool{}, restPlaybackNames()); err == nil || !strings.Contains(err.Error(), "playbackTimeNode.playbackTime") {
		t.Errorf("bad time: %v, want an error naming playbackTimeNode.playbackTime", err)
	}
}

// The store's errors map to statuses in one place, with their texts.
func TestPlaybackErrorMapping(t *testing.T) {
	t.Parallel()
	rng := &playback.RangeError{Requested: time.Unix(100, 0), Oldest: time.Unix(200, 0), Newest: time.Unix(300, 0)}
	for _, tc := range []struct {
		err    error
		status int
		text   string
	}{
		{&playback.RequestError{Field: "duration", Msg: "must be more than 0s"}, 400, "duration: must be more than 0s"},
		{fmt.Errorf("open: %w", rng), 404, "recordings are available from 1970-01-01T00:03:20.000Z to 1970-01-01T00:05:00.000Z"},
		{playback.ErrClosed, 503, "shutting down"},
		{errors.New("disk on fire"), 500, "internal error"},
	} {
		ae := asAPIError(tc.err)
		if ae.Status != tc.status || !strings.Contains(ae.Text, tc.text) {
			t.Errorf("%v → %d %q, want %d with %q", tc.err, ae.Status, ae.Text, tc.status, tc.text)
		}
	}
}

// A playback event on the commands channel has the documented shape, with
// the event's time on the session's RTP clock as a signed number.
func TestPlaybackEventShape(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 1, 15, 10, 2, 50, 0, time.UTC)
	ts := int32(-1500)
	e := rtc.PlaybackEvent{Kind: "gap", Time: at, Until: at.Add(80 * time.Second), RTPTimestamp: &ts, ClockRate: 1000, Speed: 4}
	got := string(CommandCodec{}.EncodeEvent(e))
	want := `{"type":"event","event":"playback","params":{"kind":"gap","time":"2026-01-15T10:02:50.000Z",` +
		`"until":"2026-01-15T10:04:10.000Z","rtpTimestamp":-1500,"clockRate":1000,"speed":4}}`
	if got != want {
		t.Errorf("event\n got %s\nwant %s", got, want)
	}
	var v map[string]any
	ts = 90000
	if err := json.Unmarshal(CommandCodec{}.EncodeEvent(rtc.PlaybackEvent{Kind: "start", Time: at, RTPTimestamp: &ts, ClockRate: 90000, Speed: 1}), &v); err != nil {
		t.Fatal(err)
	}
	p := v["params"].(map[string]any)
	if p["rtpTimestamp"] != float64(90000) || p["clockRate"] != float64(90000) || p["until"] != nil {
		t.Errorf("start event at 90 kHz: %v", p)
	}
}
