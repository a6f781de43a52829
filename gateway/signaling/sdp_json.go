package signaling

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/pion/webrtc/v4"

	"github.com/camgate/camgate/gateway/internal/errtext"
	"github.com/camgate/camgate/gateway/rtc"
)

// The XProtect contracts carry the offer, the answer and each candidate as
// the JSON text of the browser's object: {"type":"offer","sdp":…} and an
// RTCIceCandidateInit. This file reads and writes that text; rtc takes and
// gives the values.

// descriptionJSON is an offer or answer as the JSON string of {type, sdp}.
func descriptionJSON(d webrtc.SessionDescription) string {
	b, err := json.Marshal(d)
	if err != nil {
		return ""
	}
	return string(b)
}

// candidateJSON is a server candidate as the JSON string of an
// RTCIceCandidateInit.
func candidateJSON(c webrtc.ICECandidateInit) string {
	b, err := json.Marshal(c)
	if err != nil {
		return ""
	}
	return string(b)
}

// candidatesJSON is candidateJSON of each, never nil.
func candidatesJSON(list []webrtc.ICECandidateInit) []string {
	out := make([]string, 0, len(list))
	for _, c := range list {
		out = append(out, candidateJSON(c))
	}
	return out
}

// parseAnswer decodes and checks an answerSDP value, a JSON string of
// {type, sdp}, without touching a peer connection (the fuzz target calls
// it). Its errors are rtc.BadInput and say what was wrong.
func parseAnswer(answerJSON string) (webrtc.SessionDescription, error) {
	// Decoded as plain strings, not into webrtc.SessionDescription, whose
	// type decoder answers an unknown type with the bare word "unknown".
	var raw struct {
		Type string `json:"type"`
		SDP  string `json:"sdp"`
	}
	if err := json.Unmarshal([]byte(answerJSON), &raw); err != nil {
		return webrtc.SessionDescription{}, rtc.Errorf(rtc.BadInput, "answerSDP must be a JSON string of {\"type\":\"answer\",\"sdp\":…}: %s", describeJSONError(err))
	}
	if !strings.EqualFold(raw.Type, "answer") {
		return webrtc.SessionDescription{}, rtc.Errorf(rtc.BadInput, "answerSDP has type %s; want \"answer\"", errtext.Quote(raw.Type, 40))
	}
	desc := webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: raw.SDP}
	return desc, rtc.CheckAnswer(desc)
}

// setAnswer applies an answerSDP value to a session.
func setAnswer(s *rtc.Session, answerJSON string) error {
	desc, err := parseAnswer(answerJSON)
	if err != nil {
		return err
	}
	return s.SetAnswer(desc)
}

// parseClientCandidate decodes one candidate string and checks its
// candidate line, so errors are reported to the client instead of failing
// later inside ICE.
func parseClientCandidate(raw string) (webrtc.ICECandidateInit, error) {
	var c webrtc.ICECandidateInit
	if err := json.Unmarshal([]byte(raw), &c); err != nil {
		return c, fmt.Errorf("not a JSON RTCIceCandidateInit: %s", describeJSONError(err))
	}
	return c, rtc.CheckCandidate(c)
}

// addCandidates gives a session the client candidates of a request (JSON
// strings of RTCIceCandidateInit). Their count is checked before any is
// decoded, and every one before any is used: a bad request changes
// nothing.
func addCandidates(s *rtc.Session, raw []string) error {
	if err := s.CheckCandidateCount(len(raw)); err != nil {
		return err
	}
	parsed := make([]webrtc.ICECandidateInit, 0, len(raw))
	for i, r := range raw {
		c, err := parseClientCandidate(r)
		if err != nil {
			return rtc.Errorf(rtc.BadInput, "candidates[%d]: %s", i, err)
		}
		parsed = append(parsed, c)
	}
	return s.AddCandidates(parsed)
}

// iceServersOf are a request's STUN/TURN servers for rtc.
func iceServersOf(list []iceServerJSON) []rtc.ICEServer {
	out := make([]rtc.ICEServer, 0, len(list))
	for _, s := range list {
		out = append(out, rtc.ICEServer(s))
	}
	return out
}
