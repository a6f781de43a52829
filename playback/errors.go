package playback

import (
	"errors"
	"fmt"
	"time"
)

// Errors of the store. Those a client is told about are typed, so that each
// signaling protocol maps them in its one table (package gateway/signaling):
//
//	*RequestError    a parameter breaks a rule (speed, duration, camera id)
//	*RangeError      no recording where the request asks for one
//	ErrClosed        the store or player is closed
//
// Anything else is camgate's own failure, whose text a client never sees
// (IsTyped tells them apart).
var (
	// ErrClosed is returned by calls on a closed store or player.
	ErrClosed = errors.New("playback: closed")
	// ErrRecording is returned by NewRecorder when the camera already has a
	// recorder.
	ErrRecording = errors.New("playback: the camera already has a recorder")
)

// IsTyped reports whether err is one of the typed errors above, which a
// client is told about; anything else is logged and shown as internal.
func IsTyped(err error) bool {
	var req *RequestError
	var rng *RangeError
	return errors.As(err, &req) || errors.As(err, &rng) || errors.Is(err, ErrClosed)
}

// RequestError reports a request parameter that breaks a rule. Its text
// names the parameter and the rule, for a 400 answer.
type RequestError struct {
	// Field is the parameter: "speed", "duration", "cameraId", "start".
	Field string
	// Msg is the rule and the offending value.
	Msg string
}

func (e *RequestError) Error() string { return e.Field + ": " + e.Msg }

// RangeError reports a time at which there is nothing to play or export:
// the camera has no recordings, or the time is before the oldest or after
// the newest. The message gives the available range.
type RangeError struct {
	// Requested is the time asked for.
	Requested time.Time
	// Oldest and Newest bound the camera's recordings; both are zero when
	// it has none.
	Oldest, Newest time.Time
}

func (e *RangeError) Error() string {
	req := e.Requested.UTC().Format(time.RFC3339Nano)
	switch {
	case e.Oldest.IsZero():
		return fmt.Sprintf("no recording: the camera has no recordings (requested %s)", req)
	case e.Requested.Before(e.Oldest):
		return fmt.Sprintf("no recording at %s: it is before the oldest recording; recordings are available from %s to %s",
			req, fmtTime(e.Oldest), fmtTime(e.Newest))
	default:
		return fmt.Sprintf("no recording at %s: it is after the newest recording; recordings are available from %s to %s",
			req, fmtTime(e.Oldest), fmtTime(e.Newest))
	}
}

func fmtTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z07:00") }
