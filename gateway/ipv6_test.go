package gateway_test

import (
	"encoding/json"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/webrtc/v4"

	"github.com/camgate/camgate/appsettings"
)

// needIPv6Loopback skips a test on a machine without IPv6 loopback (IPv6
// disabled in the kernel, as in many containers): there is nothing to
// test there, and the test says so instead of passing.
func needIPv6Loopback(t *testing.T) {
	t.Helper()
	c, err := net.ListenPacket("udp6", "[::1]:0")
	if err != nil {
		t.Skipf("SKIP: this machine has no IPv6 loopback (listen udp6 [::1]:0: %v)", err)
	}
	_ = c.Close()
}

// ipv6ClientAPI is a viewer that has only IPv6: one UDP socket on ::1. Its
// socket is a mux, as pion's own gathering leaves ::1 out (it takes it for
// a deprecated IPv4-compatible address).
func ipv6ClientAPI(t *testing.T) *webrtc.API {
	t.Helper()
	udp, err := net.ListenPacket("udp6", "[::1]:0")
	if err != nil {
		t.Fatal(err)
	}
	mux := ice.NewUDPMuxDefault(ice.UDPMuxParams{UDPConn: udp})
	t.Cleanup(func() { _ = mux.Close() })
	se := webrtc.SettingEngine{}
	se.SetIncludeLoopbackCandidate(true)
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP6})
	se.SetICEUDPMux(mux)
	m := &webrtc.MediaEngine{}
	if err := m.RegisterDefaultCodecs(); err != nil {
		t.Fatal(err)
	}
	return webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithSettingEngine(se))
}

// A viewer that has only IPv6 plays from a dual-stack camgate (candidates
// on 127.0.0.1 and ::1, WebRTC.IPv6 at its default), and the media flows
// over IPv6.
func TestIPv6OnlyViewerReceivesFrames(t *testing.T) {
	t.Parallel()
	needIPv6Loopback(t)
	env := newTestEnv(t, envOptions{mutate: func(s *appsettings.Settings) {
		if !s.WebRTC.IPv6 {
			t.Fatal("WebRTC.IPv6 is off by default")
		}
		s.WebRTC.IPs = []string{"127.0.0.1", "::1"}
	}})
	env.waitStreaming()
	c := env.playWith(ipv6ClientAPI(t), liveBody)
	frames := c.waitFrames(10, 20*time.Second)
	if !frames[0].isKey() {
		t.Errorf("first frame has NAL units %v, want a keyframe first", frames[0].types())
	}
	pair, err := c.pc.SCTP().Transport().ICETransport().GetSelectedCandidatePair()
	if err != nil || pair == nil {
		t.Fatalf("selected candidate pair: %v, %v", pair, err)
	}
	for _, end := range []*webrtc.ICECandidate{pair.Local, pair.Remote} {
		if a, err := netip.ParseAddr(end.Address); err != nil || !a.Is6() || end.Protocol != webrtc.ICEProtocolUDP {
			t.Errorf("media runs over %s %s, want UDP over IPv6", end.Protocol, end.Address)
		}
	}
	if pair.Remote.Typ != webrtc.ICECandidateTypeHost {
		t.Errorf("camgate's end of the pair is a %s candidate, want the host candidate it offered", pair.Remote.Typ)
	}
}

// offerCandidates creates a session and returns the addresses of the
// candidates in its offer.
func offerCandidates(t *testing.T, env *testEnv) []string {
	t.Helper()
	status, body := env.do(http.MethodPost, "/REST/v1/WebRTC/Session", liveBody)
	if status != http.StatusOK {
		t.Fatalf("POST Session: %d %s", status, body)
	}
	var created struct {
		OfferSDP string `json:"offerSDP"`
	}
	var offer webrtc.SessionDescription
	if err := json.Unmarshal(body, &created); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(created.OfferSDP), &offer); err != nil {
		t.Fatal(err)
	}
	var addrs []string
	for line := range strings.Lines(offer.SDP) {
		if f := strings.Fields(line); len(f) > 4 && strings.HasPrefix(f[0], "a=candidate:") {
			addrs = append(addrs, f[4])
		}
	}
	if len(addrs) == 0 {
		t.Fatalf("the offer has no candidates:\n%s", offer.SDP)
	}
	return addrs
}

// With every interface allowed (no WebRTC.IPs), camgate offers the host's
// IPv6 addresses, ::1 among them, but never a link-local one.
func TestIPv6OfferLeavesOutLinkLocal(t *testing.T) {
	t.Parallel()
	needIPv6Loopback(t)
	env := newTestEnv(t, envOptions{mutate: func(s *appsettings.Settings) { s.WebRTC.IPs = nil }})
	addrs := offerCandidates(t, env)
	hasLoopback := false
	for _, s := range addrs {
		a, err := netip.ParseAddr(s)
		if err != nil {
			t.Errorf("candidate address %q is not an IP address", s)
			continue
		}
		if a.Is6() && a.IsLinkLocalUnicast() {
			t.Errorf("the offer has a link-local candidate %s: %v", s, addrs)
		}
		hasLoopback = hasLoopback || a == netip.IPv6Loopback()
	}
	if !hasLoopback {
		t.Errorf("the offer has no ::1 candidate (IncludeLoopback and IPv6 are on): %v", addrs)
	}
	t.Logf("offered: %v; link-local addresses of this host: %v", addrs, linkLocalAddrs(t))
}

// With WebRTC.IPv6 false camgate offers no IPv6 address, whatever the host
// has.
func TestIPv6OffOffersOnlyIPv4(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t, envOptions{mutate: func(s *appsettings.Settings) {
		s.WebRTC.IPs = nil
		s.WebRTC.IPv6 = false
	}})
	for _, s := range offerCandidates(t, env) {
		if a, err := netip.ParseAddr(s); err != nil || !a.Is4() {
			t.Errorf("WebRTC.IPv6 is false, yet the offer has the candidate address %q", s)
		}
	}
}

// linkLocalAddrs lists the host's IPv6 link-local addresses, to show
// whether the link-local test had something to leave out.
func linkLocalAddrs(t *testing.T) []string {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && n.IP.To4() == nil && n.IP.IsLinkLocalUnicast() {
			out = append(out, n.IP.String())
		}
	}
	return out
}

// Behind a 1:1 NAT each family maps on its own: an IPv4 public address
// replaces the IPv4 host addresses and leaves the IPv6 ones as they are; an
// IPv6 public address replaces the IPv6 ones.
func TestIPv6PublicIPsMapEachFamily(t *testing.T) {
	t.Parallel()
	needIPv6Loopback(t)
	cases := []struct {
		name      string
		publicIPs []string
		want      []string
	}{
		{"IPv4 only", []string{"203.0.113.1"}, []string{"203.0.113.1", "::1"}},
		{"both families", []string{"203.0.113.1", "2001:db8::1"}, []string{"203.0.113.1", "2001:db8::1"}},
		{"IPv6 only", []string{"2001:db8::1"}, []string{"127.0.0.1", "2001:db8::1"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			env := newTestEnv(t, envOptions{mutate: func(s *appsettings.Settings) {
				s.WebRTC.IPs = []string{"127.0.0.1", "::1"}
				s.WebRTC.PublicIPs = tc.publicIPs
			}})
			got := map[string]bool{}
			for _, a := range offerCandidates(t, env) {
				got[a] = true
			}
			for _, w := range tc.want {
				if !got[w] {
					t.Errorf("the offer has no candidate at %s: %v", w, got)
				}
			}
			if len(got) != len(tc.want) {
				t.Errorf("the offer's candidate addresses are %v, want just %v", got, tc.want)
			}
		})
	}
}
