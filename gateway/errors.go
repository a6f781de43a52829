package gateway

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"
)

// apiError is an error with the HTTP status it maps to. Every handler error
// that a client should see is one; anything else becomes a 500 whose text is
// not shown (it may carry internals).
type apiError struct {
	Status int
	Text   string
	// Limit is the setting of the limit that refused the request
	// (limits.go), if one did; the WebSocket API maps such a refusal to
	// its own code (rpcErrorOf).
	Limit string
	// RetryAfter, when set, is sent as the Retry-After header: when the
	// request may succeed again.
	RetryAfter time.Duration
}

func (e *apiError) Error() string { return fmt.Sprintf("%d: %s", e.Status, e.Text) }

func errorf(status int, format string, args ...any) *apiError {
	return &apiError{Status: status, Text: fmt.Sprintf(format, args...)}
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

// writeError answers err as a JSON error and aborts the handler chain. It is
// the one place where errors become statuses.
func writeError(c *gin.Context, err error) {
	ae := asAPIError(err)
	setRetryAfter(c.Writer.Header(), ae)
	c.AbortWithStatusJSON(ae.Status, bodyOf(ae))
}

// writeErrorHTTP is writeError for handlers outside gin (the wrappers
// around the router).
func writeErrorHTTP(w http.ResponseWriter, err error) {
	ae := asAPIError(err)
	b, _ := json.Marshal(bodyOf(ae))
	setRetryAfter(w.Header(), ae)
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(ae.Status)
	_, _ = w.Write(b)
}

// setRetryAfter sends an error's RetryAfter in whole seconds.
func setRetryAfter(h http.Header, ae *apiError) {
	if ae.RetryAfter > 0 {
		h.Set("Retry-After", strconv.Itoa(retrySeconds(ae.RetryAfter)))
	}
}

func asAPIError(err error) *apiError {
	var ae *apiError
	if !errors.As(err, &ae) {
		ae = &apiError{Status: http.StatusInternalServerError, Text: "internal error"}
	}
	return ae
}

func bodyOf(ae *apiError) errorBody {
	return errorBody{Error: errorObject{HTTPCode: ae.Status, Details: []errorDetail{{ErrorText: ae.Text}}}}
}

// errLimit marks a refusal because a client reached a limit of the
// settings; its text names the limit and the setting. It is a 400 over
// REST and invalid params (-32602) over the WebSocket, whatever the code a
// malformed input of the same request would get.
type errLimit struct{ *apiError }

func (e errLimit) Unwrap() error { return e.apiError }

// quoteInput quotes what a client sent for an error text or a log line:
// escaped as %q does (invalid UTF-8 as \xNN, control characters as \n or
// \u00NN) and cut at a whole character so that the quoted text is at most
// n bytes between its quotes, plus "…" when something was cut. Quoting
// after cutting (%q of truncate) could make an error text four times
// longer than its bound on invalid UTF-8.
func quoteInput(s string, n int) string {
	b := make([]byte, 0, min(len(s), n)+8)
	b = append(b, '"')
	var one [16]byte
	for i := 0; i < len(s); {
		_, size := utf8.DecodeRuneInString(s[i:])
		q := strconv.AppendQuote(one[:0], s[i:i+size])
		q = q[1 : len(q)-1] // without its own quotes
		if len(b)-1+len(q) > n {
			b = append(b, `"…`...)
			return string(b)
		}
		b = append(b, q...)
		i += size
	}
	return string(append(b, '"'))
}
