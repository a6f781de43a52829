package appsettings

import (
	"reflect"
	"testing"
	"time"
)

// fileCase is one appsettings.json content and what Load makes of it. The
// table drives TestDecodeFile and seeds FuzzLoadJSON.
type fileCase struct {
	name string
	json string
	// errs are the expected error lines; nil means the file loads.
	errs []string
	// want edits Defaults() into the expected result when errs is nil.
	want func(*Settings)
}

// cam is a valid camera for cases that need one, with the example password.
const cam = `{"Id": "11111111-2222-3333-4444-555555555555", "Streams": [{"Id": "11111111-2222-3333-4444-000000000001", "Url": "rtsp://user:password@192.0.2.10:554/stream1"}]}`

var fileCases = []fileCase{
	{
		name: "empty object gives the defaults",
		json: `{}`,
		want: func(*Settings) {},
	},
	{
		name: "byte order mark is skipped",
		json: "\xef\xbb\xbf{\"DataDir\": \"x\"}",
		want: func(s *Settings) { s.DataDir = "x" },
	},
	{
		name: "keys in any case",
		json: `{"http": {"LISTEN": ":80"}, "webRTC": {"udpport": 1, "includeLoopback": false, "gatherTimeout": "1s"}}`,
		want: func(s *Settings) {
			s.Http.Listen = ":80"
			s.WebRTC.UdpPort = 1
			s.WebRTC.IncludeLoopback = false
			s.WebRTC.GatherTimeout = Duration(time.Second)
		},
	},
	{
		name: "a camera, with Name and Transport filled in",
		json: `{"Cameras": [` + cam + `]}`,
		want: func(s *Settings) {
			s.Cameras = []Camera{{
				Id:        "11111111-2222-3333-4444-555555555555",
				Name:      "11111111-2222-3333-4444-555555555555",
				Streams:   []Stream{{Id: "11111111-2222-3333-4444-000000000001", Url: "rtsp://user:password@192.0.2.10:554/stream1"}},
				Transport: "auto",
			}}
		},
	},

	// IceServer takes url or urls, each a string or a list.
	{
		name: "ice url as a string",
		json: `{"WebRTC": {"IceServers": [{"url": "stun:a.example.net"}]}}`,
		want: func(s *Settings) { s.WebRTC.IceServers = []IceServer{{Urls: []string{"stun:a.example.net"}}} },
	},
	{
		name: "ice url as a list",
		json: `{"WebRTC": {"IceServers": [{"URL": ["stun:a.example.net", "stun:b.example.net"]}]}}`,
		want: func(s *Settings) {
			s.WebRTC.IceServers = []IceServer{{Urls: []string{"stun:a.example.net", "stun:b.example.net"}}}
		},
	},
	{
		name: "ice urls as a string",
		json: `{"WebRTC": {"IceServers": [{"urls": "turn:t.example.net", "username": "u", "credential": "c"}]}}`,
		want: func(s *Settings) {
			s.WebRTC.IceServers = []IceServer{{Urls: []string{"turn:t.example.net"}, Username: "u", Credential: "c"}}
		},
	},
	{
		name: "ice urls as a list",
		json: `{"WebRTC": {"IceServers": [{"Urls": ["stun:a.example.net", "stuns:b.example.net"]}]}}`,
		want: func(s *Settings) {
			s.WebRTC.IceServers = []IceServer{{Urls: []string{"stun:a.example.net", "stuns:b.example.net"}}}
		},
	},
	{
		name: "ice urls wins over url",
		json: `{"WebRTC": {"IceServers": [{"url": "stun:old.example.net", "urls": ["stun:new.example.net"]}]}}`,
		want: func(s *Settings) { s.WebRTC.IceServers = []IceServer{{Urls: []string{"stun:new.example.net"}}} },
	},
	{
		name: "ice urls of the wrong type",
		json: `{"WebRTC": {"IceServers": [{"urls": 3}, {"url": ["stun:a", true]}]}}`,
		errs: []string{
			"appsettings.json: WebRTC.IceServers[0].Urls: want a string or a list of strings, got a number",
			"appsettings.json: WebRTC.IceServers[1].Url[1]: want a string, got a boolean",
		},
	},
	{
		name: "ice url twice",
		json: `{"WebRTC": {"IceServers": [{"url": "stun:a", "Url": "stun:b"}]}}`,
		errs: []string{`appsettings.json: WebRTC.IceServers[0].Url: set twice in one object (as "url" and "Url")`},
	},

	// Auth and CORS. The CORS keys have dashes, matched in any case too.
	{
		name: "auth: a user, a role and an issuer, with defaults filled and references in the role's spelling",
		json: `{"Auth": {
			"Users": [{"Username": "alice", "PasswordHash": "` + bcryptHash + `", "Roles": ["OPERATOR"]}],
			"Roles": [{"Name": "Operator", "Live": ["*"], "Ptz": ["*"]}],
			"Issuers": [{"Url": "https://keycloak.example.com/realms/video", "Audience": "camgate",
				"RoleMappings": [{"Value": "video-operator", "Roles": ["operator"]}]}]
		}}`,
		want: func(s *Settings) {
			s.Auth.Users = []User{{Username: "alice", PasswordHash: bcryptHash, Roles: []string{"Operator"}}}
			s.Auth.Roles = []Role{{Name: "Operator", Live: []string{"*"}, Ptz: []string{"*"}}}
			s.Auth.Issuers = []Issuer{{
				Url: "https://keycloak.example.com/realms/video", Audience: "camgate", RolesClaim: "roles",
				RoleMappings: []RoleMapping{{Value: "video-operator", Roles: []string{"Operator"}}},
				Leeway:       Duration(30 * time.Second),
			}}
		},
	},
	{
		name: "cors keys in any case",
		json: `{"cors": {"enabled": true, "access-control-allow-origin": "https://Portal.example.com/", "ACCESS-CONTROL-ALLOW-METHODS": "get,post"}}`,
		want: func(s *Settings) {
			s.CORS.Enabled = true
			s.CORS.AllowOrigin = "https://portal.example.com"
			s.CORS.AllowMethods = "GET, POST"
		},
	},
	{
		name: "an unknown key under CORS names its path",
		json: `{"CORS": {"Access-Control-Allow-Originn": "*", "AllowOrigin": "*", "Access-Control-Allow-Credentials": "true"}}`,
		errs: []string{
			"appsettings.json: CORS.Access-Control-Allow-Originn: unknown setting",
			"appsettings.json: CORS.AllowOrigin: unknown setting",
			"appsettings.json: CORS.Access-Control-Allow-Credentials: unknown setting",
		},
	},
	{
		name: "a CORS key twice, in different case",
		json: `{"CORS": {"Access-Control-Allow-Origin": "*", "access-control-allow-origin": "null"}}`,
		errs: []string{`appsettings.json: CORS.Access-Control-Allow-Origin: set twice in one object (as "Access-Control-Allow-Origin" and "access-control-allow-origin")`},
	},
	{
		name: "wrong types in Auth and CORS",
		json: `{"Auth": {"Users": [{"Username": "alice", "PasswordHash": ["` + bcryptHash + `"]}], "Roles": {}, "SessionGrace": 60},
			"CORS": {"Enabled": "true", "Access-Control-Allow-Headers": ["Authorization"]}}`,
		errs: []string{
			"appsettings.json: Auth.Users[0].PasswordHash: want a string, got a list",
			"appsettings.json: Auth.Roles: want a list, got an object",
			`appsettings.json: Auth.SessionGrace: want a duration such as "30s", got a number`,
			"appsettings.json: CORS.Enabled: want true or false, got a string",
			"appsettings.json: CORS.Access-Control-Allow-Headers: want a string, got a list",
		},
	},
	{
		name: "an unknown key in a user",
		json: `{"Auth": {"Users": [{"Username": "alice", "Password": "hunter2"}]}}`,
		errs: []string{"appsettings.json: Auth.Users[0].Password: unknown setting"},
	},

	// Unknown keys name their full path.
	{
		name: "unknown top-level key",
		json: `{"Htpp": {}}`,
		errs: []string{"appsettings.json: Htpp: unknown setting"},
	},
	{
		name: "unknown nested key",
		json: `{"WebRTC": {"UdpPorts": 1}}`,
		errs: []string{"appsettings.json: WebRTC.UdpPorts: unknown setting"},
	},
	{
		name: "unknown key in a list item",
		json: `{"Cameras": [` + cam + `, {"Streams": [{}, {"Urll": "rtsp://user:password@192.0.2.10/"}]}]}`,
		errs: []string{"appsettings.json: Cameras[1].Streams[1].Urll: unknown setting"},
	},
	{
		name: "unknown key in an ice server",
		json: `{"WebRTC": {"IceServers": [{"urls": "stun:a", "password": "x"}]}}`,
		errs: []string{"appsettings.json: WebRTC.IceServers[0].password: unknown setting"},
	},
	{
		name: "a strange unknown key is quoted",
		json: `{"Http": {"a b\nc": 1}}`,
		errs: []string{`appsettings.json: Http."a b\nc": unknown setting`},
	},
	{
		name: "the same key twice, in different case",
		json: `{"Http": {"Listen": ":1", "listen": ":2"}}`,
		errs: []string{`appsettings.json: Http.Listen: set twice in one object (as "Listen" and "listen")`},
	},

	// Wrong types name the path and the expected type, never the value.
	{
		name: "wrong types",
		json: `{
			"Http": {"Listen": 8080},
			"WebRTC": {
				"UdpPort": "8189", "TcpPort": 1.5, "IncludeLoopback": "yes", "PublicIPs": "192.0.2.1",
				"Interfaces": [1], "GatherTimeout": 2, "AnswerTimeout": "30 seconds", "ViewerQueueFrames": 1e3,
				"IceServers": {}
			},
			"Cameras": {},
			"Metrics": [],
			"DataDir": null,
			"Logging": "debug"
		}`,
		errs: []string{
			"appsettings.json: Http.Listen: want a string, got a number",
			"appsettings.json: WebRTC.UdpPort: want an integer, got a string",
			`appsettings.json: WebRTC.TcpPort: want an integer, got "1.5"`,
			"appsettings.json: WebRTC.IncludeLoopback: want true or false, got a string",
			"appsettings.json: WebRTC.PublicIPs: want a list, got a string",
			"appsettings.json: WebRTC.Interfaces[0]: want a string, got a number",
			`appsettings.json: WebRTC.GatherTimeout: want a duration such as "30s", got a number`,
			`appsettings.json: WebRTC.AnswerTimeout: want a duration such as "30s", got "30 seconds"`,
			`appsettings.json: WebRTC.ViewerQueueFrames: want an integer, got "1e3"`,
			"appsettings.json: WebRTC.IceServers: want a list, got an object",
			"appsettings.json: Cameras: want a list, got an object",
			"appsettings.json: Metrics: want an object, got a list",
			"appsettings.json: DataDir: want a string, got null",
			"appsettings.json: Logging: want an object, got a string",
		},
	},
	{
		name: "an integer too large",
		json: `{"WebRTC": {"UdpPort": 99999999999999999999}}`,
		errs: []string{`appsettings.json: WebRTC.UdpPort: want an integer, got "99999999999999999999"`},
	},
	{
		name: "a password in a value of the wrong type is not quoted",
		json: `{"Cameras": [{"Id": "11111111-2222-3333-4444-555555555555", "Streams": [{"Id": "11111111-2222-3333-4444-000000000001", "Url": ["rtsp://user:password@192.0.2.10/"]}]}]}`,
		errs: []string{"appsettings.json: Cameras[0].Streams[0].Url: want a string, got a list"},
	},

	// Syntax errors name line and column. Plain JSON only.
	{
		name: "trailing comma",
		json: "{\n  \"Http\": {\n    \"Listen\": \":80\",\n  }\n}",
		errs: []string{"appsettings.json:4:3: invalid character '}' looking for beginning of object key string"},
	},
	{
		name: "comment",
		json: "{\n  // the listener\n  \"Http\": {}\n}",
		errs: []string{"appsettings.json:2:3: invalid character '/' looking for beginning of object key string"},
	},
	{
		name: "missing colon, after a multi-byte character",
		json: "{\"DataDir\": \"é\",\n \"Http\" {}}",
		errs: []string{"appsettings.json:2:9: invalid character '{' after object key"},
	},
	{
		name: "truncated",
		json: `{"Http": {`,
		errs: []string{"appsettings.json:1:10: unexpected end of JSON input"},
	},
	{
		name: "empty file",
		json: ``,
		errs: []string{"appsettings.json:1:1: unexpected end of JSON input"},
	},
	{
		name: "two values",
		json: `{} {}`,
		errs: []string{"appsettings.json:1:4: invalid character '{' after top-level value"},
	},
	{
		name: "not an object",
		json: `["Http"]`,
		errs: []string{"appsettings.json: must hold one JSON object, got a list"},
	},
	{
		name: "null",
		json: `null`,
		errs: []string{"appsettings.json: must hold one JSON object, got null"},
	},
}

func TestDecodeFile(t *testing.T) {
	for _, tc := range fileCases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := build([]layer{{name: "appsettings.json", data: []byte(tc.json)}}, nil, nil)
			if tc.errs != nil {
				checkErrors(t, err, tc.errs)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want := Defaults()
			tc.want(&want)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("got  %+v\nwant %+v", got, want)
			}
		})
	}
}

// TestDecodeLayersMergePerIndex checks ASP.NET Core's list rule: a later
// layer's item i merges onto item i, a longer list adds items, and a shorter
// or empty one removes nothing.
func TestDecodeLayersMergePerIndex(t *testing.T) {
	base := `{"WebRTC": {"PublicIPs": ["192.0.2.1", "192.0.2.2"], "IceServers": [{"urls": ["stun:a", "stun:b"], "username": "u"}]}}`
	cases := []struct {
		name, over string
		want       func(*Settings)
	}{
		{"empty list removes nothing", `{"WebRTC": {"PublicIPs": []}}`, func(*Settings) {}},
		{"shorter list replaces the first items", `{"WebRTC": {"PublicIPs": ["192.0.2.9"]}}`,
			func(s *Settings) { s.WebRTC.PublicIPs[0] = "192.0.2.9" }},
		{"longer list adds items", `{"WebRTC": {"PublicIPs": ["192.0.2.1", "192.0.2.2", "192.0.2.3"]}}`,
			func(s *Settings) { s.WebRTC.PublicIPs = append(s.WebRTC.PublicIPs, "192.0.2.3") }},
		{"an object item merges key by key", `{"WebRTC": {"IceServers": [{"credential": "c"}]}}`,
			func(s *Settings) { s.WebRTC.IceServers[0].Credential = "c" }},
		{"ice urls replace as a whole", `{"WebRTC": {"IceServers": [{"url": "stun:c"}]}}`,
			func(s *Settings) { s.WebRTC.IceServers[0].Urls = []string{"stun:c"} }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := Defaults()
			for _, l := range []layer{{"appsettings.json", []byte(base)}, {"appsettings.Production.json", []byte(tc.over)}} {
				if errs := decodeFile(l.name, l.data, &got); errs != nil {
					t.Fatal(errs)
				}
			}
			want := Defaults()
			want.WebRTC.PublicIPs = []string{"192.0.2.1", "192.0.2.2"}
			want.WebRTC.IceServers = []IceServer{{Urls: []string{"stun:a", "stun:b"}, Username: "u"}}
			tc.want(&want)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("got  %+v\nwant %+v", got, want)
			}
		})
	}
}
