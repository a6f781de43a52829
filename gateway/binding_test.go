package gateway

import (
	_ "embed"
	"encoding/json"
	"net/http"
	"reflect"
	"strings"
	"testing"
)

// The parsers of network input in this package get one case table each.
// The same tables seed the fuzz targets (fuzz_test.go) and, through the
// exported accessors at the bottom, drive the HTTP tests in package
// gateway_test (badinput_test.go), so a quirk is pinned down once at every
// layer.

// Bodies name "<guid>" and "<stream-guid>" as spec §2.9 writes them; expand
// puts in the harness camera's ids (testCameraID and testStreamID in
// harness_test.go), so the HTTP tests can send the bodies as they are.
const (
	harnessCameraID = "6C0D9F0E-1111-4A2B-8C3D-0123456789AB"
	harnessStreamID = "6C0D9F0E-2222-4A2B-8C3D-0123456789AB"
)

var guids = strings.NewReplacer("<guid>", harnessCameraID, "<stream-guid>", harnessStreamID)

func expand(body string) string { return guids.Replace(body) }

// bound is what a session request means once decoded.
type bound struct {
	device, stream string
	live           bool
	includeAudio   flexBool
	skipGaps       flexBool
	speed          flexFloat
	ice            []iceServerJSON
}

type bindingCase struct {
	name string
	body string
	// want is the decoded meaning; nil means decoding must fail (with a
	// 400 whose text contains errText).
	want *bound
	// status is the answer of POST …/Session against the harness camera;
	// 0 means the HTTP tests skip the case (it names a public STUN/TURN
	// server that camgate would really contact).
	status int
	// errText are substrings (any case) of the errorText of an error.
	errText []string
}

var (
	set  = func(v bool) flexBool { return flexBool{Set: true, Value: v} }
	num  = func(v float64) flexFloat { return flexFloat{Set: true, Value: v} }
	urls = func(u ...string) iceServerJSON { return iceServerJSON{URLs: u} }
)

var bindingCases = []bindingCase{
	// Spec §2.9, verbatim but for the ids.
	{
		name: "JS sample 2025 R2 live, playbackTimeNode with empty playbackTime",
		body: `{"deviceId":"<guid>","resolution":"notInUse","includeAudio":true,
 "playbackTimeNode":{"playbackTime":"","skipGaps":false},"iceServers":[]}`,
		want:   &bound{device: harnessCameraID, live: true, includeAudio: set(true), skipGaps: set(false)},
		status: http.StatusOK,
	},
	{
		name: "JS sample 2025 R2 playback, stream, string speed, STUN+TURN with url",
		body: `{"deviceId":"<guid>","resolution":"notInUse","streamId":"<stream-guid>","includeAudio":false,
 "playbackTimeNode":{"playbackTime":"2024-05-01T10:00:00.000Z","speed":"2","skipGaps":true},
 "iceServers":[{"url":"stun:stun1.l.google.com:19302"},
               {"url":"turn:t.example:3478","username":"u","credential":"p"}]}`,
		want: &bound{
			device: harnessCameraID, stream: harnessStreamID, includeAudio: set(false),
			speed: num(2), skipGaps: set(true),
			ice: []iceServerJSON{
				urls("stun:stun1.l.google.com:19302"),
				{URLs: []string{"turn:t.example:3478"}, Username: "u", Credential: "p"},
			},
		},
		// The harness user has no playback right: refused before the ICE
		// servers are used.
		status: http.StatusForbidden, errText: []string{"playback right"},
	},
	{
		name:   "go2rtc current, live: playbackTimeNode is always present and {}",
		body:   `{"cameraId":"<guid>","playbackTimeNode":{}}`,
		want:   &bound{device: harnessCameraID, live: true},
		status: http.StatusOK,
	},
	{
		name:   "go2rtc current, playback with stream, numeric speed",
		body:   `{"cameraId":"<guid>","streamId":"<stream-guid>","playbackTimeNode":{"playbackTime":"2024-05-01T10:00:00Z","skipGaps":true,"speed":4}}`,
		want:   &bound{device: harnessCameraID, stream: harnessStreamID, speed: num(4), skipGaps: set(true)},
		status: http.StatusForbidden, errText: []string{"playback right"},
	},
	{
		name:   "go2rtc first version (Apr 2024), empty iceServers",
		body:   `{"cameraId":"<guid>","iceServers":[],"resolution":"notInUse"}`,
		want:   &bound{device: harnessCameraID, live: true},
		status: http.StatusOK,
	},
	{
		name:   "JS sample 2023 R1",
		body:   `{"cameraId":"<guid>","resolution":"notInUse"}`,
		want:   &bound{device: harnessCameraID, live: true},
		status: http.StatusOK,
	},

	// ASP.NET Core binding: property names in any case, scalars as strings.
	{
		name:   "property names in other cases, skipGaps as a string",
		body:   `{"DeviceId":"<guid>","streamID":"<stream-guid>","PlaybackTimeNode":{"PlaybackTime":"","SkipGaps":"true"}}`,
		want:   &bound{device: harnessCameraID, stream: harnessStreamID, live: true, skipGaps: set(true)},
		status: http.StatusOK,
	},
	{
		name:   "playback in shouting case, speed and skipGaps as strings",
		body:   `{"DEVICEID":"<guid>","PLAYBACKTIMENODE":{"PLAYBACKTIME":"2024-05-01T10:00:00Z","Speed":" 0.5 ","skipGaps":"FALSE"}}`,
		want:   &bound{device: harnessCameraID, speed: num(0.5), skipGaps: set(false)},
		status: http.StatusForbidden, errText: []string{"playback right"},
	},
	// Playback parameters that decode but break a rule: 400 before rights
	// or the recordings are looked at, naming the field.
	{
		name:   "playback speed 0",
		body:   `{"deviceId":"<guid>","playbackTimeNode":{"playbackTime":"2024-05-01T10:00:00Z","speed":0}}`,
		want:   &bound{device: harnessCameraID, speed: num(0)},
		status: http.StatusBadRequest, errText: []string{"playbackTimeNode.speed must be more than 0 and at most 32", "got 0"},
	},
	{
		name:   "playback speed above 32, as a string",
		body:   `{"deviceId":"<guid>","playbackTimeNode":{"playbackTime":"2024-05-01T10:00:00Z","speed":"33"}}`,
		want:   &bound{device: harnessCameraID, speed: num(33)},
		status: http.StatusBadRequest, errText: []string{"playbackTimeNode.speed", "got 33"},
	},
	{
		name:   "negative playback speed",
		body:   `{"deviceId":"<guid>","playbackTimeNode":{"playbackTime":"2024-05-01T10:00:00Z","speed":-1}}`,
		want:   &bound{device: harnessCameraID, speed: num(-1)},
		status: http.StatusBadRequest, errText: []string{"playbackTimeNode.speed", "got -1"},
	},
	{
		name:   "playbackTime that is not a time",
		body:   `{"deviceId":"<guid>","playbackTimeNode":{"playbackTime":"yesterday"}}`,
		want:   &bound{device: harnessCameraID},
		status: http.StatusBadRequest, errText: []string{"playbackTimeNode.playbackTime", `"yesterday"`, "ISO 8601"},
	},
	{
		name:   "playbackTime without a time zone",
		body:   `{"deviceId":"<guid>","playbackTimeNode":{"playbackTime":"2024-05-01T10:00:00"}}`,
		want:   &bound{device: harnessCameraID},
		status: http.StatusBadRequest, errText: []string{"playbackTimeNode.playbackTime", "no time zone"},
	},
	{
		name:   "includeAudio as a string, GUID in lower case",
		body:   `{"deviceId":"` + strings.ToLower(harnessCameraID) + `","includeAudio":"False"}`,
		want:   &bound{device: strings.ToLower(harnessCameraID), live: true, includeAudio: set(false)},
		status: http.StatusOK,
	},
	{
		name:   "a numeric deviceId is taken as a string",
		body:   `{"deviceId":12345}`,
		want:   &bound{device: "12345", live: true},
		status: http.StatusNotFound, errText: []string{`"12345"`},
	},
	{
		name:   "null everywhere means absent",
		body:   `{"deviceId":"<guid>","cameraId":null,"streamId":null,"includeAudio":null,"resolution":null,"playbackTimeNode":null,"iceServers":null,"sessionId":null}`,
		want:   &bound{device: harnessCameraID, live: true},
		status: http.StatusOK,
	},
	{
		name:   "playbackTimeNode with null members is live",
		body:   `{"deviceId":"<guid>","playbackTimeNode":{"playbackTime":null,"speed":null,"skipGaps":null}}`,
		want:   &bound{device: harnessCameraID, live: true},
		status: http.StatusOK,
	},
	{
		name:   "blank playbackTime is live, an empty speed is unset",
		body:   `{"deviceId":"<guid>","playbackTimeNode":{"playbackTime":"   ","speed":""}}`,
		want:   &bound{device: harnessCameraID, live: true},
		status: http.StatusOK,
	},
	{
		name:   "deviceId wins over cameraId",
		body:   `{"cameraId":"00000000-0000-0000-0000-000000000000","deviceId":"<guid>"}`,
		want:   &bound{device: harnessCameraID, live: true},
		status: http.StatusOK,
	},
	{
		name:   "blank deviceId falls back to cameraId, ids are trimmed",
		body:   `{"deviceId":"  ","cameraId":" <guid> "}`,
		want:   &bound{device: harnessCameraID, live: true},
		status: http.StatusOK,
	},
	{
		name:   "unknown fields are ignored",
		body:   `{"deviceId":"<guid>","resolution":"notInUse","somethingNew":{"a":[1,2]},"sessionId":"x"}`,
		want:   &bound{device: harnessCameraID, live: true},
		status: http.StatusOK,
	},

	// iceServers as seen in the wild (§2.6).
	{
		name:   "iceServers: urls as a single string (WebSocket sample)",
		body:   `{"deviceId":"<guid>","iceServers":[{"urls":"stun:stun.example.org:3478"}]}`,
		want:   &bound{device: harnessCameraID, live: true, ice: []iceServerJSON{urls("stun:stun.example.org:3478")}},
		status: 0,
	},
	{
		name: "iceServers: urls as a list with credentials (ONVIF)",
		body: `{"deviceId":"<guid>","iceServers":[{"urls":["turn:t.example:3478?transport=udp","turns:t.example:5349"],"username":"u","credential":"p"}]}`,
		want: &bound{device: harnessCameraID, live: true, ice: []iceServerJSON{
			{URLs: []string{"turn:t.example:3478?transport=udp", "turns:t.example:5349"}, Username: "u", Credential: "p"},
		}},
		status: 0,
	},
	{
		name:   "iceServers: bare strings (first go2rtc typed them []string)",
		body:   `{"deviceId":"<guid>","iceServers":["stun:a.example","stun:b.example"]}`,
		want:   &bound{device: harnessCameraID, live: true, ice: []iceServerJSON{urls("stun:a.example"), urls("stun:b.example")}},
		status: 0,
	},
	{
		name:   "iceServers: urls wins over url",
		body:   `{"deviceId":"<guid>","iceServers":[{"url":"stun:old.example","urls":"stun:new.example"}]}`,
		want:   &bound{device: harnessCameraID, live: true, ice: []iceServerJSON{urls("stun:new.example")}},
		status: 0,
	},
	{
		name:   "iceServers: property names in other cases, credential as a number",
		body:   `{"deviceId":"<guid>","IceServers":[{"URL":"turn:t.example","UserName":"u","Credential":1234}]}`,
		want:   &bound{device: harnessCameraID, live: true, ice: []iceServerJSON{{URLs: []string{"turn:t.example"}, Username: "u", Credential: "1234"}}},
		status: 0,
	},
	{
		name:   "iceServers: an entry with an empty url is ignored",
		body:   `{"deviceId":"<guid>","iceServers":[{"url":""},{"urls":[]}]}`,
		want:   &bound{device: harnessCameraID, live: true, ice: []iceServerJSON{urls(""), {}}},
		status: http.StatusOK,
	},

	// Bodies that decode but cannot make a session.
	{
		name:   "iceServers: not a STUN or TURN URL",
		body:   `{"deviceId":"<guid>","iceServers":[{"url":"stun:ok.example"},{"url":"http://stun.example:3478"}]}`,
		want:   &bound{device: harnessCameraID, live: true, ice: []iceServerJSON{urls("stun:ok.example"), urls("http://stun.example:3478")}},
		status: http.StatusBadRequest, errText: []string{"iceServers[1]", "http://stun.example:3478"},
	},
	{
		name:   "iceServers: TURN without credentials",
		body:   `{"deviceId":"<guid>","iceServers":[{"urls":"turn:t.example:3478"}]}`,
		want:   &bound{device: harnessCameraID, live: true, ice: []iceServerJSON{urls("turn:t.example:3478")}},
		status: http.StatusBadRequest, errText: []string{"iceServers[0]", "TURN", "username", "credential"},
	},
	{
		name:   "iceServers: TURN with a username only",
		body:   `{"deviceId":"<guid>","iceServers":[{"urls":"turns:t.example","username":"u"}]}`,
		want:   &bound{device: harnessCameraID, live: true, ice: []iceServerJSON{{URLs: []string{"turns:t.example"}, Username: "u"}}},
		status: http.StatusBadRequest, errText: []string{"iceServers[0]", "credential"},
	},
	{
		name:   "iceServers: a STUN URL without a host",
		body:   `{"deviceId":"<guid>","iceServers":[{"url":"stun:"}]}`,
		want:   &bound{device: harnessCameraID, live: true, ice: []iceServerJSON{urls("stun:")}},
		status: http.StatusBadRequest, errText: []string{"iceServers[0]", `"stun:"`, "not a valid STUN or TURN URL"},
	},
	{
		name:   "iceServers: TURN over a transport pion does not know",
		body:   `{"deviceId":"<guid>","iceServers":[{"urls":"turn:t.example?transport=sctp","username":"u","credential":"p"}]}`,
		want:   &bound{device: harnessCameraID, live: true, ice: []iceServerJSON{{URLs: []string{"turn:t.example?transport=sctp"}, Username: "u", Credential: "p"}}},
		status: http.StatusBadRequest, errText: []string{"iceServers[0]", "transport=sctp"},
	},
	{
		name:   "iceServers: a broken IPv6 literal",
		body:   `{"deviceId":"<guid>","iceServers":[{"urls":"stun:[::1"}]}`,
		want:   &bound{device: harnessCameraID, live: true, ice: []iceServerJSON{urls("stun:[::1")}},
		status: http.StatusBadRequest, errText: []string{"iceServers[0]", "[::1"},
	},
	{
		name:   "missing deviceId",
		body:   `{"resolution":"notInUse","includeAudio":true}`,
		want:   &bound{live: true, includeAudio: set(true)},
		status: http.StatusBadRequest, errText: []string{"deviceId"},
	},
	{
		name:   "empty object",
		body:   `{}`,
		want:   &bound{live: true},
		status: http.StatusBadRequest, errText: []string{"deviceId"},
	},
	{
		name:   "JSON null body",
		body:   `null`,
		want:   &bound{live: true},
		status: http.StatusBadRequest, errText: []string{"deviceId"},
	},
	{
		name:   "unknown camera",
		body:   `{"deviceId":"00000000-0000-0000-0000-0000000000AA"}`,
		want:   &bound{device: "00000000-0000-0000-0000-0000000000AA", live: true},
		status: http.StatusNotFound, errText: []string{"camera", "00000000-0000-0000-0000-0000000000AA"},
	},
	{
		name:   "unknown stream on a known camera",
		body:   `{"deviceId":"<guid>","streamId":"00000000-0000-0000-0000-0000000000BB"}`,
		want:   &bound{device: harnessCameraID, stream: "00000000-0000-0000-0000-0000000000BB", live: true},
		status: http.StatusNotFound, errText: []string{"stream", "00000000-0000-0000-0000-0000000000BB"},
	},

	// Bodies that do not decode: 400 naming what was wrong.
	{name: "empty body", body: ``, status: http.StatusBadRequest, errText: []string{"empty"}},
	{name: "blank body", body: " \r\n\t", status: http.StatusBadRequest, errText: []string{"empty"}},
	{name: "malformed JSON", body: `{"deviceId":"<guid>",`, status: http.StatusBadRequest, errText: []string{"malformed JSON"}},
	{name: "trailing garbage", body: `{"deviceId":"<guid>"} {}`, status: http.StatusBadRequest, errText: []string{"malformed JSON"}},
	{name: "single quotes", body: `{'deviceId':'x'}`, status: http.StatusBadRequest, errText: []string{"malformed JSON", "byte 2"}},
	{name: "top level is a list", body: `[{"deviceId":"<guid>"}]`, status: http.StatusBadRequest, errText: []string{"object", "array"}},
	{name: "deviceId is an object", body: `{"deviceId":{}}`, status: http.StatusBadRequest, errText: []string{`"deviceId"`, "string"}},
	{name: "deviceId is a list", body: `{"deviceId":["<guid>"]}`, status: http.StatusBadRequest, errText: []string{`"deviceId"`, "string"}},
	{name: "cameraId is true", body: `{"cameraId":true}`, status: http.StatusBadRequest, errText: []string{`"cameraId"`, "true"}},
	{name: "includeAudio is not a boolean", body: `{"deviceId":"<guid>","includeAudio":"yes"}`, status: http.StatusBadRequest, errText: []string{"includeAudio", `"yes"`}},
	{name: "speed is not a number", body: `{"deviceId":"<guid>","playbackTimeNode":{"playbackTime":"2024-05-01T10:00:00Z","speed":"fast"}}`, status: http.StatusBadRequest, errText: []string{"playbackTimeNode.speed", `"fast"`}},
	{name: "speed is NaN", body: `{"deviceId":"<guid>","playbackTimeNode":{"playbackTime":"2024-05-01T10:00:00Z","speed":"NaN"}}`, status: http.StatusBadRequest, errText: []string{"playbackTimeNode.speed", `"NaN"`}},
	{name: "speed is infinite", body: `{"deviceId":"<guid>","playbackTimeNode":{"playbackTime":"2024-05-01T10:00:00Z","speed":"-Infinity"}}`, status: http.StatusBadRequest, errText: []string{"playbackTimeNode.speed", `"-Infinity"`}},
	{name: "speed does not fit a float64", body: `{"deviceId":"<guid>","playbackTimeNode":{"playbackTime":"2024-05-01T10:00:00Z","speed":1e400}}`, status: http.StatusBadRequest, errText: []string{"playbackTimeNode.speed", "1e400"}},
	{name: "skipGaps is not a boolean", body: `{"deviceId":"<guid>","playbackTimeNode":{"skipGaps":"maybe"}}`, status: http.StatusBadRequest, errText: []string{"playbackTimeNode.skipGaps", `"maybe"`}},
	{name: "playbackTimeNode is a string", body: `{"deviceId":"<guid>","playbackTimeNode":"2024-05-01T10:00:00Z"}`, status: http.StatusBadRequest, errText: []string{"playbackTimeNode", "object"}},
	{name: "iceServers is a string", body: `{"deviceId":"<guid>","iceServers":"stun:a.example"}`, status: http.StatusBadRequest, errText: []string{"iceServers", "list"}},
	{name: "iceServers entry is a number", body: `{"deviceId":"<guid>","iceServers":[3478]}`, status: http.StatusBadRequest, errText: []string{"iceServers", "number"}},
	{name: "iceServers urls has a number", body: `{"deviceId":"<guid>","iceServers":[{"urls":["stun:a.example",3478]}]}`, status: http.StatusBadRequest, errText: []string{"iceServers.urls", "list of strings"}},
}

// TestSessionRequestBinding decodes every case and checks what it means:
// device, stream, live or playback, speed, skipGaps, includeAudio and the
// ICE servers.
func TestSessionRequestBinding(t *testing.T) {
	t.Parallel()
	for _, tc := range bindingCases {
		t.Run(tc.name, func(t *testing.T) {
			var req sessionRequest
			err := decodeJSON([]byte(expand(tc.body)), &req)
			if tc.want == nil {
				if err == nil {
					t.Fatalf("decoded %+v, want an error", req)
				}
				ae := asAPIError(err)
				if ae.Status != http.StatusBadRequest {
					t.Fatalf("error %v (%T), want a 400", err, err)
				}
				assertMentions(t, ae.Text, tc.errText)
				return
			}
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			got := bound{
				device: req.device(), stream: string(req.StreamID), live: req.PlaybackTimeNode.isLive(),
				includeAudio: req.IncludeAudio, ice: req.IceServers,
			}
			if p := req.PlaybackTimeNode; p != nil {
				got.skipGaps, got.speed = p.SkipGaps, p.Speed
			}
			// The stream id is trimmed by the handler, not the decoder.
			got.stream = strings.TrimSpace(got.stream)
			if len(got.ice) == 0 && len(tc.want.ice) == 0 {
				got.ice = tc.want.ice // nil and [] both mean none
			}
			if !reflect.DeepEqual(got, *tc.want) {
				t.Fatalf("decoded\n got %+v\nwant %+v", got, *tc.want)
			}
		})
	}
}

// candidateCase is one client candidate string, as POST …/IceCandidates
// carries them: JSON.stringify(RTCIceCandidate) from a browser.
type candidateCase struct {
	name string
	raw  string
	// line is the candidate line kept on success ("" for end-of-candidates).
	line string
	// errText are substrings of the error; nil means the string is valid.
	errText []string
}

var candidateCases = []candidateCase{
	{
		name: "Chrome host candidate on loopback",
		raw:  `{"candidate":"candidate:842163049 1 udp 1677729535 127.0.0.1 50000 typ host generation 0 ufrag abcd network-cost 999","sdpMid":"0","sdpMLineIndex":0,"usernameFragment":"abcd"}`,
		line: "candidate:842163049 1 udp 1677729535 127.0.0.1 50000 typ host generation 0 ufrag abcd network-cost 999",
	},
	{
		name: "mDNS host candidate (browsers hide their address)",
		raw:  `{"candidate":"candidate:1 1 UDP 2122252543 3c7a2bd2-4f8e-4b6b-9f1e-2b8d0d7f3c11.local 54321 typ host","sdpMid":"0","sdpMLineIndex":0}`,
		line: "candidate:1 1 UDP 2122252543 3c7a2bd2-4f8e-4b6b-9f1e-2b8d0d7f3c11.local 54321 typ host",
	},
	{
		name: "server-reflexive with related address",
		raw:  `{"candidate":"candidate:2 1 udp 1686052607 203.0.113.5 61000 typ srflx raddr 10.0.0.5 rport 61000","sdpMLineIndex":0}`,
		line: "candidate:2 1 udp 1686052607 203.0.113.5 61000 typ srflx raddr 10.0.0.5 rport 61000",
	},
	{
		name: "IPv6 host candidate",
		raw:  `{"candidate":"candidate:3 1 udp 2122262783 2001:db8::1 50001 typ host","sdpMid":"0"}`,
		line: "candidate:3 1 udp 2122262783 2001:db8::1 50001 typ host",
	},
	{
		name: "TCP passive candidate",
		raw:  `{"candidate":"candidate:4 1 tcp 1518280447 127.0.0.1 9 typ host tcptype passive","sdpMid":"0"}`,
		line: "candidate:4 1 tcp 1518280447 127.0.0.1 9 typ host tcptype passive",
	},
	{
		name: "SDP attribute form with a= prefix",
		raw:  `{"candidate":"a=candidate:5 1 udp 2130706431 127.0.0.1 50002 typ host","sdpMid":"0"}`,
		line: "a=candidate:5 1 udp 2130706431 127.0.0.1 50002 typ host",
	},
	{name: "end-of-candidates (empty candidate)", raw: `{"candidate":"","sdpMid":"0","sdpMLineIndex":0}`},
	{name: "no candidate member", raw: `{"sdpMid":"0"}`},
	{name: "not JSON: a bare candidate line", raw: `candidate:1 1 udp 1 127.0.0.1 5 typ host`, errText: []string{"not a JSON RTCIceCandidateInit"}},
	{name: "empty string", raw: ``, errText: []string{"not a JSON RTCIceCandidateInit"}},
	{name: "JSON string, not an object", raw: `"candidate:1 1 udp 1 127.0.0.1 5 typ host"`, errText: []string{"object"}},
	{name: "candidate is a number", raw: `{"candidate":5}`, errText: []string{`"candidate"`, "string"}},
	{name: "sdpMLineIndex is a string", raw: `{"candidate":"","sdpMLineIndex":"zero"}`, errText: []string{"sdpMLineIndex", "number"}},
	{name: "sdpMLineIndex out of range, very long", raw: `{"candidate":"","sdpMLineIndex":` + strings.Repeat("9", 100000) + `}`, errText: []string{"sdpMLineIndex", "number"}},
	{name: "host name instead of an address", raw: `{"candidate":"candidate:1 1 udp 1 example.com 5 typ host"}`, errText: []string{"does not parse", "example.com"}},
	{name: "missing typ", raw: `{"candidate":"candidate:1 1 udp 1 127.0.0.1 5"}`, errText: []string{"does not parse"}},
	{name: "unknown candidate type", raw: `{"candidate":"candidate:1 1 udp 1 127.0.0.1 5 typ bogus"}`, errText: []string{"does not parse"}},
	{name: "port out of range", raw: `{"candidate":"candidate:1 1 udp 1 127.0.0.1 70000 typ host"}`, errText: []string{"does not parse"}},
	{name: "garbage line", raw: `{"candidate":"hello"}`, errText: []string{"does not parse"}},
	// pion's errors quote the whole line; the answer must not.
	{name: "very long foundation", raw: `{"candidate":"candidate:` + strings.Repeat("f", 100000) + ` 1 udp 1 127.0.0.1 5 typ host"}`, errText: []string{"does not parse", "foundation"}},
	{name: "very long type", raw: `{"candidate":"candidate:1 1 udp 1 127.0.0.1 5 typ ` + strings.Repeat("t", 100000) + `"}`, errText: []string{"does not parse", "typ"}},
}

func TestParseClientCandidate(t *testing.T) {
	t.Parallel()
	for _, tc := range candidateCases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := parseClientCandidate(tc.raw)
			if tc.errText != nil {
				if err == nil {
					t.Fatalf("parsed %+v, want an error", c)
				}
				assertMentions(t, err.Error(), tc.errText)
				return
			}
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			if c.Candidate != tc.line {
				t.Fatalf("candidate = %q, want %q", c.Candidate, tc.line)
			}
		})
	}
}

// chromeAnswerSDP is the SDP of a browser answer to camgate's offer.
//
//go:embed testdata/chrome-answer.sdp
var chromeAnswerLF string

var chromeAnswerSDP = strings.ReplaceAll(chromeAnswerLF, "\n", "\r\n")

func descJSON(typ, sdp string) string {
	b, err := json.Marshal(map[string]string{"type": typ, "sdp": sdp})
	if err != nil {
		panic(err)
	}
	return string(b)
}

// answerCase is one answerSDP value: a JSON string of {type, sdp}.
type answerCase struct {
	name string
	raw  string
	// errText are substrings of the 400's text; nil means a valid answer.
	errText []string
}

var answerCases = []answerCase{
	{name: "Chrome answer, JSON.stringify(pc.localDescription)", raw: descJSON("answer", chromeAnswerSDP)},
	{name: "type in another case", raw: descJSON("Answer", chromeAnswerSDP)},
	{name: "members in another order, unknown members ignored", raw: `{"sdp":` + mustQuote(chromeAnswerSDP) + `,"type":"answer","toJSON":{}}`},
	{name: "raw SDP, not JSON", raw: chromeAnswerSDP, errText: []string{"JSON string of", "malformed JSON"}},
	{name: "empty", raw: ``, errText: []string{"JSON string of"}},
	{name: "encoded twice", raw: mustQuote(descJSON("answer", chromeAnswerSDP)), errText: []string{"object", "string"}},
	{name: "an offer", raw: descJSON("offer", chromeAnswerSDP), errText: []string{`"offer"`, `want "answer"`}},
	{name: "a provisional answer", raw: descJSON("pranswer", chromeAnswerSDP), errText: []string{`"pranswer"`}},
	{name: "an unknown type", raw: descJSON("bogus", chromeAnswerSDP), errText: []string{`"bogus"`}},
	{name: "no type", raw: `{"sdp":` + mustQuote(chromeAnswerSDP) + `}`, errText: []string{`type ""`}},
	{name: "JSON null", raw: `null`, errText: []string{`type ""`}},
	{name: "sdp is a number", raw: `{"type":"answer","sdp":5}`, errText: []string{`"sdp"`, "string"}},
	{name: "no sdp", raw: `{"type":"answer"}`, errText: []string{"no sdp"}},
	{name: "blank sdp", raw: descJSON("answer", " \r\n"), errText: []string{"no sdp"}},
	{name: "sdp is not SDP", raw: descJSON("answer", "hello"), errText: []string{"does not parse"}},
	{name: "very long bad line", raw: descJSON("answer", chromeAnswerSDP+"b="+strings.Repeat("9", 100000)+"\r\n"), errText: []string{"does not parse"}},
	{name: "sdp without its version line", raw: descJSON("answer", strings.TrimPrefix(chromeAnswerSDP, "v=0\r\n")), errText: []string{"does not parse"}},
}

func mustQuote(s string) string {
	b, err := json.Marshal(s)
	if err != nil {
		panic(err)
	}
	return string(b)
}

func TestParseAnswer(t *testing.T) {
	t.Parallel()
	for _, tc := range answerCases {
		t.Run(tc.name, func(t *testing.T) {
			desc, err := parseAnswer(tc.raw)
			if tc.errText != nil {
				if err == nil {
					t.Fatalf("parsed %s, want an error", desc.Type)
				}
				ae := asAPIError(err)
				if ae.Status != http.StatusBadRequest {
					t.Fatalf("error %v (%T), want a 400", err, err)
				}
				assertMentions(t, ae.Text, tc.errText)
				return
			}
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			if desc.Type.String() != "answer" || !strings.HasPrefix(desc.SDP, "v=0") {
				t.Fatalf("got type %s, sdp %.20q", desc.Type, desc.SDP)
			}
		})
	}
}

// maxErrorText bounds an error answer's text whatever the input: some
// inputs are a megabyte long, and an answer that quotes them helps no one.
const maxErrorText = 400

func assertMentions(t *testing.T, text string, want []string) {
	t.Helper()
	if len(text) > maxErrorText {
		t.Errorf("error text is %d bytes long, want at most %d: %.200q…", len(text), maxErrorText, text)
	}
	for _, w := range want {
		if !strings.Contains(strings.ToLower(text), strings.ToLower(w)) {
			t.Errorf("error text %q does not mention %q", text, w)
		}
	}
}

// The tables as the HTTP tests in package gateway_test see them.

// BindingCase is a bindingCases entry: a POST …/Session body (ids filled
// in) and the expected status; ErrText are substrings of the errorText.
type BindingCase struct {
	Name, Body string
	Status     int
	ErrText    []string
}

// BindingCases returns the session-request cases that can go over HTTP.
func BindingCases() []BindingCase {
	var out []BindingCase
	for _, c := range bindingCases {
		if c.status != 0 {
			out = append(out, BindingCase{Name: c.name, Body: expand(c.body), Status: c.status, ErrText: c.errText})
		}
	}
	return out
}

// InputCase is a candidate or answer string and, when it is invalid, the
// substrings its error must contain.
type InputCase struct {
	Name, Raw string
	Valid     bool
	ErrText   []string
}

// CandidateCases returns candidateCases.
func CandidateCases() []InputCase {
	var out []InputCase
	for _, c := range candidateCases {
		out = append(out, InputCase{Name: c.name, Raw: c.raw, Valid: c.errText == nil, ErrText: c.errText})
	}
	return out
}

// AnswerCases returns answerCases.
func AnswerCases() []InputCase {
	var out []InputCase
	for _, c := range answerCases {
		out = append(out, InputCase{Name: c.name, Raw: c.raw, Valid: c.errText == nil, ErrText: c.errText})
	}
	return out
}
