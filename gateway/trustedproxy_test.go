package gateway_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/camgate/camgate/appsettings"
	"github.com/camgate/camgate/cameras"
	"github.com/camgate/camgate/gateway"
)

// signInVia posts a password sign-in to the gateway's token endpoint over
// loopback with the given forwarding headers, and returns the status.
func (e *testEnv) signInVia(user, password string, headers map[string]string) int {
	e.t.Helper()
	form := url.Values{"grant_type": {"password"}, "username": {user}, "password": {password}, "client_id": {"GrantValidatorClient"}}
	req, err := http.NewRequest(http.MethodPost, e.base+"/IDP/connect/token", strings.NewReader(form.Encode()))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatalf("token endpoint: %v", err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// getVia GETs a path at the root, without a token, with the given
// forwarding headers, and returns the status.
func (e *testEnv) getVia(path string, headers map[string]string) int {
	e.t.Helper()
	req, err := http.NewRequest(http.MethodGet, e.root()+path, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatalf("GET %s: %v", path, err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func xff(chain string) map[string]string { return map[string]string{"X-Forwarded-For": chain} }

// The harness's requests come from 127.0.0.1: trusting it makes the test
// the reverse proxy, whose X-Forwarded-For the sign-in rate limit keys on.
func TestSignInLimitBehindTrustedProxy(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t, envOptions{mutate: func(s *appsettings.Settings) {
		s.Auth.SignInFailuresPerMinute = 3
		s.Http.TrustedProxies = []string{"127.0.0.1", "10.0.0.0/8"}
	}})
	for i := range 3 {
		if st := env.signInVia("nobody", "guess", xff("203.0.113.7")); st != http.StatusBadRequest {
			t.Fatalf("failure %d: %d, want 400", i, st)
		}
	}
	cases := []struct {
		name    string
		headers map[string]string
		want    int
	}{
		{"the limited client", xff("203.0.113.7"), http.StatusTooManyRequests},
		{"the limited client through a second trusted proxy", xff("203.0.113.7, 10.1.2.3"), http.StatusTooManyRequests},
		{"the limited client, who prepends another address", xff("198.51.100.1, 203.0.113.7"), http.StatusTooManyRequests},
		{"another client of the proxy", xff("203.0.113.8"), http.StatusOK},
		{"another client that names the limited one first", xff("203.0.113.7, 203.0.113.8"), http.StatusOK},
		{"an IPv6 client", xff("2001:db8::7"), http.StatusOK},
		{"the proxy itself (no header)", nil, http.StatusOK},
		{"a malformed header counts as the proxy", xff("203.0.113.7, junk"), http.StatusOK},
	}
	for _, tc := range cases {
		if st := env.signInVia(testUser, testPassword, tc.headers); st != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, st, tc.want)
		}
	}
}

// From a peer that is not a trusted proxy, X-Forwarded-For is the client's
// own claim and is ignored: every attempt counts for the peer.
func TestSignInLimitIgnoresUntrustedForwarding(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t, envOptions{mutate: func(s *appsettings.Settings) {
		s.Auth.SignInFailuresPerMinute = 3
		s.Http.TrustedProxies = []string{"10.0.0.1"} // not the harness's 127.0.0.1
	}})
	for i, addr := range []string{"203.0.113.1", "203.0.113.2", "203.0.113.3"} {
		if st := env.signInVia("nobody", "guess", xff(addr)); st != http.StatusBadRequest {
			t.Fatalf("failure %d: %d, want 400", i, st)
		}
	}
	for _, h := range []map[string]string{xff("203.0.113.4"), {"X-Real-IP": "203.0.113.4"}, nil} {
		if st := env.signInVia(testUser, testPassword, h); st != http.StatusTooManyRequests {
			t.Errorf("with %v: %d, want 429 (the peer is limited)", h, st)
		}
	}
}

// Metrics.AllowFrom checks the client address: the forwarded one from a
// trusted proxy, the peer otherwise.
func TestMetricsAllowFromBehindProxy(t *testing.T) {
	t.Parallel()
	type call struct {
		headers map[string]string
		want    int
	}
	cases := []struct {
		name   string
		mutate func(*appsettings.Settings)
		calls  []call
	}{
		{"trusted loopback proxy, default AllowFrom", func(s *appsettings.Settings) {
			s.Http.TrustedProxies = []string{"127.0.0.1"}
		}, []call{
			{nil, http.StatusOK}, // the proxy's own request (a local Prometheus)
			{xff("203.0.113.7"), http.StatusUnauthorized},
			{xff("127.0.0.1, 203.0.113.7"), http.StatusUnauthorized}, // a forged loopback on the left
			{xff("::1"), http.StatusOK},
		}},
		{"trusted proxy, a remote Prometheus allowed", func(s *appsettings.Settings) {
			s.Http.TrustedProxies = []string{"127.0.0.1"}
			s.Metrics.AllowFrom = []string{"203.0.113.0/24"}
		}, []call{
			{xff("203.0.113.7"), http.StatusOK},
			{xff("203.0.113.7:9090"), http.StatusOK},
			{xff("198.51.100.1"), http.StatusUnauthorized},
			{xff("203.0.113.7, 198.51.100.1"), http.StatusUnauthorized},
			{nil, http.StatusUnauthorized},
			{xff("not an address"), http.StatusUnauthorized}, // the peer, not allowed
		}},
		{"X-Real-IP", func(s *appsettings.Settings) {
			s.Http.TrustedProxies = []string{"127.0.0.1"}
			s.Http.ForwardedHeader = "X-Real-IP"
			s.Metrics.AllowFrom = []string{"203.0.113.0/24"}
		}, []call{
			{map[string]string{"X-Real-IP": "203.0.113.7"}, http.StatusOK},
			{xff("203.0.113.7"), http.StatusUnauthorized},
		}},
		{"no trusted proxy: the header is ignored", func(s *appsettings.Settings) {
			s.Metrics.AllowFrom = []string{"203.0.113.0/24"}
		}, []call{
			{xff("203.0.113.7"), http.StatusUnauthorized},
			{map[string]string{"X-Real-IP": "203.0.113.7"}, http.StatusUnauthorized},
		}},
		{"no trusted proxy: loopback keeps its default access", nil, []call{
			{xff("198.51.100.1"), http.StatusOK},
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			env := newTestEnv(t, envOptions{mutate: tc.mutate})
			for _, c := range tc.calls {
				if st := env.getVia("/metrics", c.headers); st != c.want {
					t.Errorf("GET /metrics with %v: %d, want %d", c.headers, st, c.want)
				}
			}
		})
	}
}

// The log names the client address a failed request came from, and a
// gateway refuses settings that could not resolve one.
func TestClientAddressInLogAndSettings(t *testing.T) {
	t.Parallel()
	s := appsettings.Defaults()
	s.WebRTC.UdpPort = 0
	s.WebRTC.IPs = []string{"127.0.0.1"}
	s.Http.TrustedProxies = []string{"127.0.0.1"}
	s.ApplyDefaults()
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer // read after Close, when nothing writes any more
	log := slog.New(slog.NewTextHandler(&logs, nil))
	gw, err := gateway.New(gateway.Options{Config: gatewayConfig(s), Cameras: cameras.NewRegistry(s.Cameras, log), Auth: denyAll{}, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct{ remote, want string }{
		{"127.0.0.1:40000", "client=2001:db8::7 "}, // a trusted proxy forwards
		{"192.0.2.1:40000", "client=192.0.2.1 "},   // anyone else is the peer
		{"[::1]:40000", "client=::1 "},             // ::1 is not trusted here
	}
	for _, tc := range cases {
		req := httptest.NewRequest(http.MethodGet, "http://127.0.0.1:8080/API/no/such/thing", nil)
		req.RemoteAddr = tc.remote
		req.Header.Set("X-Forwarded-For", "198.51.100.1, 2001:db8::7")
		gw.Handler().ServeHTTP(httptest.NewRecorder(), req)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := gw.Close(ctx); err != nil {
		t.Fatal(err)
	}
	for _, tc := range cases {
		if !strings.Contains(logs.String(), tc.want) {
			t.Errorf("from %s: the log has no %q:\n%s", tc.remote, tc.want, logs.String())
		}
	}

	// Settings that skipped Validate and cannot be read stop New.
	bad := s
	bad.Http.ForwardedHeader = "Forwarded"
	if _, err := gateway.New(gateway.Options{Config: gatewayConfig(bad), Cameras: cameras.NewRegistry(bad.Cameras, log), Auth: denyAll{}, Log: log}); err == nil ||
		!strings.Contains(err.Error(), "Http.ForwardedHeader") {
		t.Errorf("New with ForwardedHeader Forwarded: %v, want an error naming Http.ForwardedHeader", err)
	}
}
