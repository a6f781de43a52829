package rtc

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/camgate/camgate/cameras"
	"github.com/camgate/camgate/gateway/internal/errtext"
	"github.com/camgate/camgate/playback"
	"github.com/camgate/camgate/ptz"
)

// Manager owns the sessions: it creates them for any signaling protocol,
// finds them by id and closes them all at shutdown. It holds the pion API
// and the media sockets every session shares.
type Manager struct {
	log     *slog.Logger
	cfg     MediaConfig
	api     *mediaAPI
	cameras *cameras.Registry
	clock   rtpClock
	ice     *ICEPolicy
	// grace is how long a session outlives its token without a new one.
	grace time.Duration
	// ptz gives each session its camera's PTZ controller (nil: none).
	ptz *ptz.Registry
	// store plays recordings (nil: playback is not available).
	store *playback.Store
	// metrics counts sessions by kind (nil: not counted).
	metrics *Metrics
	// limits admits every session, whichever protocol asks (nil: no
	// limits, in tests of other parts).
	limits *sessionLimits
	// codec writes the commands channel's wire format (signaling's).
	codec CommandCodec
	// renew vouches again for the owner of a relay session whose token
	// expired (Deps.Renew); nil: no session outlives its token.
	renew RenewFunc

	mu       sync.Mutex
	sessions map[string]*Session
	ended    endedSessions
	closed   bool
	// droppedEnded are the dropped frames of ended sessions per kind
	// (see remove and droppedCollector).
	droppedEnded [numSessionKinds]uint64
}

// Deps are a Manager's collaborators.
type Deps struct {
	Cameras *cameras.Registry
	// PTZ holds the cameras' PTZ controllers; nil: no camera has PTZ.
	PTZ *ptz.Registry
	// Store plays recordings; nil: playback is NotImplemented.
	Store *playback.Store
	// Metrics counts sessions by kind; nil: not counted.
	Metrics *Metrics
	// Codec encodes and decodes the messages of the commands data channel.
	// Required.
	Codec CommandCodec
	// Renew vouches again for the owner of a relay session whose token
	// expires (signaling adapts the identity provider's renewal): the
	// session is renewed with it instead of ended; nil: never.
	Renew RenewFunc
	Log   *slog.Logger
}

// endedSessions remembers recently ended session ids, so that a DELETE that
// loses the race against the peer connection's own close (a browser tab
// unloading) succeeds, and other late calls learn that the session ended
// rather than that it never existed. Bounded in count and age.
type endedSessions struct {
	at    map[string]time.Time
	order []string
}

const (
	maxEndedSessions = 4096
	endedSessionTTL  = 5 * time.Minute
)

func (e *endedSessions) add(id string, now time.Time) {
	if e.at == nil {
		e.at = map[string]time.Time{}
	}
	for len(e.order) > 0 && (len(e.order) >= maxEndedSessions || now.Sub(e.at[e.order[0]]) > endedSessionTTL) {
		delete(e.at, e.order[0])
		e.order = e.order[1:]
	}
	e.at[id] = now
	e.order = append(e.order, id)
}

func (e *endedSessions) has(id string, now time.Time) bool {
	t, ok := e.at[id]
	return ok && now.Sub(t) <= endedSessionTTL
}

// New binds the media sockets and builds the manager. Close releases the
// sockets once CloseAll has ended the sessions.
func New(cfg Config, deps Deps) (*Manager, error) {
	if deps.Codec == nil {
		return nil, errors.New("rtc: Deps.Codec is required")
	}
	api, err := newMediaAPI(cfg.WebRTC, deps.Log)
	if err != nil {
		return nil, err
	}
	m := newManager(cfg.WebRTC, api, deps.Cameras, deps.Log)
	m.grace = cfg.SessionGrace
	m.limits = newSessionLimits(cfg.Limits, cfg.WebRTC.AnswerTimeout)
	m.ptz, m.store, m.metrics, m.codec, m.renew = deps.PTZ, deps.Store, deps.Metrics, deps.Codec, deps.Renew
	if m.metrics != nil {
		m.metrics.reg.MustRegister(newDroppedCollector(m))
	}
	return m, nil
}

func newManager(cfg MediaConfig, api *mediaAPI, reg *cameras.Registry, log *slog.Logger) *Manager {
	clock := rtpClock{ticksPerSecond: 1000}
	if cfg.RtpClock == RTPClock90kHz {
		clock.ticksPerSecond = 90000
	}
	return &Manager{
		log: log, cfg: cfg, api: api, cameras: reg, clock: clock,
		ice:      NewICEPolicy(cfg, log),
		sessions: map[string]*Session{},
	}
}

// MediaPort is the UDP port that carries every session's media.
func (m *Manager) MediaPort() int { return m.api.UDPPort() }

// Close releases the media sockets. CloseAll must have run.
func (m *Manager) Close() { m.api.Close() }

// CreateRequest is what a signaling protocol asks for.
type CreateRequest struct {
	// Owner is the caller, whose token the session runs on.
	Owner    Owner
	DeviceID string
	StreamID string // "" is the camera's default stream
	// IceServers are the client's own STUN/TURN servers, checked against
	// WebRTC.MaxClientIceServers and ClientIceServerHosts.
	IceServers []ICEServer
	// ClientIP is the signaling request's client address: it stands in
	// for a browser's mDNS candidate, and Limits.SessionsPerAddress counts
	// it.
	ClientIP netip.Addr
	// WebSocket says the session was asked for on the WebSocket API, not
	// the REST API (the kind label of its metrics).
	WebSocket bool
	// Playback asks for recorded video; nil means live.
	Playback *Playback
	// Profile is the kind of client (profile.go): ProfileAuto lets its
	// answer decide. A playback session's clock is fixed at creation:
	// auto plays on the browsers' clock.
	Profile Profile
}

// ICEServer is one STUN/TURN server a client names.
type ICEServer struct {
	URLs       []string
	Username   string
	Credential string
}

// Create resolves the camera and stream, builds the peer connection, and
// returns the session with its offer and candidates complete.
func (m *Manager) Create(ctx context.Context, req CreateRequest) (*Session, error) {
	begin := time.Now()
	if req.DeviceID == "" {
		return nil, Errorf(BadInput, "deviceId is required (cameraId is accepted as an alias)")
	}
	cam, ok := m.cameras.Camera(req.DeviceID)
	if !ok {
		return nil, Errorf(NotFound, "camera %s does not exist", errtext.Quote(req.DeviceID, 64))
	}
	right := RightLive
	if req.Playback != nil {
		right = RightPlayback
	}
	if !can(req.Owner, right, cam.ID) {
		return nil, NoRight(req.Owner, right, cam.ID)
	}
	stream, ok := cam.Stream(req.StreamID)
	if !ok {
		return nil, Errorf(NotFound, "stream %s does not exist on camera %s", errtext.Quote(req.StreamID, 64), cam.ID)
	}
	// The video codec the session offers: the camera's, for a live
	// session (an H.265 camera's session is refused at the answer when
	// the browser cannot decode H.265: SetAnswer); recordings play as
	// H.264 (playbackSource stops at H.265 frames).
	video := cameras.CodecH264
	if req.Playback == nil {
		video = stream.Hub.Codec()
	}
	ice, err := m.ice.Check(req.IceServers)
	if err != nil {
		return nil, err
	}
	// Once the request is known to be good, before anything is spent on
	// it. The place is given back when the session ends (remove), or
	// below when it is not created after all.
	slot, err := m.admit(req)
	if err != nil {
		return nil, err
	}
	id := NewID()
	log := m.log.With("session", id, "camera", cam.ID)
	created, events := time.Now(), newCommandEvents(m.codec)
	clock := m.clockFor(req.Profile)
	var src mediaSource = newLiveSource(stream.Hub, video, m.cfg.ViewerQueueFrames, clock, created)
	if req.Playback != nil {
		if src, err = m.openPlayback(ctx, cam.ID, *req.Playback, clock, events, log); err != nil {
			m.limits.free(slot)
			return nil, err
		}
	}
	ctx2, cancel := context.WithCancel(context.Background())
	s := &Session{
		ID:         id,
		CameraID:   cam.ID,
		StreamID:   stream.ID,
		Created:    created,
		log:        log,
		stream:     stream,
		source:     src,
		right:      right,
		events:     events,
		clock:      clock,
		profile:    req.Profile,
		clockFor:   m.clockFor,
		renew:      m.renew,
		clientIP:   req.ClientIP,
		networks:   m.api.networks,
		iceServers: ice,
		ctx:        ctx2,
		cancel:     cancel,
		firstFrame: make(chan struct{}),
		onClose:    m.remove,
		grace:      m.grace,
		ptz:        PTZController(m.ptz, cam.ID),
		limits:     candidateLimits{perSession: m.cfg.MaxRemoteCandidates, perRequest: m.cfg.MaxCandidatesPerRequest},
		slot:       slot,
		onAnswer:   func() { m.limits.answered(slot) },
		codec:      m.codec,
		video:      video,
	}
	s.setOwner(req.Owner)
	s.metrics = m.metrics.forKind(kindOf(req.Playback != nil, req.WebSocket))
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		cancel()
		src.close()
		m.limits.free(slot)
		return nil, Errorf(Unavailable, "camgate is shutting down")
	}
	m.sessions[id] = s
	s.metrics.opened()
	m.mu.Unlock()
	if req.Playback == nil {
		s.watchCamera() // Close ends it
	}
	if err := s.start(ctx, m.api, m.cfg.GatherTimeout, m.cfg.AnswerTimeout); err != nil {
		s.Close()
		return nil, err
	}
	s.metrics.offerReady(begin)
	if p := req.Playback; p != nil {
		s.log.Info("session created", "stream", stream.ID, "playbackTime", p.Time, "speed", p.Speed, "skipGaps", p.SkipGaps)
	} else {
		s.log.Info("session created", "stream", stream.ID, "profile", req.Profile.String())
	}
	return s, nil
}

// Get finds a session by id (any case): NotFound when there is none, Gone
// when it existed and has ended.
func (m *Manager) Get(id string) (*Session, error) {
	id = strings.ToLower(id)
	m.mu.Lock()
	defer m.mu.Unlock()
	if s, ok := m.sessions[id]; ok {
		return s, nil
	}
	if m.ended.has(id, time.Now()) {
		return nil, Errorf(Gone, "session %s has ended", id)
	}
	return nil, Errorf(NotFound, "session %s does not exist", errtext.Quote(id, 64))
}

func (m *Manager) remove(s *Session) {
	dropped := s.droppedFrames() // final: the session's source is closed
	m.mu.Lock()
	delete(m.sessions, s.ID)
	m.ended.add(s.ID, time.Now())
	if s.metrics != nil {
		// Under m.mu, with the delete: a scrape sees the session or its
		// drops here, never both or neither.
		m.droppedEnded[s.metrics.kind] += dropped
	}
	s.metrics.closed()
	m.mu.Unlock()
	m.limits.free(s.slot)
}

// Owned finds a session that belongs to p: another user's session is
// Forbidden (a session id is not a capability) unless p is an admin of its
// camera.
func (m *Manager) Owned(id string, p Owner) (*Session, error) {
	s, err := m.Get(id)
	if err != nil {
		return nil, err
	}
	if err := s.CheckCaller(p); err != nil {
		return nil, err
	}
	return s, nil
}

// Count is the number of open sessions.
func (m *Manager) Count() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.sessions)
}

// CloseAll ends every session, telling its client that camgate shuts
// down, and refuses new ones.
func (m *Manager) CloseAll() {
	m.mu.Lock()
	m.closed = true
	all := make([]*Session, 0, len(m.sessions))
	for _, s := range m.sessions {
		all = append(all, s)
	}
	m.mu.Unlock()
	var wg sync.WaitGroup
	for _, s := range all {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.announceShutdown()
			s.Close()
		}()
	}
	wg.Wait()
}

// PublicICEServers are the URLs of the configured STUN servers, one list
// per server, for a client to use too (ICEPolicy.Public).
func (m *Manager) PublicICEServers() [][]string { return m.ice.Public() }

// NoRight is the error for a caller without a right on a camera.
func NoRight(p Owner, r Right, cameraID string) error {
	return Errorf(Forbidden, "%s has no %s right on camera %s", callerOf(p), r, cameraID)
}

// NewID returns a random (version 4) GUID in lower case: a session's id,
// or any other id a client should not guess.
func NewID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
