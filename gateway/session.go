package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/rtcp"
	"github.com/pion/webrtc/v4"

	"github.com/camgate/camgate/cameras"
	"github.com/camgate/camgate/oauth"
	"github.com/camgate/camgate/ptz"
)

// Session is one viewer: a pion PeerConnection carrying one camera stream.
// It ends when its peer connection closes or fails, when no answer arrives in
// time, or on DELETE; Close leaves nothing behind.
type Session struct {
	ID       string
	CameraID string
	StreamID string
	Created  time.Time

	log        *slog.Logger
	pc         *webrtc.PeerConnection
	track      *webrtc.TrackLocalStaticRTP
	sender     *webrtc.RTPSender
	stream     *cameras.CameraStream
	source     mediaSource    // what the session plays: live or recorded
	right      oauth.Right    // the right it needs: oauth.RightLive or RightPlayback
	events     *commandEvents // camgate's own messages on the commands channel
	clock      rtpClock       // the unit of the viewer's RTP timestamps
	clientIP   netip.Addr
	networks   []webrtc.NetworkType // what camgate gathers on (mediaAPI.networks)
	iceServers []webrtc.ICEServer
	onClose    func(*Session)
	grace      time.Duration   // how long the session outlives its token
	ptz        *ptz.Controller // the camera's PTZ; nil when it has none
	limits     candidateLimits
	// slot is the session's place in the session limits (limits.go),
	// given back when it closes; onAnswer tells them it is no longer
	// pending. Both nil without limits.
	slot     *sessionSlot
	onAnswer func()
	// camState relays a live viewer's camera state changes (camerastate.go).
	camState cameraStateRelay

	mu         sync.Mutex
	offer      string   // JSON string of the offer {type, sdp}
	answer     string   // JSON string of the answer, once received
	candidates []string // server candidates as JSON strings, cumulative
	pending    []webrtc.ICECandidateInit
	remotes    int // client candidates taken, pending and answer SDP ones included
	answered   bool
	owner      *oauth.Principal // whose token the session runs on
	expiry     *time.Timer      // closes the session grace after owner's token expires
	sending    bool             // the source was started
	media      *mediaSender     // its sender, once sending
	candHook   func(string)

	ctx        context.Context
	cancel     context.CancelFunc
	wg         sync.WaitGroup
	closeOnce  sync.Once
	answerTime *time.Timer
	firstFrame chan struct{}
	// metrics are the counters of the session's kind (metrics.go); nil:
	// not counted. Set before the session is shared.
	metrics *kindMetrics
}

func (s *Session) start(ctx context.Context, api *mediaAPI, gatherTimeout, answerTimeout time.Duration) error {
	pc, err := api.api.NewPeerConnection(webrtc.Configuration{
		ICEServers: s.iceServers,
		// The offer must carry an m=application section: XProtect clients
		// open their "commands" channel after the answer and never
		// renegotiate.
		AlwaysNegotiateDataChannels: true,
	})
	if err != nil {
		return fmt.Errorf("peer connection: %w", err)
	}
	s.pc = pc
	track, err := webrtc.NewTrackLocalStaticRTP(h264Codec(), "video", "camgate-"+s.ID)
	if err != nil {
		return fmt.Errorf("track: %w", err)
	}
	s.track = track
	tr, err := pc.AddTransceiverFromTrack(track, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly})
	if err != nil {
		return fmt.Errorf("transceiver: %w", err)
	}
	s.sender = tr.Sender()

	pc.OnICECandidate(s.onLocalCandidate)
	pc.OnConnectionStateChange(s.onConnectionState)
	pc.OnDataChannel(s.acceptDataChannel)

	offer, err := pc.CreateOffer(nil)
	if err != nil {
		return fmt.Errorf("create offer: %w", err)
	}
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(offer); err != nil {
		return fmt.Errorf("set local description: %w", err)
	}
	// Finish gathering before answering: go2rtc never fetches candidates
	// and old XProtect samples fetch them only once, so the offer must
	// carry them all.
	select {
	case <-gathered:
	case <-time.After(gatherTimeout):
		s.log.Warn("ICE gathering not complete in time; remaining candidates will trickle", "timeout", gatherTimeout)
	case <-ctx.Done():
		return ctx.Err()
	}
	local := pc.LocalDescription()
	b, err := json.Marshal(local)
	if err != nil {
		return fmt.Errorf("encode offer: %w", err)
	}
	s.mu.Lock()
	s.offer = string(b)
	s.mu.Unlock()

	s.wg.Add(1)
	go s.drainRTCP()
	s.answerTime = time.AfterFunc(answerTimeout, func() {
		s.mu.Lock()
		answered := s.answered
		s.mu.Unlock()
		if !answered {
			s.log.Info("no answer in time; closing session", "timeout", answerTimeout)
			go s.Close()
		}
	})
	return nil
}

func (s *Session) onLocalCandidate(c *webrtc.ICECandidate) {
	if c == nil {
		return
	}
	b, err := json.Marshal(c.ToJSON())
	if err != nil {
		return
	}
	s.mu.Lock()
	s.candidates = append(s.candidates, string(b))
	hook := s.candHook
	s.mu.Unlock()
	if hook != nil {
		hook(string(b))
	}
}

// watchCandidates returns the server candidates gathered so far and has fn
// called with each later one; nil stops that. fn runs on pion's gathering
// goroutine: it may wait briefly (the WebSocket's queue is full) but must
// not block for good.
func (s *Session) watchCandidates(fn func(string)) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.candHook = fn
	return append([]string(nil), s.candidates...)
}

// hasAnswer reports whether the client's answer was applied.
func (s *Session) hasAnswer() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.answered && s.answer != ""
}

// Candidates returns the server's candidates gathered so far, cumulative.
func (s *Session) Candidates() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, len(s.candidates))
	copy(out, s.candidates)
	return out
}

// Offer returns the offer as a JSON string of {type, sdp}.
func (s *Session) Offer() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.offer
}

// SetAnswer applies the client's answer (a JSON string of {type, sdp}), then
// the candidates the client sent before it.
func (s *Session) SetAnswer(answerJSON string) error {
	desc, err := parseAnswer(answerJSON)
	if err != nil {
		return err
	}
	inSDP := answerCandidates(desc)
	s.mu.Lock()
	if s.answered {
		s.mu.Unlock()
		return errorf(http.StatusConflict, "session %s already has an answer", s.ID)
	}
	if err := s.limits.admit(s.ID, s.remotes, inSDP, "the answerSDP"); err != nil {
		had := s.remotes
		s.mu.Unlock()
		s.log.Warn("answer refused: its candidates pass WebRTC.MaxRemoteCandidates", "has", had, "more", inSDP)
		return err
	}
	s.answered = true
	s.remotes += inSDP
	s.mu.Unlock()
	if err := s.pc.SetRemoteDescription(desc); err != nil {
		s.mu.Lock()
		s.answered = false
		s.remotes -= inSDP
		s.mu.Unlock()
		return errorf(http.StatusBadRequest, "answerSDP was rejected: %s", err)
	}
	s.mu.Lock()
	s.answer = answerJSON
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

// parseAnswer decodes and checks an answerSDP value, a JSON string of
// {type, sdp}, without touching a peer connection (the fuzz target calls it).
// Its errors are 400s that say what was wrong.
func parseAnswer(answerJSON string) (webrtc.SessionDescription, error) {
	// Decoded as plain strings, not into webrtc.SessionDescription, whose
	// type decoder answers an unknown type with the bare word "unknown".
	var raw struct {
		Type string `json:"type"`
		SDP  string `json:"sdp"`
	}
	if err := json.Unmarshal([]byte(answerJSON), &raw); err != nil {
		return webrtc.SessionDescription{}, errorf(http.StatusBadRequest, "answerSDP must be a JSON string of {\"type\":\"answer\",\"sdp\":…}: %s", describeJSONError(err))
	}
	if !strings.EqualFold(raw.Type, "answer") {
		return webrtc.SessionDescription{}, errorf(http.StatusBadRequest, "answerSDP has type %s; want \"answer\"", quoteInput(raw.Type, 40))
	}
	if strings.TrimSpace(raw.SDP) == "" {
		// pion's SDP parser accepts an empty string.
		return webrtc.SessionDescription{}, errorf(http.StatusBadRequest, "answerSDP has no sdp")
	}
	desc := webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: raw.SDP}
	if _, err := desc.Unmarshal(); err != nil {
		// pion quotes the offending line, however long: keep the reason.
		return desc, errorf(http.StatusBadRequest, "answerSDP does not parse: %s", truncate(err.Error(), maxQuoted))
	}
	return desc, nil
}

// answerCandidates counts the distinct candidate lines of an answer (the
// same candidate in several bundled sections is one), which pion adds when
// the answer is set. desc parsed in parseAnswer.
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
	return errLimit{errorf(http.StatusBadRequest,
		"session %s may take at most %d candidates over its life (WebRTC.MaxRemoteCandidates): it has %d and %s brings %d more; refused, the session keeps those it has",
		id, l.perSession, had, what, n)}
}

// AddCandidates takes client candidates (JSON strings of
// RTCIceCandidateInit). Before the answer they are buffered. Every string is
// checked before any is used, so a bad request changes nothing, and so does
// one over a limit: the session keeps the candidates it has.
func (s *Session) AddCandidates(raw []string) error {
	if len(raw) > s.limits.perRequest {
		s.log.Warn("candidates refused: over WebRTC.MaxCandidatesPerRequest", "count", len(raw))
		return errLimit{errorf(http.StatusBadRequest, "candidates has %d entries; one request may carry at most %d (WebRTC.MaxCandidatesPerRequest)", len(raw), s.limits.perRequest)}
	}
	parsed := make([]webrtc.ICECandidateInit, 0, len(raw))
	for i, r := range raw {
		c, err := parseClientCandidate(r)
		if err != nil {
			return errorf(http.StatusBadRequest, "candidates[%d]: %s", i, err)
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
	if !s.answered || s.answer == "" {
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

// parseClientCandidate decodes one candidate string and checks its
// candidate line, so errors are reported to the client instead of failing
// later inside ICE.
func parseClientCandidate(raw string) (webrtc.ICECandidateInit, error) {
	var c webrtc.ICECandidateInit
	if err := json.Unmarshal([]byte(raw), &c); err != nil {
		return c, fmt.Errorf("not a JSON RTCIceCandidateInit: %s", describeJSONError(err))
	}
	line := strings.TrimPrefix(strings.TrimSpace(c.Candidate), "a=")
	if line == "" {
		return c, nil
	}
	if _, err := ice.UnmarshalCandidate(line); err != nil {
		// pion quotes the whole line, however long: keep the reason.
		return c, fmt.Errorf("candidate line does not parse: %s", truncate(err.Error(), maxQuoted))
	}
	return c, nil
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

func (s *Session) onConnectionState(st webrtc.PeerConnectionState) {
	s.log.Debug("peer connection state", "state", st.String())
	switch st {
	case webrtc.PeerConnectionStateConnected:
		s.startMedia()
	case webrtc.PeerConnectionStateDisconnected:
		// The peer may come back, but it cannot steer meanwhile: stop its
		// move and free the lease for others now.
		s.releasePTZ("peer connection disconnected")
	case webrtc.PeerConnectionStateFailed, webrtc.PeerConnectionStateClosed:
		go s.Close()
	}
}

// startMedia starts the source once DTLS is up (a live viewer attaches to
// the camera stream then, so the GOP cache reaches it as the very first
// media) and sends what it yields until the session ends or the source has
// nothing more (the end of the recordings: the session stays open).
func (s *Session) startMedia() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.sending || s.ctx.Err() != nil {
		return
	}
	s.sending = true
	src := s.source
	src.start()
	sender := newMediaSender(s.track)
	sender.stats = s.metrics
	if enc := s.sender.GetParameters().Encodings; len(enc) > 0 {
		sender.reports = &senderReports{ssrc: uint32(enc[0].SSRC), clock: s.clock, write: s.pc.WriteRTCP}
	}
	s.media = sender
	sender.onFirstSent = func() {
		s.metrics.firstFrameSent(s.Created)
		close(s.firstFrame)
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		err := sender.run(s.ctx, src)
		if s.ctx.Err() == nil {
			s.log.Debug("media source ended; the session stays open", "reason", err, "frames", sender.framesSent)
		}
	}()
}

// drainRTCP reads the viewer's RTCP, which pion's interceptors need,
// answers NACKs from the sender's history (retransmit.go) and keyframe
// requests from the stream's GOP cache: RTSP cameras cannot be asked for an
// IDR.
func (s *Session) drainRTCP() {
	defer s.wg.Done()
	var lastReplay time.Time
	for {
		pkts, _, err := s.sender.ReadRTCP()
		if err != nil {
			return
		}
		for _, p := range pkts {
			s.metrics.rtcpReceived(p)
			switch p := p.(type) {
			case *rtcp.TransportLayerNack:
				s.mu.Lock()
				media := s.media
				s.mu.Unlock()
				if media != nil {
					media.retransmit(p)
				}
			case *rtcp.PictureLossIndication, *rtcp.FullIntraRequest:
				// Browsers repeat PLIs while they wait; one replay a
				// second is enough.
				if time.Since(lastReplay) < time.Second {
					continue
				}
				lastReplay = time.Now()
				s.mu.Lock()
				if s.sending {
					s.source.requestKeyframe()
				}
				s.mu.Unlock()
			}
		}
	}
}

// FirstFrame is closed when the first video frame was sent.
func (s *Session) FirstFrame() <-chan struct{} { return s.firstFrame }

// Close ends the session and waits for its goroutines.
func (s *Session) Close() {
	s.closeOnce.Do(func() {
		s.cancel()
		s.endCameraWatch()
		s.releasePTZ("session closed")
		if s.answerTime != nil {
			s.answerTime.Stop()
		}
		s.mu.Lock()
		src := s.source
		if s.expiry != nil {
			s.expiry.Stop()
		}
		s.mu.Unlock()
		if src != nil {
			src.close()
		}
		if s.pc != nil {
			if err := s.pc.Close(); err != nil && !errors.Is(err, webrtc.ErrConnectionClosed) {
				s.log.Debug("peer connection close", "error", err)
			}
		}
		s.wg.Wait()
		if s.onClose != nil {
			s.onClose(s)
		}
		s.log.Info("session closed")
	})
}

// setPrincipal makes p the session's owner and arms the expiry: the token
// authenticates the media too (spec §2.8), so a session whose token expires
// without a replacement is closed after the grace period.
func (s *Session) setPrincipal(p *oauth.Principal) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.owner = p
	if s.expiry != nil {
		s.expiry.Stop()
		s.expiry = nil
	}
	if p == nil || p.ExpiresAt.IsZero() {
		return
	}
	s.expiry = time.AfterFunc(time.Until(p.ExpiresAt)+s.grace, func() {
		s.log.Info("token expired without a new one; closing session", "grace", s.grace)
		go s.Close()
	})
}

// Owner is the principal whose token the session runs on.
func (s *Session) Owner() *oauth.Principal {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.owner
}
