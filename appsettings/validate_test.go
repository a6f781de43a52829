package appsettings

import (
	"reflect"
	"testing"
	"time"
)

const (
	camA    = "11111111-2222-3333-4444-555555555555"
	camB    = "22222222-3333-4444-5555-666666666666"
	streamA = "11111111-2222-3333-4444-000000000001"
	streamB = "22222222-3333-4444-5555-000000000001"

	// bcryptHash and argon2Hash are well-formed hashes of no known password.
	bcryptHash = "$2b$10$ZuPKTYlsuHFsF8LsR2m6gOOgvEzNJDlraO7hSPWqdcRYEB54JxEX."
	argon2Hash = "$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaA"
)

// validSettings passes Validate and sets every kind of value, so that each
// case below breaks exactly one rule.
func validSettings() Settings {
	s := Defaults()
	s.WebRTC.IceServers = []IceServer{
		{Urls: []string{"stun:stun.example.net:3478", "STUNS:stun.example.net"}},
		{Urls: []string{"turn:turn.example.net?transport=tcp"}, Username: "u", Credential: "c"},
	}
	s.WebRTC.PublicIPs = []string{"203.0.113.1", "2001:db8::1"}
	s.WebRTC.Interfaces = []string{"eth0"}
	s.WebRTC.IPs = []string{"192.0.2.1", "192.168.1.0/24", "2001:db8::/32"}
	s.Cameras = []Camera{
		{Id: camA, Name: "Gate", Transport: "udp", Streams: []Stream{
			{Id: streamA, Url: "rtsp://user:password@192.0.2.10:554/stream1", Default: true},
			{Id: "11111111-2222-3333-4444-000000000002", Url: "rtsps://[2001:db8::10]/stream2"},
		}},
		{Id: camB, Name: "Yard", Transport: "tcp", Streams: []Stream{{Id: streamB, Url: "rtsp://cam-b.local/live"}}},
	}
	s.Auth.BuiltIn.Issuer = "https://cams.example.com/API/IDP"
	s.Auth.Issuers = []Issuer{
		{
			Url: "https://keycloak.example.com/realms/video", Audience: "camgate", RolesClaim: "realm_access.roles",
			RoleMappings: []RoleMapping{
				{Value: "video-operator", Roles: []string{"operator"}},
				{Value: "video-admin", Roles: []string{"admin", "operator"}},
			},
			Leeway: Duration(30 * time.Second),
		},
		{Url: "http://127.0.0.1:5556/dex", Audience: "camgate-dex", RolesClaim: "groups", Leeway: Duration(time.Minute)},
	}
	s.Auth.Users = []User{
		{Username: "alice", PasswordHash: bcryptHash, Roles: []string{"operator"}},
		{Username: "bob@example.com", PasswordHash: argon2Hash, Roles: []string{"viewer", "admin"}},
	}
	s.Auth.Roles = []Role{
		{Name: "operator", Live: []string{"*"}, Playback: []string{"*"}, Ptz: []string{camB}},
		{Name: "viewer", Live: []string{camB}},
		{Name: "admin", Export: []string{camB}, Admin: []string{"*"}},
	}
	s.CORS = CORS{
		Enabled:      true,
		AllowOrigin:  "https://portal.example.com, http://localhost:3000, null",
		AllowHeaders: "Authorization, Content-Type",
		AllowMethods: "GET, POST, PATCH, DELETE",
	}
	return s
}

func TestValidateAcceptsValidSettings(t *testing.T) {
	s := validSettings()
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(s, validSettings()) {
		t.Errorf("Validate changed valid settings: %+v", s)
	}
}

// ApplyDefaults fills the defaults of list items, and only where they are
// unset; Validate then accepts the result.
func TestApplyDefaults(t *testing.T) {
	s := validSettings()
	s.Cameras[0].Name = ""
	s.Cameras[0].Transport = ""
	s.Auth.Issuers[1].RolesClaim = ""
	s.Auth.Issuers[1].Leeway = 0
	s.ApplyDefaults()
	want := validSettings()
	want.Cameras[0].Name = camA
	want.Cameras[0].Transport = "auto"
	want.Auth.Issuers[1].RolesClaim = "roles"
	want.Auth.Issuers[1].Leeway = Duration(30 * time.Second)
	if !reflect.DeepEqual(s, want) {
		t.Errorf("got  %+v\nwant %+v", s, want)
	}
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	s.ApplyDefaults()
	if !reflect.DeepEqual(s, want) {
		t.Error("applying the defaults twice changed the result")
	}
	set := validSettings()
	set.ApplyDefaults()
	if !reflect.DeepEqual(set, validSettings()) {
		t.Errorf("ApplyDefaults changed values that are set: %+v", set)
	}
}

// Validate fills no default: a camera or an issuer without them is refused.
func TestValidateFillsNoDefault(t *testing.T) {
	s := validSettings()
	s.Cameras[0].Transport = ""
	s.Auth.Issuers[1].RolesClaim = ""
	checkErrors(t, s.Validate(), []string{
		`Cameras[0].Transport: must be "udp", "tcp" or "auto" (got "")`,
		`Auth.Issuers[1].RolesClaim: must be a claim name, or a dotted path of names such as "realm_access.roles" (got "")`,
	})
}

// unnormalized is validSettings with values in other spellings than their
// normal form.
func unnormalized() Settings {
	s := validSettings()
	s.Auth.Issuers[0].RoleMappings[1].Roles = []string{"ADMIN", "Operator"}
	s.Auth.Users[1].Roles = []string{"Viewer", "admin"}
	s.CORS.AllowOrigin = " HTTPS://Portal.Example.COM/ ,NULL,, https://portal.example.com:443, http://[::1]:80, http://LOCALHOST:03000"
	s.CORS.AllowHeaders = "Authorization,Content-Type,"
	s.CORS.AllowMethods = "get, Post,PATCH , delete, GET"
	s.Http.TrustedProxies = []string{" 10.0.0.5"}
	return s
}

// Validate accepts values in any of their spellings and writes nothing.
func TestValidateWritesNothing(t *testing.T) {
	s := unnormalized()
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(s, unnormalized()) {
		t.Errorf("Validate changed the settings: %+v", s)
	}
}

func TestNormalize(t *testing.T) {
	s := unnormalized()
	s.Normalize()
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	want := validSettings()
	want.Http.TrustedProxies = []string{"10.0.0.5/32"}
	want.CORS.AllowOrigin = "https://portal.example.com, null, http://[::1], http://localhost:3000"
	if !reflect.DeepEqual(s, want) {
		t.Errorf("got  %+v\nwant %+v", s, want)
	}
	s.Normalize()
	if !reflect.DeepEqual(s, want) {
		t.Error("normalizing twice changed the result")
	}
}

func TestValidateRules(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(*Settings)
		errs   []string
	}{
		// Http
		{"listen without port", func(s *Settings) { s.Http.Listen = "localhost" },
			[]string{`Http.Listen: must be host:port, such as "127.0.0.1:8080" or ":8080" (got "localhost")`}},
		{"listen port too large", func(s *Settings) { s.Http.Listen = "127.0.0.1:65536" },
			[]string{`Http.Listen: port must be a number from 0 to 65535 (got "65536")`}},
		{"listen port by name", func(s *Settings) { s.Http.Listen = ":http" },
			[]string{`Http.Listen: port must be a number from 0 to 65535 (got "http")`}},
		{"listen port empty", func(s *Settings) { s.Http.Listen = "127.0.0.1:" },
			[]string{`Http.Listen: port must be a number from 0 to 65535 (got "")`}},
		{"listen anywhere, on a free port", func(s *Settings) { s.Http.Listen = ":0" }, nil},
		{"listen on IPv6", func(s *Settings) { s.Http.Listen = "[::1]:65535" }, nil},

		// WebRTC ports and addresses
		{"udp port", func(s *Settings) { s.WebRTC.UdpPort = 65536 },
			[]string{"WebRTC.UdpPort: must be from 0 to 65535 (got 65536)"}},
		{"tcp port", func(s *Settings) { s.WebRTC.TcpPort = -1 },
			[]string{"WebRTC.TcpPort: must be from 0 to 65535 (got -1)"}},
		{"public ip", func(s *Settings) { s.WebRTC.PublicIPs[1] = "gateway.example.net" },
			[]string{`WebRTC.PublicIPs[1]: must be an IP address (got "gateway.example.net")`}},
		{"public ip is not a range", func(s *Settings) { s.WebRTC.PublicIPs[0] = "203.0.113.0/24" },
			[]string{`WebRTC.PublicIPs[0]: must be an IP address (got "203.0.113.0/24")`}},
		{"ip filter", func(s *Settings) { s.WebRTC.IPs[2] = "192.168.1.0/33" },
			[]string{`WebRTC.IPs[2]: must be an IP address or a CIDR range (got "192.168.1.0/33")`}},
		{"interface", func(s *Settings) { s.WebRTC.Interfaces[0] = " " },
			[]string{"WebRTC.Interfaces[0]: must not be empty"}},

		// WebRTC choices
		{"mdns", func(s *Settings) { s.WebRTC.MDNS = "gather" },
			[]string{`WebRTC.MDNS: must be "query" or "disabled" (got "gather")`}},
		{"rtp clock", func(s *Settings) { s.WebRTC.RtpClock = "90000" },
			[]string{`WebRTC.RtpClock: must be "ms" or "90kHz" (got "90000")`}},

		// WebRTC durations and sizes, at and beyond their limits
		{"gather timeout zero", func(s *Settings) { s.WebRTC.GatherTimeout = 0 },
			[]string{"WebRTC.GatherTimeout: must be more than 0s and at most 30s (got 0s)"}},
		{"gather timeout too long", func(s *Settings) { s.WebRTC.GatherTimeout = Duration(30*time.Second + 1) },
			[]string{"WebRTC.GatherTimeout: must be more than 0s and at most 30s (got 30.000000001s)"}},
		{"gather timeout at its limits", func(s *Settings) {
			s.WebRTC.GatherTimeout = Duration(30 * time.Second)
			s.Http.WriteTimeout = Duration(31 * time.Second) // longer than the gathering
		}, nil},
		{"gather timeout tiny", func(s *Settings) { s.WebRTC.GatherTimeout = 1 }, nil},
		{"answer timeout too short", func(s *Settings) { s.WebRTC.AnswerTimeout = Duration(999 * time.Millisecond) },
			[]string{"WebRTC.AnswerTimeout: must be from 1s to 10m (got 999ms)"}},
		{"answer timeout too long", func(s *Settings) { s.WebRTC.AnswerTimeout = Duration(11 * time.Minute) },
			[]string{"WebRTC.AnswerTimeout: must be from 1s to 10m (got 11m0s)"}},
		{"answer timeout at its limits", func(s *Settings) { s.WebRTC.AnswerTimeout = Duration(10 * time.Minute) }, nil},
		{"viewer queue too small", func(s *Settings) { s.WebRTC.ViewerQueueFrames = 7 },
			[]string{"WebRTC.ViewerQueueFrames: must be from 8 to 4096 (got 7)"}},
		{"viewer queue too large", func(s *Settings) { s.WebRTC.ViewerQueueFrames = 4097 },
			[]string{"WebRTC.ViewerQueueFrames: must be from 8 to 4096 (got 4097)"}},
		{"viewer queue at its limits", func(s *Settings) { s.WebRTC.ViewerQueueFrames = 8 }, nil},

		// ICE servers
		{"ice url scheme", func(s *Settings) { s.WebRTC.IceServers[0].Urls[1] = "https://stun.example.net/" },
			[]string{`WebRTC.IceServers[0].Urls[1]: must start with stun:, stuns:, turn: or turns: (got "https://stun.example.net/")`}},
		{"ice url without host", func(s *Settings) { s.WebRTC.IceServers[0].Urls[0] = "stun:" },
			[]string{"WebRTC.IceServers[0].Urls[0]: must name a host after stun:"}},
		{"ice server without urls", func(s *Settings) { s.WebRTC.IceServers[0].Urls = nil },
			[]string{"WebRTC.IceServers[0].Urls: must list at least one URL"}},
		{"turn without credential", func(s *Settings) { s.WebRTC.IceServers[1].Credential = "" },
			[]string{"WebRTC.IceServers[1]: a turn: or turns: server needs Username and Credential"}},

		// Cameras
		{"camera id missing", func(s *Settings) { s.Cameras[1].Id = "" },
			[]string{"Cameras[1].Id: is required"}},
		{"camera id not a guid", func(s *Settings) { s.Cameras[1].Id = "abc" },
			[]string{`Cameras[1].Id: must be a GUID (got "abc")`}},
		{"camera id in braces", func(s *Settings) { s.Cameras[1].Id = "{" + camB[:34] + "}" },
			[]string{`Cameras[1].Id: must be a GUID (got "{22222222-3333-4444-5555-6666666666}")`}},
		{"camera id duplicate, in another case", func(s *Settings) {
			s.Cameras[1].Id = "11111111-2222-3333-4444-55555555555A"
			s.Cameras[0].Id = "11111111-2222-3333-4444-55555555555a"
		},
			[]string{"Cameras[1].Id: duplicates Cameras[0].Id"}},
		{"camera without streams", func(s *Settings) { s.Cameras[1].Streams = nil },
			[]string{"Cameras[1].Streams: must list at least one stream"}},
		{"transport", func(s *Settings) { s.Cameras[0].Transport = "http" },
			[]string{`Cameras[0].Transport: must be "udp", "tcp" or "auto" (got "http")`}},

		// Streams
		{"stream id missing", func(s *Settings) { s.Cameras[0].Streams[1].Id = "" },
			[]string{"Cameras[0].Streams[1].Id: is required"}},
		{"stream id not a guid", func(s *Settings) { s.Cameras[0].Streams[1].Id = "main" },
			[]string{`Cameras[0].Streams[1].Id: must be a GUID (got "main")`}},
		{"stream id duplicate across cameras", func(s *Settings) { s.Cameras[1].Streams[0].Id = streamA },
			[]string{"Cameras[1].Streams[0].Id: duplicates Cameras[0].Streams[0].Id"}},
		{"stream url missing", func(s *Settings) { s.Cameras[1].Streams[0].Url = "" },
			[]string{"Cameras[1].Streams[0].Url: is required"}},
		{"stream url unparsable", func(s *Settings) { s.Cameras[0].Streams[0].Url = "rtsp://user:password@192.0.2.10:port/x" },
			[]string{`Cameras[0].Streams[0].Url: is not a valid URL (got "rtsp://192.0.2.10:port/x")`}},
		{"stream url scheme", func(s *Settings) { s.Cameras[0].Streams[0].Url = "http://user:password@192.0.2.10/x?password=password" },
			[]string{`Cameras[0].Streams[0].Url: must be an rtsp:// or rtsps:// URL (got "http://192.0.2.10/x")`}},
		{"stream url not a url at all", func(s *Settings) { s.Cameras[0].Streams[0].Url = "user:password" },
			[]string{"Cameras[0].Streams[0].Url: must be an rtsp:// or rtsps:// URL"}},
		{"stream url without host", func(s *Settings) { s.Cameras[0].Streams[0].Url = "rtsp://user:password@/stream1" },
			[]string{`Cameras[0].Streams[0].Url: must name a host (got "rtsp:///stream1")`}},
		{"stream url port", func(s *Settings) { s.Cameras[0].Streams[0].Url = "rtsp://user:password@192.0.2.10:70000/x" },
			[]string{`Cameras[0].Streams[0].Url: port must be from 1 to 65535 (got "rtsp://192.0.2.10:70000/x")`}},
		{"stream url scheme in capitals", func(s *Settings) { s.Cameras[0].Streams[0].Url = "RTSP://192.0.2.10/x" }, nil},
		// A user name or password with a character that must be
		// percent-encoded: the error names the character and its escape,
		// never the password (the URL is quoted without its user part).
		{"stream url with an unescaped # in the password", func(s *Settings) { s.Cameras[0].Streams[0].Url = "rtsp://admin:123#45@192.0.2.10/x" },
			[]string{`Cameras[0].Streams[0].Url: the password contains '#', which ends the address part of a URL; write it as %23 (got "rtsp://192.0.2.10/x")`}},
		{"stream url with # in a password that breaks parsing", func(s *Settings) {
			s.Cameras[0].Streams[0].Url = "rtsp://admin:Se#cret@192.0.2.10:554/Streaming/Channels/101"
		}, []string{`Cameras[0].Streams[0].Url: the password contains '#', which ends the address part of a URL; write it as %23 (got "rtsp://192.0.2.10:554/Streaming/Channels/101")`}},
		{"stream url with / in the password", func(s *Settings) { s.Cameras[0].Streams[0].Url = "rtsp://admin:ab/cd@192.0.2.10/x" },
			[]string{`Cameras[0].Streams[0].Url: the password contains '/', which ends the address part of a URL; write it as %2F (got "rtsp://192.0.2.10/x")`}},
		{"stream url with / in a password that still parses", func(s *Settings) { s.Cameras[0].Streams[0].Url = "rtsp://admin:12/34@cam.example.com/x" },
			[]string{`Cameras[0].Streams[0].Url: the password contains '/', which ends the address part of a URL; write it as %2F (got "rtsp://cam.example.com/x")`}},
		{"stream url with ? in the password", func(s *Settings) { s.Cameras[0].Streams[0].Url = "rtsp://admin:a?b@192.0.2.10/x" },
			[]string{`Cameras[0].Streams[0].Url: the password contains '?', which ends the address part of a URL; write it as %3F (got "rtsp://192.0.2.10/x")`}},
		{"stream url with a space in the password", func(s *Settings) { s.Cameras[0].Streams[0].Url = "rtsp://admin:a b@192.0.2.10/x" },
			[]string{`Cameras[0].Streams[0].Url: the password contains the byte 0x20, which a URL cannot hold as it is; write it as %20 (got "rtsp://192.0.2.10/x")`}},
		{"stream url with a bare % in the password", func(s *Settings) { s.Cameras[0].Streams[0].Url = "rtsp://admin:50%off@192.0.2.10/x" },
			[]string{`Cameras[0].Streams[0].Url: the password contains a '%' that starts no %XX escape; write a '%' as %25 (got "rtsp://192.0.2.10/x")`}},
		{"stream url with # in the user name", func(s *Settings) { s.Cameras[0].Streams[0].Url = "rtsp://ad#min:pw@[2001:db8::10]:554/x" },
			[]string{`Cameras[0].Streams[0].Url: the user name contains '#', which ends the address part of a URL; write it as %23 (got "rtsp://[2001:db8::10]:554/x")`}},
		{"stream url with escaped characters in the password", func(s *Settings) { s.Cameras[0].Streams[0].Url = "rtsp://admin:p%23s%2Fs@192.0.2.10/x" }, nil},
		{"stream url with @ in the password", func(s *Settings) { s.Cameras[0].Streams[0].Url = "rtsp://admin:p@ss@192.0.2.10/x" }, nil},
		{"stream url with @ in its path", func(s *Settings) { s.Cameras[0].Streams[0].Url = "rtsp://192.0.2.10:554/live@ch1" }, nil},
		{"stream url with # in its path", func(s *Settings) { s.Cameras[0].Streams[0].Url = "rtsp://admin:pw@192.0.2.10/x#1" },
			[]string{"Cameras[0].Streams[0].Url: contains '#': RTSP URLs have no fragment; write a '#' in a user name or password as %23"}},
		{"two default streams", func(s *Settings) { s.Cameras[0].Streams[1].Default = true },
			[]string{"Cameras[0].Streams[1].Default: only one stream of a camera may be the default, and Streams[0] already is"}},
		{"default streams on two cameras", func(s *Settings) { s.Cameras[1].Streams[0].Default = true }, nil},

		// The rest
		{"data dir", func(s *Settings) { s.DataDir = "" },
			[]string{"DataDir: must not be empty"}},
		{"log level", func(s *Settings) { s.Logging.Level = "trace" },
			[]string{`Logging.Level: must be "debug", "info", "warn" or "error" (got "trace")`}},

		{"every problem at once, in field order", func(s *Settings) {
			s.Logging.Level = ""
			s.Http.Listen = ""
			s.Cameras[1].Streams = nil
			s.WebRTC.UdpPort = -5
		}, []string{
			`Http.Listen: must be host:port, such as "127.0.0.1:8080" or ":8080" (got "")`,
			"WebRTC.UdpPort: must be from 0 to 65535 (got -5)",
			"Cameras[1].Streams: must list at least one stream",
			`Logging.Level: must be "debug", "info", "warn" or "error" (got "")`,
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
