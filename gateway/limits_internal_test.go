package gateway

import (
	"errors"
	"net/http"
	"net/netip"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/camgate/camgate/appsettings"
	"github.com/camgate/camgate/oauth"
)

// Sessions are refused with 503 while fewer than MinFreeFileDescriptors
// are free below the soft limit; the refusal takes no place.
func TestMinFreeFileDescriptors(t *testing.T) {
	t.Parallel()
	l := newSessionLimits(appsettings.Defaults().Limits, 10*time.Second)
	open := 1024 - 256 // exactly the reserve free: admitted
	l.fds = func() (int, int, bool) { return open, 1024, true }
	p := &oauth.Principal{Issuer: "i", Subject: "s"}
	addr := netip.MustParseAddr("127.0.0.1")
	slot, err := l.admit(p, addr)
	if err != nil {
		t.Fatalf("admit with the reserve free: %v", err)
	}
	open++
	_, err = l.admit(p, addr)
	var ae *apiError
	if !errors.As(err, &ae) || ae.Status != http.StatusServiceUnavailable || ae.Limit != "Limits.MinFreeFileDescriptors" || ae.RetryAfter != 15*time.Second {
		t.Fatalf("admit with one descriptor less free: %#v, want a 503 of Limits.MinFreeFileDescriptors, retry after 15 s", err)
	}
	if l.total != 1 || l.users["i\x00s"].open != 1 || l.users["i\x00s"].pending != 1 || l.addrs[addressKey(addr)] != 1 {
		t.Fatalf("counts after the refusal: total %d, user %+v, address %d; want only the first session", l.total, *l.users["i\x00s"], l.addrs[addressKey(addr)])
	}
	l.answered(slot)
	l.answered(slot)
	if u := l.users["i\x00s"]; u.open != 1 || u.pending != 0 {
		t.Fatalf("after the answer: %+v, want 1 open, 0 pending", *u)
	}
	l.free(slot)
	l.free(slot)
	if l.total != 0 || len(l.users) != 0 || len(l.addrs) != 0 {
		t.Fatalf("after free: total %d, users %v, addresses %v; want nothing", l.total, l.users, l.addrs)
	}
	// 0 turns the check off.
	l.cfg.MinFreeFileDescriptors = 0
	if _, err := l.admit(p, addr); err != nil {
		t.Fatalf("admit with the check off: %v", err)
	}
}

// On Linux the count follows the descriptors the process opens.
func TestOpenFileDescriptors(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("counted on Linux only")
	}
	before, limit, ok := openFileDescriptors()
	if !ok || before <= 0 || limit < before {
		t.Fatalf("openFileDescriptors() = %d, %d, %v", before, limit, ok)
	}
	f, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	after, _, _ := openFileDescriptors()
	f.Close()
	// Not parallel, yet the runtime or another test's leftovers may open
	// or close one meanwhile: a count, not an exact figure.
	if after < before+1 || after > before+3 {
		t.Fatalf("%d descriptors before opening a file, %d after", before, after)
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
		{limitError(http.StatusTooManyRequests, limitSessionsPerUser, sessionEndWait, "user x has reached %s (2 open sessions); ", limitSessionsPerUser), rpcInsufficientResources},
		{limitError(http.StatusServiceUnavailable, limitMaxSessions, sessionEndWait, "camgate has reached %s (2 open sessions in all); ", limitMaxSessions), rpcInsufficientResources},
		{errorf(http.StatusServiceUnavailable, "camgate is shutting down"), rpcUnavailable},
		{errorf(http.StatusTooManyRequests, "too many"), http.StatusTooManyRequests},
	} {
		e := rpcErrorOf(tc.err, rpcInvalidParams)
		if e.Code != tc.code {
			t.Errorf("%v: code %d, want %d", tc.err, e.Code, tc.code)
		}
		if ae := asAPIError(tc.err); ae.Limit != "" && !strings.Contains(e.Message, ae.Limit) {
			t.Errorf("%v: message %q does not name %s", tc.err, e.Message, ae.Limit)
		}
	}
}
