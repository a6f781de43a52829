package gateway_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/camgate/camgate/appsettings"
	"github.com/camgate/camgate/gateway/signaling/signalingtest"
)

// What real and broken clients send over HTTP, and what camgate answers:
// the bodies real XProtect clients send and binding quirks (cases shared with
// binding_test.go), case-insensitive paths, the error shape, and that bad
// input leaves nothing behind and disturbs no one.

const restBase = "/REST/v1/WebRTC"

var guidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

// response is one HTTP exchange.
type response struct {
	status int
	header http.Header
	body   []byte
}

// send is env.do with the response headers and a raw body; path follows
// the /API of env.base.
func (e *testEnv) send(method, path string, body []byte) response {
	e.t.Helper()
	return e.sendURL(method, e.base+path, body)
}

// sendRoot is send with a path from the server's root, /API included, to
// try other casings of it.
func (e *testEnv) sendRoot(method, path string, body []byte) response {
	e.t.Helper()
	return e.sendURL(method, strings.TrimSuffix(e.base, "/API")+path, body)
}

func (e *testEnv) sendURL(method, url string, body []byte) response {
	e.t.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if e.token != "" {
		req.Header.Set("Authorization", "Bearer "+e.token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatalf("%s %s: read body: %v", method, url, err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: out}
}

// created is the part of a POST …/Session answer every client reads.
type created struct {
	id    string
	offer webrtc.SessionDescription
}

// createSession POSTs a live session and checks the answer the way the
// XProtect sample and go2rtc read it: exactly 200, sessionId and offerSDP
// with exact names, offerSDP a JSON string of {type:"offer", sdp} whose SDP
// carries the data channel section and the server's candidates.
func createSession(t *testing.T, env *testEnv, body string) created {
	t.Helper()
	return createSessionAt(t, env, "/API"+restBase+"/Session", body)
}

// createSessionAt is createSession with a path from the server's root.
func createSessionAt(t *testing.T, env *testEnv, path, body string) created {
	t.Helper()
	r := env.sendRoot(http.MethodPost, path, []byte(body))
	if r.status != http.StatusOK {
		t.Fatalf("POST %s: %d %s, want 200", path, r.status, r.body)
	}
	var resp map[string]json.RawMessage
	if err := json.Unmarshal(r.body, &resp); err != nil {
		t.Fatalf("POST %s: body %s: %v", path, r.body, err)
	}
	var id, offerJSON string
	if err := json.Unmarshal(resp["sessionId"], &id); err != nil || !guidRE.MatchString(id) {
		t.Fatalf("sessionId in %s is not a GUID (err %v)", r.body, err)
	}
	if err := json.Unmarshal(resp["offerSDP"], &offerJSON); err != nil {
		t.Fatalf("offerSDP in %.200s is not a string: %v", r.body, err)
	}
	var offer map[string]string
	if err := json.Unmarshal([]byte(offerJSON), &offer); err != nil {
		t.Fatalf("offerSDP %.200q is not JSON: %v", offerJSON, err)
	}
	if len(offer) != 2 || offer["type"] != "offer" || !strings.HasPrefix(offer["sdp"], "v=0\r\n") {
		t.Fatalf("offerSDP = %.200q, want exactly {type:\"offer\", sdp}", offerJSON)
	}
	sdp := offer["sdp"]
	if !strings.Contains(sdp, "\r\nm=application ") {
		t.Fatalf("offer has no m=application section (the commands channel could never open):\n%s", sdp)
	}
	if !strings.Contains(sdp, "\r\na=candidate:") {
		t.Fatalf("offer carries no a=candidate line (go2rtc never fetches candidates):\n%s", sdp)
	}
	return created{id: id, offer: webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: sdp}}
}

// assertAPIError checks the error shape of Milestone's gateway:
// {"error":{"httpCode":N,"details":[{"errorText":"…"}]}} with nothing else,
// N equal to the status, and a text that names each of mentions.
func assertAPIError(t *testing.T, what string, r response, status int, mentions ...string) {
	t.Helper()
	if r.status != status {
		t.Fatalf("%s: status %d (%s), want %d", what, r.status, r.body, status)
	}
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("%s: Content-Type %q, want JSON", what, ct)
	}
	var body struct {
		Error struct {
			HTTPCode int `json:"httpCode"`
			Details  []struct {
				ErrorText string `json:"errorText"`
			} `json:"details"`
		} `json:"error"`
	}
	dec := json.NewDecoder(bytes.NewReader(r.body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil {
		t.Fatalf("%s: error body %s is not {error:{httpCode,details:[{errorText}]}}: %v", what, r.body, err)
	}
	if body.Error.HTTPCode != status || len(body.Error.Details) != 1 || body.Error.Details[0].ErrorText == "" {
		t.Fatalf("%s: error body %s, want httpCode %d and one errorText", what, r.body, status)
	}
	if n := len(body.Error.Details[0].ErrorText); n > 400 {
		t.Errorf("%s: errorText is %d bytes long: an error must not quote a huge input", what, n)
	}
	text := strings.ToLower(body.Error.Details[0].ErrorText)
	for _, m := range mentions {
		if !strings.Contains(text, strings.ToLower(m)) {
			t.Errorf("%s: errorText %q does not mention %q", what, body.Error.Details[0].ErrorText, m)
		}
	}
}

// TestSessionBodiesOverHTTP posts every case of the shared binding table:
// the bodies real clients send make live sessions (200 with a usable
// offer), playback without the playback right is a 403, and the rest are
// errors that name the problem.
func TestSessionBodiesOverHTTP(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t, envOptions{})
	for _, tc := range signalingtest.BindingCases() {
		t.Run(tc.Name, func(t *testing.T) {
			if tc.Status != http.StatusOK {
				r := env.send(http.MethodPost, restBase+"/Session", []byte(tc.Body))
				assertAPIError(t, "POST Session", r, tc.Status, tc.ErrText...)
				return
			}
			s := createSession(t, env, tc.Body)
			if r := env.send(http.MethodDelete, restBase+"/Session/"+s.id, nil); r.status != http.StatusOK {
				t.Fatalf("DELETE: %d %s", r.status, r.body)
			}
		})
	}
	if n := env.gw.SessionCount(); n != 0 {
		t.Fatalf("%d sessions left after the failed and deleted ones", n)
	}
}

// TestPathsAreCaseInsensitive follows IIS and ASP.NET Core: any casing of
// any segment, a trailing slash, upper-case session ids, and the legacy
// aliases of the answer and token PATCH.
func TestPathsAreCaseInsensitive(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t, envOptions{})
	answer := validAnswer(t)

	var ids []string
	for _, path := range []string{
		"/API/REST/v1/WebRTC/Session",
		"/api/rest/v1/webrtc/session",
		"/Api/Rest/V1/webRTC/SESSION",
		"/API/REST/v1/WebRTC/Session/",
	} {
		t.Run("POST "+path, func(t *testing.T) {
			s := createSessionAt(t, env, path, liveBody)
			ids = append(ids, s.id)
			// Right after the POST the candidate list is there, and an
			// array even when empty: the sample iterates it directly.
			r := env.send(http.MethodGet, restBase+"/IceCandidates/"+s.id, nil)
			if r.status != http.StatusOK {
				t.Fatalf("GET IceCandidates: %d %s", r.status, r.body)
			}
			var cands struct {
				Candidates json.RawMessage `json:"candidates"`
			}
			if err := json.Unmarshal(r.body, &cands); err != nil || !bytes.HasPrefix(cands.Candidates, []byte("[")) {
				t.Fatalf("GET IceCandidates: body %s, want a candidates array (err %v)", r.body, err)
			}
		})
	}
	if len(ids) != 4 {
		t.FailNow()
	}

	id := ids[0]
	t.Run("IceCandidates with any casing and an upper-case id", func(t *testing.T) {
		a := env.sendRoot(http.MethodGet, "/API/REST/v1/WebRTC/IceCandidates/"+id, nil)
		b := env.sendRoot(http.MethodGet, "/api/rest/v1/webrtc/icecandidates/"+strings.ToUpper(id), nil)
		if a.status != http.StatusOK || b.status != http.StatusOK {
			t.Fatalf("GET IceCandidates: %d and %d", a.status, b.status)
		}
		var ca, cb struct{ Candidates []string }
		_ = json.Unmarshal(a.body, &ca)
		_ = json.Unmarshal(b.body, &cb)
		if len(ca.Candidates) == 0 || strings.Join(ca.Candidates, "\n") != strings.Join(cb.Candidates, "\n") {
			t.Fatalf("candidates differ by path casing:\n%v\n%v", ca.Candidates, cb.Candidates)
		}
		r := env.sendRoot(http.MethodPost, "/api/rest/V1/WEBRTC/iceCandidates/"+strings.ToUpper(id)+"/",
			[]byte(`{"candidates":[`+quote(`{"candidate":"","sdpMid":"0"}`)+`]}`))
		if r.status != http.StatusOK {
			t.Fatalf("POST iceCandidates: %d %s", r.status, r.body)
		}
	})
	t.Run("legacy PATCH WebRTCSession/{id} with a token", func(t *testing.T) {
		r := env.send(http.MethodPatch, "/REST/v1/WebRTC/WebRTCSession/"+strings.ToUpper(ids[1]), []byte(`{"token":"`+env.token+`"}`))
		if r.status != http.StatusOK || !bytes.Contains(r.body, []byte(ids[1])) {
			t.Fatalf("PATCH WebRTCSession: %d %s", r.status, r.body)
		}
	})
	t.Run("legacy PUT Session with sessionId in the body", func(t *testing.T) {
		body := fmt.Sprintf(`{"sessionId":%q,"answerSDP":%s}`, strings.ToUpper(ids[2]), quote(answer))
		r := env.sendRoot(http.MethodPut, "/api/rest/v1/webrtc/Session", []byte(body))
		if r.status != http.StatusOK {
			t.Fatalf("PUT Session: %d %s", r.status, r.body)
		}
		var got struct {
			SessionID string  `json:"sessionId"`
			AnswerSDP *string `json:"answerSDP"`
		}
		if err := json.Unmarshal(r.body, &got); err != nil || got.SessionID != ids[2] || got.AnswerSDP == nil {
			t.Fatalf("PUT Session body %s: want the session with its answer", r.body)
		}
	})
	t.Run("PATCH and DELETE with mixed case", func(t *testing.T) {
		r := env.sendRoot(http.MethodPatch, "/api/REST/v1/webrtc/session/"+strings.ToUpper(ids[3]), []byte(`{"answerSDP":`+quote(answer)+`}`))
		if r.status != http.StatusOK {
			t.Fatalf("PATCH: %d %s", r.status, r.body)
		}
		r = env.sendRoot(http.MethodDelete, "/API/Rest/v1/WebRtc/Session/"+strings.ToUpper(ids[3]), nil)
		if r.status != http.StatusOK {
			t.Fatalf("DELETE: %d %s", r.status, r.body)
		}
	})
}

// validAnswer is a browser answer to camgate's offer (shared answer table).
// It applies but never connects: no peer is behind it.
func validAnswer(t *testing.T) string {
	t.Helper()
	for _, c := range signalingtest.AnswerCases() {
		if c.Valid {
			return c.Raw
		}
	}
	t.Fatal("no valid answer in the answer table")
	return ""
}

func quote(s string) string { return mustJSON(s) }

// errorCase is one bad request. {id} in path is replaced by the session
// under test.
type errorCase struct {
	name     string
	method   string
	path     string
	body     string
	status   int
	mentions []string
}

func (c errorCase) run(t *testing.T, env *testEnv, id string) response {
	t.Helper()
	path := strings.ReplaceAll(c.path, "{id}", id)
	r := env.send(c.method, path, []byte(c.body))
	assertAPIError(t, c.name, r, c.status, c.mentions...)
	return r
}

const unknownSession = "0badf00d-0000-4000-8000-000000000000"

// requestErrors are bad requests that do not depend on the session's
// state: they may be sent to any session, at any time, and change nothing.
func requestErrors() []errorCase {
	big := `{"deviceId":"` + testCameraID + `","resolution":"` + strings.Repeat("x", 1<<20) + `"}`
	return []errorCase{
		{"malformed JSON", "POST", restBase + "/Session", `{"deviceId":`, 400, []string{"malformed JSON"}},
		{"empty body", "POST", restBase + "/Session", ``, 400, []string{"empty"}},
		{"deviceId of the wrong type", "POST", restBase + "/Session", `{"deviceId":{}}`, 400, []string{"deviceId", "string"}},
		{"missing deviceId", "POST", restBase + "/Session", `{"resolution":"notInUse"}`, 400, []string{"deviceId"}},
		{"unknown camera", "POST", restBase + "/Session", `{"deviceId":"00000000-0000-0000-0000-00000000cafe"}`, 404, []string{"camera", "00000000-0000-0000-0000-00000000cafe"}},
		{"unknown stream", "POST", restBase + "/Session", `{"deviceId":"` + testCameraID + `","streamId":"00000000-0000-0000-0000-00000000beef"}`, 404, []string{"stream", "00000000-0000-0000-0000-00000000beef"}},
		{"bad iceServers URL", "POST", restBase + "/Session", `{"deviceId":"` + testCameraID + `","iceServers":[{"url":"stun.example.org"}]}`, 400, []string{"iceServers[0]", "stun.example.org"}},
		{"TURN without credentials", "POST", restBase + "/Session", `{"deviceId":"` + testCameraID + `","iceServers":[{"url":"turn:t.example"}]}`, 400, []string{"iceServers[0]", "credential"}},
		{"body over 1 MB", "POST", restBase + "/Session", big, 413, []string{"larger than 1048576 bytes"}},
		{"answer body over 1 MB", "PATCH", restBase + "/Session/{id}", big, 413, []string{"larger"}},
		{"answer that is not JSON", "PATCH", restBase + "/Session/{id}", `{"answerSDP":"v=0\r\no=- 1 1 IN IP4 0.0.0.0"}`, 400, []string{"answerSDP", "JSON"}},
		{"answer of type offer", "PATCH", restBase + "/Session/{id}", `{"answerSDP":"{\"type\":\"offer\",\"sdp\":\"v=0\\r\\n\"}"}`, 400, []string{"answerSDP", `"offer"`}},
		{"answer whose sdp does not parse", "PATCH", restBase + "/Session/{id}", `{"answerSDP":"{\"type\":\"answer\",\"sdp\":\"hello\"}"}`, 400, []string{"answerSDP", "does not parse"}},
		{"answerSDP of the wrong type", "PATCH", restBase + "/Session/{id}", `{"answerSDP":{"type":"answer"}}`, 400, []string{"answerSDP", "string"}},
		{"PATCH without answerSDP or token", "PATCH", restBase + "/Session/{id}", `{"sessionId":"{id}"}`, 400, []string{"answerSDP", "token"}},
		{"PATCH with a null answerSDP", "PATCH", restBase + "/Session/{id}", `{"answerSDP":null}`, 400, []string{"answerSDP", "token"}},
		{"candidate that is not JSON", "POST", restBase + "/IceCandidates/{id}", `{"candidates":["{\"candidate\":\"\"}","candidate:1 1 udp 1 127.0.0.1 5 typ host"]}`, 400, []string{"candidates[1]", "JSON"}},
		{"candidate line that does not parse", "POST", restBase + "/IceCandidates/{id}", `{"candidates":["{\"candidate\":\"candidate:1 1 udp 1 127.0.0.1 5 typ bogus\"}"]}`, 400, []string{"candidates[0]", "does not parse", "bogus"}},
		{"candidates not a list", "POST", restBase + "/IceCandidates/{id}", `{"candidates":"x"}`, 400, []string{"candidates", "list"}},
		{"candidates over 1 MB", "POST", restBase + "/IceCandidates/{id}", `{"candidates":["` + strings.Repeat("x", 1<<20) + `"]}`, 413, []string{"larger"}},
		{"PATCH unknown session", "PATCH", restBase + "/Session/" + unknownSession, `{"token":"t"}`, 404, []string{"session", unknownSession}},
		{"GET candidates of an unknown session", "GET", restBase + "/IceCandidates/" + unknownSession, ``, 404, []string{"session", unknownSession}},
		{"POST candidates to an unknown session", "POST", restBase + "/IceCandidates/" + unknownSession, `{"candidates":[]}`, 404, []string{"session", unknownSession}},
		{"DELETE unknown session", "DELETE", restBase + "/Session/" + unknownSession, ``, 404, []string{"session", unknownSession}},
		{"PATCH a session id that is no GUID", "PATCH", restBase + "/Session/not-a-session", `{"token":"t"}`, 404, []string{"not-a-session"}},
		{"unknown /API path", "GET", "/REST/v1/WebRTC/Sessions", ``, 404, []string{"no such endpoint", "/api/rest/v1/webrtc/sessions"}},
		{"unknown API version", "POST", "/REST/v2/WebRTC/Session", `{}`, 404, []string{"no such endpoint"}},
		{"wrong method on Session", "GET", restBase + "/Session", ``, 405, []string{"GET", "not allowed"}},
		{"wrong method on IceCandidates", "DELETE", restBase + "/IceCandidates/{id}", ``, 405, []string{"DELETE"}},
		{"wrong method on a session", "POST", restBase + "/Session/{id}", `{}`, 405, []string{"POST"}},
	}
}

// TestErrorShapes sends every kind of bad request and checks the status,
// the error shape and that the text names the offending thing; then that a
// token PATCH works and the token never comes back.
func TestErrorShapes(t *testing.T) {
	t.Parallel()
	// The unanswered session must outlive the whole table on a busy
	// machine (the default AnswerTimeout is 10 s).
	env := newTestEnv(t, envOptions{mutate: func(s *appsettings.Settings) {
		s.WebRTC.AnswerTimeout = appsettings.Duration(time.Minute)
	}})
	s := createSession(t, env, liveBody)
	var bodies [][]byte
	record := func(r response) { bodies = append(bodies, r.body) }

	for _, c := range requestErrors() {
		t.Run(c.name, func(t *testing.T) { record(c.run(t, env, s.id)) })
	}

	// Client candidates of the shared table, one per request as the sample
	// sends them, to a session that is not answered yet (so they are only
	// buffered: some name addresses that are not ours to probe).
	for _, c := range signalingtest.CandidateCases() {
		t.Run("candidate: "+c.Name, func(t *testing.T) {
			r := env.send(http.MethodPost, restBase+"/IceCandidates/"+s.id, []byte(`{"candidates":[`+quote(c.Raw)+`]}`))
			record(r)
			if c.Valid {
				if r.status != http.StatusOK {
					t.Fatalf("%d %s, want 200", r.status, r.body)
				}
				return
			}
			assertAPIError(t, "POST IceCandidates", r, http.StatusBadRequest, append([]string{"candidates[0]"}, c.ErrText...)...)
		})
	}
	if r := env.send(http.MethodDelete, restBase+"/Session/"+s.id, nil); r.status != http.StatusOK {
		t.Fatalf("DELETE: %d %s", r.status, r.body)
	}

	// Answers of the shared table to a fresh session: every bad one is a
	// 400 that changes nothing, the first good one applies, a second one
	// conflicts.
	s = createSession(t, env, liveBody)
	token := env.token // a real token: it must be accepted, and never echoed
	answered := false
	for _, c := range signalingtest.AnswerCases() {
		if c.Valid {
			continue
		}
		t.Run("answer: "+c.Name, func(t *testing.T) {
			// With a token alongside: the error must not echo it.
			body := fmt.Sprintf(`{"answerSDP":%s,"token":%q}`, quote(c.Raw), token)
			r := env.send(http.MethodPatch, restBase+"/Session/"+s.id, []byte(body))
			record(r)
			assertAPIError(t, "PATCH answer", r, http.StatusBadRequest, append([]string{"answerSDP"}, c.ErrText...)...)
		})
	}
	for _, c := range signalingtest.AnswerCases() {
		if !c.Valid {
			continue
		}
		t.Run("answer: "+c.Name, func(t *testing.T) {
			r := env.send(http.MethodPatch, restBase+"/Session/"+s.id, []byte(`{"answerSDP":`+quote(c.Raw)+`}`))
			record(r)
			if !answered {
				if r.status != http.StatusOK {
					t.Fatalf("first valid answer: %d %s", r.status, r.body)
				}
				answered = true
				return
			}
			assertAPIError(t, "second answer", r, http.StatusConflict, "already has an answer", s.id)
		})
	}

	t.Run("token PATCH", func(t *testing.T) {
		r := env.send(http.MethodPatch, restBase+"/Session/"+s.id, []byte(`{"token":"`+token+`"}`))
		record(r)
		if r.status != http.StatusOK {
			t.Fatalf("PATCH token: %d %s", r.status, r.body)
		}
		// The sample does response.json() on it: a JSON object is required.
		var got map[string]any
		if err := json.Unmarshal(r.body, &got); err != nil || got["sessionId"] != s.id {
			t.Fatalf("PATCH token body %s: want the session object", r.body)
		}
		record(env.send(http.MethodGet, restBase+"/IceCandidates/"+s.id, nil))
		record(env.send(http.MethodPatch, "/REST/v1/WebRTC/WebRTCSession/"+s.id, []byte(`{"token":"`+token+`"}`)))
		record(env.send(http.MethodPatch, restBase+"/Session/"+unknownSession, []byte(`{"token":"`+token+`"}`)))
	})
	// Neither the token nor its signature, which alone would prove it.
	signature := token[strings.LastIndexByte(token, '.')+1:]
	for i, b := range bodies {
		if bytes.Contains(b, []byte(token)) || bytes.Contains(b, []byte(signature)) {
			t.Fatalf("response %d echoes the token: %.300s", i, b)
		}
	}
}

// TestNothingLeftBehind runs bad requests and every way a session can end
// against one gateway, then checks that no session, hub reader or goroutine
// is left; and that the bad requests never disturbed a playing viewer.
// Not parallel: it counts the process's goroutines, so it runs before the
// parallel tests start.
func TestNothingLeftBehind(t *testing.T) {
	env := newTestEnv(t, envOptions{inBandParams: true, mutate: func(s *appsettings.Settings) {
		// The viewers must answer within it on a busy machine.
		s.WebRTC.AnswerTimeout = appsettings.Duration(5 * time.Second)
	}})
	env.waitStreaming()
	baseline := runtime.NumGoroutine()

	// (b) created and never answered: they end after AnswerTimeout, which
	// runs out while the rest of the test goes on (the test runs before
	// every parallel test, so its length counts whole).
	for range 3 {
		createSession(t, env, liveBody)
	}

	// (c) a viewer plays through the whole burst.
	viewer := env.play(liveBody)
	viewer.waitFrames(5, 20*time.Second)

	for round := range 2 {
		for _, c := range requestErrors() {
			c.run(t, env, viewer.sessionID)
		}
		// Requests that would be fine at another time, at the live session.
		assertAPIError(t, "second answer to a live session",
			env.send(http.MethodPatch, restBase+"/Session/"+viewer.sessionID, []byte(`{"answerSDP":`+quote(validAnswer(t))+`}`)),
			http.StatusConflict, "already")
		if r := env.send(http.MethodPatch, restBase+"/Session/"+viewer.sessionID, []byte(`{"token":"`+env.token+`"}`)); r.status != http.StatusOK {
			t.Fatalf("round %d: token PATCH: %d %s", round, r.status, r.body)
		}
		// The viewer keeps playing: its frame count goes on growing.
		n := viewer.frameCount()
		viewer.waitFrames(n+10, 20*time.Second)
	}
	if st := viewer.pc.ConnectionState(); st != webrtc.PeerConnectionStateConnected {
		t.Fatalf("viewer is %s after the bad requests, want connected", st)
	}

	// (a) created, then DELETEd.
	for range 3 {
		s := createSession(t, env, liveBody)
		if r := env.send(http.MethodDelete, restBase+"/Session/"+s.id, nil); r.status != http.StatusOK {
			t.Fatalf("DELETE: %d %s", r.status, r.body)
		}
	}
	// (c) more viewers, answered, playing, then closed by the client.
	second := env.play(liveBody)
	second.waitFrames(5, 20*time.Second)
	for _, c := range []*xprotectClient{viewer, second} {
		if err := c.pc.Close(); err != nil {
			t.Fatalf("close client: %v", err)
		}
	}

	waitFor(t, 30*time.Second, "sessions to end", func() (bool, string) {
		n := env.gw.SessionCount()
		return n == 0, fmt.Sprintf("%d sessions open", n)
	})
	cam, _ := env.registry.Camera(testCameraID)
	if n := cam.DefaultStream().Hub.Stats().Readers; n != 0 {
		t.Fatalf("camera hub still has %d readers", n)
	}
	// Goroutines of sessions, pion and HTTP connections all exit. Idle
	// keep-alive connections are ours, not camgate's: close them.
	const tolerance = 5
	waitFor(t, 20*time.Second, "goroutines to return to the baseline", func() (bool, string) {
		http.DefaultClient.CloseIdleConnections()
		n := runtime.NumGoroutine()
		return n <= baseline+tolerance, fmt.Sprintf("%d goroutines, baseline %d (+%d allowed)\n%s", n, baseline, tolerance, goroutineDump())
	})
	t.Logf("goroutines: baseline %d, after %d", baseline, runtime.NumGoroutine())
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ok, state := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s: %s", timeout, what, state)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func goroutineDump() string {
	buf := make([]byte, 1<<20)
	return string(buf[:runtime.Stack(buf, true)])
}
