package rtc

import (
	"net/netip"
	"time"
)

// Config is what a Manager takes from the settings. The gateway shell fills
// it from appsettings (gateway.rtcConfig), which has parsed and validated
// every value at load: rtc reads no settings strings of its own.
type Config struct {
	WebRTC MediaConfig
	Limits LimitsConfig
	// SessionGrace is how long a session outlives its owner's token
	// without a new one (Auth.SessionGrace). Unit: time.Duration. Default
	// (zero value): none, the session ends with its token.
	SessionGrace time.Duration
}

// MediaConfig holds the media sockets, the ICE policy and the per-session
// bounds (the settings' WebRTC section). The defaults named are those of
// the settings; the zero value of a field means what its comment says.
type MediaConfig struct {
	// IceServers are the STUN/TURN servers camgate gathers its own
	// candidates with; clients may name them too. Default: none.
	IceServers []ICEServer
	// UDPPort is the one UDP port of every session's media (ICE UDP mux).
	// Unit: port number. Default: 8189; 0 picks a free port.
	UDPPort int
	// TCPPort is the ICE-TCP listening port. Unit: port number. Default:
	// 0 (off).
	TCPPort int
	// PublicIPs are advertised in place of the host addresses behind a
	// 1:1 NAT (validated IP addresses, as pion takes them). Default: none.
	PublicIPs []string
	// Interfaces keeps host candidates to these interface names. Default:
	// none, which means every interface.
	Interfaces []string
	// IPs keeps host candidates to these ranges (masked, IPv4-mapped IPv6
	// as IPv4). Default: none, which means every address.
	IPs []netip.Prefix
	// IncludeLoopback adds loopback addresses to the candidates. Default:
	// true (zero value: false).
	IncludeLoopback bool
	// IPv6 also offers the host's IPv6 addresses. Default: true (zero
	// value: false).
	IPv6 bool
	// MDNS is what camgate does with browsers' mDNS candidates. Default:
	// MDNSDisabled (the zero value).
	MDNS MDNSMode
	// GatherTimeout bounds camgate's own ICE gathering before it answers
	// with the offer. Unit: time.Duration. Default: 2s.
	GatherTimeout time.Duration
	// AnswerTimeout is how long a session waits for the client's answer.
	// Unit: time.Duration. Default: 10s.
	AnswerTimeout time.Duration
	// RtpClock is the unit of browser clients' video RTP timestamps.
	// Default: RTPClockMs (the zero value).
	RtpClock RTPClock
	// ViewerQueueFrames is how many video frames a slow viewer may have
	// waiting before it skips to the next keyframe. Unit: frames. Default:
	// 128.
	ViewerQueueFrames int
	// MaxRemoteCandidates is how many ICE candidates a client may give one
	// session over its life. Unit: candidates. Default: 64.
	MaxRemoteCandidates int
	// MaxCandidatesPerRequest is how many candidates one request may
	// carry. Unit: candidates. Default: 32.
	MaxCandidatesPerRequest int
	// MaxClientIceServers is how many STUN/TURN servers (entries, and URLs
	// in all) a client may name; 0 refuses any. Unit: servers. Default: 4.
	MaxClientIceServers int
	// ClientIceServerHosts are the hosts a client may name besides
	// IceServers, parsed. Default: none (only the servers of IceServers).
	ClientIceServerHosts []ICEHostRule
	// ICEHosts reads the hosts of STUN/TURN URLs in the spelling of
	// ClientIceServerHosts. Default (zero value): no host a client names
	// is usable, so every client server is refused.
	ICEHosts ICEHostSyntax
}

// LimitsConfig bounds the sessions one user, one address and the whole
// process may hold (the settings' Limits section). A zero count admits
// nothing, except MinFreeFileDescriptors, where 0 turns the check off.
type LimitsConfig struct {
	// SessionsPerUser is how many sessions one user may have open. Unit:
	// sessions. Default: 256.
	SessionsPerUser int
	// PendingSessionsPerUser is how many of a user's sessions may wait for
	// their answer. Unit: sessions. Default: 64.
	PendingSessionsPerUser int
	// SessionsPerAddress is how many sessions may be open from one client
	// address (IPv6 by its /64). Unit: sessions. Default: 512.
	SessionsPerAddress int
	// MaxSessions is how many sessions the process holds at once. Unit:
	// sessions. Default: 1000.
	MaxSessions int
	// MinFreeFileDescriptors refuses sessions while fewer file descriptors
	// are free (Linux). Unit: descriptors. Default: 256; 0: off.
	MinFreeFileDescriptors int
}

// MDNSMode is what camgate does with browsers' mDNS ".local" candidates.
type MDNSMode int

const (
	// MDNSDisabled ignores them (the signaling address is tried instead).
	MDNSDisabled MDNSMode = iota
	// MDNSQuery also resolves them on the local network.
	MDNSQuery
)

// RTPClock is the unit of browser clients' video RTP timestamps.
type RTPClock int

const (
	// RTPClockMs counts milliseconds since the session started, as
	// Milestone XProtect does.
	RTPClockMs RTPClock = iota
	// RTPClock90kHz is the standard H.264 clock.
	RTPClock90kHz
)

// ICEHostRule is one parsed entry of ClientIceServerHosts.
type ICEHostRule interface {
	// Allows reports whether a client may name host (in the spelling of
	// ICEHostSyntax.Normalize) at port.
	Allows(host string, port int) bool
}

// ICEHostSyntax is the settings' reading of STUN/TURN hosts, given by the
// shell so that a client's URL and ClientIceServerHosts compare in one
// spelling.
type ICEHostSyntax struct {
	// Normalize writes a host in that one spelling (nil: as it is).
	Normalize func(host string) string
	// Usable reports whether host and port name a host name or a usable IP
	// address (nil: none is).
	Usable func(host string, port int) bool
}

func (s ICEHostSyntax) normalize(host string) string {
	if s.Normalize == nil {
		return host
	}
	return s.Normalize(host)
}

func (s ICEHostSyntax) usable(host string, port int) bool {
	return s.Usable != nil && s.Usable(host, port)
}
