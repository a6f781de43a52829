package gateway

import (
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/pion/stun/v4"
	"github.com/pion/webrtc/v4"

	"github.com/camgate/camgate/appsettings"
	"github.com/camgate/camgate/cameras"
	"github.com/camgate/camgate/oauth"
	"github.com/camgate/camgate/playback"
	"github.com/camgate/camgate/ptz"
)

// sessionManager owns the live sessions: it creates them for either
// signaling flow, finds them by id and closes them all at shutdown.
type sessionManager struct {
	log      *slog.Logger
	cfg      appsettings.WebRTC
	api      *mediaAPI
	cameras  *cameras.Registry
	clock    rtpClock
	settings []webrtc.ICEServer
	// grace is how long a session outlives its token without a new one.
	grace time.Duration
	// ptz gives each session its camera's PTZ controller (nil: none).
	ptz *ptz.Registry
	// store plays recordings (nil: playback is not available).
	store *playback.Store
	// metrics counts sessions by kind (nil: not counted).
	metrics *gatewayMetrics

	mu       sync.Mutex
	sessions map[string]*Session
	ended    endedSessions
	closed   bool
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

func newSessionManager(cfg appsettings.WebRTC, api *mediaAPI, reg *cameras.Registry, log *slog.Logger) *sessionManager {
	clock := rtpClock{ticksPerSecond: 1000}
	if strings.EqualFold(cfg.RtpClock, "90kHz") {
		clock.ticksPerSecond = 90000
	}
	m := &sessionManager{
		log: log, cfg: cfg, api: api, cameras: reg, clock: clock,
		sessions: map[string]*Session{},
	}
	for _, s := range cfg.IceServers {
		m.settings = append(m.settings, webrtc.ICEServer{URLs: s.Urls, Username: s.Username, Credential: s.Credential})
	}
	return m
}

// createRequest is what a signaling flow (REST or WebSocket) asks for.
type createRequest struct {
	Principal  *oauth.Principal
	DeviceID   string
	StreamID   string
	IceServers []iceServerJSON
	ClientIP   netip.Addr
	// WebSocket says the session was asked for on the WebSocket API, not
	// the REST API (the kind label of its metrics).
	WebSocket bool
	// Playback asks for recorded video; nil means live.
	Playback *playbackParams
}

// create resolves the camera and stream, builds the peer connection, and
// returns the session with its offer and candidates complete.
func (m *sessionManager) create(ctx context.Context, req createRequest) (*Session, error) {
	begin := time.Now()
	if req.DeviceID == "" {
		return nil, errorf(http.StatusBadRequest, "deviceId is required (cameraId is accepted as an alias)")
	}
	cam, ok := m.cameras.Camera(req.DeviceID)
	if !ok {
		return nil, errorf(http.StatusNotFound, "camera %q does not exist", truncate(req.DeviceID, 64))
	}
	right := oauth.RightLive
	if req.Playback != nil {
		right = oauth.RightPlayback
	}
	if !req.Principal.Can(right, cam.ID) {
		return nil, forbidden(req.Principal, right, cam.ID)
	}
	stream, ok := cam.Stream(req.StreamID)
	if !ok {
		return nil, errorf(http.StatusNotFound, "stream %q does not exist on camera %s", truncate(req.StreamID, 64), cam.ID)
	}
	ice, err := m.iceServers(req.IceServers)
	if err != nil {
		return nil, err
	}
	id := newSessionID()
	log := m.log.With("session", id, "camera", cam.ID)
	created, events := time.Now(), newCommandEvents()
	var src mediaSource = newLiveSource(stream.Hub, m.cfg.ViewerQueueFrames, m.clock, created)
	if req.Playback != nil {
		if src, err = m.openPlayback(ctx, cam.ID, *req.Playback, events, log); err != nil {
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
		clock:      m.clock,
		clientIP:   req.ClientIP,
		networks:   m.api.networks,
		iceServers: ice,
		ctx:        ctx2,
		cancel:     cancel,
		firstFrame: make(chan struct{}),
		onClose:    m.remove,
		grace:      m.grace,
		ptz:        ptzController(m.ptz, cam.ID),
		limits:     candidateLimits{perSession: m.cfg.MaxRemoteCandidates, perRequest: m.cfg.MaxCandidatesPerRequest},
	}
	s.setPrincipal(req.Principal)
	s.metrics = m.metrics.forKind(kindOf(req.Playback != nil, req.WebSocket))
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		cancel()
		src.close()
		return nil, errorf(http.StatusServiceUnavailable, "camgate is shutting down")
	}
	m.sessions[id] = s
	s.metrics.opened()
	m.mu.Unlock()
	if err := s.start(ctx, m.api, time.Duration(m.cfg.GatherTimeout), time.Duration(m.cfg.AnswerTimeout)); err != nil {
		s.Close()
		return nil, err
	}
	s.metrics.offerReady(begin)
	if p := req.Playback; p != nil {
		s.log.Info("session created", "stream", stream.ID, "playbackTime", p.Time, "speed", p.Speed, "skipGaps", p.SkipGaps)
	} else {
		s.log.Info("session created", "stream", stream.ID)
	}
	return s, nil
}

// iceServers merges the configured servers with the request's, checking
// the request's URLs so that a typo is a 400, not a silent failure.
func (m *sessionManager) iceServers(req []iceServerJSON) ([]webrtc.ICEServer, error) {
	out := append([]webrtc.ICEServer(nil), m.settings...)
	for i, s := range req {
		var urls []string
		for _, u := range s.URLs {
			u = strings.TrimSpace(u)
			if u == "" {
				continue
			}
			scheme, _, _ := strings.Cut(strings.ToLower(u), ":")
			switch scheme {
			case "stun", "stuns":
			case "turn", "turns":
				if s.Username == "" || s.Credential == "" {
					return nil, errorf(http.StatusBadRequest, "iceServers[%d]: a TURN server needs username and credential", i)
				}
			default:
				return nil, errorf(http.StatusBadRequest, "iceServers[%d]: %q is not a stun:, stuns:, turn: or turns: URL", i, truncate(u, 80))
			}
			// pion parses the URL again when it builds the peer
			// connection; one it rejects must be the client's 400 here, not
			// a 500 from there.
			if _, err := stun.ParseURI(u); err != nil {
				return nil, errorf(http.StatusBadRequest, "iceServers[%d]: %q is not a valid STUN or TURN URL: %s", i, truncate(u, 80), truncate(err.Error(), maxQuoted))
			}
			urls = append(urls, u)
		}
		if len(urls) > 0 {
			out = append(out, webrtc.ICEServer{URLs: urls, Username: s.Username, Credential: s.Credential})
		}
	}
	return out, nil
}

// errSessionEnded marks a 404 for a session that existed and has ended.
type errSessionEnded struct{ *apiError }

func (e errSessionEnded) Unwrap() error { return e.apiError }

func (m *sessionManager) get(id string) (*Session, error) {
	id = strings.ToLower(id)
	m.mu.Lock()
	defer m.mu.Unlock()
	if s, ok := m.sessions[id]; ok {
		return s, nil
	}
	if m.ended.has(id, time.Now()) {
		return nil, errSessionEnded{errorf(http.StatusNotFound, "session %s has ended", id)}
	}
	return nil, errorf(http.StatusNotFound, "session %q does not exist", truncate(id, 64))
}

func (m *sessionManager) remove(s *Session) {
	dropped := s.droppedFrames() // final: the session's source is closed
	m.mu.Lock()
	delete(m.sessions, s.ID)
	m.ended.add(s.ID, time.Now())
	if s.metrics != nil && m.metrics != nil {
		// Under m.mu, with the delete: a scrape sees the session or its
		// drops here, never both or neither.
		m.metrics.droppedEnded[s.metrics.kind] += dropped
	}
	s.metrics.closed()
	m.mu.Unlock()
}

func (m *sessionManager) count() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.sessions)
}

// closeAll ends every session and refuses new ones.
func (m *sessionManager) closeAll() {
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
			s.Close()
		}()
	}
	wg.Wait()
}

// newSessionID returns a random (version 4) GUID in lower case.
func newSessionID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
