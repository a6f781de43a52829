package gateway

import (
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/camgate/camgate/appsettings"
	"github.com/camgate/camgate/gateway/rtc"
)

// rtcConfig hands rtc parsed values: enums as rtc's own, durations,
// address ranges as appsettings parses them (IPv4-mapped ranges as IPv4),
// and ClientIceServerHosts as rules.
func TestRTCConfigMapping(t *testing.T) {
	t.Parallel()
	c := Config{WebRTC: appsettings.Defaults().WebRTC, Limits: appsettings.Defaults().Limits, SessionGrace: time.Minute}
	got := rtcConfig(c)
	if got.WebRTC.MDNS != rtc.MDNSDisabled || got.WebRTC.RtpClock != rtc.RTPClockMs {
		t.Fatalf("defaults: MDNS %v, RtpClock %v", got.WebRTC.MDNS, got.WebRTC.RtpClock)
	}
	if got.WebRTC.GatherTimeout != 2*time.Second || got.WebRTC.AnswerTimeout != 10*time.Second || got.SessionGrace != time.Minute {
		t.Fatalf("durations: %+v", got)
	}
	if got.Limits.MaxSessions != c.Limits.MaxSessions || got.Limits.MinFreeFileDescriptors != c.Limits.MinFreeFileDescriptors {
		t.Fatalf("limits: %+v", got.Limits)
	}
	c.WebRTC.MDNS = appsettings.MDNSQuery
	c.WebRTC.RtpClock = appsettings.RtpClock90kHz
	c.WebRTC.IPs = []string{"::ffff:192.0.2.0/120", "2001:db8::1"}
	c.WebRTC.ClientIceServerHosts = []string{"stun.example.org:19302"}
	c.WebRTC.IceServers = []appsettings.IceServer{{Urls: []string{"stun:stun.example.net"}, Username: "u", Credential: "c"}}
	got = rtcConfig(c)
	if got.WebRTC.MDNS != rtc.MDNSQuery || got.WebRTC.RtpClock != rtc.RTPClock90kHz {
		t.Fatalf("MDNS %v, RtpClock %v", got.WebRTC.MDNS, got.WebRTC.RtpClock)
	}
	if want := []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24"), netip.MustParsePrefix("2001:db8::1/128")}; !slices.Equal(got.WebRTC.IPs, want) {
		t.Fatalf("IPs %v, want %v", got.WebRTC.IPs, want)
	}
	if h := got.WebRTC.ClientIceServerHosts; len(h) != 1 || !h[0].Allows("stun.example.org", 19302) || h[0].Allows("stun.example.org", 3478) {
		t.Fatalf("ClientIceServerHosts %+v", h)
	}
	if s := got.WebRTC.IceServers; len(s) != 1 || s[0].URLs[0] != "stun:stun.example.net" || s[0].Username != "u" || s[0].Credential != "c" {
		t.Fatalf("IceServers %+v", s)
	}
	if !got.WebRTC.ICEHosts.Usable("stun.example.org", 3478) || got.WebRTC.ICEHosts.Usable("224.0.0.1", 3478) ||
		got.WebRTC.ICEHosts.Normalize("A.Example.") != "a.example" {
		t.Fatal("ICEHosts is not the settings' reading of hosts")
	}
}
