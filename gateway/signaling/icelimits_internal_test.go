package signaling

import (
	"fmt"
	"strings"
	"testing"

	"github.com/camgate/camgate/appsettings"
	"github.com/camgate/camgate/gateway/rtc"
)

// Every refusal over a limit of the settings (rtc.OverLimit) is a 400 over
// REST and invalid params over the WebSocket, whatever the code a
// malformed input of the same request would get.
func TestOverLimitStatuses(t *testing.T) {
	t.Parallel()
	err := rtc.Errorf(rtc.OverLimit, "session s may take at most 6 candidates over its life (WebRTC.MaxRemoteCandidates)")
	checkBadRequest(t, err)
	if re := rpcErrorOf(err, rpcMalformedCandidate); re.Code != rpcInvalidParams {
		t.Fatalf("over the WebSocket: code %d, want %d (invalid params)", re.Code, rpcInvalidParams)
	}
}

// iceConfig is the ICE policy part of rtc.MediaConfig as the gateway shell
// maps the default settings (WebRTC.MaxClientIceServers 4, the settings'
// reading of hosts), with hosts as WebRTC.ClientIceServerHosts.
func iceConfig(hosts ...string) rtc.MediaConfig {
	cfg := rtc.MediaConfig{
		MaxClientIceServers: appsettings.Defaults().WebRTC.MaxClientIceServers,
		ICEHosts:            rtc.ICEHostSyntax{Normalize: appsettings.NormalizeIceHost, Usable: appsettings.NamesOneIceHost},
	}
	for _, h := range hosts {
		rule, err := appsettings.ParseIceHost(h)
		if err != nil {
			panic(fmt.Sprintf("test setting %q: %v", h, err))
		}
		cfg.ClientIceServerHosts = append(cfg.ClientIceServerHosts, rule)
	}
	return cfg
}

// permissiveWebRTC accepts any STUN/TURN host a client names, so that the
// tests of request decoding exercise every later check too.
func permissiveWebRTC() rtc.MediaConfig { return iceConfig("*") }

// permissiveManager is the ICE server policy of permissiveWebRTC.
func permissiveManager() *rtc.ICEPolicy { return rtc.NewICEPolicy(permissiveWebRTC(), nil) }

func TestClientICEServerLimits(t *testing.T) {
	t.Parallel()
	configured := iceConfig()
	configured.IceServers = []rtc.ICEServer{{URLs: []string{"stun:stun.example.net", "turns:turn.example.net:443"}, Username: "u", Credential: "c"}}
	listed := iceConfig("stun.example.org", "10.0.0.9:19302", "[2001:db8::9]:3478", "*:1234")
	none := iceConfig()
	none.MaxClientIceServers = 0
	many := func(n int) []iceServerJSON {
		out := make([]iceServerJSON, n)
		for i := range out {
			out[i] = iceServerJSON{URLs: []string{fmt.Sprintf("stun:127.0.0.1:%d", 10000+i)}}
		}
		return out
	}
	cases := []struct {
		name    string
		cfg     rtc.MediaConfig
		req     []iceServerJSON
		errText []string // nil: allowed
	}{
		{"none asked, none configured", iceConfig(), nil, nil},
		{"an empty list with MaxClientIceServers 0", none, []iceServerJSON{}, nil},
		{"any entry with MaxClientIceServers 0", none, []iceServerJSON{{}}, []string{"1 entries", "at most 0", "WebRTC.MaxClientIceServers"}},
		{"default: no host may be named", iceConfig(), []iceServerJSON{urls("stun:stun.example.net")},
			[]string{"iceServers[0]", "stun.example.net:3478", "WebRTC.IceServers (none configured)", "WebRTC.ClientIceServerHosts (none listed)"}},
		{"too many entries", permissiveWebRTC(), many(5), []string{"5 entries", "at most 4", "WebRTC.MaxClientIceServers"}},
		{"too many URLs in all", permissiveWebRTC(), []iceServerJSON{urls("stun:a.example", "stun:b.example", "stun:c.example"), urls("stun:d.example", "stun:e.example")},
			[]string{"more than 4 URLs", "WebRTC.MaxClientIceServers"}},
		{"a configured server, default port spelt out", configured, []iceServerJSON{urls("stun:STUN.example.net.:3478")}, nil},
		{"a configured server on another port", configured, []iceServerJSON{urls("stun:stun.example.net:3479")},
			[]string{"stun.example.net:3479", "WebRTC.IceServers (not this one)"}},
		{"a configured TURN server", configured, []iceServerJSON{{URLs: []string{"turn:turn.example.net:443?transport=tcp"}, Username: "x", Credential: "y"}}, nil},
		{"a listed host on a standard port", listed, []iceServerJSON{urls("stuns:stun.example.org")}, nil},
		{"a listed host on another port", listed, []iceServerJSON{urls("stun:stun.example.org:19302")},
			[]string{"stun.example.org:19302", "WebRTC.ClientIceServerHosts (not this one on this port)"}},
		{"a listed host:port", listed, []iceServerJSON{urls("stun:10.0.0.9:19302")}, nil},
		{"a listed IPv6 host:port", listed, []iceServerJSON{urls("stun:[2001:DB8:0::9]:3478")}, nil},
		{"any host on a listed wildcard port", listed, []iceServerJSON{urls("stun:192.0.2.1:1234")}, nil},
		{"an unlisted host", listed, []iceServerJSON{urls("stun:10.0.0.10:19302")}, []string{"10.0.0.10:19302", "WebRTC.ClientIceServerHosts"}},
		{"*: any host on the standard ports", permissiveWebRTC(), []iceServerJSON{urls("stun:10.1.2.3"), {URLs: []string{"turns:x.example"}, Username: "u", Credential: "p"}}, nil},
		{"*: not another port", permissiveWebRTC(), []iceServerJSON{urls("stun:10.1.2.3:22")}, []string{"10.1.2.3:22"}},
		{"a port out of range", permissiveWebRTC(), []iceServerJSON{urls("stun:10.1.2.3:70000")}, []string{"iceServers[0]", "port 70000"}},
		{"a multicast address", permissiveWebRTC(), []iceServerJSON{urls("stun:224.0.0.1")}, []string{"iceServers[0]", "usable IP address"}},
		{"an unspecified address", permissiveWebRTC(), []iceServerJSON{urls("stun:0.0.0.0")}, []string{"iceServers[0]", "usable IP address"}},
		{"a typo is reported before a host that is not allowed", iceConfig(),
			[]iceServerJSON{urls("stun:ok.example"), urls("http://stun.example:3478")}, []string{"iceServers[1]", "http://stun.example:3478"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ice, err := rtc.NewICEPolicy(tc.cfg, nil).Check(iceServersOf(tc.req))
			if tc.errText == nil {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				n := 0
				for _, s := range tc.req {
					n += len(s.URLs)
				}
				if n > 0 && len(ice) == 0 {
					t.Fatalf("allowed, but no server kept: %+v", ice)
				}
				return
			}
			if err == nil {
				t.Fatalf("allowed %+v", ice)
			}
			checkBadRequest(t, err)
			assertMentions(t, err.Error(), tc.errText)
		})
	}
	// A refusal over a limit is invalid params over the WebSocket.
	_, err := rtc.NewICEPolicy(iceConfig(), nil).Check(iceServersOf([]iceServerJSON{urls("stun:x.example")}))
	if re := rpcErrorOf(err, rpcInvalidParams); re.Code != rpcInvalidParams || !strings.Contains(re.Message, "WebRTC.ClientIceServerHosts") {
		t.Fatalf("over the WebSocket: %+v", re)
	}
}
