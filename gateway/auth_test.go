package gateway_test

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/camgate/camgate/appsettings"
)

// forgedToken is a well-formed RS256 token with camgate's issuer and
// audience, signed by a key camgate never saw.
func forgedToken(t *testing.T, env *testEnv) string {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: key},
		(&jose.SignerOptions{}).WithType("at+jwt").WithHeader("kid", "forged"))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	raw, err := jwt.Signed(signer).Claims(jwt.Claims{
		Issuer: env.base + "/IDP", Subject: "user:" + testUser, Audience: jwt.Audience{"camgate"},
		IssuedAt: jwt.NewNumericDate(now), NotBefore: jwt.NewNumericDate(now), Expiry: jwt.NewNumericDate(now.Add(time.Hour)),
	}).Claims(map[string]any{"roles": []string{"viewer"}}).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// TestEveryRouteRequiresAValidToken walks every API route with no token, a
// malformed one and a forged one: each is a 401 JSON error with the RFC 6750
// challenge, and nothing is created.
func TestEveryRouteRequiresAValidToken(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t, envOptions{inBandParams: true})
	env.waitStreaming()
	owned := env.play(liveBody)
	owned.waitFrames(1, 20*time.Second)
	sid := owned.sessionID
	routes := []struct{ method, path, body string }{
		{"GET", "/rest/v1/cameras", ""},
		{"POST", "/REST/v1/WebRTC/Session", liveBody},
		{"PUT", "/REST/v1/WebRTC/Session", `{"sessionId":"` + sid + `","token":"x"}`},
		{"PATCH", "/REST/v1/WebRTC/Session/" + sid, `{"token":"x"}`},
		{"PATCH", "/REST/v1/WebRTC/WebRTCSession/" + sid, `{"token":"x"}`},
		{"DELETE", "/REST/v1/WebRTC/Session/" + sid, ""},
		{"GET", "/REST/v1/WebRTC/IceCandidates/" + sid, ""},
		{"POST", "/REST/v1/WebRTC/IceCandidates/" + sid, `{"candidates":[]}`},
	}
	tokens := []struct{ name, value string }{
		{"no token", ""},
		{"malformed token", "not-a-jwt"},
		{"forged signature", forgedToken(t, env)},
	}
	before := env.gw.SessionCount()
	for _, r := range routes {
		for _, tok := range tokens {
			t.Run(r.method+" "+r.path+" with "+tok.name, func(t *testing.T) {
				var body any
				if r.body != "" {
					body = r.body
				}
				status, out := env.doAs(tok.value, r.method, r.path, body)
				if status != http.StatusUnauthorized {
					t.Fatalf("status %d %s, want 401", status, out)
				}
				var e struct {
					Error struct {
						HTTPCode int `json:"httpCode"`
						Details  []struct {
							ErrorText string `json:"errorText"`
						} `json:"details"`
					} `json:"error"`
				}
				if err := json.Unmarshal(out, &e); err != nil || e.Error.HTTPCode != 401 || len(e.Error.Details) != 1 {
					t.Fatalf("body %s is not the JSON error shape", out)
				}
				if tok.value != "" && strings.Contains(string(out), tok.value) {
					t.Fatal("the error echoes the token")
				}
			})
		}
	}
	// The challenge header, once.
	req, _ := http.NewRequest("GET", env.base+"/rest/v1/cameras", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if h := resp.Header.Get("WWW-Authenticate"); !strings.HasPrefix(h, "Bearer ") || !strings.Contains(h, `error="invalid_token"`) {
		t.Fatalf("WWW-Authenticate = %q", h)
	}
	if n := env.gw.SessionCount(); n != before {
		t.Fatalf("sessions: %d, want %d: a refused request created one", n, before)
	}
	if owned.pc.ConnectionState().String() != "connected" {
		t.Fatal("the owner's session was disturbed")
	}
}

// A valid token without the right is a 403 and creates nothing; another
// user's session cannot be touched; the camera list shows only what the
// caller may see.
func TestRightsArePerCameraAndPerUser(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t, envOptions{inBandParams: true})
	env.waitStreaming()
	stranger := env.signIn(otherUser, testPassword)

	status, out := env.doAs(stranger, "POST", "/REST/v1/WebRTC/Session", liveBody)
	if status != http.StatusForbidden || !strings.Contains(string(out), "no live right") {
		t.Fatalf("POST Session without the right: %d %s, want 403", status, out)
	}
	if n := env.gw.SessionCount(); n != 0 {
		t.Fatalf("a forbidden request left %d sessions", n)
	}
	status, out = env.doAs(stranger, "GET", "/rest/v1/cameras", nil)
	if status != http.StatusOK || strings.Contains(string(out), testCameraID) {
		t.Fatalf("camera list for a user without rights: %d %s", status, out)
	}
	status, out = env.do("GET", "/rest/v1/cameras", nil)
	if status != http.StatusOK || !strings.Contains(string(out), testCameraID) {
		t.Fatalf("camera list for the operator: %d %s", status, out)
	}

	owned := env.play(liveBody)
	owned.waitFrames(1, 20*time.Second)
	for _, r := range []struct{ method, path, body string }{
		{"GET", "/REST/v1/WebRTC/IceCandidates/" + owned.sessionID, ""},
		{"POST", "/REST/v1/WebRTC/IceCandidates/" + owned.sessionID, `{"candidates":[]}`},
		{"PATCH", "/REST/v1/WebRTC/Session/" + owned.sessionID, `{"token":"` + stranger + `"}`},
		{"DELETE", "/REST/v1/WebRTC/Session/" + owned.sessionID, ""},
	} {
		var body any
		if r.body != "" {
			body = r.body
		}
		if status, out := env.doAs(stranger, r.method, r.path, body); status != http.StatusForbidden {
			t.Fatalf("%s %s as another user: %d %s, want 403", r.method, r.path, status, out)
		}
	}
	if env.gw.SessionCount() != 1 {
		t.Fatal("another user ended the session")
	}
}

// The XProtect sample refreshes its token and PATCHes it into the session.
// A valid token of the same user is taken; another user's is a 403; an
// invalid one a 401; the session plays on throughout.
func TestTokenPatch(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t, envOptions{inBandParams: true})
	env.waitStreaming()
	c := env.play(liveBody)
	c.waitFrames(1, 20*time.Second)
	path := "/REST/v1/WebRTC/Session/" + c.sessionID
	fresh := env.signIn(testUser, testPassword)
	status, out := env.doAs(fresh, "PATCH", path, `{"token":"`+fresh+`"}`)
	if status != http.StatusOK || strings.Contains(string(out), fresh) {
		t.Fatalf("token PATCH: %d, body echoes token: %v", status, strings.Contains(string(out), fresh))
	}
	if status, out := env.do("PATCH", path, `{"token":"`+env.signIn(otherUser, testPassword)+`"}`); status != http.StatusForbidden {
		t.Fatalf("another user's token: %d %s, want 403", status, out)
	}
	if status, out := env.do("PATCH", path, `{"token":"garbage"}`); status != http.StatusUnauthorized {
		t.Fatalf("invalid token: %d %s, want 401", status, out)
	}
	n := c.frameCount()
	c.waitFrames(n+10, 20*time.Second)
}

// A session whose token expires without a new one is closed after the
// grace period.
func TestSessionEndsWhenItsTokenExpires(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t, envOptions{
		inBandParams: true,
		// Tokens last one minute, issued "50 s ago": they expire in ~10 s,
		// time enough for the first frame on a busy machine.
		authNow: func() time.Time { return time.Now().Add(-50 * time.Second) },
		mutate: func(s *appsettings.Settings) {
			s.Auth.BuiltIn.TokenLifetime = appsettings.Duration(time.Minute)
			s.Auth.SessionGrace = appsettings.Duration(time.Second)
		},
	})
	env.waitStreaming()
	env.token = env.signIn(testUser, testPassword) // expires ~10 s from now
	c := env.play(liveBody)
	c.waitFrames(1, 20*time.Second)
	deadline := time.Now().Add(30 * time.Second)
	for env.gw.SessionCount() != 0 {
		if time.Now().After(deadline) {
			t.Fatal("session still open long after its token expired")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// The identity provider's endpoints and the page need no token.
func TestOpenEndpoints(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t, envOptions{inBandParams: true})
	for _, p := range []string{"/IDP/.well-known/openid-configuration", "/idp/.well-known/JWKS"} {
		if status, out := env.doAs("", "GET", p, nil); status != http.StatusOK {
			t.Fatalf("GET %s without a token: %d %s", p, status, out)
		}
	}
}

// CORS through the whole stack: the token endpoint and the REST API answer
// preflights from an allowed origin and refuse others.
func TestCORSOnTheTokenEndpointAndTheAPI(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t, envOptions{inBandParams: true, mutate: func(s *appsettings.Settings) {
		s.CORS = appsettings.CORS{Enabled: true, AllowOrigin: "https://portal.example", AllowHeaders: "*", AllowMethods: "*"}
	}})
	for _, tc := range []struct {
		path, origin string
		want         int
	}{
		{"/IDP/connect/token", "https://portal.example", http.StatusNoContent},
		{"/REST/v1/WebRTC/Session", "https://portal.example", http.StatusNoContent},
		{"/REST/v1/WebRTC/Session", "https://evil.example", http.StatusForbidden},
	} {
		req, _ := http.NewRequest("OPTIONS", env.base+tc.path, nil)
		req.Header.Set("Origin", tc.origin)
		req.Header.Set("Access-Control-Request-Method", "POST")
		req.Header.Set("Access-Control-Request-Headers", "authorization, content-type")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Fatalf("preflight %s from %s: %d, want %d", tc.path, tc.origin, resp.StatusCode, tc.want)
		}
		if tc.want == http.StatusNoContent && resp.Header.Get("Access-Control-Allow-Headers") != "authorization, content-type" {
			t.Fatalf("allowed headers = %q", resp.Header.Get("Access-Control-Allow-Headers"))
		}
	}
	req, _ := http.NewRequest("GET", env.base+"/rest/v1/cameras", nil)
	req.Header.Set("Origin", "https://portal.example")
	req.Header.Set("Authorization", "Bearer "+env.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Access-Control-Allow-Origin") != "https://portal.example" {
		t.Fatalf("cross-origin GET: %d, allow-origin %q", resp.StatusCode, resp.Header.Get("Access-Control-Allow-Origin"))
	}
}
