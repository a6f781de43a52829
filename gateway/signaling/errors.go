package signaling

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/camgate/camgate/gateway/internal/errtext"
	"github.com/camgate/camgate/gateway/rtc"
	"github.com/camgate/camgate/playback"
	"github.com/camgate/camgate/ptz"
)

// Errors over HTTP. The session layer (rtc) and the domain packages
// (playback, ptz) return typed errors; this file is the one table that
// turns them into HTTP statuses and XProtect's error body, for the
// signaling and resource APIs and for the HTTP shell. The WebSocket API has
// its own table (rpcErrorOf, wsproto.go).

// HTTPError is an error of the HTTP layer itself (a body too large, a
// method not allowed, a bad token, a host or origin refused), which has its
// status from the start.
type HTTPError struct {
	Status int
	Text   string
	// RetryAfter, when set, is sent as the Retry-After header: when the
	// request may succeed again.
	RetryAfter time.Duration
}

func (e *HTTPError) Error() string { return fmt.Sprintf("%d: %s", e.Status, e.Text) }

// Errorf is an *HTTPError of status.
func Errorf(status int, format string, args ...any) *HTTPError {
	return &HTTPError{Status: status, Text: fmt.Sprintf(format, args...)}
}

// httpStatus is the status of each kind of rtc.Error. A Limits.* refusal
// is TooMany (429, the caller's share) or Unavailable (503, the process is
// full).
func httpStatus(k rtc.Kind) int {
	switch k {
	case rtc.BadInput, rtc.OverLimit:
		return http.StatusBadRequest
	case rtc.NotFound, rtc.Gone:
		return http.StatusNotFound
	case rtc.Conflict:
		return http.StatusConflict
	case rtc.Forbidden:
		return http.StatusForbidden
	case rtc.TooMany:
		return http.StatusTooManyRequests
	case rtc.Unavailable:
		return http.StatusServiceUnavailable
	case rtc.NotImplemented:
		return http.StatusNotImplemented
	}
	return http.StatusInternalServerError
}

// ptzStatus is the status a REST PTZ endpoint answers an error reply of
// each code with.
func ptzStatus(c ptz.Code) int {
	switch c {
	case ptz.CodeParseError, ptz.CodeInvalidRequest, ptz.CodeInvalidParams:
		return http.StatusBadRequest
	case ptz.CodeMethodNotFound, ptz.CodeNotFound:
		return http.StatusNotFound
	case ptz.CodeBusy:
		return http.StatusConflict
	case ptz.CodeRateLimited:
		return http.StatusTooManyRequests
	case ptz.CodeUnsupported:
		return http.StatusNotImplemented
	case ptz.CodeCameraFault, ptz.CodeCameraAuth:
		return http.StatusBadGateway
	case ptz.CodeTimeout:
		return http.StatusGatewayTimeout
	case ptz.CodeUnavailable:
		return http.StatusServiceUnavailable
	case ptz.CodeForbidden:
		return http.StatusForbidden
	}
	return http.StatusInternalServerError
}

// kindError reads a domain error as the rtc.Error it amounts to, for both
// protocols' tables: rtc's own, and the recording store's typed errors (a
// bad parameter, a time without recordings whose text gives the available
// range, a closed store). false: an internal error, whose text is not
// shown.
func kindError(err error) (*rtc.Error, bool) {
	if e, ok := rtc.AsError(err); ok {
		return e, true
	}
	var req *playback.RequestError
	var rng *playback.RangeError
	switch {
	case errors.As(err, &req):
		return rtc.Errorf(rtc.BadInput, "%s", req.Error()), true
	case errors.As(err, &rng):
		return rtc.Errorf(rtc.NotFound, "%s", rng.Error()), true
	case errors.Is(err, playback.ErrClosed):
		return rtc.Errorf(rtc.Unavailable, "camgate is shutting down"), true
	}
	return nil, false
}

// errorBody is the error shape of Milestone's API Gateway REST APIs:
// {"error":{"httpCode":404,"details":[{"errorText":"…"}]}}.
type errorBody struct {
	Error errorObject `json:"error"`
}

type errorObject struct {
	HTTPCode int           `json:"httpCode"`
	Details  []errorDetail `json:"details"`
}

type errorDetail struct {
	ErrorText string `json:"errorText"`
}

// WriteError answers err as a JSON error and aborts the handler chain.
func WriteError(c *gin.Context, err error) {
	ae := asAPIError(err)
	setRetryAfter(c.Writer.Header(), ae)
	c.AbortWithStatusJSON(ae.Status, bodyOf(ae))
}

// WriteErrorHTTP is WriteError for handlers outside gin (the wrappers
// around the router).
func WriteErrorHTTP(w http.ResponseWriter, err error) {
	ae := asAPIError(err)
	b, _ := json.Marshal(bodyOf(ae))
	setRetryAfter(w.Header(), ae)
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(ae.Status)
	_, _ = w.Write(b)
}

// setRetryAfter sends an error's RetryAfter in whole seconds.
func setRetryAfter(h http.Header, ae *HTTPError) {
	if ae.RetryAfter > 0 {
		h.Set("Retry-After", strconv.Itoa(errtext.Seconds(ae.RetryAfter)))
	}
}

// asAPIError is the status and text of any error: an *HTTPError as it is,
// a domain error by the tables above, anything else a 500 whose text is not
// shown (it may carry internals).
func asAPIError(err error) *HTTPError {
	var ae *HTTPError
	if errors.As(err, &ae) {
		return ae
	}
	if e, ok := kindError(err); ok && e.Kind != rtc.Internal {
		return &HTTPError{Status: httpStatus(e.Kind), Text: e.Text, RetryAfter: e.RetryAfter}
	}
	return &HTTPError{Status: http.StatusInternalServerError, Text: "internal error"}
}

func bodyOf(ae *HTTPError) errorBody {
	return errorBody{Error: errorObject{HTTPCode: ae.Status, Details: []errorDetail{{ErrorText: ae.Text}}}}
}

// JSON is e's error body, for an answer written outside net/http (a
// connection refused before the server saw it).
func (e *HTTPError) JSON() []byte {
	b, _ := json.Marshal(bodyOf(e))
	return b
}
