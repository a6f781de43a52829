package ptz

import (
	"context"
	"errors"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Code is the code of an error reply. The values follow JSON-RPC 2.0: the
// protocol errors are JSON-RPC's own (-32700…-32600), the others are in
// its range for server errors (-32000…-32099). Each has a short name
// (Code.String) that replies carry as error.data.reason.
type Code int

// The codes of error replies.
const (
	CodeParseError     Code = -32700 // the message is not JSON
	CodeInvalidRequest Code = -32600 // too large, not an object, no method, a bad id or type
	CodeMethodNotFound Code = -32601 // no such method
	CodeInvalidParams  Code = -32602 // a parameter is missing or wrong
	CodeInternal       Code = -32603 // a bug in camgate
	CodeBusy           Code = -32001 // another session controls the camera, or its queue is full
	CodeRateLimited    Code = -32002 // too many commands; try again later
	CodeUnsupported    Code = -32003 // the camera cannot do this
	CodeCameraFault    Code = -32004 // the camera answered with an error
	CodeTimeout        Code = -32005 // the camera did not answer in time
	CodeCameraAuth     Code = -32006 // the camera refused camgate's credentials
	CodeUnavailable    Code = -32007 // PTZ is stopped, closing, or the camera has none
	CodeForbidden      Code = -32008 // the caller lacks the ptz right (the gateway checks)
	CodeNotFound       Code = -32009 // no such preset
)

// String is the code's short name ("busy", "rate_limited", …).
func (c Code) String() string {
	switch c {
	case CodeParseError:
		return "parse_error"
	case CodeInvalidRequest:
		return "invalid_request"
	case CodeMethodNotFound:
		return "method_not_found"
	case CodeInvalidParams:
		return "invalid_params"
	case CodeInternal:
		return "internal"
	case CodeBusy:
		return "busy"
	case CodeRateLimited:
		return "rate_limited"
	case CodeUnsupported:
		return "unsupported"
	case CodeCameraFault:
		return "camera_fault"
	case CodeTimeout:
		return "timeout"
	case CodeCameraAuth:
		return "auth"
	case CodeUnavailable:
		return "unavailable"
	case CodeForbidden:
		return "forbidden"
	case CodeNotFound:
		return "not_found"
	}
	return "code_" + strconv.Itoa(int(c))
}

// Error is every error this package returns to a caller: a code, a message
// for the operator (one line, never a password, never more than a short
// quote of the input) and details for the reply's data.
type Error struct {
	Code    Code
	Message string
	// RetryAfter is when trying again makes sense (busy, rate_limited);
	// zero when unknown.
	RetryAfter time.Duration
	// Fault is the camera's own error code (an ONVIF subcode such as
	// "ter:InvalidArgVal"), for camera_fault.
	Fault string
	// Err is the cause, for errors.Is/As and logs; never shown to clients.
	Err error
}

func (e *Error) Error() string { return e.Message }

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

func newError(code Code, msg string) *Error { return &Error{Code: code, Message: msg} }

// ErrForbidden is the reply for a caller without the ptz right on the
// camera; the gateway checks the right and answers with it.
var ErrForbidden = &Error{Code: CodeForbidden, Message: "you may not steer this camera (no ptz right)"}

// ErrNoPTZ is the reply for a camera without PTZ control.
var ErrNoPTZ = &Error{Code: CodeUnavailable, Message: "this camera has no PTZ control"}

// AsError maps any error to an *Error: the one place where errors become
// codes. An *Error stays as it is; driver errors, timeouts and
// cancellations get their code and a message that names the operation
// (op, e.g. "ptzGotoPreset"). The cause's own text is not shown: it may
// carry a camera address.
func AsError(op string, err error) *Error {
	if err == nil {
		return nil
	}
	var pe *Error
	if errors.As(err, &pe) {
		return pe
	}
	if op == "" {
		op = "PTZ"
	}
	e := &Error{Err: err}
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		e.Code, e.Message = CodeTimeout, op+": the camera did not answer in time"
	case errors.Is(err, context.Canceled):
		e.Code, e.Message = CodeUnavailable, op+": cancelled"
	case errors.Is(err, ErrNotSupported):
		e.Code, e.Message = CodeUnsupported, op+": the camera does not support this"
	case errors.Is(err, ErrNotFound):
		e.Code, e.Message = CodeNotFound, op+": no such preset"
	case errors.Is(err, ErrCameraAuth):
		e.Code, e.Message = CodeCameraAuth, op+": the camera refused camgate's credentials (check the user name, password and the camera's clock)"
	case errors.Is(err, ErrCameraFault):
		e.Code, e.Message = CodeCameraFault, op+": the camera reported an error"
	default:
		e.Code, e.Message = CodeUnavailable, op+": the camera could not be reached"
	}
	var f Fault
	if errors.As(err, &f) {
		e.Fault = Shorten(f.FaultCode(), 80)
		if e.Fault != "" {
			e.Message += " (" + e.Fault + ")"
		}
	}
	return e
}

// Shorten cuts s to at most n bytes on a rune boundary, with "…", and
// keeps it on one line: for a piece of input or a camera's text in a
// message.
func Shorten(s string, n int) string {
	s = strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f {
			return ' '
		}
		return r
	}, s)
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// QuoteInput quotes a piece of input for a message, shortened.
func QuoteInput(s string) string { return strconv.Quote(Shorten(s, 40)) }

func itoa(n int) string { return FormatNumber(float64(n)) }

// fmtDur writes a wait for a message: "0.4s", "4.2s".
func fmtDur(d time.Duration) string {
	s := math.Ceil(d.Seconds()*10) / 10
	return FormatNumber(s) + "s"
}

// FormatNumber writes a number for a message: plainly, or with 4
// significant digits from a million up.
func FormatNumber(f float64) string {
	if math.Abs(f) >= 1e6 {
		return strconv.FormatFloat(f, 'g', 4, 64)
	}
	return strconv.FormatFloat(f, 'f', -1, 64)
}
