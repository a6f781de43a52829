package gateway

import (
	"fmt"
	"net"
	"strings"
	"testing"

	"github.com/pion/webrtc/v4"
)

// ChecksPerPair is how many connectivity checks camgate sends on one
// candidate pair that never answers, for the tests in package gateway_test.
const ChecksPerPair = checksPerPair

// withCandidates puts n candidate lines into every media section of the
// Chrome answer, the same lines in each (as a non-trickle client writes
// them into bundled sections).
func withCandidates(n int) string {
	var lines strings.Builder
	for i := range n {
		fmt.Fprintf(&lines, "a=candidate:%d 1 udp 2130706431 192.0.2.%d 5000 typ host\r\n", i, i+1)
	}
	return strings.ReplaceAll(chromeAnswerSDP, "a=ice-options:trickle\r\n", "a=ice-options:trickle\r\n"+lines.String())
}

func TestAnswerCandidatesCountsDistinctLines(t *testing.T) {
	for _, n := range []int{0, 1, 7} {
		desc := webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: withCandidates(n)}
		if got := answerCandidates(desc); got != n {
			t.Errorf("answer with %d candidates in both sections: counted %d", n, got)
		}
	}
}

func TestCandidateLimitsAdmit(t *testing.T) {
	l := candidateLimits{perSession: 6, perRequest: 3}
	if err := l.admit("s", 3, 3, "this request"); err != nil {
		t.Fatalf("up to the cap: %v", err)
	}
	err := l.admit("s", 4, 3, "this request")
	if err == nil {
		t.Fatal("over the cap: admitted")
	}
	checkBadRequest(t, err)
	assertMentions(t, err.Error(), []string{"WebRTC.MaxRemoteCandidates", "at most 6", "has 4", "3 more"})
	if re := rpcErrorOf(err, rpcMalformedCandidate); re.Code != rpcInvalidParams {
		t.Fatalf("over the WebSocket: code %d, want %d (invalid params)", re.Code, rpcInvalidParams)
	}
}

func TestRemoteAddrAllowed(t *testing.T) {
	for ip, want := range map[string]bool{
		"192.0.2.1": true, "127.0.0.1": true, "2001:db8::1": true, "::ffff:192.0.2.1": true,
		"0.0.0.0": false, "::": false, "224.0.0.251": false, "ff02::fb": false, "255.255.255.255": false, "::ffff:224.0.0.1": false,
	} {
		if got := remoteAddrAllowed(net.ParseIP(ip)); got != want {
			t.Errorf("remoteAddrAllowed(%s) = %v, want %v", ip, got, want)
		}
	}
	if remoteAddrAllowed(nil) {
		t.Error("remoteAddrAllowed(nil) = true")
	}
}
