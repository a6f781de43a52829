package signaling

import (
	"net/http"
	"strings"
	"testing"

	"github.com/camgate/camgate/gateway/rtc"
	"github.com/camgate/camgate/gateway/signaling/signalingtest"
)

// Fuzz targets for the parsers of network input, seeded from the case
// tables in binding_test.go. Interesting inputs they found live under
// testdata/fuzz/ and run with every `go test`.
//
//	go test -run '^$' -fuzz FuzzSessionRequest -fuzztime 60s ./gateway

// FuzzSessionRequest decodes a POST …/Session (or PATCH) body and derives
// what the handler derives from it. It must never panic, and every failure
// must be a 400 with a text.
func FuzzSessionRequest(f *testing.F) {
	for _, c := range signalingtest.Bindings() {
		f.Add([]byte(signalingtest.Expand(c.Body)))
	}
	for _, c := range signalingtest.Answers() {
		f.Add([]byte(`{"answerSDP":` + signalingtest.MustQuote(c.Raw) + `}`))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var req sessionRequest
		err := decodeJSON(body, &req)
		if err != nil {
			checkBadRequest(t, err)
			return
		}
		if d := req.device(); d != strings.TrimSpace(d) {
			t.Fatalf("device() = %q is not trimmed", d)
		}
		_ = req.PlaybackTimeNode.isLive()
		// The ICE servers go through the same check as in create, with
		// the default policy and with any host allowed.
		for _, m := range []*rtc.ICEPolicy{rtc.NewICEPolicy(iceConfig(), nil), permissiveManager()} {
			if _, err := m.Check(iceServersOf(req.IceServers)); err != nil {
				checkBadRequest(t, err)
			}
		}
	})
}

// FuzzCandidate parses one client candidate string of POST
// …/IceCandidates. (rtc's FuzzSignalingAddress derives the candidate at the
// signaling address from a parsed one, as addRemote does.)
func FuzzCandidate(f *testing.F) {
	for _, c := range signalingtest.Candidates() {
		f.Add(c.Raw)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		c, err := parseClientCandidate(raw)
		if err != nil {
			if n := len(err.Error()); n == 0 || n > maxErrorText {
				t.Fatalf("error text of %d bytes: %.200q", n, err)
			}
			return
		}
		if strings.TrimSpace(c.Candidate) != "" && rtc.CheckCandidate(c) != nil {
			t.Fatalf("candidate %q was accepted, but its line does not check", c.Candidate)
		}
	})
}

// FuzzAnswer runs the answerSDP checks of SetAnswer, everything before
// pion's SetRemoteDescription.
func FuzzAnswer(f *testing.F) {
	for _, c := range signalingtest.Answers() {
		f.Add(c.Raw)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		desc, err := parseAnswer(raw)
		if err != nil {
			checkBadRequest(t, err)
			return
		}
		if desc.Type.String() != "answer" {
			t.Fatalf("accepted type %s", desc.Type)
		}
	})
}

// checkBadRequest asserts that err is what the client would see as a 400
// with a readable text of bounded length.
func checkBadRequest(t *testing.T, err error) {
	t.Helper()
	ae := asAPIError(err)
	if ae.Status == http.StatusInternalServerError {
		t.Fatalf("error %v (%T) is not typed: the client would get a 500", err, err)
	}
	if ae.Status != http.StatusBadRequest || ae.Text == "" || len(ae.Text) > maxErrorText {
		t.Fatalf("error %d %.200q (%d bytes), want a 400 with a short text", ae.Status, ae.Text, len(ae.Text))
	}
}
