package gateway

import (
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/interceptor/pkg/report"
	"github.com/pion/webrtc/v4"

	"github.com/camgate/camgate/appsettings"
)

// h264Codec is what camgate offers: H.264 passed through, constrained
// baseline level 3.1 in the offer. Browsers decode Main and High streams
// offered this way too (the profile is read from the in-band SPS).
var h264Codec = webrtc.RTPCodecCapability{
	MimeType:    webrtc.MimeTypeH264,
	ClockRate:   90000,
	SDPFmtpLine: "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f",
	RTCPFeedback: []webrtc.RTCPFeedback{
		{Type: "nack"}, {Type: "nack", Parameter: "pli"}, {Type: "ccm", Parameter: "fir"},
	},
}

// mediaAPI is the pion API shared by every session: one UDP port (and an
// optional TCP port) for all media, candidate filters, NAT mapping.
type mediaAPI struct {
	api    *webrtc.API
	tcpLn  net.Listener
	udpMux *ice.MultiUDPMuxDefault
	tcpMux ice.TCPMux
}

func newMediaAPI(cfg appsettings.WebRTC, log *slog.Logger) (*mediaAPI, error) {
	m := &webrtc.MediaEngine{}
	if err := m.RegisterCodec(webrtc.RTPCodecParameters{RTPCodecCapability: h264Codec, PayloadType: 96}, webrtc.RTPCodecTypeVideo); err != nil {
		return nil, fmt.Errorf("register H.264: %w", err)
	}
	reg := &interceptor.Registry{}
	if err := addSenderInterceptors(reg); err != nil {
		return nil, err
	}

	se := webrtc.SettingEngine{}
	se.LoggerFactory = pionLogger{log: log.With("component", "pion")}
	ifaceFilter, ipFilter := candidateFilters(cfg)
	ma := &mediaAPI{}
	// One socket per local address on the same port (not one wildcard
	// socket): replies then leave from the address the browser sent to,
	// which matters on hosts with several interfaces.
	muxOpts := []ice.UDPMuxFromPortOption{
		ice.UDPMuxFromPortWithNetworks(ice.NetworkTypeUDP4),
		ice.UDPMuxFromPortWithLogger(se.LoggerFactory.NewLogger("udpmux")),
	}
	if cfg.IncludeLoopback {
		muxOpts = append(muxOpts, ice.UDPMuxFromPortWithLoopback())
	}
	if ifaceFilter != nil {
		muxOpts = append(muxOpts, ice.UDPMuxFromPortWithInterfaceFilter(ifaceFilter))
		se.SetInterfaceFilter(ifaceFilter)
	}
	if ipFilter != nil {
		muxOpts = append(muxOpts, ice.UDPMuxFromPortWithIPFilter(ipFilter))
		se.SetIPFilter(ipFilter)
	}
	udpMux, err := ice.NewMultiUDPMuxFromPort(cfg.UdpPort, muxOpts...)
	if err != nil {
		return nil, fmt.Errorf("WebRTC.UdpPort %d: %w", cfg.UdpPort, err)
	}
	ma.udpMux = udpMux
	se.SetICEUDPMux(udpMux)
	networks := []webrtc.NetworkType{webrtc.NetworkTypeUDP4}
	if cfg.TcpPort != 0 {
		ln, err := net.Listen("tcp4", fmt.Sprintf(":%d", cfg.TcpPort))
		if err != nil {
			ma.Close()
			return nil, fmt.Errorf("WebRTC.TcpPort %d: %w", cfg.TcpPort, err)
		}
		ma.tcpLn = ln
		ma.tcpMux = webrtc.NewICETCPMux(se.LoggerFactory.NewLogger("tcpmux"), ln, 8)
		se.SetICETCPMux(ma.tcpMux)
		networks = append(networks, webrtc.NetworkTypeTCP4)
	}
	se.SetNetworkTypes(networks)
	se.SetIncludeLoopbackCandidate(cfg.IncludeLoopback)
	if len(cfg.PublicIPs) > 0 {
		se.SetNAT1To1IPs(cfg.PublicIPs, webrtc.ICECandidateTypeHost)
	}
	if strings.EqualFold(cfg.MDNS, "disabled") {
		se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	} else {
		// Browsers hide their host addresses behind random .local names;
		// resolving them lets same-LAN clients connect directly.
		se.SetICEMulticastDNSMode(ice.MulticastDNSModeQueryOnly)
	}
	// Detect dead viewers quickly: a closed tab stops answering consent
	// checks, and its session should end within seconds, not half a minute.
	se.SetICETimeouts(5*time.Second, 10*time.Second, 2*time.Second)
	se.SetSTUNGatherTimeout(time.Duration(cfg.GatherTimeout))

	ma.api = webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithInterceptorRegistry(reg), webrtc.WithSettingEngine(se))
	return ma, nil
}

// addSenderInterceptors adds pion's per-packet stages for a send-only session:
// RTCP sender reports only, which browsers use for round-trip time and
// clock mapping. pion's default set is made for peers that also receive:
// its NACK generator, receiver reports, TWCC feedback and simulcast
// headers act on incoming media, which camgate never has; its stats
// interceptor records every packet for GetStats, which camgate never
// calls; and its NACK responder copies every packet (camgate answers NACKs
// itself, retransmit.go). Each costs CPU per packet per viewer and memory
// per viewer.
func addSenderInterceptors(reg *interceptor.Registry) error {
	reports, err := report.NewSenderInterceptor()
	if err != nil {
		return fmt.Errorf("RTCP sender reports: %w", err)
	}
	reg.Add(reports)
	return nil
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

// candidateFilters turns the Interfaces and IPs settings into pion filters;
// nil means no filter.
func candidateFilters(cfg appsettings.WebRTC) (func(string) bool, func(net.IP) bool) {
	var ifaceFilter func(string) bool
	var ipFilter func(net.IP) bool
	if len(cfg.Interfaces) > 0 {
		allowed := map[string]bool{}
		for _, name := range cfg.Interfaces {
			allowed[name] = true
		}
		ifaceFilter = func(name string) bool { return allowed[name] }
	}
	if len(cfg.IPs) > 0 {
		prefixes := parsePrefixes(cfg.IPs)
		ipFilter = func(ip net.IP) bool {
			addr, ok := netip.AddrFromSlice(ip)
			if !ok {
				return false
			}
			addr = addr.Unmap()
			for _, p := range prefixes {
				if p.Contains(addr) {
					return true
				}
			}
			return false
		}
	}
	return ifaceFilter, ipFilter
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

// parsePrefixes reads addresses and CIDR ranges; settings validation has
// already rejected anything else.
func parsePrefixes(list []string) []netip.Prefix {
	var out []netip.Prefix
	for _, s := range list {
		if p, err := netip.ParsePrefix(s); err == nil {
			out = append(out, p.Masked())
			continue
		}
		if a, err := netip.ParseAddr(s); err == nil {
			out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
		}
	}
	return out
}
