package gateway_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/camgate/camgate/appsettings"
)

// secondUser has the same rights as testUser: a user of its own for the
// limits that count per user.
const secondUser = "second"

// limitsEnv is a gateway whose Limits are set by mutate, with secondUser
// added.
func limitsEnv(t *testing.T, mutate func(*appsettings.Limits)) *testEnv {
	t.Helper()
	return newTestEnv(t, envOptions{inBandParams: true, mutate: func(s *appsettings.Settings) {
		s.Auth.Users = append(s.Auth.Users, appsettings.User{Username: secondUser, PasswordHash: testPasswordHash(t), Roles: []string{"viewer"}})
		mutate(&s.Limits)
	}})
}

// sendAs is send with another token and extra request headers.
func (e *testEnv) sendAs(token, method, path string, body []byte, headers map[string]string) response {
	e.t.Helper()
	req, err := http.NewRequest(method, e.base+path, bytes.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return response{status: resp.StatusCode, header: resp.Header, body: out}
}

// postSession asks for a live session with token and returns the answer;
// id is the session's id when it was created.
func (e *testEnv) postSession(token string, headers map[string]string) (r response, id string) {
	e.t.Helper()
	r = e.sendAs(token, http.MethodPost, restBase+"/Session", []byte(liveBody), headers)
	if r.status == http.StatusOK {
		var s struct {
			SessionID string `json:"sessionId"`
		}
		if err := json.Unmarshal(r.body, &s); err != nil || s.SessionID == "" {
			e.t.Fatalf("POST Session: 200 without a sessionId: %s", r.body)
		}
		id = s.SessionID
	}
	return r, id
}

// mustPostSession creates a live session with token and returns its id.
func (e *testEnv) mustPostSession(token string) string {
	e.t.Helper()
	r, id := e.postSession(token, nil)
	if r.status != http.StatusOK {
		e.t.Fatalf("POST Session: %d %s, want 200", r.status, r.body)
	}
	return id
}

// assertRefused checks a refusal by a limit: status, the error shape, the
// limit's setting in the text, and a Retry-After of retry seconds.
func assertRefused(t *testing.T, what string, r response, status int, setting string, retry int) {
	t.Helper()
	assertAPIError(t, what, r, status, setting)
	if got := r.header.Get("Retry-After"); got != strconv.Itoa(retry) {
		t.Fatalf("%s: Retry-After %q, want %d", what, got, retry)
	}
}

// The N+1th session of a user is refused with 429, Retry-After and the
// setting's name; other users are not affected, and a DELETE frees the
// place at once.
func TestSessionsPerUserOverREST(t *testing.T) {
	t.Parallel()
	env := limitsEnv(t, func(l *appsettings.Limits) { l.SessionsPerUser, l.PendingSessionsPerUser = 2, 2 })
	first := env.mustPostSession(env.token)
	env.mustPostSession(env.token)
	r, _ := env.postSession(env.token, nil)
	assertRefused(t, "third session", r, http.StatusTooManyRequests, "Limits.SessionsPerUser", 15)
	if n := env.gw.SessionCount(); n != 2 {
		t.Fatalf("%d sessions open after the refusal, want 2", n)
	}

	// Another token of the same user is the same user.
	other := env.signIn(testUser, testPassword)
	r, _ = env.postSession(other, nil)
	assertRefused(t, "third session with a new token", r, http.StatusTooManyRequests, "Limits.SessionsPerUser", 15)
	env.mustPostSession(env.signIn(secondUser, testPassword))

	if r := env.send(http.MethodDelete, restBase+"/Session/"+first, nil); r.status != http.StatusOK {
		t.Fatalf("DELETE: %d %s", r.status, r.body)
	}
	env.mustPostSession(env.token)
}

// REST and the WebSocket API count together: a connect beyond the user's
// limit gets a 1001 error that names it, the socket stays usable, and the
// connect passes once a session ended.
func TestSessionsPerUserOverWebSocket(t *testing.T) {
	t.Parallel()
	env := limitsEnv(t, func(l *appsettings.Limits) { l.SessionsPerUser, l.PendingSessionsPerUser = 2, 2 })
	env.waitStreaming()
	rest := env.mustPostSession(env.token)
	c := env.mustDialWS()
	c.register(env.token)
	c.expectInvite(c.connect("2", map[string]any{"peer": testCameraID}))
	c.sendRaw(`{"jsonrpc":"2.0","method":"connect","params":{"peer":"` + testCameraID + `"},"id":3}`)
	n := c.expectError("3", 1001)
	if !strings.Contains(n.Message, "Limits.SessionsPerUser") || !strings.Contains(n.Message, "retry in 15 s") {
		t.Fatalf("refusal text %q, want the setting and when to retry", n.Message)
	}
	if r := env.send(http.MethodDelete, restBase+"/Session/"+rest, nil); r.status != http.StatusOK {
		t.Fatalf("DELETE: %d %s", r.status, r.body)
	}
	c.answer(c.expectInvite(c.connect("4", map[string]any{"peer": testCameraID}))).waitFrames(1, 20*time.Second)
	c.checkProblems()
}

// Unanswered sessions have a cap of their own, smaller than the user's:
// the one beyond it is refused with a Retry-After of WebRTC.AnswerTimeout
// (by then every pending session is answered or closed). An answer frees
// the pending place (the session stays open), and so does the timeout.
func TestPendingSessionsPerUser(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t, envOptions{inBandParams: true, mutate: func(s *appsettings.Settings) {
		s.Limits.SessionsPerUser, s.Limits.PendingSessionsPerUser = 4, 1
		// Long enough for the answer to come in time on a busy machine.
		s.WebRTC.AnswerTimeout = appsettings.Duration(10 * time.Second)
	}})
	answered := env.mustPostSession(env.token)
	r, _ := env.postSession(env.token, nil)
	assertRefused(t, "second unanswered session", r, http.StatusTooManyRequests, "Limits.PendingSessionsPerUser", 10)

	if r := env.send(http.MethodPatch, restBase+"/Session/"+answered, []byte(`{"answerSDP":`+quote(validAnswer(t))+`}`)); r.status != http.StatusOK {
		t.Fatalf("PATCH answer: %d %s", r.status, r.body)
	}
	env.mustPostSession(env.token) // pending again: the answered one left its place
	r, _ = env.postSession(env.token, nil)
	assertRefused(t, "again a second unanswered session", r, http.StatusTooManyRequests, "Limits.PendingSessionsPerUser", 10)

	// The unanswered one times out; its place is free again. (The answered
	// one, whose answer has no peer behind it, may end too.)
	waitFor(t, 30*time.Second, "the unanswered session to time out", func() (bool, string) {
		r, _ := env.postSession(env.token, nil)
		return r.status == http.StatusOK, fmt.Sprintf("POST Session: %d %s", r.status, r.body)
	})
}

// Sessions per client address count every user signing in from it (an
// IPv6 client by its /64); a client at another address is not affected.
func TestSessionsPerAddress(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t, envOptions{inBandParams: true, mutate: func(s *appsettings.Settings) {
		s.Auth.Users = append(s.Auth.Users, appsettings.User{Username: secondUser, PasswordHash: testPasswordHash(t), Roles: []string{"viewer"}})
		s.Limits.SessionsPerAddress = 2
		// The test is the reverse proxy: its X-Forwarded-For is the
		// client address.
		s.Http.TrustedProxies = []string{"127.0.0.1"}
	}})
	second := env.signIn(secondUser, testPassword)
	from := xff
	for _, tok := range []string{env.token, second} {
		if r, _ := env.postSession(tok, from("198.51.100.7")); r.status != http.StatusOK {
			t.Fatalf("POST Session: %d %s", r.status, r.body)
		}
	}
	r, _ := env.postSession(env.token, from("198.51.100.7"))
	assertRefused(t, "third session from one address", r, http.StatusTooManyRequests, "Limits.SessionsPerAddress", 15)
	if r, _ := env.postSession(env.token, from("198.51.100.8")); r.status != http.StatusOK {
		t.Fatalf("POST Session from another address: %d %s", r.status, r.body)
	}

	// An IPv6 host that takes a new address in its /64 for every request
	// is one client.
	for _, a := range []string{"2001:db8:1:2::1", "2001:db8:1:2::2"} {
		if r, _ := env.postSession(second, from(a)); r.status != http.StatusOK {
			t.Fatalf("POST Session from %s: %d %s", a, r.status, r.body)
		}
	}
	r, _ = env.postSession(second, from("2001:db8:1:2:ffff::3"))
	assertRefused(t, "third session from one /64", r, http.StatusTooManyRequests, "Limits.SessionsPerAddress", 15)
	if r, _ := env.postSession(second, from("2001:db8:1:3::1")); r.status != http.StatusOK {
		t.Fatalf("POST Session from another /64: %d %s", r.status, r.body)
	}
}

// The process's ceiling refuses every user with 503 and Retry-After (over
// REST) and 1001 (over the WebSocket API); a session that ends makes room.
func TestMaxSessions(t *testing.T) {
	t.Parallel()
	env := limitsEnv(t, func(l *appsettings.Limits) { l.MaxSessions = 2 })
	second := env.signIn(secondUser, testPassword)
	first := env.mustPostSession(env.token)
	env.mustPostSession(second)
	r, _ := env.postSession(second, nil)
	assertRefused(t, "session beyond the ceiling", r, http.StatusServiceUnavailable, "Limits.MaxSessions", 15)

	c := env.mustDialWS()
	c.register(env.token)
	c.sendRaw(`{"jsonrpc":"2.0","method":"connect","params":{"peer":"` + testCameraID + `"},"id":2}`)
	if n := c.expectError("2", 1001); !strings.Contains(n.Message, "Limits.MaxSessions") {
		t.Fatalf("refusal text %q, want the setting", n.Message)
	}
	if r := env.send(http.MethodDelete, restBase+"/Session/"+first, nil); r.status != http.StatusOK {
		t.Fatalf("DELETE: %d %s", r.status, r.body)
	}
	c.expectInvite(c.connect("3", map[string]any{"peer": testCameraID}))
	c.checkProblems()
}

// A refused request leaves nothing behind, and neither does one that
// fails after its place was taken (a playback time without recordings):
// the counts go back to zero, and the user may open as many as before.
func TestLimitCountsFreedOnFailure(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t, envOptions{inBandParams: true, mutate: func(s *appsettings.Settings) {
		s.Auth.Roles = []appsettings.Role{{Name: "viewer", Live: []string{"*"}, Playback: []string{"*"}}, {Name: "nothing"}}
		s.Limits.SessionsPerUser, s.Limits.PendingSessionsPerUser = 1, 1
	}})
	for range 3 {
		r := env.send(http.MethodPost, restBase+"/Session", []byte(`{"deviceId":"`+testCameraID+`","playbackTimeNode":{"playbackTime":"2001-01-01T00:00:00Z"}}`))
		if r.status != http.StatusNotFound {
			t.Fatalf("playback without recordings: %d %s, want 404", r.status, r.body)
		}
	}
	id := env.mustPostSession(env.token)
	if r := env.send(http.MethodDelete, restBase+"/Session/"+id, nil); r.status != http.StatusOK {
		t.Fatalf("DELETE: %d %s", r.status, r.body)
	}
	env.mustPostSession(env.token)
}
