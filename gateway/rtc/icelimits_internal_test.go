package rtc

import (
	"fmt"
	"net"
	"strings"
	"testing"

	"github.com/pion/webrtc/v4"

	"github.com/camgate/camgate/gateway/signaling/signalingtest"
)

// withCandidates puts n candidate lines into every media section of the
// Chrome answer, the same lines in each (as a non-trickle client writes
// them into bundled sections).
func withCandidates(n int) string {
	var lines strings.Builder
	for i := range n {
		fmt.Fprintf(&lines, "a=candidate:%d 1 udp 2130706431 192.0.2.%d 5000 typ host\r\n", i, i+1)
	}
	return strings.ReplaceAll(signalingtest.ChromeAnswerSDP(), "a=ice-options:trickle\r\n", "a=ice-options:trickle\r\n"+lines.String())
}

func TestAnswerCandidatesCountsDistinctLines(t *testing.T) {
	t.Parallel()
	for _, n := range []int{0, 1, 7} {
		desc := webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: withCandidates(n)}
		if got := answerCandidates(desc); got != n {
			t.Errorf("answer with %d candidates in both sections: counted %d", n, got)
		}
	}
}

func TestCandidateLimitsAdmit(t *testing.T) {
	t.Parallel()
	l := candidateLimits{perSession: 6, perRequest: 3}
	if err := l.admit("s", 3, 3, "this request"); err != nil {
		t.Fatalf("up to the cap: %v", err)
	}
	err := l.admit("s", 4, 3, "this request")
	if err == nil {
		t.Fatal("over the cap: admitted")
	}
	// OverLimit: a 400 over REST, invalid params over the WebSocket
	// whatever the request (the gateway's TestOverLimitStatuses).
	if KindOf(err) != OverLimit {
		t.Fatalf("over the cap: %v is not OverLimit", err)
	}
	for _, want := range []string{"WebRTC.MaxRemoteCandidates", "at most 6", "has 4", "3 more"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
}

func TestRemoteAddrAllowed(t *testing.T) {
	t.Parallel()
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
