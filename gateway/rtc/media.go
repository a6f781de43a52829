package rtc

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"syscall"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/webrtc/v4"

	"github.com/camgate/camgate/cameras"
)

// h264Codec is what camgate offers: H.264 passed through, constrained
// baseline level 3.1 in the offer. Browsers decode Main and High streams
// offered this way too (the profile is read from the in-band SPS).
func h264Codec() webrtc.RTPCodecCapability {
	return webrtc.RTPCodecCapability{
		MimeType:     webrtc.MimeTypeH264,
		ClockRate:    90000,
		SDPFmtpLine:  "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f",
		RTCPFeedback: videoFeedback(),
	}
}

// videoFeedback is the RTCP feedback camgate takes for video: NACKs
// (retransmit.go), and PLI and FIR, answered from the GOP cache.
func videoFeedback() []webrtc.RTCPFeedback {
	return []webrtc.RTCPFeedback{{Type: "nack"}, {Type: "nack", Parameter: "pli"}, {Type: "ccm", Parameter: "fir"}}
}

// h265Codec is what camgate offers for an H.265 camera, passed through:
// Main profile, main tier, level 3.1 in the offer (as for H.264, the
// decoder reads the stream's own from the in-band VPS/SPS).
func h265Codec() webrtc.RTPCodecCapability {
	return webrtc.RTPCodecCapability{
		MimeType:     webrtc.MimeTypeH265,
		ClockRate:    90000,
		SDPFmtpLine:  "level-id=93;profile-id=1;tier-flag=0;tx-mode=SRST",
		RTCPFeedback: videoFeedback(),
	}
}

// Payload types of the offer's video codecs.
const (
	h264PayloadType = 96
	h265PayloadType = 98
)

// offeredCodecs are the video codecs of a session's offer, the track's
// first: H.264 for an H.264 camera; H.265, then H.264, for an H.265 camera
// (the browser's answer says which it decodes; H.264 is there for when
// camgate can transcode, and until then an answer without H.265 is
// refused: Session.SetAnswer).
func offeredCodecs(video cameras.Codec) []webrtc.RTPCodecParameters {
	h264 := webrtc.RTPCodecParameters{RTPCodecCapability: h264Codec(), PayloadType: h264PayloadType}
	if video == cameras.CodecH265 {
		return []webrtc.RTPCodecParameters{{RTPCodecCapability: h265Codec(), PayloadType: h265PayloadType}, h264}
	}
	return []webrtc.RTPCodecParameters{h264}
}

// mediaAPI is the pion API shared by every session: one UDP port (and an
// optional TCP port) for all media, candidate filters, NAT mapping.
type mediaAPI struct {
	api    *webrtc.API
	tcpLn  net.Listener
	udpMux *ice.MultiUDPMuxDefault
	tcpMux ice.TCPMux
	// networks are the ICE networks sessions gather candidates on: UDP4;
	// UDP6 when WebRTC.IPv6 is on and an IPv6 address was bound; TCP of
	// the same families when WebRTC.TcpPort is set.
	networks []webrtc.NetworkType
}

func newMediaAPI(cfg MediaConfig, log *slog.Logger) (*mediaAPI, error) {
	m := &webrtc.MediaEngine{}
	for _, c := range offeredCodecs(cameras.CodecH265) {
		if err := m.RegisterCodec(c, webrtc.RTPCodecTypeVideo); err != nil {
			return nil, fmt.Errorf("register %s: %w", c.MimeType, err)
		}
	}
	// No pion interceptors (an empty registry; without one pion adds its
	// defaults). They are made for peers that also receive: the NACK
	// generator, receiver reports, TWCC feedback and simulcast headers act
	// on incoming media, which camgate never has; the stats interceptor
	// records every packet for GetStats, which camgate never calls. The
	// two a sender needs camgate does itself, with less work per packet:
	// answering NACKs (retransmit.go) and sender reports (senderreport.go).
	reg := &interceptor.Registry{}

	se := webrtc.SettingEngine{}
	se.LoggerFactory = pionLogger{log: log.With("component", "pion")}
	ifaceFilter := interfaceFilter(cfg)
	keepAddr := addressFilter(cfg)
	ma := &mediaAPI{}
	// One socket per local address on the same port (not one wildcard
	// socket): replies then leave from the address the browser sent to,
	// which matters on hosts with several interfaces.
	host, err := hostAddresses()
	if err != nil {
		return nil, fmt.Errorf("WebRTC: list the host's addresses: %w", err)
	}
	conns, err := listenMedia(cfg.UDPPort, mediaAddresses(cfg, host), log)
	if err != nil {
		return nil, fmt.Errorf("WebRTC.UdpPort %d: %w", cfg.UDPPort, err)
	}
	muxes := make([]ice.UDPMux, 0, len(conns))
	ipv6 := false
	for _, c := range conns {
		muxes = append(muxes, ice.NewUDPMuxDefault(ice.UDPMuxParams{Logger: se.LoggerFactory.NewLogger("udpmux"), UDPConn: c}))
		if a := c.LocalAddr().(*net.UDPAddr); a.IP.To4() == nil {
			ipv6 = true
		}
	}
	ma.udpMux = ice.NewMultiUDPMuxDefault(muxes...)
	se.SetICEUDPMux(ma.udpMux)
	logMediaAddresses(log, cfg, ma.udpMux.GetListenAddresses(), ipv6)
	if ifaceFilter != nil {
		se.SetInterfaceFilter(ifaceFilter)
	}
	// The same rule for TCP and server-reflexive candidates, and for the
	// interfaces pion's mDNS queries go out on.
	se.SetIPFilter(func(ip net.IP) bool {
		a, ok := netip.AddrFromSlice(ip)
		return ok && keepAddr(a)
	})
	ma.networks = []webrtc.NetworkType{webrtc.NetworkTypeUDP4}
	if ipv6 {
		// Only with an IPv6 address to offer: pion turns mDNS off for
		// both families when it cannot open the IPv6 mDNS socket, as on a
		// host whose IPv6 is disabled (Docker's default).
		ma.networks = append(ma.networks, webrtc.NetworkTypeUDP6)
	}
	if cfg.TCPPort != 0 {
		// "tcp" is one dual-stack socket: IPv4 clients arrive on it as
		// IPv4 addresses, which pion's TCP mux keys as IPv4.
		network := "tcp4"
		if ipv6 {
			network = "tcp"
		}
		ln, err := net.Listen(network, fmt.Sprintf(":%d", cfg.TCPPort))
		if err != nil {
			ma.Close()
			return nil, fmt.Errorf("WebRTC.TcpPort %d: %w", cfg.TCPPort, err)
		}
		ma.tcpLn = ln
		ma.tcpMux = webrtc.NewICETCPMux(se.LoggerFactory.NewLogger("tcpmux"), ln, 8)
		se.SetICETCPMux(ma.tcpMux)
		ma.networks = append(ma.networks, webrtc.NetworkTypeTCP4)
		if ipv6 {
			ma.networks = append(ma.networks, webrtc.NetworkTypeTCP6)
		}
	}
	se.SetNetworkTypes(ma.networks)
	se.SetIncludeLoopbackCandidate(cfg.IncludeLoopback)
	if len(cfg.PublicIPs) > 0 {
		// The public addresses replace the host candidates' (what pion's
		// deprecated SetNAT1To1IPs with host candidates did).
		if err := se.SetICEAddressRewriteRules(webrtc.ICEAddressRewriteRule{
			External: cfg.PublicIPs, AsCandidateType: webrtc.ICECandidateTypeHost,
		}); err != nil {
			ma.Close()
			return nil, fmt.Errorf("WebRTC.PublicIPs: %w", err)
		}
	}
	if cfg.MDNS == MDNSQuery {
		// Browsers hide their host addresses behind random .local names;
		// resolving them finds a same-LAN client whose signaling address
		// is not its LAN address. pion opens multicast sockets for every
		// peer connection to do it (4 file descriptors per session,
		// measured), which is why it is not the default.
		se.SetICEMulticastDNSMode(ice.MulticastDNSModeQueryOnly)
	} else {
		// Without it, the signaling address stands in for a browser's
		// .local candidate (Session.addRemote), and a browser that reaches
		// camgate's host candidates connects as a peer-reflexive one.
		se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	}
	// Detect dead viewers quickly: a closed tab stops answering consent
	// checks, and its session should end within seconds, not half a minute.
	se.SetICETimeouts(5*time.Second, 10*time.Second, 2*time.Second)
	se.SetSTUNGatherTimeout(cfg.GatherTimeout)
	acceptPeerReflexiveAtOnce(&se)
	limitChecks(&se)

	ma.api = webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithInterceptorRegistry(reg), webrtc.WithSettingEngine(se))
	return ma, nil
}

// acceptPeerReflexiveAtOnce lets camgate's agent (the controlling one: it
// makes the offer) nominate a pair whose client candidate is peer-reflexive
// as soon as it works. A client that sends no candidates (go2rtc's XProtect
// source; any client that answers before gathering and never trickles) is
// known to camgate only by its checks, so all its pairs are peer-reflexive,
// and pion's default makes them wait a second after the agent starts, in
// case a better candidate is signaled: 1,008 ms to connect instead of 5.
// Nothing better comes from such a client, and for one that trickles a
// peer-reflexive candidate is the address its checks come from, which
// already answered; host candidates wait for nothing either (pion's
// default).
func acceptPeerReflexiveAtOnce(se *webrtc.SettingEngine) {
	se.SetPrflxAcceptanceMinWait(0)
}

// maxBindingRequests bounds the connectivity checks pion sends on one
// candidate pair that gets no answer: a pair is failed after
// maxBindingRequests+1 checks (pion counts from 0), one per check interval
// (200 ms), and never checked again. pion's default is 7 (8 checks).
// Checks start only once the client's answer is applied, when a browser
// already answers checks, and a late response (up to pion's 4 s request
// timeout) still makes the pair succeed, so fewer retries cost a real
// client nothing; they bound what a client can aim at an address it names:
// ChecksPerPair datagrams per pair (docs/security.md).
const (
	maxBindingRequests = 4
	// ChecksPerPair is how many connectivity checks camgate sends on one
	// candidate pair that never answers.
	ChecksPerPair = maxBindingRequests + 1
)

// limitChecks bounds the traffic a session's ICE agent sends to addresses
// the client names in its candidates. With the per-session candidate cap
// (WebRTC.MaxRemoteCandidates) one session sends at most
// MaxRemoteCandidates × ChecksPerPair × (camgate's local candidates of the
// candidate's network) connectivity checks to addresses that never answer.
func limitChecks(se *webrtc.SettingEngine) {
	se.SetICEMaxBindingRequests(maxBindingRequests)
	// Active ICE-TCP dials out to every passive TCP candidate a client
	// names, a TCP connection (and a file descriptor) per candidate and
	// local address. camgate is the passive side (WebRTC.TcpPort):
	// browsers offer active TCP candidates and connect to it.
	se.DisableActiveTCP(true)
	se.SetRemoteIPFilter(remoteAddrAllowed)
}

// remoteAddrAllowed keeps out client candidates at addresses where no peer
// can be, so camgate never sends checks to them: unspecified, multicast
// and limited broadcast.
func remoteAddrAllowed(ip net.IP) bool {
	a, ok := netip.AddrFromSlice(ip)
	a = a.Unmap()
	return ok && !a.IsUnspecified() && !a.IsMulticast() && a != netip.AddrFrom4([4]byte{255, 255, 255, 255})
}

// UDPPort is the port that carries every session's media (with port 0 in
// the settings, the port of the first address).
func (m *mediaAPI) UDPPort() int {
	for _, a := range m.udpMux.GetListenAddresses() {
		if u, ok := a.(*net.UDPAddr); ok {
			return u.Port
		}
	}
	return 0
}

// interfaceFilter turns the Interfaces setting into a pion filter; nil
// means every interface.
func interfaceFilter(cfg MediaConfig) func(string) bool {
	if len(cfg.Interfaces) == 0 {
		return nil
	}
	allowed := map[string]bool{}
	for _, name := range cfg.Interfaces {
		allowed[name] = true
	}
	return func(name string) bool { return allowed[name] }
}

// addressFilter is the rule for a host address camgate may offer as a
// candidate, of either family: within the IPs setting when it lists any;
// IPv6 only with the IPv6 setting, and never a link-local address
// (fe80::/10: it needs a zone, browsers do not offer or use it, and pion
// never signals it), a deprecated site-local one (fec0::/10) or an
// IPv4-compatible one (::a.b.c.d), as RFC 8445 section 5.1.1.1 asks.
// Loopback is decided by IncludeLoopback, elsewhere.
func addressFilter(cfg MediaConfig) func(netip.Addr) bool {
	prefixes := cfg.IPs
	return func(a netip.Addr) bool {
		a = a.Unmap()
		if !a.IsValid() || a.IsUnspecified() || a.IsMulticast() {
			return false
		}
		if a.Is6() && (!cfg.IPv6 || !offerableIPv6(a)) {
			return false
		}
		if len(prefixes) == 0 {
			return true
		}
		a = a.WithZone("")
		for _, p := range prefixes {
			if p.Contains(a) {
				return true
			}
		}
		return false
	}
}

// offerableIPv6 reports whether an IPv6 address may be a candidate: not
// link-local (fe80::/10), site-local (fec0::/10) or IPv4-compatible (::/96).
func offerableIPv6(a netip.Addr) bool {
	a = a.WithZone("")
	if a.IsLoopback() {
		return true // ::1, although it lies in ::/96
	}
	linkLocal6 := netip.PrefixFrom(netip.AddrFrom16([16]byte{0xfe, 0x80}), 10)
	siteLocal6 := netip.PrefixFrom(netip.AddrFrom16([16]byte{0xfe, 0xc0}), 10)
	ipv4Compatible6 := netip.PrefixFrom(netip.IPv6Unspecified(), 96)
	return !linkLocal6.Contains(a) && !siteLocal6.Contains(a) && !ipv4Compatible6.Contains(a)
}

// hostAddr is one address of one of the host's interfaces.
type hostAddr struct {
	iface    string
	loopback bool // the interface is a loopback interface
	addr     netip.Addr
}

// hostAddresses lists the addresses of the host's interfaces that are up.
func hostAddresses() ([]hostAddr, error) {
	ifaces, err := net.Interfaces()
	if err != nil {
		return nil, err
	}
	var out []hostAddr
	for _, ifc := range ifaces {
		if ifc.Flags&net.FlagUp == 0 {
			continue
		}
		addrs, err := ifc.Addrs()
		if err != nil {
			continue
		}
		for _, a := range addrs {
			var ip net.IP
			switch a := a.(type) {
			case *net.IPNet:
				ip = a.IP
			case *net.IPAddr:
				ip = a.IP
			}
			addr, ok := netip.AddrFromSlice(ip)
			if !ok {
				continue
			}
			out = append(out, hostAddr{iface: ifc.Name, loopback: ifc.Flags&net.FlagLoopback != 0, addr: addr.Unmap()})
		}
	}
	return out, nil
}

// mediaAddresses picks the host addresses the media sockets are bound to:
// those the Interfaces, IPs, IPv6 and IncludeLoopback settings keep.
// pion's own choice (ice.NewMultiUDPMuxFromPort) is not used: it binds
// link-local addresses it then never offers, leaves out ::1, and fails as a
// whole when one address cannot be bound.
func mediaAddresses(cfg MediaConfig, host []hostAddr) []netip.Addr {
	keepIface, keepAddr := interfaceFilter(cfg), addressFilter(cfg)
	var out []netip.Addr
	for _, h := range host {
		if (h.loopback || h.addr.IsLoopback()) && !cfg.IncludeLoopback {
			continue
		}
		if keepIface != nil && !keepIface(h.iface) {
			continue
		}
		if keepAddr(h.addr) {
			out = append(out, h.addr.WithZone(""))
		}
	}
	return out
}

// listenMedia binds a UDP socket at port on each address. An IPv6 address
// the kernel does not let camgate use (a tentative address whose duplicate
// check is not done, or one that failed it) is left out with a warning;
// any other failure closes what was bound and is returned.
func listenMedia(port int, addrs []netip.Addr, log *slog.Logger) ([]net.PacketConn, error) {
	var conns []net.PacketConn
	for _, a := range addrs {
		network := "udp4"
		if a.Is6() {
			network = "udp6"
		}
		c, err := net.ListenUDP(network, net.UDPAddrFromAddrPort(netip.AddrPortFrom(a, uint16(port))))
		if err != nil {
			if a.Is6() && errors.Is(err, syscall.EADDRNOTAVAIL) {
				log.Warn("WebRTC: an IPv6 address cannot be bound (still tentative, or a duplicate on the link); it is not offered", "address", a.String(), "error", err)
				continue
			}
			for _, c := range conns {
				_ = c.Close()
			}
			return nil, err
		}
		conns = append(conns, c)
	}
	return conns, nil
}

// logMediaAddresses says at start-up which addresses carry media, and why
// there is no IPv6 when it is on but nothing could be offered.
func logMediaAddresses(log *slog.Logger, cfg MediaConfig, addrs []net.Addr, ipv6 bool) {
	list := make([]string, 0, len(addrs))
	for _, a := range addrs {
		list = append(list, a.String())
	}
	if len(list) == 0 {
		log.Warn("WebRTC: no host address is kept by WebRTC.Interfaces, IPs, IPv6 and IncludeLoopback; only STUN/TURN candidates can carry media")
		return
	}
	log.Info("WebRTC media sockets", "addresses", strings.Join(list, " "), "ipv6", ipv6)
	// ::1 (bound with IncludeLoopback) serves only this host: say so when
	// it is the only IPv6 address.
	offered := false
	for _, a := range addrs {
		if u, ok := a.(*net.UDPAddr); ok && u.IP.To4() == nil && !u.IP.IsLoopback() {
			offered = true
		}
	}
	if cfg.IPv6 && !offered {
		log.Info("WebRTC: media is IPv4 only beyond this host: it has no IPv6 address to offer but loopback (link-local addresses are never offered)")
	}
}

// Close releases the shared sockets. Sessions must be closed first.
func (m *mediaAPI) Close() {
	if m.udpMux != nil {
		_ = m.udpMux.Close()
	}
	if m.tcpMux != nil {
		_ = m.tcpMux.Close()
	}
	if m.tcpLn != nil {
		_ = m.tcpLn.Close()
	}
}
