package signaling

import (
	_ "embed"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/camgate/camgate/gateway/signaling/signalingtest"
)

// The parsers of network input in this package get one case table each,
// in package signalingtest: the same tables seed the fuzz targets
// (fuzz_test.go) and drive the HTTP tests in package gateway_test
// (badinput_test.go), so a quirk is pinned down once at every layer.

// urls is a request's STUN/TURN server of urls.
func urls(u ...string) iceServerJSON { return iceServerJSON{URLs: u} }

func TestSessionRequestBinding(t *testing.T) {
	t.Parallel()
	for _, tc := range signalingtest.Bindings() {
		t.Run(tc.Name, func(t *testing.T) {
			var req sessionRequest
			err := decodeJSON([]byte(signalingtest.Expand(tc.Body)), &req)
			if tc.Want == nil {
				if err == nil {
					t.Fatalf("decoded %+v, want an error", req)
				}
				ae := asAPIError(err)
				if ae.Status != http.StatusBadRequest {
					t.Fatalf("error %v (%T), want a 400", err, err)
				}
				assertMentions(t, ae.Text, tc.ErrText)
				return
			}
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			got := signalingtest.Bound{
				Device: req.device(), Stream: string(req.StreamID), Live: req.PlaybackTimeNode.isLive(),
				IncludeAudio: signalingtest.Opt[bool](req.IncludeAudio),
			}
			for _, s := range req.IceServers {
				got.ICE = append(got.ICE, signalingtest.ICEServer(s))
			}
			if p := req.PlaybackTimeNode; p != nil {
				got.SkipGaps, got.Speed = signalingtest.Opt[bool](p.SkipGaps), signalingtest.Opt[float64](p.Speed)
			}
			// The stream id is trimmed by the handler, not the decoder.
			got.Stream = strings.TrimSpace(got.Stream)
			if len(got.ICE) == 0 && len(tc.Want.ICE) == 0 {
				got.ICE = tc.Want.ICE // nil and [] both mean none
			}
			if !reflect.DeepEqual(got, *tc.Want) {
				t.Fatalf("decoded\n got %+v\nwant %+v", got, *tc.Want)
			}
		})
	}
}

func TestParseClientCandidate(t *testing.T) {
	t.Parallel()
	for _, tc := range signalingtest.Candidates() {
		t.Run(tc.Name, func(t *testing.T) {
			c, err := parseClientCandidate(tc.Raw)
			if tc.ErrText != nil {
				if err == nil {
					t.Fatalf("parsed %+v, want an error", c)
				}
				assertMentions(t, err.Error(), tc.ErrText)
				return
			}
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			if c.Candidate != tc.Line {
				t.Fatalf("candidate = %q, want %q", c.Candidate, tc.Line)
			}
		})
	}
}

func TestParseAnswer(t *testing.T) {
	t.Parallel()
	for _, tc := range signalingtest.Answers() {
		t.Run(tc.Name, func(t *testing.T) {
			desc, err := parseAnswer(tc.Raw)
			if tc.ErrText != nil {
				if err == nil {
					t.Fatalf("parsed %s, want an error", desc.Type)
				}
				ae := asAPIError(err)
				if ae.Status != http.StatusBadRequest {
					t.Fatalf("error %v (%T), want a 400", err, err)
				}
				assertMentions(t, ae.Text, tc.ErrText)
				return
			}
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			if desc.Type.String() != "answer" || !strings.HasPrefix(desc.SDP, "v=0") {
				t.Fatalf("got type %s, sdp %.20q", desc.Type, desc.SDP)
			}
		})
	}
}

// maxErrorText bounds an error answer's text whatever the input: some
// inputs are a megabyte long, and an answer that quotes them helps no one.
const maxErrorText = 400

func assertMentions(t *testing.T, text string, want []string) {
	t.Helper()
	if len(text) > maxErrorText {
		t.Errorf("error text is %d bytes long, want at most %d: %.200q…", len(text), maxErrorText, text)
	}
	for _, w := range want {
		if !strings.Contains(strings.ToLower(text), strings.ToLower(w)) {
			t.Errorf("error text %q does not mention %q", text, w)
		}
	}
}
