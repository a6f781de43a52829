package ptz_test

import (
	"testing"

	"github.com/camgate/camgate/ptz"
)

// The codes' names; their HTTP statuses are signaling's (the gateway's
// TestPTZCodeStatuses).
func TestCodes(t *testing.T) {
	for code, want := range map[ptz.Code]string{
		ptz.CodeBusy: "busy", ptz.CodeRateLimited: "rate_limited", ptz.CodeUnsupported: "unsupported",
		ptz.CodeTimeout: "timeout", ptz.CodeCameraAuth: "auth", ptz.CodeInvalidParams: "invalid_params",
		ptz.CodeForbidden: "forbidden", ptz.CodeNotFound: "not_found", ptz.Code(1): "code_1",
	} {
		if code.String() != want {
			t.Errorf("%d: %s, want %v", code, code, want)
		}
	}
}
