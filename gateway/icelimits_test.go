package gateway_test

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/camgate/camgate/appsettings"
	"github.com/camgate/camgate/gateway/rtc"
)

// Issue 12: a client must not be able to aim camgate's ICE traffic at
// addresses of its choosing beyond a small, fixed budget per session. The
// tests point candidates and STUN/TURN servers at listeners on loopback and
// count what reaches them.

// udpSinks are UDP listeners on distinct loopback addresses that count the
// datagrams they receive.
type udpSinks struct {
	addrs  []*net.UDPAddr
	counts []atomic.Int64
}

func newUDPSinks(t *testing.T, n int) *udpSinks {
	t.Helper()
	s := &udpSinks{addrs: make([]*net.UDPAddr, n), counts: make([]atomic.Int64, n)}
	for i := range n {
		// 127.0.0.0/8 is all loopback on Linux: one address per sink, so
		// that the candidates name distinct hosts, not only ports.
		c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 1, byte(10+i))})
		if err != nil {
			t.Fatalf("listen on 127.0.1.%d: %v", 10+i, err)
		}
		t.Cleanup(func() { _ = c.Close() })
		s.addrs[i] = c.LocalAddr().(*net.UDPAddr)
		go func() {
			buf := make([]byte, 1500)
			for {
				if _, _, err := c.ReadFrom(buf); err != nil {
					return
				}
				s.counts[i].Add(1)
			}
		}()
	}
	return s
}

// candidate is the JSON string of a host candidate at sink i.
func (s *udpSinks) candidate(i int) string {
	return mustJSON(map[string]any{
		"candidate":     fmt.Sprintf("candidate:%d 1 udp 2130706431 %s %d typ host", 100+i, s.addrs[i].IP, s.addrs[i].Port),
		"sdpMid":        "0",
		"sdpMLineIndex": 0,
	})
}

func (s *udpSinks) snapshot() []int64 {
	out := make([]int64, len(s.counts))
	for i := range s.counts {
		out[i] = s.counts[i].Load()
	}
	return out
}

// settle waits until each of the first n sinks got a datagram and then
// until no sink got one for a while, and returns the counts. The deadlines
// only bound a hang: the counts the test asserts are upper bounds, which a
// slow machine cannot push up.
func (s *udpSinks) settle(t *testing.T, n int) []int64 {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		got := s.snapshot()
		reached := 0
		for _, c := range got[:n] {
			if c > 0 {
				reached++
			}
		}
		if reached == n {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("only %d of the %d accepted candidates got a connectivity check: %v", reached, n, got)
		}
		time.Sleep(50 * time.Millisecond)
	}
	last, quiet := s.snapshot(), time.Now()
	for time.Since(quiet) < 2*time.Second && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
		if now := s.snapshot(); fmt.Sprint(now) != fmt.Sprint(last) {
			last, quiet = now, time.Now()
		}
	}
	return last
}

// checkSinks asserts that only the first accepted sinks were contacted,
// each with at most the checks camgate sends to an address that never
// answers, from each of its local candidates that can pair with it.
func checkSinks(t *testing.T, got []int64, accepted, localUDP4 int) {
	t.Helper()
	bound := int64(rtc.ChecksPerPair * localUDP4)
	for i, c := range got {
		switch {
		case i < accepted && c > bound:
			t.Errorf("sink %d (an accepted candidate) got %d datagrams, want at most %d (%d checks × %d local candidates)", i, c, bound, rtc.ChecksPerPair, localUDP4)
		case i >= accepted && c != 0:
			t.Errorf("sink %d (a refused candidate) got %d datagrams, want none", i, c)
		}
	}
}

// localUDP4 counts the IPv4 UDP candidates of camgate's offer: each pairs
// with an IPv4 UDP candidate of the client.
func localUDP4(t *testing.T, offer webrtc.SessionDescription) int {
	t.Helper()
	// Distinct addresses: pion writes each candidate for components 1 and
	// 2 (RTCP muxed, the same socket), and bundled sections may repeat them.
	seen := map[string]bool{}
	for line := range strings.SplitSeq(offer.SDP, "\r\n") {
		f := strings.Fields(strings.TrimPrefix(line, "a="))
		if len(f) >= 8 && strings.HasPrefix(f[0], "candidate:") && strings.EqualFold(f[2], "udp") && net.ParseIP(f[4]).To4() != nil {
			seen[net.JoinHostPort(f[4], f[5])] = true
		}
	}
	n := len(seen)
	if n == 0 {
		t.Fatalf("the offer has no IPv4 UDP candidate:\n%s", offer.SDP)
	}
	return n
}

// deadAnswer is a valid answer to offer from a peer that is gone at once,
// without candidates: camgate's ICE agent then checks only the candidates
// the test sends, and none of them ever answers.
func deadAnswer(t *testing.T, offer webrtc.SessionDescription, extra ...string) string {
	t.Helper()
	pc, err := clientAPI(t).NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	if err := pc.SetRemoteDescription(offer); err != nil {
		t.Fatal(err)
	}
	ans, err := pc.CreateAnswer(nil)
	if err != nil {
		t.Fatal(err)
	}
	var kept []string
	for line := range strings.SplitSeq(strings.TrimSuffix(ans.SDP, "\r\n"), "\r\n") {
		if !strings.HasPrefix(line, "a=candidate") && line != "a=end-of-candidates" {
			kept = append(kept, line)
		}
		if strings.HasPrefix(line, "a=mid:") {
			kept = append(kept, extra...)
		}
	}
	ans.SDP = strings.Join(kept, "\r\n") + "\r\n"
	return mustJSON(ans)
}

func iceLimitEnv(t *testing.T) *testEnv {
	return newTestEnv(t, envOptions{inBandParams: true, mutate: func(s *appsettings.Settings) {
		s.WebRTC.MaxRemoteCandidates = 6
		s.WebRTC.MaxCandidatesPerRequest = 4
	}})
}

func errorText(t *testing.T, body []byte) string {
	t.Helper()
	var e struct {
		Error struct {
			Details []struct {
				ErrorText string `json:"errorText"`
			} `json:"details"`
		} `json:"error"`
	}
	if err := json.Unmarshal(body, &e); err != nil || len(e.Error.Details) == 0 {
		t.Fatalf("error body %s: %v", body, err)
	}
	return e.Error.Details[0].ErrorText
}

func mentions(t *testing.T, what, text string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(text, w) {
			t.Errorf("%s: %q does not mention %q", what, text, w)
		}
	}
}

// A REST client floods a session with candidates pointing at listeners:
// past WebRTC.MaxRemoteCandidates (before and after the answer, and inside
// the answer SDP) and WebRTC.MaxCandidatesPerRequest it gets a 400 naming
// the setting, the session goes on, and only the accepted candidates get
// checks, a few each.
func TestCandidateFloodIsCappedREST(t *testing.T) {
	t.Parallel()
	env := iceLimitEnv(t)
	sinks := newUDPSinks(t, 14)
	create := func() (string, webrtc.SessionDescription) {
		st, body := env.do(http.MethodPost, "/REST/v1/WebRTC/Session", map[string]any{"deviceId": testCameraID})
		if st != http.StatusOK {
			t.Fatalf("POST Session: %d %s", st, body)
		}
		var r struct{ SessionID, OfferSDP string }
		var offer webrtc.SessionDescription
		if err := json.Unmarshal(body, &r); err != nil || json.Unmarshal([]byte(r.OfferSDP), &offer) != nil {
			t.Fatalf("POST Session body %s: %v", body, err)
		}
		return r.SessionID, offer
	}
	post := func(id string, cands ...string) (int, []byte) {
		return env.do(http.MethodPost, "/REST/v1/WebRTC/IceCandidates/"+id, map[string]any{"candidates": cands})
	}
	endOfCandidates := `{"candidate":"","sdpMid":"0","sdpMLineIndex":0}`

	id, offer := create()
	// Before the answer: three, and an end-of-candidates, which is no
	// candidate.
	if st, body := post(id, sinks.candidate(0), sinks.candidate(1), sinks.candidate(2), endOfCandidates); st != http.StatusOK {
		t.Fatalf("3 candidates before the answer: %d %s", st, body)
	}
	st, body := post(id, sinks.candidate(3), sinks.candidate(4), sinks.candidate(5), sinks.candidate(6), sinks.candidate(7))
	if st != http.StatusBadRequest {
		t.Fatalf("5 candidates in one request: %d %s, want 400", st, body)
	}
	mentions(t, "per-request cap", errorText(t, body), "WebRTC.MaxCandidatesPerRequest", "at most 4")
	if st, body := env.do(http.MethodPatch, "/REST/v1/WebRTC/Session/"+id, map[string]string{"answerSDP": deadAnswer(t, offer)}); st != http.StatusOK {
		t.Fatalf("PATCH answer: %d %s", st, body)
	}
	if st, body := post(id, sinks.candidate(3), sinks.candidate(4), sinks.candidate(5)); st != http.StatusOK {
		t.Fatalf("3 candidates after the answer, 6 in all: %d %s", st, body)
	}
	for i := 6; i < 9; i++ {
		st, body := post(id, sinks.candidate(i))
		if st != http.StatusBadRequest {
			t.Fatalf("candidate %d of the session: %d %s, want 400", i+1, st, body)
		}
		mentions(t, "per-session cap", errorText(t, body), "WebRTC.MaxRemoteCandidates", "at most 6", "has 6")
	}
	// The session goes on: its candidates are still served, and it ends
	// on DELETE.
	if st, body := env.do(http.MethodGet, "/REST/v1/WebRTC/IceCandidates/"+id, nil); st != http.StatusOK {
		t.Fatalf("GET IceCandidates after the refusals: %d %s", st, body)
	}

	// An answer SDP whose candidates pass the cap is refused, and the
	// session still takes an answer within it.
	id2, offer2 := create()
	var inSDP []string
	for i := 9; i < 14; i++ {
		var c webrtc.ICECandidateInit
		_ = json.Unmarshal([]byte(sinks.candidate(i)), &c)
		inSDP = append(inSDP, "a="+c.Candidate)
	}
	if st, body := post(id2, sinks.candidate(6), sinks.candidate(7)); st != http.StatusOK {
		t.Fatalf("2 candidates before the answer: %d %s", st, body)
	}
	st, body = env.do(http.MethodPatch, "/REST/v1/WebRTC/Session/"+id2, map[string]string{"answerSDP": deadAnswer(t, offer2, inSDP...)})
	if st != http.StatusBadRequest {
		t.Fatalf("an answer with 5 more candidates: %d %s, want 400", st, body)
	}
	mentions(t, "answer over the cap", errorText(t, body), "WebRTC.MaxRemoteCandidates", "answerSDP", "5 more")
	if st, body := env.do(http.MethodPatch, "/REST/v1/WebRTC/Session/"+id2, map[string]string{"answerSDP": deadAnswer(t, offer2, inSDP[:4]...)}); st != http.StatusOK {
		t.Fatalf("an answer with 4 more candidates, 6 in all: %d %s", st, body)
	}

	got := sinks.settle(t, 8)
	// Sinks 0–5: the first session's; 6, 7: the second's (before its
	// answer); 9–12: in its answer; 8 and 13: refused everywhere.
	bound := int64(rtc.ChecksPerPair * localUDP4(t, offer))
	for i, c := range got {
		accepted := i <= 7 || i >= 9 && i <= 12
		switch {
		case accepted && c > bound:
			t.Errorf("sink %d (an accepted candidate) got %d datagrams, want at most %d", i, c, bound)
		case !accepted && c != 0:
			t.Errorf("sink %d (a refused candidate) got %d datagrams, want none", i, c)
		}
	}
	t.Logf("datagrams per sink: %v (at most %d each)", got, bound)
}

// The same flood over WebSocket trickles: each past the cap is refused
// with invalid params (-32602) naming the setting, and only the accepted
// candidates get checks.
func TestCandidateFloodIsCappedWebSocket(t *testing.T) {
	t.Parallel()
	env := iceLimitEnv(t)
	sinks := newUDPSinks(t, 10)
	c := env.mustDialWS()
	c.register(env.token)
	session := c.connect("2", map[string]any{"peer": testCameraID})
	inv := c.expectInvite(session)
	c.sendRaw(`{"jsonrpc":"2.0","result":{"answer":` + mustJSON(deadAnswer(t, inv.offer)) + `},"id":` + string(inv.id) + `}`)
	for i := range 10 {
		id := fmt.Sprint(100 + i)
		c.sendRaw(`{"jsonrpc":"2.0","method":"trickle","params":{"session":` + mustJSON(session) + `,"candidate":` + mustJSON(sinks.candidate(i)) + `},"id":` + id + `}`)
		if i < 6 {
			c.expectResult(id)
			continue
		}
		n := c.expectError(id, -32602)
		mentions(t, "trickle over the cap", n.Message, "WebRTC.MaxRemoteCandidates", "at most 6")
	}
	got := sinks.settle(t, 6)
	checkSinks(t, got, 6, localUDP4(t, inv.offer))
	t.Logf("datagrams per sink: %v", got)
}

// A connected WebSocket session whose client then trickles past the cap
// keeps playing: the refusal touches only the refused candidates.
func TestCandidateCapKeepsTheSessionPlaying(t *testing.T) {
	t.Parallel()
	env := iceLimitEnv(t)
	env.waitStreaming()
	sinks := newUDPSinks(t, 8)
	c := env.mustDialWS()
	c.register(env.token)
	x := c.play("2", testCameraID, nil)
	x.waitFrames(5, 20*time.Second)
	refused := 0
	for i := range 8 {
		id := fmt.Sprint(100 + i)
		c.sendRaw(`{"jsonrpc":"2.0","method":"trickle","params":{"session":` + mustJSON(x.sessionID) + `,"candidate":` + mustJSON(sinks.candidate(i)) + `},"id":` + id + `}`)
		m := c.next(10 * time.Second)
		if m.Error != nil {
			c.checkError(m, id, -32602)
			refused++
		}
	}
	if refused == 0 {
		t.Fatal("8 trickles on top of the client's own candidates were all taken; the cap is 6")
	}
	before := x.frameCount()
	x.waitFrames(before+25, 20*time.Second)
}

// tcpSinks are TCP listeners that count the connections they accept.
type tcpSinks struct {
	addrs    []*net.TCPAddr
	accepted atomic.Int64
}

func newTCPSinks(t *testing.T, n int) *tcpSinks {
	t.Helper()
	s := &tcpSinks{}
	for range n {
		ln, err := net.Listen("tcp4", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = ln.Close() })
		s.addrs = append(s.addrs, ln.Addr().(*net.TCPAddr))
		go func() {
			for {
				conn, err := ln.Accept()
				if err != nil {
					return
				}
				s.accepted.Add(1)
				_ = conn.Close()
			}
		}()
	}
	return s
}

// iceServerFlood is the probe's request: many STUN entries at the UDP
// sinks and TURN entries at the TCP sinks.
func iceServerFlood(udp *udpSinks, tcp *tcpSinks) []map[string]any {
	var out []map[string]any
	for _, a := range udp.addrs {
		out = append(out, map[string]any{"urls": "stun:" + a.String()})
	}
	for _, a := range tcp.addrs {
		out = append(out, map[string]any{"urls": "turn:" + a.String() + "?transport=tcp", "username": "u", "credential": "p"})
	}
	return out
}

// noContact asserts that nothing reached the sinks. The refusal comes
// before any socket is opened; the pause only gives a wrongly accepted
// request's gathering (which the session request waits for) time to show.
func noContact(t *testing.T, udp *udpSinks, tcp *tcpSinks) {
	t.Helper()
	time.Sleep(300 * time.Millisecond)
	for i, c := range udp.snapshot() {
		if c != 0 {
			t.Errorf("UDP sink %d got %d datagrams, want none", i, c)
		}
	}
	if n := tcp.accepted.Load(); n != 0 {
		t.Errorf("the TCP sinks accepted %d connections, want none", n)
	}
}

// A session request naming many STUN/TURN servers, or one host that is not
// allowed, is refused with a 400 naming the setting, and camgate contacts
// none of them; the configured server and a listed host are allowed.
func TestClientICEServersAreLimitedREST(t *testing.T) {
	t.Parallel()
	configured := stunServer(t)
	listed := stunServer(t)
	env := newTestEnv(t, envOptions{inBandParams: true, mutate: func(s *appsettings.Settings) {
		s.WebRTC.IceServers = []appsettings.IceServer{{Urls: []string{configured}}}
		s.WebRTC.ClientIceServerHosts = []string{strings.TrimPrefix(listed, "stun:")}
	}})
	udp, tcp := newUDPSinks(t, 8), newTCPSinks(t, 8)
	session := func(ice any) (int, string) {
		st, body := env.do(http.MethodPost, "/REST/v1/WebRTC/Session", map[string]any{"deviceId": testCameraID, "iceServers": ice})
		if st == http.StatusOK {
			return st, ""
		}
		return st, errorText(t, body)
	}

	st, text := session(iceServerFlood(udp, tcp))
	noContact(t, udp, tcp)
	if st != http.StatusBadRequest {
		t.Fatalf("16 STUN/TURN servers: %d %s, want 400", st, text)
	}
	mentions(t, "flood", text, "16 entries", "at most 4", "WebRTC.MaxClientIceServers")
	st, text = session([]map[string]any{{"urls": []string{"stun:" + udp.addrs[0].String(), "stun:" + udp.addrs[1].String(), "stun:" + udp.addrs[2].String(), "stun:" + udp.addrs[3].String(), "stun:" + udp.addrs[4].String()}}})
	if st != http.StatusBadRequest {
		t.Fatalf("one entry with 5 URLs: %d %s, want 400", st, text)
	}
	mentions(t, "URLs in one entry", text, "more than 4 URLs", "WebRTC.MaxClientIceServers")
	st, text = session([]map[string]any{{"url": "stun:" + udp.addrs[0].String()}, {"url": "turn:" + tcp.addrs[0].String() + "?transport=tcp", "username": "u", "credential": "p"}})
	if st != http.StatusBadRequest {
		t.Fatalf("two hosts that are not allowed: %d %s, want 400", st, text)
	}
	mentions(t, "disallowed host", text, "iceServers[0]", udp.addrs[0].String(), "WebRTC.ClientIceServerHosts")
	noContact(t, udp, tcp)

	if st, text := session([]map[string]any{{"url": configured}}); st != http.StatusOK {
		t.Fatalf("the configured STUN server: %d %s", st, text)
	}
	if st, text := session([]map[string]any{{"urls": listed}}); st != http.StatusOK {
		t.Fatalf("a STUN server in WebRTC.ClientIceServerHosts: %d %s", st, text)
	}
	if st, text := session([]any{}); st != http.StatusOK {
		t.Fatalf("an empty list: %d %s", st, text)
	}
}

// The same over the WebSocket's connect: invalid params (-32602) naming the
// setting, no contact; the configured server is allowed.
func TestClientICEServersAreLimitedWebSocket(t *testing.T) {
	t.Parallel()
	configured := stunServer(t)
	env := newTestEnv(t, envOptions{inBandParams: true, mutate: func(s *appsettings.Settings) {
		s.WebRTC.IceServers = []appsettings.IceServer{{Urls: []string{configured}}}
	}})
	udp, tcp := newUDPSinks(t, 8), newTCPSinks(t, 8)
	c := env.mustDialWS()
	c.register(env.token)
	connect := func(id string, ice any) string {
		return `{"jsonrpc":"2.0","method":"connect","id":` + id + `,"params":` + mustJSON(map[string]any{"peer": testCameraID, "iceServers": ice}) + `}`
	}
	c.sendRaw(connect("2", iceServerFlood(udp, tcp)))
	reply := c.next(10 * time.Second)
	noContact(t, udp, tcp)
	mentions(t, "flood", c.checkError(reply, "2", -32602).Message, "16 entries", "WebRTC.MaxClientIceServers")
	c.sendRaw(connect("3", []map[string]any{{"urls": "stun:" + udp.addrs[0].String()}}))
	mentions(t, "disallowed host", c.expectError("3", -32602).Message, udp.addrs[0].String(), "WebRTC.ClientIceServerHosts", "WebRTC.IceServers")
	noContact(t, udp, tcp)
	session := c.connect("4", map[string]any{"peer": testCameraID, "iceServers": []map[string]any{{"urls": configured}}})
	c.expectInvite(session)
}

// With ICE-TCP on, a client's passive TCP candidate does not make camgate
// dial out: camgate is the passive side, and a dial per candidate would be
// a TCP connection (and a file descriptor) to any address a client names.
func TestNoOutgoingTCPToClientCandidates(t *testing.T) {
	t.Parallel()
	free, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := free.Addr().(*net.TCPAddr).Port
	_ = free.Close()
	env := newTestEnv(t, envOptions{inBandParams: true, mutate: func(s *appsettings.Settings) { s.WebRTC.TcpPort = port }})
	tcp := newTCPSinks(t, 3)
	udp := newUDPSinks(t, 1)
	st, body := env.do(http.MethodPost, "/REST/v1/WebRTC/Session", map[string]any{"deviceId": testCameraID})
	if st != http.StatusOK {
		t.Fatalf("POST Session: %d %s", st, body)
	}
	var r struct{ SessionID, OfferSDP string }
	var offer webrtc.SessionDescription
	if err := json.Unmarshal(body, &r); err != nil || json.Unmarshal([]byte(r.OfferSDP), &offer) != nil {
		t.Fatalf("POST Session body %s: %v", body, err)
	}
	if st, body := env.do(http.MethodPatch, "/REST/v1/WebRTC/Session/"+r.SessionID, map[string]string{"answerSDP": deadAnswer(t, offer)}); st != http.StatusOK {
		t.Fatalf("PATCH answer: %d %s", st, body)
	}
	cands := []string{udp.candidate(0)} // a UDP one shows when checks have run
	for i, a := range tcp.addrs {
		cands = append(cands, mustJSON(map[string]any{
			"candidate": fmt.Sprintf("candidate:%d 1 tcp 1518280447 %s %d typ host tcptype passive", 200+i, a.IP, a.Port),
			"sdpMid":    "0",
		}))
	}
	if st, body := env.do(http.MethodPost, "/REST/v1/WebRTC/IceCandidates/"+r.SessionID, map[string]any{"candidates": cands}); st != http.StatusOK {
		t.Fatalf("POST IceCandidates: %d %s", st, body)
	}
	udp.settle(t, 1)
	if n := tcp.accepted.Load(); n != 0 {
		t.Fatalf("camgate opened %d TCP connections to a client's candidates, want none", n)
	}
}
