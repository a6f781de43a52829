package oauth

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
)

// postTokenFrom posts a token request from the TCP peer remote, with the
// client address the gateway resolved ("" for none).
func postTokenFrom(t *testing.T, svc *Service, user, password, remote, client string) int {
	t.Helper()
	r := httptest.NewRequest(http.MethodPost, "/API/IDP/connect/token", strings.NewReader(passwordForm(user, password, ClientVms).Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.RemoteAddr = remote
	if client != "" {
		r = r.WithContext(WithClientAddress(r.Context(), netip.MustParseAddr(client)))
	}
	w := httptest.NewRecorder()
	svc.HandleToken(w, r)
	return w.Code
}

// The rate limit counts the address WithClientAddress gives, not the TCP
// peer (a reverse proxy), and the log names it.
func TestRateLimitKeysOnTheResolvedAddress(t *testing.T) {
	t.Parallel()
	s := testSettings(t)
	s.Auth.SignInFailuresPerMinute = 3
	svc := newTestService(t, s)
	const proxy = "10.0.0.1:40000"
	for i := range 3 {
		if code := postTokenFrom(t, svc.Service, fmt.Sprintf("user%d", i), "x", proxy, "203.0.113.7"); code != http.StatusBadRequest {
			t.Fatalf("failure %d: %d", i, code)
		}
	}
	if code := postTokenFrom(t, svc.Service, "bob", bobPassword, proxy, "203.0.113.7"); code != http.StatusTooManyRequests {
		t.Fatalf("the limited client: %d, want 429", code)
	}
	// Another client behind the same proxy, and the proxy itself, are not
	// limited.
	if code := postTokenFrom(t, svc.Service, "bob", bobPassword, proxy, "203.0.113.8"); code != http.StatusOK {
		t.Fatalf("another client behind the proxy: %d, want 200", code)
	}
	if code := postTokenFrom(t, svc.Service, "bob", bobPassword, proxy, ""); code != http.StatusOK {
		t.Fatalf("the proxy's own address: %d, want 200", code)
	}
	// IPv6 clients are keys of their own.
	if code := postTokenFrom(t, svc.Service, "bob", bobPassword, proxy, "2001:db8::7"); code != http.StatusOK {
		t.Fatalf("an IPv6 client: %d, want 200", code)
	}
	for _, want := range []string{"address=203.0.113.7", "address=2001:db8::7"} {
		if logs := svc.logs.String(); !strings.Contains(logs, want) {
			t.Errorf("the log has no %s:\n%s", want, logs)
		}
	}
}

// Without WithClientAddress the TCP peer counts, and an invalid address
// leaves it so.
func TestRateLimitKeysOnThePeerByDefault(t *testing.T) {
	t.Parallel()
	s := testSettings(t)
	s.Auth.SignInFailuresPerMinute = 2
	svc := newTestService(t, s)
	for i := range 2 {
		if code := postTokenFrom(t, svc.Service, fmt.Sprintf("user%d", i), "x", "192.0.2.1:1", ""); code != http.StatusBadRequest {
			t.Fatalf("failure %d: %d", i, code)
		}
	}
	if code := postTokenFrom(t, svc.Service, "bob", bobPassword, "192.0.2.1:2", ""); code != http.StatusTooManyRequests {
		t.Fatalf("the limited peer: %d, want 429", code)
	}
	if ctx := WithClientAddress(context.Background(), netip.Addr{}); ctx != context.Background() {
		t.Errorf("WithClientAddress kept an invalid address")
	}
}

// An IPv6 client is counted by its /64: the addresses a host picks in its
// own network share one budget, another network has its own.
func TestRateLimitCountsIPv6ByItsSlash64(t *testing.T) {
	t.Parallel()
	s := testSettings(t)
	s.Auth.SignInFailuresPerMinute = 3
	svc := newTestService(t, s)
	for i := range 3 {
		peer := fmt.Sprintf("[2001:db8:1:2::%x]:4000", i+1)
		if code := postTokenFrom(t, svc.Service, fmt.Sprintf("user%d", i), "x", peer, ""); code != http.StatusBadRequest {
			t.Fatalf("failure %d: %d", i, code)
		}
	}
	if code := postTokenFrom(t, svc.Service, "bob", bobPassword, "[2001:db8:1:2:ffff::9]:4000", ""); code != http.StatusTooManyRequests {
		t.Fatalf("a new address in the same /64: %d, want 429", code)
	}
	if code := postTokenFrom(t, svc.Service, "bob", bobPassword, "[2001:db8:1:3::1]:4000", ""); code != http.StatusOK {
		t.Fatalf("another /64: %d, want 200", code)
	}
}
