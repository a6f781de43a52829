package signaling

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/camgate/camgate/gateway/rtc"
	"github.com/camgate/camgate/ptz"
)

// The status of each PTZ error code over REST.
func TestPTZCodeStatuses(t *testing.T) {
	t.Parallel()
	for code, want := range map[ptz.Code]int{
		ptz.CodeBusy: 409, ptz.CodeRateLimited: 429, ptz.CodeUnsupported: 501,
		ptz.CodeTimeout: 504, ptz.CodeCameraAuth: 502, ptz.CodeInvalidParams: 400,
		ptz.CodeForbidden: 403, ptz.CodeNotFound: 404, ptz.Code(1): 500,
	} {
		if got := ptzStatus(code); got != want {
			t.Errorf("%d (%s): %d, want %d", code, code, got, want)
		}
	}
}

// The WebSocket API maps every refusal by a limit to 1001, also the
// process's 503; a 503 that is no limit stays 480.
func TestLimitErrorsOverWebSocket(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		err  error
		code int
	}{
		{&rtc.Error{Kind: rtc.TooMany, Limit: "Limits.SessionsPerUser", RetryAfter: 15 * time.Second,
			Text: "user x has reached Limits.SessionsPerUser (2 open sessions); retry in 15 s"}, rpcInsufficientResources},
		{&rtc.Error{Kind: rtc.Unavailable, Limit: "Limits.MaxSessions", RetryAfter: 15 * time.Second,
			Text: "camgate has reached Limits.MaxSessions (2 open sessions in all); retry in 15 s"}, rpcInsufficientResources},
		{rtc.Errorf(rtc.Unavailable, "camgate is shutting down"), rpcUnavailable},
		{Errorf(http.StatusTooManyRequests, "too many"), http.StatusTooManyRequests},
	} {
		e := rpcErrorOf(tc.err, rpcInvalidParams)
		if e.Code != tc.code {
			t.Errorf("%v: code %d, want %d", tc.err, e.Code, tc.code)
		}
		if re, ok := rtc.AsError(tc.err); ok && re.Limit != "" && !strings.Contains(e.Message, re.Limit) {
			t.Errorf("%v: message %q does not name %s", tc.err, e.Message, re.Limit)
		}
	}
}

// Over REST a user's share is a 429 and a full process a 503, both with
// Retry-After.
func TestLimitErrorsOverREST(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		kind   rtc.Kind
		status int
	}{{rtc.TooMany, http.StatusTooManyRequests}, {rtc.Unavailable, http.StatusServiceUnavailable}} {
		ae := asAPIError(&rtc.Error{Kind: tc.kind, Limit: "Limits.X", RetryAfter: 1500 * time.Millisecond, Text: "t"})
		if ae.Status != tc.status || ae.RetryAfter != 1500*time.Millisecond {
			t.Errorf("%s: %+v, want %d with its RetryAfter", tc.kind, ae, tc.status)
		}
	}
}
