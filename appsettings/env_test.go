package appsettings

import (
	"reflect"
	"testing"
	"time"
)

func TestEnv(t *testing.T) {
	base := `{"WebRTC": {"PublicIPs": ["192.0.2.1"]}, "Cameras": [` + cam + `]}`
	cases := []struct {
		name string
		env  []string
		errs []string        // expected error lines; nil means success
		want func(*Settings) // edits the result of base alone
	}{
		{
			name: "every kind of value",
			env: []string{
				"CAMGATE__Http__Listen=:80",
				"CAMGATE__WebRTC__UdpPort= 9000 ",
				"CAMGATE__WebRTC__IncludeLoopback=False",
				"CAMGATE__WebRTC__AnswerTimeout=1m",
				"CAMGATE__WebRTC__IPs=10.0.0.0/8,,192.0.2.7 ",
				"CAMGATE__Cameras__0__Streams__0__Default=true",
				"CAMGATE__Logging__Level=warn",
			},
			want: func(s *Settings) {
				s.Http.Listen = ":80"
				s.WebRTC.UdpPort = 9000
				s.WebRTC.IncludeLoopback = false
				s.WebRTC.AnswerTimeout = Duration(time.Minute)
				s.WebRTC.IPs = []string{"10.0.0.0/8", "192.0.2.7"}
				s.Cameras[0].Streams[0].Default = true
				s.Logging.Level = "warn"
			},
		},
		{
			name: "an empty value empties a list",
			env:  []string{"CAMGATE__WebRTC__PublicIPs="},
			want: func(s *Settings) { s.WebRTC.PublicIPs = []string{} },
		},
		{
			name: "indexes are numbers, added in order whatever the order of the variables",
			env: []string{
				"CAMGATE__WebRTC__PublicIPs__10=192.0.2.110", "CAMGATE__WebRTC__PublicIPs__2=192.0.2.102",
				"CAMGATE__WebRTC__PublicIPs__9=192.0.2.109", "CAMGATE__WebRTC__PublicIPs__1=192.0.2.101",
				"CAMGATE__WebRTC__PublicIPs__3=192.0.2.103", "CAMGATE__WebRTC__PublicIPs__8=192.0.2.108",
				"CAMGATE__WebRTC__PublicIPs__4=192.0.2.104", "CAMGATE__WebRTC__PublicIPs__7=192.0.2.107",
				"CAMGATE__WebRTC__PublicIPs__5=192.0.2.105", "CAMGATE__WebRTC__PublicIPs__6=192.0.2.106",
			},
			want: func(s *Settings) {
				s.WebRTC.PublicIPs = []string{"192.0.2.1", "192.0.2.101", "192.0.2.102", "192.0.2.103", "192.0.2.104",
					"192.0.2.105", "192.0.2.106", "192.0.2.107", "192.0.2.108", "192.0.2.109", "192.0.2.110"}
			},
		},
		{
			name: "a whole list, then an item added to it",
			env:  []string{"CAMGATE__WebRTC__PublicIPs__2=192.0.2.3", "CAMGATE__WebRTC__PublicIPs=192.0.2.1,192.0.2.2"},
			want: func(s *Settings) { s.WebRTC.PublicIPs = []string{"192.0.2.1", "192.0.2.2", "192.0.2.3"} },
		},
		{
			name: "a new ice server through the url alias",
			env:  []string{"CAMGATE__WebRTC__IceServers__0__Url=stun:a.example.net"},
			want: func(s *Settings) { s.WebRTC.IceServers = []IceServer{{Urls: []string{"stun:a.example.net"}}} },
		},
		{
			name: "a CORS key with dashes, in any case",
			env: []string{
				"CAMGATE__CORS__Enabled=true",
				"CAMGATE__CORS__Access-Control-Allow-Origin=https://a.example",
				"camgate__cors__access-control-allow-methods=get,post",
			},
			want: func(s *Settings) {
				s.CORS.Enabled = true
				s.CORS.AllowOrigin = "https://a.example"
				s.CORS.AllowMethods = "GET, POST"
			},
		},
		{
			name: "auth lists by index, roles referenced in any case",
			env: []string{
				"CAMGATE__Auth__Roles__0__Name=viewer",
				"CAMGATE__Auth__Roles__0__Live=*",
				"CAMGATE__Auth__Users__0__Username=alice",
				"CAMGATE__Auth__Users__0__PasswordHash=" + bcryptHash,
				"CAMGATE__Auth__Users__0__Roles=Viewer",
				"CAMGATE__Auth__BuiltIn__TokenLifetime=15m",
			},
			want: func(s *Settings) {
				s.Auth.Roles = []Role{{Name: "viewer", Live: []string{"*"}}}
				s.Auth.Users = []User{{Username: "alice", PasswordHash: bcryptHash, Roles: []string{"viewer"}}}
				s.Auth.BuiltIn.TokenLifetime = Duration(15 * time.Minute)
			},
		},
		{
			name: "errors under CORS name the key in its own spelling",
			env: []string{
				"CAMGATE__CORS__access-control-allow-origin__0=x",
				"CAMGATE__CORS__Access-Control-Allow-Originn=x",
				"CAMGATE__CORS=x",
				"CAMGATE__Auth__Users=x",
			},
			errs: []string{
				"environment variable CAMGATE__Auth__Users: Auth.Users: is a list of sections: set its items by index, for example CAMGATE__Auth__Users__0__Username",
				"environment variable CAMGATE__CORS: CORS: is a section: set its keys, for example CAMGATE__CORS__Enabled",
				"environment variable CAMGATE__CORS__access-control-allow-origin__0: CORS.Access-Control-Allow-Origin: is a single value, not a section: nothing can follow it",
				"environment variable CAMGATE__CORS__Access-Control-Allow-Originn: CORS.Access-Control-Allow-Originn: unknown setting",
			},
		},
		{
			name: "the later of two entries for one variable wins, whatever its case",
			env:  []string{"CAMGATE__DataDir=a", "camgate__datadir=b", "not-a-pair", "=C:=C:\\"},
			want: func(s *Settings) { s.DataDir = "b" },
		},
		{
			name: "conversion errors name the variable and quote the value",
			env: []string{
				"CAMGATE__WebRTC__UdpPort=abc",
				"CAMGATE__WebRTC__TcpPort=99999999999999999999",
				"CAMGATE__WebRTC__IncludeLoopback=yes",
				"CAMGATE__WebRTC__AnswerTimeout=30",
			},
			errs: []string{
				`environment variable CAMGATE__WebRTC__AnswerTimeout: WebRTC.AnswerTimeout: want a duration such as "30s", got "30"`,
				`environment variable CAMGATE__WebRTC__IncludeLoopback: WebRTC.IncludeLoopback: want true or false, got "yes"`,
				`environment variable CAMGATE__WebRTC__TcpPort: WebRTC.TcpPort: want an integer, got "99999999999999999999"`,
				`environment variable CAMGATE__WebRTC__UdpPort: WebRTC.UdpPort: want an integer, got "abc"`,
			},
		},
		{
			name: "path errors",
			env: []string{
				"CAMGATE__Http__Lisen=x",
				"CAMGATE__Http=x",
				"CAMGATE__Cameras=x",
				"CAMGATE__Http__Listen__Port=1",
				"CAMGATE__Cameras__first__Id=x",
				"CAMGATE__Cameras__2__Id=x",
				"CAMGATE__Logging____Level=x",
				"CAMGATE__=x",
				"CAMGATE__Cameras__0__Streams__0__Urll=rtsp://user:password@192.0.2.10/",
			},
			errs: []string{
				`environment variable CAMGATE__: empty key: separate keys with exactly one "__"`,
				"environment variable CAMGATE__Cameras: Cameras: is a list of sections: set its items by index, for example CAMGATE__Cameras__0__Id",
				"environment variable CAMGATE__Cameras__0__Streams__0__Urll: Cameras[0].Streams[0].Urll: unknown setting",
				"environment variable CAMGATE__Cameras__2__Id: Cameras[2]: no such item: the list has 1 items, so a new item must have index 1",
				`environment variable CAMGATE__Cameras__first__Id: Cameras: want a list index (0, 1, …) after it, got "first"`,
				"environment variable CAMGATE__Http: Http: is a section: set its keys, for example CAMGATE__Http__Listen",
				"environment variable CAMGATE__Http__Lisen: Http.Lisen: unknown setting",
				"environment variable CAMGATE__Http__Listen__Port: Http.Listen: is a single value, not a section: nothing can follow it",
				`environment variable CAMGATE__Logging____Level: Logging: empty key: separate keys with exactly one "__"`,
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := build([]layer{{"appsettings.json", []byte(base)}}, tc.env, nil)
			if tc.errs != nil {
				checkErrors(t, err, tc.errs)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want, err := build([]layer{{"appsettings.json", []byte(base)}}, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			tc.want(&want)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("got  %+v\nwant %+v", got, want)
			}
		})
	}
}
