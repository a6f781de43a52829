package signaling

import (
	"encoding/json"
	"testing"

	"github.com/camgate/camgate/gateway/signaling/signalingtest"
)

// Benchmarks of the parsing done per signaling request, for
// docs/performance.md: decodeJSON of the XProtect bodies real clients send
// (docs/api.md), the answer checks before pion, and candidate parsing.

func benchAnswerJSON(testing.TB) string {
	return signalingtest.DescJSON("answer", signalingtest.ChromeAnswerSDP())
}

func BenchmarkDecodeSessionRequest(b *testing.B) {
	answer, err := json.Marshal(map[string]string{"answerSDP": benchAnswerJSON(b)})
	if err != nil {
		b.Fatal(err)
	}
	bodies := []struct{ name, body string }{
		{"xprotect-sample-2025R2-live", `{"deviceId":"A364956F-39A5-4CBC-9FFE-55B0C802CA77","resolution":"notInUse","includeAudio":true,` +
			`"playbackTimeNode":{"playbackTime":"","skipGaps":false},"iceServers":[]}`},
		{"go2rtc", `{"cameraId":"A364956F-39A5-4CBC-9FFE-55B0C802CA77","playbackTimeNode":{}}`},
		{"with-turn-servers", `{"deviceId":"A364956F-39A5-4CBC-9FFE-55B0C802CA77","iceServers":[{"url":"stun:stun.example.net:3478"},` +
			`{"urls":["turn:turn.example.net:3478?transport=udp","turns:turn.example.net:5349"],"username":"u","credential":"c"}]}`},
		{"patch-answer", string(answer)},
		{"patch-token", `{"token":"eyJhbGciOiJSUzI1NiIsImtpZCI6IjEifQ.eyJzdWIiOiJkZW1vIn0.c2lnbmF0dXJl"}`},
	}
	for _, tc := range bodies {
		b.Run(tc.name, func(b *testing.B) {
			body := []byte(tc.body)
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				var req sessionRequest
				if err := decodeJSON(body, &req); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkParseAnswer is SetAnswer's work before pion: the double-JSON
// decode and an SDP parse of Chrome's answer.
func BenchmarkParseAnswer(b *testing.B) {
	raw := benchAnswerJSON(b)
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := parseAnswer(raw); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecodeCandidates is a POST …/IceCandidates body as the XProtect
// sample sends it (one candidate per request), decoded and parsed.
func BenchmarkDecodeCandidates(b *testing.B) {
	body := []byte(`{"candidates":["{\"candidate\":\"candidate:1 1 udp 2122260223 10.0.0.7 54321 typ host generation 0 ufrag Xk2a network-id 1\",` +
		`\"sdpMid\":\"0\",\"sdpMLineIndex\":0,\"usernameFragment\":\"Xk2a\"}"]}`)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		var req candidatesRequest
		if err := decodeJSON(body, &req); err != nil {
			b.Fatal(err)
		}
		for _, c := range req.Candidates {
			if _, err := parseClientCandidate(c); err != nil {
				b.Fatal(err)
			}
		}
	}
}
