package rtc

import (
	"errors"
	"fmt"
	"time"
)

// Kind is what went wrong, in terms a signaling protocol maps to its own
// answer (an HTTP status, a JSON-RPC code). rtc never chooses a status: each
// protocol has its one table in package signaling.
type Kind int

// The kinds of Error.
const (
	// Internal is a bug or a failure the client cannot act on; its text is
	// not shown.
	Internal Kind = iota
	// BadInput: the request is malformed or names something invalid.
	BadInput
	// OverLimit: the request is well formed but larger than a limit of the
	// settings allows (WebRTC.MaxRemoteCandidates, MaxClientIceServers, …);
	// the text names the setting.
	OverLimit
	// NotFound: no such camera, stream or session.
	NotFound
	// Gone: the session existed and has ended.
	Gone
	// Conflict: the request clashes with the session's state (a second
	// answer).
	Conflict
	// Forbidden: the caller lacks the right, or the session is another
	// user's.
	Forbidden
	// TooMany: the caller's share of a limit of Limits.* is used up;
	// Limit names it and RetryAfter says when to try again.
	TooMany
	// Unavailable: camgate cannot serve it now (it shuts down, or the
	// process is full: then Limit and RetryAfter are set).
	Unavailable
	// NotImplemented: this gateway has no such feature (playback without a
	// recording store).
	NotImplemented
)

// String names the kind for logs and tests.
func (k Kind) String() string {
	switch k {
	case Internal:
		return "internal"
	case BadInput:
		return "bad input"
	case OverLimit:
		return "over a limit"
	case NotFound:
		return "not found"
	case Gone:
		return "gone"
	case Conflict:
		return "conflict"
	case Forbidden:
		return "forbidden"
	case TooMany:
		return "too many"
	case Unavailable:
		return "unavailable"
	case NotImplemented:
		return "not implemented"
	}
	return fmt.Sprintf("kind %d", int(k))
}

// Error is every error rtc returns that a client should see: its kind and a
// text for the client (never a secret, never more than a short quote of
// the input). Anything else rtc returns is internal.
type Error struct {
	Kind Kind
	Text string
	// Limit is the setting of the Limits.* limit that refused a session
	// (limits.go), if one did.
	Limit string
	// RetryAfter, when set, is when the request may succeed again.
	RetryAfter time.Duration
}

func (e *Error) Error() string { return e.Kind.String() + ": " + e.Text }

// Errorf returns an *Error of kind k.
func Errorf(k Kind, format string, args ...any) *Error {
	return &Error{Kind: k, Text: fmt.Sprintf(format, args...)}
}

// AsError finds the *Error in err's chain.
func AsError(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

// KindOf is the kind of err: Internal when it carries no *Error.
func KindOf(err error) Kind {
	if e, ok := AsError(err); ok {
		return e.Kind
	}
	return Internal
}
