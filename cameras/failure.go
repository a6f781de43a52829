package cameras

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"strings"
	"syscall"

	"github.com/bluenviron/gortsplib/v4/pkg/base"
	"github.com/bluenviron/gortsplib/v4/pkg/description"
	"github.com/bluenviron/gortsplib/v4/pkg/format"
	"github.com/bluenviron/gortsplib/v4/pkg/liberrors"
)

// Cause classifies why a camera stream is not streaming, for clients that
// act on it (the console, scripts). The values are part of the API.
type Cause string

// The causes of a failed or ended camera stream.
const (
	CauseUnauthorized     Cause = "unauthorized"     // 401/403: wrong, missing or refused credentials
	CauseRefused          Cause = "refused"          // nothing accepts connections at the camera's address and port
	CauseNotFound         Cause = "notFound"         // 404: the camera has no stream at the URL's path
	CauseUnreachable      Cause = "unreachable"      // no answer: timeout, no route, unknown host name
	CauseUnsupportedCodec Cause = "unsupportedCodec" // video, but neither H.264 nor H.265 (MJPEG, …)
	CauseNoVideo          Cause = "noVideo"          // the camera offers no video track
	CauseEnded            Cause = "ended"            // the camera closed the connection
	CauseStalled          Cause = "stalled"          // the connection stayed open but no media came
	CauseTransport        Cause = "transport"        // 461: the camera refuses the RTP transport asked for
	CauseBadURL           Cause = "badUrl"           // the stream's Url cannot be used
	CauseCameraError      Cause = "cameraError"      // another RTSP error status from the camera
	CauseFailed           Cause = "failed"           // anything else
	// CauseBFrames is not a failure: the camera streams, with B-frames
	// (state degraded).
	CauseBFrames Cause = "bFrames"
)

// bFramesFailure is the degraded state's cause and reason for a camera that
// sends B-frames.
func bFramesFailure() *Failure {
	return &Failure{
		Cause:  CauseBFrames,
		Reason: "the camera sends B-frames, which browsers play badly: turn off B-frames on the camera, or set Transcode",
		Detail: "presentation timestamps go backwards within a GOP: frames are reordered (B-frames)",
	}
}

// Failure is a classified failure of a camera stream's source: why, as a
// Cause and as a sentence for a person, and the library's own text.
type Failure struct {
	Cause Cause
	// Reason is a short sentence for a person, without a final period:
	// "wrong user name or password".
	Reason string
	// Detail is the underlying error's text, without credentials.
	Detail string
}

func (f *Failure) Error() string { return f.Reason + ": " + f.Detail }

// needsOperator reports failures that retrying soon cannot fix: someone
// must change the camera or the settings. They are retried at the long
// interval (retryPolicy.LongCap).
func (f *Failure) needsOperator() bool {
	switch f.Cause {
	case CauseUnauthorized, CauseUnsupportedCodec, CauseNoVideo, CauseBadURL, CauseTransport:
		return true
	}
	return false
}

// UnsupportedError reports a camera that offers no stream camgate can
// serve: video in another codec than H.264 or H.265, or no video at all.
type UnsupportedError struct {
	Cause Cause // CauseUnsupportedCodec or CauseNoVideo
	// Reason is the sentence for a person ("the camera sends H.265").
	Reason string
	// Offered names the formats the camera offers.
	Offered string
}

func (e *UnsupportedError) Error() string {
	return "unsupported camera: no H.264 or H.265 video; the camera offers " + e.Offered
}

// unsupported describes a camera whose SDP has no H.264 or H.265 video.
func unsupported(medias []*description.Media) *UnsupportedError {
	e := &UnsupportedError{Cause: CauseNoVideo, Offered: describeFormats(medias), Reason: "the camera offers no video"}
	var video []string
	for _, m := range medias {
		if m.Type != description.MediaTypeVideo {
			continue
		}
		for _, f := range m.Formats {
			video = append(video, codecName(f))
		}
	}
	if len(video) > 0 {
		e.Cause = CauseUnsupportedCodec
		e.Reason = "the camera sends " + strings.Join(video, " and ") + ", not H.264 or H.265"
	}
	return e
}

// codecName is a format's codec as people call it.
func codecName(f format.Format) string {
	switch f.(type) {
	case *format.H265:
		return "H.265"
	case *format.MJPEG:
		return "MJPEG"
	}
	return f.Codec()
}

// classify turns what a source's run returned into a Failure. rawURL is
// the stream's URL, whose password never reaches Detail.
func classify(err error, rawURL string) Failure {
	if err == nil {
		return Failure{Cause: CauseEnded, Reason: "the camera ended the stream", Detail: "the stream ended without an error"}
	}
	f := Failure{Cause: CauseFailed, Reason: "the connection to the camera failed", Detail: scrubText(err.Error(), rawURL)}
	var (
		status  liberrors.ErrClientBadStatusCode
		unsup   *UnsupportedError
		badURL  *badURLError
		dnsErr  *net.DNSError
		authErr liberrors.ErrClientAuthSetup
		netErr  net.Error
	)
	switch {
	case errors.As(err, &unsup):
		f.Cause, f.Reason = unsup.Cause, unsup.Reason
	case errors.As(err, &badURL):
		f.Cause, f.Reason = CauseBadURL, "the stream's Url is not a valid RTSP URL"
	case errors.As(err, &status):
		f.Cause, f.Reason = statusCause(status.Code, rawURL)
	case errors.As(err, &authErr):
		f.Cause, f.Reason = CauseUnauthorized, "the camera asks for an authentication method camgate does not support"
	case errors.Is(err, syscall.ECONNREFUSED):
		f.Cause, f.Reason = CauseRefused, "the camera refused the connection"
	case errors.As(err, &dnsErr):
		f.Cause, f.Reason = CauseUnreachable, "the camera's host name cannot be resolved"
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		f.Cause, f.Reason = CauseUnreachable, "the camera's address cannot be reached"
	case errors.As(err, new(liberrors.ErrClientTCPTimeout)), errors.As(err, new(liberrors.ErrClientUDPTimeout)):
		// The connection is up but the camera stopped sending (or
		// answering): read timeouts of the running session.
		f.Cause, f.Reason = CauseStalled, "the camera stopped sending video"
	case errors.Is(err, io.EOF), errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE),
		errors.As(err, new(liberrors.ErrClientTerminated)):
		f.Cause, f.Reason = CauseEnded, "the camera ended the stream"
	case errors.As(err, new(liberrors.ErrClientRequestTimedOut)), errors.Is(err, context.DeadlineExceeded),
		errors.Is(err, os.ErrDeadlineExceeded),
		errors.As(err, &netErr) && netErr.Timeout():
		f.Cause, f.Reason = CauseUnreachable, "the camera does not answer"
	}
	return f
}

// statusCause classifies an RTSP error status of the camera.
func statusCause(code base.StatusCode, rawURL string) (Cause, string) {
	switch code {
	case base.StatusUnauthorized:
		if !hasCredentials(rawURL) {
			return CauseUnauthorized, "the camera asks for a user name and password; the stream's Url has none"
		}
		return CauseUnauthorized, "wrong user name or password"
	case base.StatusForbidden:
		return CauseUnauthorized, "the camera refuses this user access to the stream"
	case base.StatusNotFound:
		return CauseNotFound, "no such stream on the camera"
	case base.StatusUnsupportedTransport:
		return CauseTransport, "the camera refuses the RTP transport (set the camera's Transport to tcp or auto)"
	}
	text := base.StatusMessages[code]
	if text == "" {
		text = "an error"
	}
	return CauseCameraError, fmt.Sprintf("the camera answered %d %s", int(code), text)
}

// hasCredentials reports whether an RTSP URL carries a user name.
func hasCredentials(rawURL string) bool {
	u, err := url.Parse(rawURL)
	return err == nil && u.User != nil && u.User.Username() != ""
}

// badURLError reports a stream URL that cannot be used; its text never
// quotes the URL's password.
type badURLError struct{ err error }

func (e *badURLError) Error() string { return e.err.Error() }
func (e *badURLError) Unwrap() error { return e.err }
