// Package signalingtest holds the case tables of signaling's parsers of
// network input: session-request bodies, client candidates, answers and
// WebSocket messages. The same tables drive signaling's unit tests, seed its
// fuzz targets and drive the HTTP tests of package gateway (badinput_test.go,
// ws_errors_test.go), so a quirk is pinned down once at every layer. Only
// tests import it.
package signalingtest

import (
	_ "embed"
	"encoding/json"
	"net/http"
	"strings"
)

// Bodies name "<guid>" and "<stream-guid>" in place of ids; Expand
// puts in the harness camera's ids (testCameraID and testStreamID in
// harness_test.go), so the HTTP tests can send the bodies as they are.
const (
	HarnessCameraID = "6C0D9F0E-1111-4A2B-8C3D-0123456789AB"
	HarnessStreamID = "6C0D9F0E-2222-4A2B-8C3D-0123456789AB"
)

// Expand puts the harness camera's ids into a body.
func Expand(body string) string {
	return strings.NewReplacer("<guid>", HarnessCameraID, "<stream-guid>", HarnessStreamID).Replace(body)
}

// Bound is what a session request means once decoded.
type Bound struct {
	Device, Stream string
	Live           bool
	IncludeAudio   Opt[bool]
	SkipGaps       Opt[bool]
	Speed          Opt[float64]
	ICE            []ICEServer
}

// Opt is a value a client may leave out (signaling's flexBool and
// flexFloat).
type Opt[T any] struct {
	Set   bool
	Value T
}

// ICEServer is one STUN/TURN server of a request.
type ICEServer struct {
	URLs                 []string
	Username, Credential string
}

// Binding is one POST …/Session (or PATCH) body.
type Binding struct {
	Name string
	Body string // with "<guid>" and "<stream-guid>"; Expand fills them in
	// Want is the decoded meaning; nil means decoding must fail (with a
	// 400 whose text contains ErrText).
	Want *Bound
	// Status is the answer of POST …/Session against the harness camera;
	// 0 means the HTTP tests skip the case (it names a public STUN/TURN
	// server that camgate would really contact).
	Status int
	// ErrText are substrings (any case) of the errorText of an error.
	ErrText []string
}

func set(v bool) Opt[bool]       { return Opt[bool]{Set: true, Value: v} }
func num(v float64) Opt[float64] { return Opt[float64]{Set: true, Value: v} }
func urls(u ...string) ICEServer { return ICEServer{URLs: u} }

// Bindings is the session-request table.
func Bindings() []Binding {
	return []Binding{
		// What XProtect's samples and go2rtc send, verbatim but for the ids.
		{
			Name: "JS sample 2025 R2 live, playbackTimeNode with empty playbackTime",
			Body: `{"deviceId":"<guid>","resolution":"notInUse","includeAudio":true,
 "playbackTimeNode":{"playbackTime":"","skipGaps":false},"iceServers":[]}`,
			Want:   &Bound{Device: HarnessCameraID, Live: true, IncludeAudio: set(true), SkipGaps: set(false)},
			Status: http.StatusOK,
		},
		{
			Name: "JS sample 2025 R2 playback, stream, string speed, STUN+TURN with url",
			Body: `{"deviceId":"<guid>","resolution":"notInUse","streamId":"<stream-guid>","includeAudio":false,
 "playbackTimeNode":{"playbackTime":"2024-05-01T10:00:00.000Z","speed":"2","skipGaps":true},
 "iceServers":[{"url":"stun:stun1.l.google.com:19302"},
               {"url":"turn:t.example:3478","username":"u","credential":"p"}]}`,
			Want: &Bound{
				Device: HarnessCameraID, Stream: HarnessStreamID, IncludeAudio: set(false),
				Speed: num(2), SkipGaps: set(true),
				ICE: []ICEServer{
					urls("stun:stun1.l.google.com:19302"),
					{URLs: []string{"turn:t.example:3478"}, Username: "u", Credential: "p"},
				},
			},
			// The harness user has no playback right: refused before the ICE
			// servers are used.
			Status: http.StatusForbidden, ErrText: []string{"playback right"},
		},
		{
			Name:   "go2rtc current, Live: playbackTimeNode is always present and {}",
			Body:   `{"cameraId":"<guid>","playbackTimeNode":{}}`,
			Want:   &Bound{Device: HarnessCameraID, Live: true},
			Status: http.StatusOK,
		},
		{
			Name:   "go2rtc current, playback with stream, numeric speed",
			Body:   `{"cameraId":"<guid>","streamId":"<stream-guid>","playbackTimeNode":{"playbackTime":"2024-05-01T10:00:00Z","skipGaps":true,"speed":4}}`,
			Want:   &Bound{Device: HarnessCameraID, Stream: HarnessStreamID, Speed: num(4), SkipGaps: set(true)},
			Status: http.StatusForbidden, ErrText: []string{"playback right"},
		},
		{
			Name:   "go2rtc first version (Apr 2024), empty iceServers",
			Body:   `{"cameraId":"<guid>","iceServers":[],"resolution":"notInUse"}`,
			Want:   &Bound{Device: HarnessCameraID, Live: true},
			Status: http.StatusOK,
		},
		{
			Name:   "JS sample 2023 R1",
			Body:   `{"cameraId":"<guid>","resolution":"notInUse"}`,
			Want:   &Bound{Device: HarnessCameraID, Live: true},
			Status: http.StatusOK,
		},

		// ASP.NET Core binding: property names in any case, scalars as strings.
		{
			Name:   "property names in other cases, skipGaps as a string",
			Body:   `{"DeviceId":"<guid>","streamID":"<stream-guid>","PlaybackTimeNode":{"PlaybackTime":"","SkipGaps":"true"}}`,
			Want:   &Bound{Device: HarnessCameraID, Stream: HarnessStreamID, Live: true, SkipGaps: set(true)},
			Status: http.StatusOK,
		},
		{
			Name:   "playback in shouting case, speed and skipGaps as strings",
			Body:   `{"DEVICEID":"<guid>","PLAYBACKTIMENODE":{"PLAYBACKTIME":"2024-05-01T10:00:00Z","Speed":" 0.5 ","skipGaps":"FALSE"}}`,
			Want:   &Bound{Device: HarnessCameraID, Speed: num(0.5), SkipGaps: set(false)},
			Status: http.StatusForbidden, ErrText: []string{"playback right"},
		},
		// Playback parameters that decode but break a rule: 400 before rights
		// or the recordings are looked at, naming the field.
		{
			Name:   "playback speed 0",
			Body:   `{"deviceId":"<guid>","playbackTimeNode":{"playbackTime":"2024-05-01T10:00:00Z","speed":0}}`,
			Want:   &Bound{Device: HarnessCameraID, Speed: num(0)},
			Status: http.StatusBadRequest, ErrText: []string{"playbackTimeNode.speed must be more than 0 and at most 32", "got 0"},
		},
		{
			Name:   "playback speed above 32, as a string",
			Body:   `{"deviceId":"<guid>","playbackTimeNode":{"playbackTime":"2024-05-01T10:00:00Z","speed":"33"}}`,
			Want:   &Bound{Device: HarnessCameraID, Speed: num(33)},
			Status: http.StatusBadRequest, ErrText: []string{"playbackTimeNode.speed", "got 33"},
		},
		{
			Name:   "negative playback speed",
			Body:   `{"deviceId":"<guid>","playbackTimeNode":{"playbackTime":"2024-05-01T10:00:00Z","speed":-1}}`,
			Want:   &Bound{Device: HarnessCameraID, Speed: num(-1)},
			Status: http.StatusBadRequest, ErrText: []string{"playbackTimeNode.speed", "got -1"},
		},
		{
			Name:   "playbackTime that is not a time",
			Body:   `{"deviceId":"<guid>","playbackTimeNode":{"playbackTime":"yesterday"}}`,
			Want:   &Bound{Device: HarnessCameraID},
			Status: http.StatusBadRequest, ErrText: []string{"playbackTimeNode.playbackTime", `"yesterday"`, "ISO 8601"},
		},
		{
			Name:   "playbackTime without a time zone",
			Body:   `{"deviceId":"<guid>","playbackTimeNode":{"playbackTime":"2024-05-01T10:00:00"}}`,
			Want:   &Bound{Device: HarnessCameraID},
			Status: http.StatusBadRequest, ErrText: []string{"playbackTimeNode.playbackTime", "no time zone"},
		},
		{
			Name:   "includeAudio as a string, GUID in lower case",
			Body:   `{"deviceId":"` + strings.ToLower(HarnessCameraID) + `","includeAudio":"False"}`,
			Want:   &Bound{Device: strings.ToLower(HarnessCameraID), Live: true, IncludeAudio: set(false)},
			Status: http.StatusOK,
		},
		{
			Name:   "a numeric deviceId is taken as a string",
			Body:   `{"deviceId":12345}`,
			Want:   &Bound{Device: "12345", Live: true},
			Status: http.StatusNotFound, ErrText: []string{`"12345"`},
		},
		{
			Name:   "null everywhere means absent",
			Body:   `{"deviceId":"<guid>","cameraId":null,"streamId":null,"includeAudio":null,"resolution":null,"playbackTimeNode":null,"iceServers":null,"sessionId":null}`,
			Want:   &Bound{Device: HarnessCameraID, Live: true},
			Status: http.StatusOK,
		},
		{
			Name:   "playbackTimeNode with null members is live",
			Body:   `{"deviceId":"<guid>","playbackTimeNode":{"playbackTime":null,"speed":null,"skipGaps":null}}`,
			Want:   &Bound{Device: HarnessCameraID, Live: true},
			Status: http.StatusOK,
		},
		{
			Name:   "blank playbackTime is live, an empty speed is unset",
			Body:   `{"deviceId":"<guid>","playbackTimeNode":{"playbackTime":"   ","speed":""}}`,
			Want:   &Bound{Device: HarnessCameraID, Live: true},
			Status: http.StatusOK,
		},
		{
			Name:   "deviceId wins over cameraId",
			Body:   `{"cameraId":"00000000-0000-0000-0000-000000000000","deviceId":"<guid>"}`,
			Want:   &Bound{Device: HarnessCameraID, Live: true},
			Status: http.StatusOK,
		},
		{
			Name:   "blank deviceId falls back to cameraId, ids are trimmed",
			Body:   `{"deviceId":"  ","cameraId":" <guid> "}`,
			Want:   &Bound{Device: HarnessCameraID, Live: true},
			Status: http.StatusOK,
		},
		{
			Name:   "unknown fields are ignored",
			Body:   `{"deviceId":"<guid>","resolution":"notInUse","somethingNew":{"a":[1,2]},"sessionId":"x"}`,
			Want:   &Bound{Device: HarnessCameraID, Live: true},
			Status: http.StatusOK,
		},

		// iceServers as seen in the wild.
		{
			Name:   "iceServers: urls as a single string (WebSocket sample)",
			Body:   `{"deviceId":"<guid>","iceServers":[{"urls":"stun:stun.example.org:3478"}]}`,
			Want:   &Bound{Device: HarnessCameraID, Live: true, ICE: []ICEServer{urls("stun:stun.example.org:3478")}},
			Status: 0,
		},
		{
			Name: "iceServers: urls as a list with credentials (ONVIF)",
			Body: `{"deviceId":"<guid>","iceServers":[{"urls":["turn:t.example:3478?transport=udp","turns:t.example:5349"],"username":"u","credential":"p"}]}`,
			Want: &Bound{Device: HarnessCameraID, Live: true, ICE: []ICEServer{
				{URLs: []string{"turn:t.example:3478?transport=udp", "turns:t.example:5349"}, Username: "u", Credential: "p"},
			}},
			Status: 0,
		},
		{
			Name:   "iceServers: bare strings (first go2rtc typed them []string)",
			Body:   `{"deviceId":"<guid>","iceServers":["stun:a.example","stun:b.example"]}`,
			Want:   &Bound{Device: HarnessCameraID, Live: true, ICE: []ICEServer{urls("stun:a.example"), urls("stun:b.example")}},
			Status: 0,
		},
		{
			Name:   "iceServers: urls wins over url",
			Body:   `{"deviceId":"<guid>","iceServers":[{"url":"stun:old.example","urls":"stun:new.example"}]}`,
			Want:   &Bound{Device: HarnessCameraID, Live: true, ICE: []ICEServer{urls("stun:new.example")}},
			Status: 0,
		},
		{
			Name:   "iceServers: property names in other cases, credential as a number",
			Body:   `{"deviceId":"<guid>","IceServers":[{"URL":"turn:t.example","UserName":"u","Credential":1234}]}`,
			Want:   &Bound{Device: HarnessCameraID, Live: true, ICE: []ICEServer{{URLs: []string{"turn:t.example"}, Username: "u", Credential: "1234"}}},
			Status: 0,
		},
		{
			Name:   "iceServers: an entry with an empty url is ignored",
			Body:   `{"deviceId":"<guid>","iceServers":[{"url":""},{"urls":[]}]}`,
			Want:   &Bound{Device: HarnessCameraID, Live: true, ICE: []ICEServer{urls(""), {}}},
			Status: http.StatusOK,
		},

		// Bodies that decode but cannot make a session.
		{
			Name:   "iceServers: not a STUN or TURN URL",
			Body:   `{"deviceId":"<guid>","iceServers":[{"url":"stun:ok.example"},{"url":"http://stun.example:3478"}]}`,
			Want:   &Bound{Device: HarnessCameraID, Live: true, ICE: []ICEServer{urls("stun:ok.example"), urls("http://stun.example:3478")}},
			Status: http.StatusBadRequest, ErrText: []string{"iceServers[1]", "http://stun.example:3478"},
		},
		{
			Name:   "iceServers: TURN without credentials",
			Body:   `{"deviceId":"<guid>","iceServers":[{"urls":"turn:t.example:3478"}]}`,
			Want:   &Bound{Device: HarnessCameraID, Live: true, ICE: []ICEServer{urls("turn:t.example:3478")}},
			Status: http.StatusBadRequest, ErrText: []string{"iceServers[0]", "TURN", "username", "credential"},
		},
		{
			Name:   "iceServers: TURN with a username only",
			Body:   `{"deviceId":"<guid>","iceServers":[{"urls":"turns:t.example","username":"u"}]}`,
			Want:   &Bound{Device: HarnessCameraID, Live: true, ICE: []ICEServer{{URLs: []string{"turns:t.example"}, Username: "u"}}},
			Status: http.StatusBadRequest, ErrText: []string{"iceServers[0]", "credential"},
		},
		{
			Name:   "iceServers: a STUN URL without a host",
			Body:   `{"deviceId":"<guid>","iceServers":[{"url":"stun:"}]}`,
			Want:   &Bound{Device: HarnessCameraID, Live: true, ICE: []ICEServer{urls("stun:")}},
			Status: http.StatusBadRequest, ErrText: []string{"iceServers[0]", `"stun:"`, "not a valid STUN or TURN URL"},
		},
		{
			Name:   "iceServers: TURN over a transport pion does not know",
			Body:   `{"deviceId":"<guid>","iceServers":[{"urls":"turn:t.example?transport=sctp","username":"u","credential":"p"}]}`,
			Want:   &Bound{Device: HarnessCameraID, Live: true, ICE: []ICEServer{{URLs: []string{"turn:t.example?transport=sctp"}, Username: "u", Credential: "p"}}},
			Status: http.StatusBadRequest, ErrText: []string{"iceServers[0]", "transport=sctp"},
		},
		{
			Name:   "iceServers: a broken IPv6 literal",
			Body:   `{"deviceId":"<guid>","iceServers":[{"urls":"stun:[::1"}]}`,
			Want:   &Bound{Device: HarnessCameraID, Live: true, ICE: []ICEServer{urls("stun:[::1")}},
			Status: http.StatusBadRequest, ErrText: []string{"iceServers[0]", "[::1"},
		},
		{
			Name:   "missing deviceId",
			Body:   `{"resolution":"notInUse","includeAudio":true}`,
			Want:   &Bound{Live: true, IncludeAudio: set(true)},
			Status: http.StatusBadRequest, ErrText: []string{"deviceId"},
		},
		{
			Name:   "empty object",
			Body:   `{}`,
			Want:   &Bound{Live: true},
			Status: http.StatusBadRequest, ErrText: []string{"deviceId"},
		},
		{
			Name:   "JSON null body",
			Body:   `null`,
			Want:   &Bound{Live: true},
			Status: http.StatusBadRequest, ErrText: []string{"deviceId"},
		},
		{
			Name:   "unknown camera",
			Body:   `{"deviceId":"00000000-0000-0000-0000-0000000000AA"}`,
			Want:   &Bound{Device: "00000000-0000-0000-0000-0000000000AA", Live: true},
			Status: http.StatusNotFound, ErrText: []string{"camera", "00000000-0000-0000-0000-0000000000AA"},
		},
		{
			Name:   "unknown stream on a known camera",
			Body:   `{"deviceId":"<guid>","streamId":"00000000-0000-0000-0000-0000000000BB"}`,
			Want:   &Bound{Device: HarnessCameraID, Stream: "00000000-0000-0000-0000-0000000000BB", Live: true},
			Status: http.StatusNotFound, ErrText: []string{"stream", "00000000-0000-0000-0000-0000000000BB"},
		},

		// Bodies that do not decode: 400 naming what was wrong.
		{Name: "empty body", Body: ``, Status: http.StatusBadRequest, ErrText: []string{"empty"}},
		{Name: "blank body", Body: " \r\n\t", Status: http.StatusBadRequest, ErrText: []string{"empty"}},
		{Name: "malformed JSON", Body: `{"deviceId":"<guid>",`, Status: http.StatusBadRequest, ErrText: []string{"malformed JSON"}},
		{Name: "trailing garbage", Body: `{"deviceId":"<guid>"} {}`, Status: http.StatusBadRequest, ErrText: []string{"malformed JSON"}},
		{Name: "single quotes", Body: `{'deviceId':'x'}`, Status: http.StatusBadRequest, ErrText: []string{"malformed JSON", "byte 2"}},
		{Name: "top level is a list", Body: `[{"deviceId":"<guid>"}]`, Status: http.StatusBadRequest, ErrText: []string{"object", "array"}},
		{Name: "deviceId is an object", Body: `{"deviceId":{}}`, Status: http.StatusBadRequest, ErrText: []string{`"deviceId"`, "string"}},
		{Name: "deviceId is a list", Body: `{"deviceId":["<guid>"]}`, Status: http.StatusBadRequest, ErrText: []string{`"deviceId"`, "string"}},
		{Name: "cameraId is true", Body: `{"cameraId":true}`, Status: http.StatusBadRequest, ErrText: []string{`"cameraId"`, "true"}},
		{Name: "includeAudio is not a boolean", Body: `{"deviceId":"<guid>","includeAudio":"yes"}`, Status: http.StatusBadRequest, ErrText: []string{"includeAudio", `"yes"`}},
		{Name: "speed is not a number", Body: `{"deviceId":"<guid>","playbackTimeNode":{"playbackTime":"2024-05-01T10:00:00Z","speed":"fast"}}`, Status: http.StatusBadRequest, ErrText: []string{"playbackTimeNode.speed", `"fast"`}},
		{Name: "speed is NaN", Body: `{"deviceId":"<guid>","playbackTimeNode":{"playbackTime":"2024-05-01T10:00:00Z","speed":"NaN"}}`, Status: http.StatusBadRequest, ErrText: []string{"playbackTimeNode.speed", `"NaN"`}},
		{Name: "speed is infinite", Body: `{"deviceId":"<guid>","playbackTimeNode":{"playbackTime":"2024-05-01T10:00:00Z","speed":"-Infinity"}}`, Status: http.StatusBadRequest, ErrText: []string{"playbackTimeNode.speed", `"-Infinity"`}},
		{Name: "speed does not fit a float64", Body: `{"deviceId":"<guid>","playbackTimeNode":{"playbackTime":"2024-05-01T10:00:00Z","speed":1e400}}`, Status: http.StatusBadRequest, ErrText: []string{"playbackTimeNode.speed", "1e400"}},
		{Name: "skipGaps is not a boolean", Body: `{"deviceId":"<guid>","playbackTimeNode":{"skipGaps":"maybe"}}`, Status: http.StatusBadRequest, ErrText: []string{"playbackTimeNode.skipGaps", `"maybe"`}},
		{Name: "playbackTimeNode is a string", Body: `{"deviceId":"<guid>","playbackTimeNode":"2024-05-01T10:00:00Z"}`, Status: http.StatusBadRequest, ErrText: []string{"playbackTimeNode", "object"}},
		{Name: "iceServers is a string", Body: `{"deviceId":"<guid>","iceServers":"stun:a.example"}`, Status: http.StatusBadRequest, ErrText: []string{"iceServers", "list"}},
		{Name: "iceServers entry is a number", Body: `{"deviceId":"<guid>","iceServers":[3478]}`, Status: http.StatusBadRequest, ErrText: []string{"iceServers", "number"}},
		{Name: "iceServers urls has a number", Body: `{"deviceId":"<guid>","iceServers":[{"urls":["stun:a.example",3478]}]}`, Status: http.StatusBadRequest, ErrText: []string{"iceServers.urls", "list of strings"}},
	}

	// TestSessionRequestBinding decodes every case and checks what it means:
	// device, stream, live or playback, speed, skipGaps, includeAudio and the
	// ICE servers.
}

// Input is one client candidate string, as POST …/IceCandidates
// carries them: JSON.stringify(RTCIceCandidate) from a browser.
type Input struct {
	Name string
	Raw  string
	// Line is the candidate line kept on success ("" for end-of-candidates;
	// candidates only).
	Line string
	// ErrText are substrings of the error; nil means the string is valid.
	ErrText []string
}

// Candidates is the client-candidate table.
func Candidates() []Input {
	return []Input{
		{
			Name: "Chrome host candidate on loopback",
			Raw:  `{"candidate":"candidate:842163049 1 udp 1677729535 127.0.0.1 50000 typ host generation 0 ufrag abcd network-cost 999","sdpMid":"0","sdpMLineIndex":0,"usernameFragment":"abcd"}`,
			Line: "candidate:842163049 1 udp 1677729535 127.0.0.1 50000 typ host generation 0 ufrag abcd network-cost 999",
		},
		{
			Name: "mDNS host candidate (browsers hide their address)",
			Raw:  `{"candidate":"candidate:1 1 UDP 2122252543 3c7a2bd2-4f8e-4b6b-9f1e-2b8d0d7f3c11.local 54321 typ host","sdpMid":"0","sdpMLineIndex":0}`,
			Line: "candidate:1 1 UDP 2122252543 3c7a2bd2-4f8e-4b6b-9f1e-2b8d0d7f3c11.local 54321 typ host",
		},
		{
			Name: "server-reflexive with related address",
			Raw:  `{"candidate":"candidate:2 1 udp 1686052607 203.0.113.5 61000 typ srflx raddr 10.0.0.5 rport 61000","sdpMLineIndex":0}`,
			Line: "candidate:2 1 udp 1686052607 203.0.113.5 61000 typ srflx raddr 10.0.0.5 rport 61000",
		},
		{
			Name: "IPv6 host candidate",
			Raw:  `{"candidate":"candidate:3 1 udp 2122262783 2001:db8::1 50001 typ host","sdpMid":"0"}`,
			Line: "candidate:3 1 udp 2122262783 2001:db8::1 50001 typ host",
		},
		{
			Name: "TCP passive candidate",
			Raw:  `{"candidate":"candidate:4 1 tcp 1518280447 127.0.0.1 9 typ host tcptype passive","sdpMid":"0"}`,
			Line: "candidate:4 1 tcp 1518280447 127.0.0.1 9 typ host tcptype passive",
		},
		{
			Name: "SDP attribute form with a= prefix",
			Raw:  `{"candidate":"a=candidate:5 1 udp 2130706431 127.0.0.1 50002 typ host","sdpMid":"0"}`,
			Line: "a=candidate:5 1 udp 2130706431 127.0.0.1 50002 typ host",
		},
		{Name: "end-of-candidates (empty candidate)", Raw: `{"candidate":"","sdpMid":"0","sdpMLineIndex":0}`},
		{Name: "no candidate member", Raw: `{"sdpMid":"0"}`},
		{Name: "not JSON: a bare candidate line", Raw: `candidate:1 1 udp 1 127.0.0.1 5 typ host`, ErrText: []string{"not a JSON RTCIceCandidateInit"}},
		{Name: "empty string", Raw: ``, ErrText: []string{"not a JSON RTCIceCandidateInit"}},
		{Name: "JSON string, not an object", Raw: `"candidate:1 1 udp 1 127.0.0.1 5 typ host"`, ErrText: []string{"object"}},
		{Name: "candidate is a number", Raw: `{"candidate":5}`, ErrText: []string{`"candidate"`, "string"}},
		{Name: "sdpMLineIndex is a string", Raw: `{"candidate":"","sdpMLineIndex":"zero"}`, ErrText: []string{"sdpMLineIndex", "number"}},
		{Name: "sdpMLineIndex out of range, very long", Raw: `{"candidate":"","sdpMLineIndex":` + strings.Repeat("9", 100000) + `}`, ErrText: []string{"sdpMLineIndex", "number"}},
		{Name: "host name instead of an address", Raw: `{"candidate":"candidate:1 1 udp 1 example.com 5 typ host"}`, ErrText: []string{"does not parse", "example.com"}},
		{Name: "missing typ", Raw: `{"candidate":"candidate:1 1 udp 1 127.0.0.1 5"}`, ErrText: []string{"does not parse"}},
		{Name: "unknown candidate type", Raw: `{"candidate":"candidate:1 1 udp 1 127.0.0.1 5 typ bogus"}`, ErrText: []string{"does not parse"}},
		{Name: "port out of range", Raw: `{"candidate":"candidate:1 1 udp 1 127.0.0.1 70000 typ host"}`, ErrText: []string{"does not parse"}},
		{Name: "garbage line", Raw: `{"candidate":"hello"}`, ErrText: []string{"does not parse"}},
		// pion's errors quote the whole line; the answer must not.
		{Name: "very long foundation", Raw: `{"candidate":"candidate:` + strings.Repeat("f", 100000) + ` 1 udp 1 127.0.0.1 5 typ host"}`, ErrText: []string{"does not parse", "foundation"}},
		{Name: "very long type", Raw: `{"candidate":"candidate:1 1 udp 1 127.0.0.1 5 typ ` + strings.Repeat("t", 100000) + `"}`, ErrText: []string{"does not parse", "typ"}},
	}
}

// chromeAnswerLF is the SDP of a browser answer to camgate's offer, with
// LF line ends (chrome-answer.sdp).
//
//go:embed chrome-answer.sdp
var chromeAnswerLF string

// ChromeAnswerSDP is the SDP of a browser answer to camgate's offer (video
// recvonly and a data channel, BUNDLE 0 1), with CRLF line ends.
func ChromeAnswerSDP() string { return strings.ReplaceAll(chromeAnswerLF, "\n", "\r\n") }

// DescJSON is the JSON text of an RTCSessionDescription.
func DescJSON(typ, sdp string) string {
	b, err := json.Marshal(map[string]string{"type": typ, "sdp": sdp})
	if err != nil {
		panic(err)
	}
	return string(b)
}

// Answers is the answerSDP table: JSON strings of {type, sdp}; ErrText
// are substrings of the 400's text, nil for a valid answer.
func Answers() []Input {
	chromeAnswerSDP := ChromeAnswerSDP()
	return []Input{
		{Name: "Chrome answer, JSON.stringify(pc.localDescription)", Raw: DescJSON("answer", chromeAnswerSDP)},
		{Name: "type in another case", Raw: DescJSON("Answer", chromeAnswerSDP)},
		{Name: "members in another order, unknown members ignored", Raw: `{"sdp":` + MustQuote(chromeAnswerSDP) + `,"type":"answer","toJSON":{}}`},
		{Name: "raw SDP, not JSON", Raw: chromeAnswerSDP, ErrText: []string{"JSON string of", "malformed JSON"}},
		{Name: "empty", Raw: ``, ErrText: []string{"JSON string of"}},
		{Name: "encoded twice", Raw: MustQuote(DescJSON("answer", chromeAnswerSDP)), ErrText: []string{"object", "string"}},
		{Name: "an offer", Raw: DescJSON("offer", chromeAnswerSDP), ErrText: []string{`"offer"`, `want "answer"`}},
		{Name: "a provisional answer", Raw: DescJSON("pranswer", chromeAnswerSDP), ErrText: []string{`"pranswer"`}},
		{Name: "an unknown type", Raw: DescJSON("bogus", chromeAnswerSDP), ErrText: []string{`"bogus"`}},
		{Name: "no type", Raw: `{"sdp":` + MustQuote(chromeAnswerSDP) + `}`, ErrText: []string{`type ""`}},
		{Name: "JSON null", Raw: `null`, ErrText: []string{`type ""`}},
		{Name: "sdp is a number", Raw: `{"type":"answer","sdp":5}`, ErrText: []string{`"sdp"`, "string"}},
		{Name: "no sdp", Raw: `{"type":"answer"}`, ErrText: []string{"no sdp"}},
		{Name: "blank sdp", Raw: DescJSON("answer", " \r\n"), ErrText: []string{"no sdp"}},
		{Name: "sdp is not SDP", Raw: DescJSON("answer", "hello"), ErrText: []string{"does not parse"}},
		{Name: "very long bad line", Raw: DescJSON("answer", chromeAnswerSDP+"b="+strings.Repeat("9", 100000)+"\r\n"), ErrText: []string{"does not parse"}},
		{Name: "sdp without its version line", Raw: DescJSON("answer", strings.TrimPrefix(chromeAnswerSDP, "v=0\r\n")), ErrText: []string{"does not parse"}},
	}
}

// MustQuote is s as a JSON string.
func MustQuote(s string) string {
	b, err := json.Marshal(s)
	if err != nil {
		panic(err)
	}
	return string(b)
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
	for _, c := range Bindings() {
		if c.Status != 0 {
			out = append(out, BindingCase{Name: c.Name, Body: Expand(c.Body), Status: c.Status, ErrText: c.ErrText})
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

// CandidateCases returns Candidates.
func CandidateCases() []InputCase {
	var out []InputCase
	for _, c := range Candidates() {
		out = append(out, InputCase{Name: c.Name, Raw: c.Raw, Valid: c.ErrText == nil, ErrText: c.ErrText})
	}
	return out
}

// AnswerCases returns Answers.
func AnswerCases() []InputCase {
	var out []InputCase
	for _, c := range Answers() {
		out = append(out, InputCase{Name: c.Name, Raw: c.Raw, Valid: c.ErrText == nil, ErrText: c.ErrText})
	}
	return out
}
