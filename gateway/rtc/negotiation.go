package rtc

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/pion/ice/v4"
	"github.com/pion/webrtc/v4"

	"github.com/camgate/camgate/cameras"
	"github.com/camgate/camgate/gateway/internal/errtext"
)

// Negotiation: the client's answer and candidates, the server's offer and
// candidates, and the limits on what a client may make camgate check.

// WatchCandidates returns the server candidates gathered so far and has fn
// called with each later one; nil stops that. fn runs on pion's gathering
// goroutine: it may wait briefly (the WebSocket's queue is full) but must
// not block for good.
func (s *Session) WatchCandidates(fn func(webrtc.ICECandidateInit)) []webrtc.ICECandidateInit {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.candHook = fn
	return append([]webrtc.ICECandidateInit(nil), s.candidates...)
}

// Answer is the client's answer, once applied.
func (s *Session) Answer() (webrtc.SessionDescription, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.answer, s.answered && s.applied
}

// Candidates returns the server's candidates gathered so far, cumulative.
func (s *Session) Candidates() []webrtc.ICECandidateInit {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]webrtc.ICECandidateInit{}, s.candidates...)
}

// Offer returns the offer, with the candidates gathered before it.
func (s *Session) Offer() webrtc.SessionDescription {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.offer
}

// SetAnswer checks and applies the client's answer, then the candidates
// the client sent before it. The answer is BadInput when its SDP is empty
// or does not parse (CheckAnswer), Conflict when the session has one or
// when it does not accept the camera's H.265 (the session then ends), and
// OverLimit when its candidates pass WebRTC.MaxRemoteCandidates.
func (s *Session) SetAnswer(desc webrtc.SessionDescription) error {
	if err := CheckAnswer(desc); err != nil {
		return err
	}
	if s.video == cameras.CodecH265 && !acceptsH265(desc) {
		// The browser cannot decode the camera's video, and camgate does
		// not transcode: a session that went on would stay black.
		s.log.Info("answer without H.265 for an H.265 camera; closing session")
		s.refused.Store(true)
		go s.Close()
		return Errorf(Conflict, "the camera sends H.265 and the answer does not accept H.265 (this browser cannot decode it; Chrome 136+ and Safari can); camgate does not transcode: set the camera's stream %s to H.264", s.StreamID)
	}
	inSDP := answerCandidates(desc)
	s.mu.Lock()
	if s.answered {
		s.mu.Unlock()
		return Errorf(Conflict, "session %s already has an answer", s.ID)
	}
	if err := s.limits.admit(s.ID, s.remotes, inSDP, "the answerSDP"); err != nil {
		had := s.remotes
		s.mu.Unlock()
		s.log.Warn("answer refused: its candidates pass WebRTC.MaxRemoteCandidates", "has", had, "more", inSDP)
		return err
	}
	s.answered = true
	s.remotes += inSDP
	// Before the answer is set: the media may start as soon as it is.
	undecided := s.profile == ProfileAuto
	if undecided {
		s.decideProfile(answerProfile(desc))
	}
	s.mu.Unlock()
	if err := s.pc.SetRemoteDescription(desc); err != nil {
		s.mu.Lock()
		s.answered = false
		s.remotes -= inSDP
		if undecided {
			s.decideProfile(ProfileAuto)
		}
		s.mu.Unlock()
		return Errorf(BadInput, "answerSDP was rejected: %s", err)
	}
	s.mu.Lock()
	s.answer, s.applied = desc, true
	pending := s.pending
	s.pending = nil
	s.mu.Unlock()
	if s.onAnswer != nil {
		s.onAnswer()
	}
	for _, c := range pending {
		s.addRemote(c)
	}
	return nil
}

// Refused reports a session that SetAnswer ended because its answer could
// not be served: the client was told why in the answer's error, so the
// end of the session needs no notice of its own.
func (s *Session) Refused() bool { return s.refused.Load() }

// acceptsH265 reports whether an answer takes H.265 on a video section it
// does not reject (port 0). desc passed CheckAnswer.
func acceptsH265(desc webrtc.SessionDescription) bool {
	parsed, err := desc.Unmarshal()
	if err != nil {
		return false
	}
	for _, m := range parsed.MediaDescriptions {
		if m.MediaName.Media != "video" || m.MediaName.Port.Value == 0 {
			continue
		}
		for _, a := range m.Attributes {
			// a=rtpmap:<pt> H265/90000
			if _, codec, ok := strings.Cut(a.Value, " "); ok && a.Key == "rtpmap" &&
				strings.HasPrefix(strings.ToUpper(codec), "H265/") {
				return true
			}
		}
	}
	return false
}

// CheckAnswer checks an answer's SDP without touching a peer connection
// (the fuzz target calls it). Its errors are BadInput and say what was
// wrong, naming the answerSDP the client sent.
func CheckAnswer(desc webrtc.SessionDescription) error {
	if strings.TrimSpace(desc.SDP) == "" {
		// pion's SDP parser accepts an empty string.
		return Errorf(BadInput, "answerSDP has no sdp")
	}
	if _, err := desc.Unmarshal(); err != nil {
		// pion quotes the offending line, however long: keep the reason.
		return Errorf(BadInput, "answerSDP does not parse: %s", errtext.Truncate(err.Error(), errtext.MaxQuoted))
	}
	return nil
}

// answerCandidates counts the distinct candidate lines of an answer (the
// same candidate in several bundled sections is one), which pion adds when
// the answer is set. desc passed CheckAnswer.
func answerCandidates(desc webrtc.SessionDescription) int {
	parsed, err := desc.Unmarshal()
	if err != nil {
		return 0
	}
	seen := map[string]bool{}
	for _, a := range parsed.Attributes {
		if a.IsICECandidate() && strings.TrimSpace(a.Value) != "" {
			seen[strings.TrimSpace(a.Value)] = true
		}
	}
	for _, m := range parsed.MediaDescriptions {
		for _, a := range m.Attributes {
			if a.IsICECandidate() && strings.TrimSpace(a.Value) != "" {
				seen[strings.TrimSpace(a.Value)] = true
			}
		}
	}
	return len(seen)
}

// candidateLimits bound the candidates a client gives a session: camgate
// sends connectivity checks to every one (a few datagrams each, see
// media.go), so without a cap one request could aim thousands of checks a
// second at any address.
type candidateLimits struct {
	perSession int // WebRTC.MaxRemoteCandidates
	perRequest int // WebRTC.MaxCandidatesPerRequest
}

// admit refuses n more candidates (brought by what) for a session that
// has taken had when that would pass the session's cap.
func (l candidateLimits) admit(id string, had, n int, what string) error {
	if had+n <= l.perSession {
		return nil
	}
	return Errorf(OverLimit,
		"session %s may take at most %d candidates over its life (WebRTC.MaxRemoteCandidates): it has %d and %s brings %d more; refused, the session keeps those it has",
		id, l.perSession, had, what, n)
}

// CheckCandidateCount refuses a request that brings n candidates at once
// when that passes WebRTC.MaxCandidatesPerRequest (OverLimit). Signaling
// asks before it decodes them; AddCandidates asks again.
func (s *Session) CheckCandidateCount(n int) error {
	if n > s.limits.perRequest {
		s.log.Warn("candidates refused: over WebRTC.MaxCandidatesPerRequest", "count", n)
		return Errorf(OverLimit, "candidates has %d entries; one request may carry at most %d (WebRTC.MaxCandidatesPerRequest)", n, s.limits.perRequest)
	}
	return nil
}

// AddCandidates takes client candidates. Before the answer they are
// buffered. Every one is checked (CheckCandidate) before any is used, so a
// bad request changes nothing (BadInput), and so does one over a limit
// (OverLimit): the session keeps the candidates it has. An empty
// candidate (end-of-candidates) is skipped.
func (s *Session) AddCandidates(cands []webrtc.ICECandidateInit) error {
	if err := s.CheckCandidateCount(len(cands)); err != nil {
		return err
	}
	parsed := make([]webrtc.ICECandidateInit, 0, len(cands))
	for i, c := range cands {
		if err := CheckCandidate(c); err != nil {
			return Errorf(BadInput, "candidates[%d]: %s", i, err)
		}
		if c.Candidate == "" {
			continue // end-of-candidates
		}
		parsed = append(parsed, c)
	}
	s.mu.Lock()
	if err := s.limits.admit(s.ID, s.remotes, len(parsed), "this request"); err != nil {
		had := s.remotes
		s.mu.Unlock()
		s.log.Warn("candidates refused: over WebRTC.MaxRemoteCandidates", "has", had, "more", len(parsed))
		return err
	}
	s.remotes += len(parsed)
	if !s.answered || !s.applied {
		s.pending = append(s.pending, parsed...)
		s.mu.Unlock()
		return nil
	}
	s.mu.Unlock()
	for _, c := range parsed {
		s.addRemote(c)
	}
	return nil
}

// CheckCandidate checks a client candidate's line, so errors are reported
// to the client instead of failing later inside ICE. An empty line
// (end-of-candidates) passes.
func CheckCandidate(c webrtc.ICECandidateInit) error {
	line := strings.TrimPrefix(strings.TrimSpace(c.Candidate), "a=")
	if line == "" {
		return nil
	}
	if _, err := ice.UnmarshalCandidate(line); err != nil {
		// pion quotes the whole line, however long: keep the reason.
		return fmt.Errorf("candidate line does not parse: %s", errtext.Truncate(err.Error(), errtext.MaxQuoted))
	}
	return nil
}

func (s *Session) addRemote(c webrtc.ICECandidateInit) {
	if err := s.pc.AddICECandidate(c); err != nil {
		s.log.Debug("remote candidate rejected", "error", err)
	}
	// A browser hides its address behind an mDNS name. Like XProtect, also
	// try the address the signaling request came from, with a higher
	// priority, so clients on networks without mDNS still connect directly;
	// only when camgate has candidates of that transport and family (an
	// IPv6 signaling address needs WebRTC.IPv6 and an IPv6 host address).
	if alt, ok := withSignalingAddress(c, s.clientIP); ok && canPair(alt, s.networks) {
		if err := s.pc.AddICECandidate(alt); err != nil {
			s.log.Debug("address-substituted candidate rejected", "error", err)
		}
	}
}

// withSignalingAddress returns a copy of an mDNS host candidate with its
// .local name replaced by addr and its priority raised by one. addr is an
// IPv4 or IPv6 address (written without brackets or zone); an unspecified,
// multicast or IPv6 link-local one is refused, as no candidate of camgate
// could pair with it. Whether camgate gathers on addr's family at all is
// canPair's question.
func withSignalingAddress(c webrtc.ICECandidateInit, addr netip.Addr) (webrtc.ICECandidateInit, bool) {
	addr = addr.Unmap()
	if !addr.IsValid() || addr.IsUnspecified() || addr.IsMulticast() || addr.Is6() && addr.IsLinkLocalUnicast() {
		return c, false
	}
	f := strings.Fields(strings.TrimPrefix(c.Candidate, "a="))
	// candidate:<foundation> <component> <transport> <priority> <address> <port> typ host …
	if len(f) < 8 || !strings.HasSuffix(f[4], ".local") || f[7] != "host" {
		return c, false
	}
	prio, err := strconv.ParseUint(f[3], 10, 32)
	if err != nil {
		return c, false
	}
	if prio < 1<<32-1 {
		prio++
	}
	f[3] = strconv.FormatUint(prio, 10)
	f[4] = addr.WithZone("").String()
	out := c
	out.Candidate = strings.Join(f, " ")
	return out, true
}

// canPair reports whether camgate gathers candidates on the network of a
// client candidate (its transport at its address's family), so that the
// two can form a pair. A candidate whose address is a name is not judged.
func canPair(c webrtc.ICECandidateInit, networks []webrtc.NetworkType) bool {
	f := strings.Fields(strings.TrimPrefix(c.Candidate, "a="))
	if len(f) < 5 {
		return false
	}
	addr, err := netip.ParseAddr(f[4])
	if err != nil {
		return false
	}
	addr = addr.Unmap()
	var want webrtc.NetworkType
	switch {
	case strings.EqualFold(f[2], "udp") && addr.Is4():
		want = webrtc.NetworkTypeUDP4
	case strings.EqualFold(f[2], "udp"):
		want = webrtc.NetworkTypeUDP6
	case strings.EqualFold(f[2], "tcp") && addr.Is4():
		want = webrtc.NetworkTypeTCP4
	case strings.EqualFold(f[2], "tcp"):
		want = webrtc.NetworkTypeTCP6
	default:
		return false
	}
	return slices.Contains(networks, want)
}
