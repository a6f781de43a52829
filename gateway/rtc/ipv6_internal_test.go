package rtc

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"
)

const chromeMDNS = "candidate:1 1 udp 2122262783 3c7a2bd2-4f8e-4b6b-9f1e-2b8d0d7f3c11.local 54321 typ host generation 0"

// FuzzSignalingAddress derives, from any candidate a client sends, the
// candidate at the signaling address as addRemote does: never a panic, and
// a substitute carries the address. (The gateway's FuzzCandidate fuzzes the
// decoding of the candidate strings.)
func FuzzSignalingAddress(f *testing.F) {
	for _, c := range []string{chromeMDNS, "a=candidate:2 1 TCP 1518280447 x.local 9 typ host tcptype active",
		"candidate:1 1 udp 4294967295 x.local 1 typ host", "candidate:1 1 udp 1 192.0.2.1 1 typ srflx", ""} {
		f.Add(c)
	}
	f.Fuzz(func(t *testing.T, line string) {
		c := webrtc.ICECandidateInit{Candidate: line}
		if CheckCandidate(c) != nil {
			return
		}
		if alt, ok := withSignalingAddress(c, netip.MustParseAddr("127.0.0.1")); ok && !strings.Contains(alt.Candidate, " 127.0.0.1 ") {
			t.Fatalf("substituted candidate %q does not carry the address", alt.Candidate)
		}
	})
}

func TestWithSignalingAddress(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		cand string
		addr string // "" is the zero netip.Addr
		want string // "" means no substitute
	}{
		{"IPv4", chromeMDNS, "192.0.2.7",
			"candidate:1 1 udp 2122262784 192.0.2.7 54321 typ host generation 0"},
		{"IPv6 without brackets", chromeMDNS, "2001:db8::7",
			"candidate:1 1 udp 2122262784 2001:db8::7 54321 typ host generation 0"},
		{"IPv6 unique local", chromeMDNS, "fd00::2",
			"candidate:1 1 udp 2122262784 fd00::2 54321 typ host generation 0"},
		{"IPv6 loopback", chromeMDNS, "::1",
			"candidate:1 1 udp 2122262784 ::1 54321 typ host generation 0"},
		{"IPv4-mapped IPv6 is written as IPv4", chromeMDNS, "::ffff:192.0.2.7",
			"candidate:1 1 udp 2122262784 192.0.2.7 54321 typ host generation 0"},
		{"a zone is not written", chromeMDNS, "2001:db8::7%eth0",
			"candidate:1 1 udp 2122262784 2001:db8::7 54321 typ host generation 0"},
		{"a= prefix and TCP", "a=candidate:2 1 TCP 1518280447 x.local 9 typ host tcptype active", "2001:db8::7",
			"candidate:2 1 TCP 1518280448 2001:db8::7 9 typ host tcptype active"},
		{"the highest priority stays", "candidate:1 1 udp 4294967295 x.local 1 typ host", "2001:db8::7",
			"candidate:1 1 udp 4294967295 2001:db8::7 1 typ host"},
		{"IPv6 link-local needs a zone camgate has no candidate for", chromeMDNS, "fe80::1%eth0", ""},
		{"IPv6 link-local without zone", chromeMDNS, "fe80::1", ""},
		{"IPv6 unspecified", chromeMDNS, "::", ""},
		{"IPv4 unspecified", chromeMDNS, "0.0.0.0", ""},
		{"IPv6 multicast", chromeMDNS, "ff02::1", ""},
		{"no address", chromeMDNS, "", ""},
		{"an address candidate is left alone", "candidate:1 1 udp 2122262783 2001:db8::9 54321 typ host", "2001:db8::7", ""},
		{"a server-reflexive mDNS candidate", "candidate:1 1 udp 1686052607 x.local 54321 typ srflx raddr 0.0.0.0 rport 0", "2001:db8::7", ""},
		{"a priority that does not parse", "candidate:1 1 udp high x.local 1 typ host", "2001:db8::7", ""},
		{"too short", "candidate:1 1 udp 1 x.local 1", "2001:db8::7", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var addr netip.Addr
			if tc.addr != "" {
				addr = netip.MustParseAddr(tc.addr)
			}
			in := webrtc.ICECandidateInit{Candidate: tc.cand}
			got, ok := withSignalingAddress(in, addr)
			if tc.want == "" {
				if ok {
					t.Fatalf("substituted %q, want no substitute", got.Candidate)
				}
				return
			}
			if !ok || got.Candidate != tc.want {
				t.Fatalf("got %q (%v), want %q", got.Candidate, ok, tc.want)
			}
			if err := CheckCandidate(webrtc.ICECandidateInit{Candidate: got.Candidate}); err != nil {
				t.Errorf("the substitute does not parse as a candidate: %v", err)
			}
		})
	}
}

// canPair lets addRemote use a substitute only when camgate gathers on its
// transport and family.
func TestCanPair(t *testing.T) {
	t.Parallel()
	v4 := []webrtc.NetworkType{webrtc.NetworkTypeUDP4}
	dual := []webrtc.NetworkType{webrtc.NetworkTypeUDP4, webrtc.NetworkTypeUDP6}
	dualTCP := []webrtc.NetworkType{webrtc.NetworkTypeUDP4, webrtc.NetworkTypeUDP6, webrtc.NetworkTypeTCP4, webrtc.NetworkTypeTCP6}
	cases := []struct {
		name     string
		cand     string
		networks []webrtc.NetworkType
		want     bool
	}{
		{"IPv4 UDP, IPv4 camgate", "candidate:1 1 udp 1 192.0.2.7 1 typ host", v4, true},
		{"IPv6 UDP, IPv4 camgate", "candidate:1 1 udp 1 2001:db8::7 1 typ host", v4, false},
		{"IPv6 UDP, dual-stack camgate", "candidate:1 1 UDP 1 2001:db8::7 1 typ host", dual, true},
		{"IPv4-mapped is IPv4", "candidate:1 1 udp 1 ::ffff:192.0.2.7 1 typ host", v4, true},
		{"IPv6 TCP without ICE-TCP", "a=candidate:1 1 tcp 1 2001:db8::7 9 typ host tcptype active", dual, false},
		{"IPv4 TCP without ICE-TCP", "candidate:1 1 tcp 1 192.0.2.7 9 typ host tcptype active", dual, false},
		{"IPv6 TCP with ICE-TCP", "candidate:1 1 tcp 1 2001:db8::7 9 typ host tcptype active", dualTCP, true},
		{"a name", "candidate:1 1 udp 1 x.local 1 typ host", dualTCP, false},
		{"another transport", "candidate:1 1 sctp 1 192.0.2.7 1 typ host", dualTCP, false},
		{"too short", "candidate:1 1 udp 1", dualTCP, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := canPair(webrtc.ICECandidateInit{Candidate: tc.cand}, tc.networks); got != tc.want {
				t.Fatalf("canPair = %v, want %v", got, tc.want)
			}
		})
	}
}

// A host with every kind of address camgate meets.
var testHost = []hostAddr{
	{"lo", true, netip.MustParseAddr("127.0.0.1")},
	{"lo", true, netip.MustParseAddr("::1")},
	{"eth0", false, netip.MustParseAddr("192.0.2.2")},
	{"eth0", false, netip.MustParseAddr("2001:db8::2")},
	{"eth0", false, netip.MustParseAddr("fd00::2")},
	{"eth0", false, netip.MustParseAddr("fe80::fc:ff:fe00:1%eth0")},
	{"eth0", false, netip.MustParseAddr("fec0::1")},
	{"eth0", false, netip.MustParseAddr("::192.0.2.9")},
	{"docker0", false, netip.MustParseAddr("172.17.0.1")},
	{"eth1", false, netip.MustParseAddr("169.254.10.1")},
}

func TestMediaAddresses(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		mutate func(*MediaConfig)
		want   []string
	}{
		{"defaults: both families, no link-local, site-local or IPv4-compatible IPv6", func(*MediaConfig) {},
			[]string{"127.0.0.1", "::1", "192.0.2.2", "2001:db8::2", "fd00::2", "172.17.0.1", "169.254.10.1"}},
		{"IPv6 off", func(w *MediaConfig) { w.IPv6 = false },
			[]string{"127.0.0.1", "192.0.2.2", "172.17.0.1", "169.254.10.1"}},
		{"no loopback, of either family", func(w *MediaConfig) { w.IncludeLoopback = false },
			[]string{"192.0.2.2", "2001:db8::2", "fd00::2", "172.17.0.1", "169.254.10.1"}},
		{"one interface, both families", func(w *MediaConfig) { w.Interfaces = []string{"eth0"} },
			[]string{"192.0.2.2", "2001:db8::2", "fd00::2"}},
		{"one interface, IPv6 off", func(w *MediaConfig) {
			w.Interfaces = []string{"eth0"}
			w.IPv6 = false
		}, []string{"192.0.2.2"}},
		{"IPs of both families", func(w *MediaConfig) { w.IPs = prefixes("192.0.2.0/24", "2001:db8::/32", "::1") },
			[]string{"::1", "192.0.2.2", "2001:db8::2"}},
		{"IPv4 IPs keep IPv6 out", func(w *MediaConfig) { w.IPs = prefixes("127.0.0.1") },
			[]string{"127.0.0.1"}},
		{"a link-local range keeps nothing", func(w *MediaConfig) { w.IPs = prefixes("fe80::/10") },
			nil},
		{"IPs and Interfaces both apply", func(w *MediaConfig) {
			w.IPs = prefixes("::/0")
			w.Interfaces = []string{"lo"}
		}, []string{"::1"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testMediaConfig()
			tc.mutate(&cfg)
			var got []string
			for _, a := range mediaAddresses(cfg, testHost) {
				got = append(got, a.String())
			}
			if !slices.Equal(got, tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func hasIPv6Loopback(t *testing.T) {
	t.Helper()
	c, err := net.ListenPacket("udp6", "[::1]:0")
	if err != nil {
		t.Skipf("SKIP: this machine has no IPv6 loopback (listen udp6 [::1]:0: %v)", err)
	}
	_ = c.Close()
}

// The shared mux and the network types follow WebRTC.IPv6 and the host:
// IPv6 only when an IPv6 address was bound.
func TestMediaAPINetworks(t *testing.T) {
	t.Parallel()
	hasIPv6Loopback(t)
	cases := []struct {
		name     string
		ips      []string
		ipv6     bool
		networks []webrtc.NetworkType
		addrs    []string
	}{
		{"dual stack", []string{"127.0.0.1", "::1"}, true,
			[]webrtc.NetworkType{webrtc.NetworkTypeUDP4, webrtc.NetworkTypeUDP6}, []string{"127.0.0.1", "::1"}},
		{"on, but no IPv6 address kept", []string{"127.0.0.1"}, true,
			[]webrtc.NetworkType{webrtc.NetworkTypeUDP4}, []string{"127.0.0.1"}},
		{"IPv6 only", []string{"::1"}, true,
			[]webrtc.NetworkType{webrtc.NetworkTypeUDP4, webrtc.NetworkTypeUDP6}, []string{"::1"}},
		{"off", []string{"127.0.0.1"}, false,
			[]webrtc.NetworkType{webrtc.NetworkTypeUDP4}, []string{"127.0.0.1"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testMediaConfig()
			cfg.UDPPort = 0
			cfg.MDNS = MDNSDisabled
			cfg.IPs = prefixes(tc.ips...)
			cfg.IPv6 = tc.ipv6
			m, err := newMediaAPI(cfg, discardLog())
			if err != nil {
				t.Fatal(err)
			}
			defer m.Close()
			if !slices.Equal(m.networks, tc.networks) {
				t.Errorf("networks %v, want %v", m.networks, tc.networks)
			}
			var got []string
			for _, a := range m.udpMux.GetListenAddresses() {
				got = append(got, a.(*net.UDPAddr).AddrPort().Addr().Unmap().String())
			}
			if !slices.Equal(got, tc.addrs) {
				t.Errorf("media sockets on %v, want %v", got, tc.addrs)
			}
			if m.UDPPort() == 0 {
				t.Error("UDPPort() = 0")
			}
		})
	}
}

// Without filters camgate binds the host's addresses of both families but
// no link-local one (this test proves something only on a host that has
// one; it logs them).
func TestMediaAPIBindsNoLinkLocal(t *testing.T) {
	t.Parallel()
	cfg := testMediaConfig()
	cfg.UDPPort = 0
	cfg.MDNS = MDNSDisabled
	m, err := newMediaAPI(cfg, discardLog())
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	var bound []string
	for _, a := range m.udpMux.GetListenAddresses() {
		ap := a.(*net.UDPAddr).AddrPort()
		bound = append(bound, ap.String())
		if ap.Addr().Is6() && ap.Addr().IsLinkLocalUnicast() {
			t.Errorf("a media socket is bound to the link-local address %s", ap)
		}
	}
	host, err := hostAddresses()
	if err != nil {
		t.Fatal(err)
	}
	var linkLocal []string
	for _, h := range host {
		if h.addr.Is6() && h.addr.IsLinkLocalUnicast() {
			linkLocal = append(linkLocal, h.addr.String())
		}
	}
	t.Logf("bound %v; the host's link-local addresses: %v", bound, linkLocal)
}

// With ICE over TCP and IPv6, the one TCP listener takes clients of both
// families; with IPv6 off it takes only IPv4 ones.
func TestMediaAPITCPListenerFamilies(t *testing.T) {
	t.Parallel()
	hasIPv6Loopback(t)
	for _, ipv6 := range []bool{true, false} {
		t.Run(fmt.Sprintf("IPv6=%v", ipv6), func(t *testing.T) {
			cfg := testMediaConfig()
			cfg.UDPPort = 0
			cfg.MDNS = MDNSDisabled
			cfg.IPs = prefixes("127.0.0.1")
			if ipv6 {
				cfg.IPs = append(cfg.IPs, prefixes("::1")...)
			}
			cfg.IPv6 = ipv6
			m := mediaAPIOnFreeTCPPort(t, cfg)
			defer m.Close()
			port := m.tcpLn.Addr().(*net.TCPAddr).Port
			if want := slices.Contains(m.networks, webrtc.NetworkTypeTCP6); want != ipv6 {
				t.Errorf("networks %v: TCP6 is there: %v, want %v", m.networks, want, ipv6)
			}
			for _, c := range []struct {
				network, addr string
				want          bool
			}{
				{"tcp4", fmt.Sprintf("127.0.0.1:%d", port), true},
				{"tcp6", fmt.Sprintf("[::1]:%d", port), ipv6},
			} {
				conn, err := net.DialTimeout(c.network, c.addr, 2*time.Second)
				if err == nil {
					_ = conn.Close()
				}
				if (err == nil) != c.want {
					t.Errorf("dial %s %s: %v; want it to connect: %v", c.network, c.addr, err, c.want)
				}
			}
		})
	}
}

// mediaAPIOnFreeTCPPort builds the media API with ICE over TCP on a port
// that was free a moment ago (TcpPort 0 means off, so the test picks one),
// trying again when another process took it meanwhile.
func mediaAPIOnFreeTCPPort(t *testing.T, cfg MediaConfig) *mediaAPI {
	t.Helper()
	var err error
	for range 5 {
		ln, lerr := net.Listen("tcp", "127.0.0.1:0")
		if lerr != nil {
			t.Fatal(lerr)
		}
		cfg.TCPPort = ln.Addr().(*net.TCPAddr).Port
		_ = ln.Close()
		var m *mediaAPI
		if m, err = newMediaAPI(cfg, discardLog()); err == nil {
			return m
		}
		if !errors.Is(err, syscall.EADDRINUSE) {
			break
		}
	}
	t.Fatal(err)
	return nil
}

// The start-up log says media is IPv4 only beyond this host when ::1 is the
// only IPv6 address bound, and not when a routable one is.
func TestMediaAddressesLogSaysIPv4Only(t *testing.T) {
	t.Parallel()
	cfg := testMediaConfig()
	for _, tc := range []struct {
		addrs []net.Addr
		want  bool
	}{
		{[]net.Addr{&net.UDPAddr{IP: net.ParseIP("192.0.2.2")}, &net.UDPAddr{IP: net.IPv6loopback}}, true},
		{[]net.Addr{&net.UDPAddr{IP: net.ParseIP("192.0.2.2")}, &net.UDPAddr{IP: net.ParseIP("2001:db8::2")}}, false},
	} {
		var buf bytes.Buffer
		logMediaAddresses(slog.New(slog.NewTextHandler(&buf, nil)), cfg, tc.addrs, true)
		if got := strings.Contains(buf.String(), "media is IPv4 only"); got != tc.want {
			t.Fatalf("addresses %v: says IPv4 only = %v, want %v:\n%s", tc.addrs, got, tc.want, buf.String())
		}
	}
}
