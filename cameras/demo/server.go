package demo

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bluenviron/gortsplib/v4"
	"github.com/bluenviron/gortsplib/v4/pkg/auth"
	"github.com/bluenviron/gortsplib/v4/pkg/description"
	"github.com/bluenviron/gortsplib/v4/pkg/format"
	"github.com/pion/rtp"
)

// Defaults of Server fields.
const (
	DefaultAddress = "127.0.0.1:0"
	DefaultPath    = "demo"
	// RTPPayloadMaxSize is the largest RTP payload the server sends; it keeps
	// packets under a 1500-byte MTU with room to spare, as cameras do.
	RTPPayloadMaxSize = 1400
	// MaxFPS bounds Server.FPS and Clip.WithFPS: beyond it the ticker
	// cannot keep time and tests would measure the scheduler, not the code.
	MaxFPS = 1000
	// payloadType is the dynamic RTP payload type announced for H.264.
	payloadType = 96
)

// Server is an RTSP camera that loops a Clip. Set the fields, then Start.
// Fields must not be changed while the server runs.
type Server struct {
	// Address to listen on for RTSP (TCP), host:port. Port 0 picks a free
	// port. It defaults to DefaultAddress (loopback, any port). After the
	// first Start, a later Start of the same Server binds the same port
	// again, so a test can Close and Start it to simulate a camera flap
	// without the URL changing.
	Address string
	// Path of the stream in the URL, without the leading slash.
	// It defaults to DefaultPath.
	Path string
	// Clip to loop. Required.
	Clip *Clip
	// FPS is the pacing in frames per second; it defaults to Clip.FPS().
	// RTP timestamps advance by 90000/FPS per frame, so a raised FPS gives a
	// faster but still self-consistent stream (tests use it for a quick IDR).
	FPS int
	// InBandParameterSets sends SPS and PPS in the stream before every IDR.
	// When false (the default), they are stripped from the stream and given
	// only in the SDP (sprop-parameter-sets), as many cameras do. The SDP
	// carries them in both cases.
	InBandParameterSets bool
	// TCPOnly disables the UDP transport, so a client asking for UDP gets
	// "461 Unsupported Transport" (tests of transport fallback use it).
	// By default both UDP (on a free even/odd port pair) and TCP work.
	TCPOnly bool
	// Username and Password, when Username is set, require RTSP Digest
	// (MD5) authentication on DESCRIBE and SETUP.
	Username string
	Password string
	// AllowBasicAuth also accepts Basic authentication when Username is set.
	AllowBasicAuth bool
	// Corrupt, if set, may rewrite each access unit before it is packetized.
	// frame counts from 0 at Start and keeps counting across loops; au is a
	// private deep copy the hook may modify. Returning no NAL units skips the
	// frame (its timestamp slot passes unused). Called from one goroutine.
	// See TruncateEvery and GarbageEvery.
	Corrupt func(frame int, au [][]byte) [][]byte
	// CorruptRTP, if set, may rewrite, drop or add RTP packets of each frame
	// after packetization; pkts have private payload copies. Sequence
	// numbers are left as the hook returns them, so dropping a packet looks
	// like loss on the wire. Called from one goroutine. See DropFragmentEvery.
	CorruptRTP func(frame int, pkts []*rtp.Packet) []*rtp.Packet
	// StartOnFirstPlay holds the clip at its first frame (an IDR) until a
	// client sends PLAY, so the first reader starts with a keyframe at once
	// instead of waiting up to one GOP. The embedded demo camera uses it: its
	// only reader is camgate itself. Later readers join the running loop.
	StartOnFirstPlay bool
	// Logger receives start and stop messages (component=demo). It defaults
	// to slog.Default(). Nothing is logged per packet.
	Logger *slog.Logger

	mu      sync.Mutex
	running bool
	bound   string // host:port bound by the last Start
	rtsp    *gortsplib.Server
	stream  *gortsplib.ServerStream
	cancel  context.CancelFunc
	done    chan struct{} // closed when the pacing goroutine exits
	log     *slog.Logger

	stats counters
}

// counters are the live statistics; atomics because the handler, the pacer
// and Stats run on different goroutines.
type counters struct {
	frames   atomic.Uint64
	loops    atomic.Uint64
	plays    atomic.Uint64
	sessions atomic.Int64
}

func (c *counters) reset() {
	c.frames.Store(0)
	c.loops.Store(0)
	c.plays.Store(0)
	c.sessions.Store(0)
}

// Stats are counters since the last Start.
type Stats struct {
	// FramesSent counts access units handed to the RTSP stream (whether or
	// not anyone was reading), skipped frames included.
	FramesSent uint64
	// Loops counts completed passes over the clip.
	Loops uint64
	// Plays counts PLAY requests accepted.
	Plays uint64
	// Sessions is the number of RTSP sessions open now.
	Sessions int
}

// Start binds the listeners and starts streaming. It returns once the server
// accepts connections. Start on a running server is an error.
func (s *Server) Start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.running {
		return errors.New("demo server: already started")
	}
	cfg, err := s.config()
	if err != nil {
		return err
	}

	addr := cfg.address
	if s.bound != "" && isPortZero(addr) {
		addr = s.bound
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("demo server: listen %s: %w", addr, err)
	}
	// The UDP pair goes on the same IP as the RTSP socket: a client only
	// accepts RTP from the address it talks RTSP to.
	host, _, _ := net.SplitHostPort(ln.Addr().String())

	h := &handler{path: "/" + cfg.path, username: cfg.username, password: cfg.password, stats: &s.stats, played: make(chan struct{})}
	srv := &gortsplib.Server{
		Handler:     h,
		RTSPAddress: ln.Addr().String(),
		AuthMethods: []auth.VerifyMethod{auth.VerifyMethodDigestMD5},
		// gortsplib calls Listen once, from Start; hand it the bound socket.
		Listen: func(string, string) (net.Listener, error) { return ln, nil },
	}
	if cfg.allowBasic {
		srv.AuthMethods = append(srv.AuthMethods, auth.VerifyMethodBasic)
	}
	// On failure, undo what was set up, last first (like defers). Closing a
	// socket that gortsplib already closed is harmless.
	cleanup := []func() error{ln.Close}
	fail := func(err error) error {
		for i := len(cleanup) - 1; i >= 0; i-- {
			cleanup[i]() //nolint:errcheck // best effort on the error path
		}
		return fmt.Errorf("demo server: %w", err)
	}
	if !cfg.tcpOnly {
		rtpConn, rtcpConn, err := listenUDPPair(host)
		if err != nil {
			return fail(err)
		}
		cleanup = append(cleanup, rtpConn.Close, rtcpConn.Close)
		srv.UDPRTPAddress = rtpConn.LocalAddr().String()
		srv.UDPRTCPAddress = rtcpConn.LocalAddr().String()
		srv.ListenPacket = func(_, address string) (net.PacketConn, error) {
			switch address {
			case srv.UDPRTPAddress:
				return rtpConn, nil
			case srv.UDPRTCPAddress:
				return rtcpConn, nil
			}
			return nil, fmt.Errorf("unexpected UDP listen on %s", address)
		}
	}

	// Stats are "since the last Start".
	s.stats.reset()

	if err := srv.Start(); err != nil {
		return fail(fmt.Errorf("start RTSP: %w", err))
	}
	cleanup = append(cleanup, func() error { srv.Close(); return nil })

	forma := &format.H264{
		PayloadTyp:        payloadType,
		PacketizationMode: 1,
		SPS:               cfg.clip.SPS(),
		PPS:               cfg.clip.PPS(),
	}
	media := &description.Media{Type: description.MediaTypeVideo, Formats: []format.Format{forma}}
	stream := &gortsplib.ServerStream{Server: srv, Desc: &description.Session{Medias: []*description.Media{media}}}
	if err := stream.Initialize(); err != nil {
		return fail(fmt.Errorf("stream: %w", err))
	}
	cleanup = append(cleanup, func() error { stream.Close(); return nil })

	p, err := newPacer(cfg, stream, media, &s.stats)
	if err != nil {
		return fail(err)
	}

	// Readers may connect from here on; until now DESCRIBE answered 503.
	h.setStream(stream)

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if cfg.waitPlay && !waitForPlay(ctx, h.played) {
			return
		}
		p.run(ctx)
	}()

	s.running = true
	s.bound = ln.Addr().String()
	s.rtsp, s.stream, s.cancel, s.done, s.log = srv, stream, cancel, done, cfg.log
	s.log.Info("demo camera started", "url", redactedURL(s.bound, cfg.path),
		"frames", cfg.clip.Len(), "fps", cfg.fps, "inBandParams", cfg.inBand,
		"udp", !cfg.tcpOnly, "auth", cfg.username != "")
	return nil
}

// Close stops streaming, disconnects every reader and releases the ports.
// It returns once all of the server's goroutines have exited. Close on a
// server that is not running does nothing. The Server may be started again.
func (s *Server) Close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.running {
		return
	}
	s.cancel()
	<-s.done
	s.stream.Close()
	s.rtsp.Close()
	s.running = false
	s.rtsp, s.stream, s.cancel, s.done = nil, nil, nil, nil
	s.log.Info("demo camera stopped", "url", redactedURL(s.bound, s.pathOrDefault()))
}

// Addr is the host:port the server listens on (after Start), or Address
// (before the first Start).
func (s *Server) Addr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.bound != "" {
		return s.bound
	}
	if s.Address == "" {
		return DefaultAddress
	}
	return s.Address
}

// URL is the stream's rtsp:// URL, with the credentials in it when
// Username is set. An unspecified listen address is given as 127.0.0.1.
func (s *Server) URL() string {
	u := streamURL(s.Addr(), s.pathOrDefault())
	if s.Username != "" {
		u.User = url.UserPassword(s.Username, s.Password)
	}
	return u.String()
}

// Stats returns the counters since the last Start.
func (s *Server) Stats() Stats {
	return Stats{
		FramesSent: s.stats.frames.Load(),
		Loops:      s.stats.loops.Load(),
		Plays:      s.stats.plays.Load(),
		Sessions:   int(s.stats.sessions.Load()),
	}
}

// SPS returns the SPS announced in the SDP (nil without a Clip).
func (s *Server) SPS() []byte {
	if s.Clip == nil {
		return nil
	}
	return s.Clip.SPS()
}

// PPS returns the PPS announced in the SDP (nil without a Clip).
func (s *Server) PPS() []byte {
	if s.Clip == nil {
		return nil
	}
	return s.Clip.PPS()
}

func (s *Server) pathOrDefault() string {
	if p := strings.Trim(s.Path, "/"); p != "" {
		return p
	}
	return DefaultPath
}

// config is the validated, defaulted copy of the fields that the running
// server's goroutines read, so they never touch the Server itself.
type config struct {
	address    string
	path       string
	clip       *Clip
	fps        int
	inBand     bool
	tcpOnly    bool
	username   string
	password   string
	allowBasic bool
	corrupt    func(int, [][]byte) [][]byte
	corruptRTP func(int, []*rtp.Packet) []*rtp.Packet
	waitPlay   bool
	log        *slog.Logger
}

func (s *Server) config() (config, error) {
	c := config{
		address:    s.Address,
		path:       s.pathOrDefault(),
		clip:       s.Clip,
		fps:        s.FPS,
		inBand:     s.InBandParameterSets,
		tcpOnly:    s.TCPOnly,
		username:   s.Username,
		password:   s.Password,
		allowBasic: s.AllowBasicAuth,
		corrupt:    s.Corrupt,
		corruptRTP: s.CorruptRTP,
		waitPlay:   s.StartOnFirstPlay,
		log:        s.Logger,
	}
	if c.address == "" {
		c.address = DefaultAddress
	}
	if c.clip == nil {
		return c, errors.New("demo server: Clip is required")
	}
	if c.clip.Len() == 0 {
		return c, errors.New("demo server: Clip is empty (make it with ParseClip or LoadClip)")
	}
	if c.fps == 0 {
		c.fps = c.clip.FPS()
	}
	if c.fps < 1 || c.fps > MaxFPS {
		return c, fmt.Errorf("demo server: FPS %d out of range 1..%d", c.fps, MaxFPS)
	}
	if c.username == "" && c.password != "" {
		return c, errors.New("demo server: Password is set but Username is empty")
	}
	if c.log == nil {
		c.log = slog.Default()
	}
	c.log = c.log.With("component", "demo")
	return c, nil
}

func isPortZero(addr string) bool {
	_, port, err := net.SplitHostPort(addr)
	return err == nil && (port == "0" || port == "")
}

// streamURL builds rtsp://host:port/path, replacing an unspecified host
// (":8554", "0.0.0.0", "::") with loopback so the URL can be dialled.
func streamURL(addr, path string) *url.URL {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		host, port = addr, ""
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	return &url.URL{Scheme: "rtsp", Host: net.JoinHostPort(host, port), Path: "/" + path}
}

// redactedURL is the URL for logs: never with credentials.
func redactedURL(addr, path string) string { return streamURL(addr, path).String() }

// playSettle is how long the pacer waits after the first PLAY before it
// sends: gortsplib activates the reader after OnPlay returns, and a frame
// written before that would not reach it.
const playSettle = 50 * time.Millisecond

// waitForPlay blocks until the first PLAY (plus playSettle) or until ctx
// ends; it reports whether streaming should start.
func waitForPlay(ctx context.Context, played <-chan struct{}) bool {
	select {
	case <-played:
	case <-ctx.Done():
		return false
	}
	select {
	case <-time.After(playSettle):
		return true
	case <-ctx.Done():
		return false
	}
}
