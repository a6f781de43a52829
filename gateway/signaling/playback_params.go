package signaling

import (
	"fmt"
	"strings"
	"time"

	"github.com/camgate/camgate/gateway/internal/errtext"
	"github.com/camgate/camgate/gateway/rtc"
	"github.com/camgate/camgate/playback"
)

// Playback parameters of a session request: REST's playbackTimeNode and a
// WebSocket connect's PlaybackTime, PlaybackSpeed and skipGaps.

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
// speed more than 0 and at most 32 (1 when unset). Its errors are
// rtc.BadInput naming the field.
func parsePlayback(rawTime string, speed flexFloat, skipGaps flexBool, names playbackNames) (*rtc.Playback, error) {
	t, err := parseISOTime(rawTime)
	if err != nil {
		return nil, rtc.Errorf(rtc.BadInput, "%s: %s", names.time, err)
	}
	p := &rtc.Playback{Time: t, Speed: 1, SkipGaps: skipGaps.Set && skipGaps.Value}
	if speed.Set {
		p.Speed = speed.Value
	}
	if !(p.Speed > 0 && p.Speed <= playback.MaxSpeed) {
		return nil, rtc.Errorf(rtc.BadInput, "%s must be more than 0 and at most %d (got %g)", names.speed, playback.MaxSpeed, p.Speed)
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
		return time.Time{}, fmt.Errorf("%s has no time zone; add Z (UTC) or an offset such as +02:00", errtext.Quote(raw, 40))
	}
	return time.Time{}, fmt.Errorf("%s is not an ISO 8601 time such as 2024-05-01T10:00:00Z or 2024-05-01T12:00:00.000+02:00", errtext.Quote(raw, 40))
}

// formatTime writes a time as the API does: UTC, milliseconds, "Z".
func formatTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z07:00") }
