package rtc

import (
	"net/netip"
	"time"
)

// testMediaConfig is MediaConfig with the defaults of the settings
// (appsettings.Defaults().WebRTC, as the shell maps it).
func testMediaConfig() MediaConfig {
	return MediaConfig{
		UDPPort:                 8189,
		IncludeLoopback:         true,
		IPv6:                    true,
		MDNS:                    MDNSDisabled,
		GatherTimeout:           2 * time.Second,
		AnswerTimeout:           10 * time.Second,
		RtpClock:                RTPClockMs,
		ViewerQueueFrames:       128,
		MaxRemoteCandidates:     64,
		MaxCandidatesPerRequest: 32,
		MaxClientIceServers:     4,
	}
}

// testLimitsConfig is LimitsConfig with the defaults of the settings.
func testLimitsConfig() LimitsConfig {
	return LimitsConfig{SessionsPerUser: 256, PendingSessionsPerUser: 64, SessionsPerAddress: 512, MaxSessions: 1000, MinFreeFileDescriptors: 256}
}

// prefixes reads CIDR ranges and single addresses, as the shell gives
// WebRTC.IPs (appsettings.ParsePrefixes; IPv4-mapped ranges are its
// concern and tested with the shell's mapping).
func prefixes(list ...string) []netip.Prefix {
	var out []netip.Prefix
	for _, s := range list {
		if p, err := netip.ParsePrefix(s); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a := netip.MustParseAddr(s)
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out
}
