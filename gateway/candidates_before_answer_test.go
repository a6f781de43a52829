package gateway_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/camgate/camgate/appsettings"
)

// TestClientCandidatesBeforeAnswer posts the client's candidates before
// its answer, as browsers do when the POSTs race the PATCH. The client here
// learns nothing about the server (the offer's candidates are stripped and
// it never GETs any) and its answer carries none of its own: only the
// candidates buffered before the answer let the two find each other.
func TestClientCandidatesBeforeAnswer(t *testing.T) {
	t.Parallel()
	// No need to wait for the camera: connecting is what is tested. The
	// answer comes after the client's gathering, in time on a busy machine.
	env := newTestEnv(t, envOptions{inBandParams: true, mutate: func(s *appsettings.Settings) {
		s.WebRTC.AnswerTimeout = appsettings.Duration(time.Minute)
	}})
	s := createSession(t, env, liveBody)
	s.offer.SDP = stripCandidates(s.offer.SDP)

	pc, err := clientAPI(t).NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pc.Close() })
	connected := make(chan struct{})
	var once sync.Once
	pc.OnConnectionStateChange(func(st webrtc.PeerConnectionState) {
		if st == webrtc.PeerConnectionStateConnected {
			once.Do(func() { close(connected) })
		}
	})
	var mu sync.Mutex
	var local []string
	pc.OnICECandidate(func(c *webrtc.ICECandidate) {
		if c != nil {
			b, _ := json.Marshal(c.ToJSON())
			mu.Lock()
			local = append(local, string(b))
			mu.Unlock()
		}
	})
	if err := pc.SetRemoteDescription(s.offer); err != nil {
		t.Fatalf("setRemoteDescription(offer): %v", err)
	}
	answer, err := pc.CreateAnswer(nil)
	if err != nil {
		t.Fatal(err)
	}
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(answer); err != nil {
		t.Fatal(err)
	}
	select {
	case <-gathered:
	case <-time.After(10 * time.Second):
		t.Fatal("client ICE gathering did not complete")
	}
	if strings.Contains(answer.SDP, "a=candidate") {
		t.Fatal("the answer to send must carry no candidates")
	}

	mu.Lock()
	cands := append([]string(nil), local...)
	mu.Unlock()
	if len(cands) == 0 {
		t.Fatal("client gathered no candidates")
	}
	for _, c := range cands {
		if !strings.Contains(c, " 127.0.0.1 ") || !strings.Contains(c, "typ host") {
			t.Fatalf("client candidate %s, want a loopback host candidate", c)
		}
		// One per request, no sessionId in the body: as the sample.
		r := env.send(http.MethodPost, restBase+"/IceCandidates/"+s.id, []byte(`{"candidates":[`+quote(c)+`]}`))
		if r.status != http.StatusOK {
			t.Fatalf("POST IceCandidates before the answer: %d %s", r.status, r.body)
		}
	}
	// End-of-candidates, as some browsers send it.
	if r := env.send(http.MethodPost, restBase+"/IceCandidates/"+s.id, []byte(`{"candidates":[`+quote(`{"candidate":"","sdpMid":"0","sdpMLineIndex":0}`)+`]}`)); r.status != http.StatusOK {
		t.Fatalf("POST end-of-candidates: %d %s", r.status, r.body)
	}

	ans, _ := json.Marshal(answer)
	if r := env.send(http.MethodPatch, restBase+"/Session/"+s.id, []byte(`{"answerSDP":`+quote(string(ans))+`}`)); r.status != http.StatusOK {
		t.Fatalf("PATCH answer: %d %s", r.status, r.body)
	}
	// ICE and DTLS both up: the server reached the client.
	select {
	case <-connected:
	case <-time.After(20 * time.Second):
		t.Fatalf("never connected: the buffered candidates were not used (ICE %s, peer %s)", pc.ICEConnectionState(), pc.ConnectionState())
	}
}

// stripCandidates removes the candidate lines from an SDP.
func stripCandidates(sdp string) string {
	var out []string
	for _, l := range strings.Split(sdp, "\r\n") {
		if strings.HasPrefix(l, "a=candidate:") || l == "a=end-of-candidates" {
			continue
		}
		out = append(out, l)
	}
	return strings.Join(out, "\r\n")
}
