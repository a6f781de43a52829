package gateway

import (
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strconv"
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
	// limits admits every session, whichever flow asks (nil: no limits,
	// in tests of other parts).
	limits *sessionLimits

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
	if cfg.RtpClock == appsettings.RtpClock90kHz {
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
		return nil, errorf(http.StatusNotFound, "camera %s does not exist", quoteInput(req.DeviceID, 64))
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
		return nil, errorf(http.StatusNotFound, "stream %s does not exist on camera %s", quoteInput(req.StreamID, 64), cam.ID)
	}
	ice, err := m.iceServers(req.IceServers)
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
	id := newSessionID()
	log := m.log.With("session", id, "camera", cam.ID)
	created, events := time.Now(), newCommandEvents()
	var src mediaSource = newLiveSource(stream.Hub, m.cfg.ViewerQueueFrames, m.clock, created)
	if req.Playback != nil {
		if src, err = m.openPlayback(ctx, cam.ID, *req.Playback, events, log); err != nil {
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
		slot:       slot,
		onAnswer:   func() { m.limits.answered(slot) },
	}
	s.setPrincipal(req.Principal)
	s.metrics = m.metrics.forKind(kindOf(req.Playback != nil, req.WebSocket))
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		cancel()
		src.close()
		m.limits.free(slot)
		return nil, errorf(http.StatusServiceUnavailable, "camgate is shutting down")
	}
	m.sessions[id] = s
	s.metrics.opened()
	m.mu.Unlock()
	if req.Playback == nil {
		s.watchCamera() // Close ends it
	}
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

// iceServers merges the configured servers with the request's. The
// request's are checked, so that a typo is a 400, not a silent failure, and
// bounded: camgate contacts each server the client names (a UDP socket per
// STUN URL, a TCP or TLS connection per TURN one), so their number is
// capped (WebRTC.MaxClientIceServers) and only the servers of
// WebRTC.IceServers and the hosts of WebRTC.ClientIceServerHosts may be
// named; otherwise any Live user could make camgate probe any address.
func (m *sessionManager) iceServers(req []iceServerJSON) ([]webrtc.ICEServer, error) {
	out := append([]webrtc.ICEServer(nil), m.settings...)
	refuse := func(format string, args ...any) error {
		e := errorf(http.StatusBadRequest, format, args...)
		if m.log != nil {
			m.log.Warn("session request refused: its iceServers pass a limit", "reason", e.Text)
		}
		return errLimit{e}
	}
	limit := m.cfg.MaxClientIceServers
	if len(req) > limit {
		return nil, refuse("iceServers has %d entries; at most %d are allowed (WebRTC.MaxClientIceServers)", len(req), limit)
	}
	type clientServer struct {
		entry int
		urls  []string
		uris  []*stun.URI
	}
	var servers []clientServer
	total := 0
	// The syntax of every URL first, so that a typo is reported as such
	// rather than as a server that is not allowed.
	for i, s := range req {
		cs := clientServer{entry: i}
		for _, u := range s.URLs {
			u = strings.TrimSpace(u)
			if u == "" {
				continue
			}
			if total++; total > limit {
				return nil, refuse("iceServers lists more than %d URLs; at most %d are allowed in all (WebRTC.MaxClientIceServers)", limit, limit)
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
			uri, err := stun.ParseURI(u)
			if err != nil {
				return nil, errorf(http.StatusBadRequest, "iceServers[%d]: %q is not a valid STUN or TURN URL: %s", i, truncate(u, 80), truncate(err.Error(), maxQuoted))
			}
			if uri.Port < 1 || uri.Port > 65535 {
				return nil, errorf(http.StatusBadRequest, "iceServers[%d]: %q has port %d; a port is from 1 to 65535", i, truncate(u, 80), uri.Port)
			}
			if h, err := appsettings.ParseIceHost(net.JoinHostPort(uri.Host, strconv.Itoa(uri.Port))); err != nil || h.Host == "*" {
				return nil, errorf(http.StatusBadRequest, "iceServers[%d]: %q does not name a host name or a usable IP address", i, truncate(u, 80))
			}
			cs.urls = append(cs.urls, u)
			cs.uris = append(cs.uris, uri)
		}
		if len(cs.urls) > 0 {
			servers = append(servers, cs)
		}
	}
	for _, cs := range servers {
		for k, uri := range cs.uris {
			if err := m.clientICEServerAllowed(uri); err != nil {
				return nil, refuse("iceServers[%d]: %q: %s", cs.entry, truncate(cs.urls[k], 80), err)
			}
		}
		s := req[cs.entry]
		out = append(out, webrtc.ICEServer{URLs: cs.urls, Username: s.Username, Credential: s.Credential})
	}
	return out, nil
}

// clientICEServerAllowed checks a client's STUN/TURN server against
// WebRTC.IceServers (the same host and port) and
// WebRTC.ClientIceServerHosts; the error says what is allowed.
func (m *sessionManager) clientICEServerAllowed(uri *stun.URI) error {
	host := appsettings.NormalizeIceHost(uri.Host)
	for _, s := range m.cfg.IceServers {
		for _, u := range s.Urls {
			if own, err := stun.ParseURI(u); err == nil && appsettings.NormalizeIceHost(own.Host) == host && own.Port == uri.Port {
				return nil
			}
		}
	}
	for _, e := range m.cfg.ClientIceServerHosts {
		if h, err := appsettings.ParseIceHost(e); err == nil && h.Allows(host, uri.Port) {
			return nil
		}
	}
	own := "none configured"
	if len(m.cfg.IceServers) > 0 {
		own = "not this one"
	}
	hosts := "none listed"
	if len(m.cfg.ClientIceServerHosts) > 0 {
		hosts = "not this one on this port"
	}
	return fmt.Errorf("clients may not name %s: allowed are the servers of WebRTC.IceServers (%s) and the hosts of WebRTC.ClientIceServerHosts (%s)",
		truncate(net.JoinHostPort(host, strconv.Itoa(uri.Port)), 80), own, hosts)
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
	return nil, errorf(http.StatusNotFound, "session %s does not exist", quoteInput(id, 64))
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
	m.limits.free(s.slot)
}

func (m *sessionManager) count() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.sessions)
}

// closeAll ends every session, telling its client that camgate shuts
// down, and refuses new ones.
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
			s.announceShutdown()
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
