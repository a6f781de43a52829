package appsettings

import "testing"

func TestValidateWebRTCIPv6Rules(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(*Settings)
		errs   []string
	}{
		{"on by default", func(s *Settings) {
			if !s.WebRTC.IPv6 {
				t.Error("WebRTC.IPv6 is off by default")
			}
		}, nil},
		{"IPv6 entries with IPv6 on", func(s *Settings) {
			s.WebRTC.IPs = []string{"::1", "2001:db8::/32", "fd00::/8", "::/0", "fe00::/9"}
			s.WebRTC.PublicIPs = []string{"2001:db8::1"}
		}, nil},
		{"IPv4 entries with IPv6 off", func(s *Settings) {
			s.WebRTC.IPv6 = false
			s.WebRTC.IPs = []string{"192.0.2.1", "10.0.0.0/8", "::ffff:192.0.2.5", "::ffff:192.0.2.0/120"}
			s.WebRTC.PublicIPs = []string{"203.0.113.1", "::ffff:203.0.113.2"}
		}, nil},
		{"IPv6 entries with IPv6 off", func(s *Settings) {
			s.WebRTC.IPv6 = false
		}, []string{
			`WebRTC.PublicIPs[1]: must be IPv4 while WebRTC.IPv6 is false (got "2001:db8::1")`,
			`WebRTC.IPs[2]: must be IPv4 while WebRTC.IPv6 is false (got "2001:db8::/32")`,
		}},
		{"link-local entries", func(s *Settings) {
			s.WebRTC.IPs = []string{"fe80::1", "fe80::/10", "fe80::/64", "fe80::1%eth0"}
			s.WebRTC.PublicIPs = []string{"fe80::2"}
		}, []string{
			`WebRTC.PublicIPs[0]: must not be link-local (fe80::/10), which is never offered as a candidate (got "fe80::2")`,
			`WebRTC.IPs[0]: must not be link-local (fe80::/10), which is never offered as a candidate (got "fe80::1")`,
			`WebRTC.IPs[1]: must not be link-local (fe80::/10), which is never offered as a candidate (got "fe80::/10")`,
			`WebRTC.IPs[2]: must not be link-local (fe80::/10), which is never offered as a candidate (got "fe80::/64")`,
			`WebRTC.IPs[3]: must not carry a zone (got "fe80::1%eth0")`,
		}},
		{"link-local with IPv6 off names the switch", func(s *Settings) {
			s.WebRTC.IPv6 = false
			s.WebRTC.IPs = []string{"fe80::/10"}
			s.WebRTC.PublicIPs = nil
		}, []string{`WebRTC.IPs[0]: must be IPv4 while WebRTC.IPv6 is false (got "fe80::/10")`}},
		{"zones", func(s *Settings) {
			s.WebRTC.IPs = []string{"2001:db8::7%eth0"}
			s.WebRTC.PublicIPs = []string{"2001:db8::1%2"}
		}, []string{
			`WebRTC.PublicIPs[0]: must not carry a zone (got "2001:db8::1%2")`,
			`WebRTC.IPs[0]: must not carry a zone (got "2001:db8::7%eth0")`,
		}},
		{"entries that do not parse are reported once", func(s *Settings) {
			s.WebRTC.IPv6 = false
			s.WebRTC.IPs = []string{"2001:db8::/129"}
			s.WebRTC.PublicIPs = []string{"2001:db8::1/64"}
		}, []string{
			`WebRTC.PublicIPs[0]: must be an IP address (got "2001:db8::1/64")`,
			`WebRTC.IPs[0]: must be an IP address or a CIDR range (got "2001:db8::/129")`,
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := validSettings()
			tc.mutate(&s)
			checkErrors(t, s.Validate(), tc.errs)
		})
	}
}

// The switch loads from a file and from an environment variable like every
// other setting.
func TestWebRTCIPv6Loads(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "appsettings.json", `{"WebRTC":{"ipv6":false,"IPs":["192.0.2.0/24"]}}`)
	s, err := Load(LoadOptions{ConfigDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if s.WebRTC.IPv6 {
		t.Error("WebRTC.IPv6 is true after the file set it to false")
	}
	s, err = Load(LoadOptions{ConfigDir: dir, Env: []string{"CAMGATE__WebRTC__IPv6=true"}})
	if err != nil {
		t.Fatal(err)
	}
	if !s.WebRTC.IPv6 {
		t.Error("WebRTC.IPv6 is false after the environment set it to true")
	}
	write(t, dir, "appsettings.json", `{"WebRTC":{"IPv6":false,"IPs":["2001:db8::/32"]}}`)
	if _, err := Load(LoadOptions{ConfigDir: dir}); err == nil {
		t.Error("an IPv6 range with WebRTC.IPv6 false loaded without an error")
	}
}

func TestValidateICELimits(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(*Settings)
		errs   []string
	}{
		{"defaults", func(*Settings) {}, nil},
		{"hosts of every form", func(s *Settings) {
			s.WebRTC.ClientIceServerHosts = []string{"stun.example.net", "Turn.Example.NET.:443", "192.0.2.7", "192.0.2.7:19302",
				"2001:db8::7", "[2001:db8::7]:3478", "*", "*:19302"}
		}, nil},
		{"bounds", func(s *Settings) {
			s.WebRTC.MaxRemoteCandidates = 0
			s.WebRTC.MaxCandidatesPerRequest = 2
			s.WebRTC.MaxClientIceServers = -1
		}, []string{
			"WebRTC.MaxRemoteCandidates: must be from 1 to 500 (got 0)",
			"WebRTC.MaxCandidatesPerRequest: must be from 1 to WebRTC.MaxRemoteCandidates (got 2)",
			"WebRTC.MaxClientIceServers: must be from 0 to 32 (got -1)",
		}},
		{"per request above per session", func(s *Settings) {
			s.WebRTC.MaxRemoteCandidates = 10
			s.WebRTC.MaxCandidatesPerRequest = 11
			s.WebRTC.MaxClientIceServers = 33
		}, []string{
			"WebRTC.MaxCandidatesPerRequest: must be from 1 to WebRTC.MaxRemoteCandidates (got 11)",
			"WebRTC.MaxClientIceServers: must be from 0 to 32 (got 33)",
		}},
		{"bad hosts", func(s *Settings) {
			s.WebRTC.ClientIceServerHosts = []string{"", "stun:stun.example.net", "stun.example.net:0", "http://x/",
				"2001:db8::7:99999x", "[2001:db8::7", "0.0.0.0", "224.0.0.1:3478", "fe80::1%eth0", "a..b", "host:port"}
		}, []string{
			`WebRTC.ClientIceServerHosts[0]: must not be empty`,
			`WebRTC.ClientIceServerHosts[1]: must be a host or host:port without the scheme (got "stun:stun.example.net")`,
			`WebRTC.ClientIceServerHosts[2]: port must be a number from 1 to 65535 (got "stun.example.net:0")`,
			`WebRTC.ClientIceServerHosts[3]: must be a host or host:port, without scheme, path, query or user (got "http://x/")`,
			`WebRTC.ClientIceServerHosts[4]: must be a host or host:port; write an IPv6 address with a port as [address]:port (got "2001:db8::7:99999x")`,
			`WebRTC.ClientIceServerHosts[5]: must be a host or host:port (got "[2001:db8::7")`,
			`WebRTC.ClientIceServerHosts[6]: must not be an unspecified or multicast address (got "0.0.0.0")`,
			`WebRTC.ClientIceServerHosts[7]: must not be an unspecified or multicast address (got "224.0.0.1:3478")`,
			`WebRTC.ClientIceServerHosts[8]: must not carry a zone (got "fe80::1%eth0")`,
			`WebRTC.ClientIceServerHosts[9]: must be a host name, an IP address or * (got "a..b")`,
			`WebRTC.ClientIceServerHosts[10]: port must be a number from 1 to 65535 (got "host:port")`,
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := validSettings()
			tc.mutate(&s)
			checkErrors(t, s.Validate(), tc.errs)
		})
	}
}

func TestParseIceHost(t *testing.T) {
	for in, want := range map[string]IceHost{
		"Stun.Example.NET.":      {Host: "stun.example.net"},
		"turn.example.net:443":   {Host: "turn.example.net", Port: 443},
		"::ffff:192.0.2.1":       {Host: "192.0.2.1"},
		"[2001:DB8::7]:5349":     {Host: "2001:db8::7", Port: 5349},
		"*":                      {Host: "*"},
		"*:19302":                {Host: "*", Port: 19302},
		" 192.0.2.9 ":            {Host: "192.0.2.9"}, //nolint:gocritic // mapKey: the spaces are the input under test
		"[2001:db8::1]":          {Host: "2001:db8::1"},
		"stun_1.example.net:100": {Host: "stun_1.example.net", Port: 100},
	} {
		got, err := ParseIceHost(in)
		if err != nil || got != want {
			t.Errorf("ParseIceHost(%q) = %+v, %v; want %+v", in, got, err, want)
		}
	}
	h, _ := ParseIceHost("stun.example.net")
	if !h.Allows("stun.example.net", 3478) || !h.Allows("stun.example.net", 5349) || h.Allows("stun.example.net", 22) || h.Allows("other.example.net", 3478) {
		t.Error("a bare host must allow itself on the standard ports only")
	}
	h, _ = ParseIceHost("*:19302")
	if !h.Allows("anything.example", 19302) || h.Allows("anything.example", 3478) {
		t.Error("*:19302 must allow any host on 19302 only")
	}
	if NormalizeIceHost("[::FFFF:10.0.0.1]") != "10.0.0.1" || NormalizeIceHost("A.Example.") != "a.example" {
		t.Error("NormalizeIceHost")
	}
}
