package rtc

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/webrtc/v4"

	"github.com/camgate/camgate/cameras"
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

	log    *slog.Logger
	pc     *webrtc.PeerConnection
	track  *webrtc.TrackLocalStaticRTP
	sender *webrtc.RTPSender
	stream *cameras.CameraStream
	video  cameras.Codec // the codec of the video track (its stream's at creation)
	// refused is set when SetAnswer refuses the answer and ends the
	// session (Refused).
	refused atomic.Bool
	source  mediaSource    // what the session plays: live or recorded
	right   Right          // the right it needs: RightLive or RightPlayback
	events  *commandEvents // camgate's own messages on the commands channel
	clock   rtpClock       // the unit of the viewer's RTP timestamps
	// clockFor is the manager's clock of a profile (profile.go), for a
	// profile the answer decides.
	clockFor func(Profile) rtpClock
	// renew vouches again for the owner of a relay session whose token
	// expired (Deps.Renew); nil: the session ends with its token.
	renew      RenewFunc
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
	// codec is the commands channel's wire format (datachannel.go).
	codec CommandCodec

	mu         sync.Mutex
	offer      webrtc.SessionDescription
	answer     webrtc.SessionDescription // the client's, once applied
	candidates []webrtc.ICECandidateInit // server candidates, cumulative
	pending    []webrtc.ICECandidateInit
	remotes    int          // client candidates taken, pending and answer SDP ones included
	answered   bool         // an answer is being applied or was
	applied    bool         // the answer was applied
	owner      Owner        // whose token the session runs on
	profile    Profile      // the kind of client; ProfileAuto until the answer tells
	expiry     *time.Timer  // closes the session grace after owner's token expires
	endReason  string       // why camgate ended the session (endFor)
	sending    bool         // the source was started
	media      *mediaSender // its sender, once sending
	candHook   func(webrtc.ICECandidateInit)

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
	offered := offeredCodecs(s.video)
	track, err := webrtc.NewTrackLocalStaticRTP(offered[0].RTPCodecCapability, "video", "camgate-"+s.ID)
	if err != nil {
		return fmt.Errorf("track: %w", err)
	}
	s.track = track
	tr, err := pc.AddTransceiverFromTrack(track, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly})
	if err != nil {
		return fmt.Errorf("transceiver: %w", err)
	}
	if err := tr.SetCodecPreferences(offered); err != nil {
		return fmt.Errorf("codec preferences: %w", err)
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
	s.mu.Lock()
	s.offer = *local
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
	init := c.ToJSON()
	s.mu.Lock()
	s.candidates = append(s.candidates, init)
	hook := s.candHook
	s.mu.Unlock()
	if hook != nil {
		hook(init)
	}
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
	if live, ok := src.(*liveSource); ok {
		// The answer may have decided the profile since the source was
		// made (SetAnswer).
		live.clock, live.fastForward = s.clock, s.profile.fastForward()
	}
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
		if s.ctx.Err() != nil {
			return
		}
		var changed *codecChangedError
		if errors.As(err, &changed) {
			s.endFor("codecChanged", changed.Error())
			return
		}
		s.log.Debug("media source ended; the session stays open", "reason", err, "frames", sender.framesSent)
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

// ReplaceOwner makes p, a new token of the session's owner, the session's:
// p must be of the same user (else Forbidden) and still carry the
// session's right on the camera, live or playback (else Forbidden).
func (s *Session) ReplaceOwner(p Owner) error {
	if !sameUser(p, s.Owner()) {
		return Errorf(Forbidden, "the new token belongs to another user than session %s", s.ID)
	}
	if !can(p, s.right, s.CameraID) {
		return NoRight(p, s.right, s.CameraID)
	}
	s.setOwner(p)
	return nil
}

// CheckCaller is Forbidden unless p is the session's owner or an admin of
// its camera.
func (s *Session) CheckCaller(p Owner) error {
	if !sameUser(p, s.Owner()) && !can(p, RightAdmin, s.CameraID) {
		return Errorf(Forbidden, "session %s belongs to another user", s.ID)
	}
	return nil
}

// Right is the right the session needs on its camera: RightLive or
// RightPlayback.
func (s *Session) Right() Right { return s.right }

// Done is closed when the session ends.
func (s *Session) Done() <-chan struct{} { return s.ctx.Done() }

// Ended reports whether the session has ended (or is ending).
func (s *Session) Ended() bool { return s.ctx.Err() != nil }

// setOwner makes p the session's owner and arms the expiry: the token
// authenticates the media too (on XProtect as here), so a session whose token expires
// without a replacement is closed after the grace period.
func (s *Session) setOwner(p Owner) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.owner = p
	if s.expiry != nil {
		s.expiry.Stop()
		s.expiry = nil
	}
	if p == nil || p.ExpiresAt().IsZero() {
		return
	}
	s.expiry = time.AfterFunc(time.Until(p.ExpiresAt())+s.grace, func() { s.tokenExpired(p) })
}

// tokenExpired ends the session whose token p expired grace ago without a
// new one, unless it is a relay's (Profile.renewsToken): a relay that
// signed in with the password grant cannot refresh, so its session is
// renewed from what its user may do now (Deps.Renew) and checked again at
// the renewed expiry. A user that is gone, has lost the session's right on
// the camera, or cannot be vouched for without a token (an external
// issuer's) still ends it.
func (s *Session) tokenExpired(p Owner) {
	s.mu.Lock()
	relay := s.profile.renewsToken()
	current := s.owner == p
	s.mu.Unlock()
	if !current || s.Ended() {
		return // a new token came meanwhile, or the session is closing
	}
	if !relay || s.renew == nil {
		s.log.Info("token expired without a new one; closing session", "grace", s.grace)
		go s.Close()
		return
	}
	q, err := s.renew(p)
	if err == nil {
		err = s.ReplaceOwner(q)
	}
	if err != nil {
		s.log.Info("relay's token expired and its user cannot be vouched for; closing session", "reason", err)
		go s.Close()
		return
	}
	s.log.Info("relay's token expired; session renewed from its user's current rights", "until", q.ExpiresAt())
}

// Owner is the caller whose token the session runs on.
func (s *Session) Owner() Owner {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.owner
}
