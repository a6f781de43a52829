// Package gateway is camgate's HTTP face: the Gin server, auth, CORS, the
// host and client-address checks, /metrics, the console, and (for now) the
// XProtect REST and WebSocket signaling over the sessions of package rtc.
package gateway

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/camgate/camgate/appsettings"
	"github.com/camgate/camgate/cameras"
	"github.com/camgate/camgate/gateway/clientaddr"
	"github.com/camgate/camgate/gateway/openapi"
	"github.com/camgate/camgate/gateway/rtc"
	"github.com/camgate/camgate/gateway/signaling"
	"github.com/camgate/camgate/oauth"
	"github.com/camgate/camgate/playback"
	"github.com/camgate/camgate/ptz"
)

// Gateway serves the API and the web console.
type Gateway struct {
	log      *slog.Logger
	cameras  *cameras.Registry
	sessions *rtc.Manager
	auth     Authenticator
	cors     *corsPolicy
	// api holds the signaling and resource handlers, and the WebSockets.
	api *signaling.API
	// clients resolves every request's client address (clientAddr).
	clients *clientaddr.Resolver
	handler http.Handler
	// metrics serves /metrics, /healthz and /readyz (metrics*.go).
	metrics *gatewayMetrics
	// ptz is nil when no camera has PTZ.
	ptz *ptz.Registry
	// store is the recording store (nil: no playback, no recordings API).
	store *playback.Store

	// httpCfg holds the server's timeouts and limits; conns counts the
	// listener's connections, requests the requests in flight
	// (httpserver.go, connlimit.go).
	httpCfg  appsettings.HTTP
	conns    *connLimiter
	requests *requestTracker
	// stopOnce runs the shutdown once (stop); its result is kept for later
	// calls.
	stopOnce   sync.Once
	stopReport ShutdownReport
	stopErr    error

	ln       net.Listener
	srv      *http.Server
	done     chan struct{}
	serveErr error // why serving stopped on its own; read after done
	hurry    context.Context
}

// Config is the gateway's part of the settings (cmd/camgate fills it from
// appsettings.Settings; each field's units and defaults are the
// setting's, docs/configuration.md).
type Config struct {
	HTTP      appsettings.HTTP      // listener, timeouts, connection limits, trusted proxies, allowed hosts
	CORS      appsettings.CORS      // cross-origin callers of the API
	Metrics   appsettings.Metrics   // who may read /metrics
	WebRTC    appsettings.WebRTC    // the media sockets and ICE policy (rtcConfig)
	Limits    appsettings.Limits    // session admission (rtcConfig)
	WebSocket appsettings.WebSocket // the XProtect WebSocket API (signaling.New)
	// SessionGrace is Auth.SessionGrace: how long a session outlives its
	// token's expiry before it is closed.
	SessionGrace time.Duration
	// Issuer is Auth.BuiltIn.Issuer: its host is one of the names the Host
	// check answers to. Empty: none.
	Issuer string
}

// Options are a Gateway's configuration and dependencies.
type Options struct {
	Config  Config
	Cameras *cameras.Registry
	// Auth verifies bearer tokens and serves the identity provider.
	// Required: every API endpoint but the IDP's needs a token.
	Auth Authenticator
	// Web is the static console served at "/". Nil serves nothing there.
	Web fs.FS
	// PTZ holds the PTZ controllers (ptz.NewRegistry, built by the
	// caller); commands on the data channel and the REST PTZ endpoints go
	// to them, and GET …/ptz shows each controller's Config. Nil: no
	// camera has PTZ. The caller runs it (Registry.Run) and ends it after
	// the gateway.
	PTZ *ptz.Registry
	// Store is the recording store (playback.NewStore) that playback
	// sessions and the recordings endpoints read. Nil: playback answers
	// 501. The caller closes it after the gateway.
	Store *playback.Store
	Log   *slog.Logger
	// Listener is where Run serves (camgate opens it first, to know its
	// address before the identity provider is built). Nil: Run fails;
	// Serve takes its own.
	Listener net.Listener
	// Hurry ends to cut Run's graceful shutdown short: the drain and the
	// wait for requests in flight end at once (camgate: a second signal).
	// Nil: never.
	Hurry context.Context
}

// New builds the gateway and binds its media sockets; Run serves on
// Options.Listener until its ctx ends (Serve serves in the background,
// for tests; Close or Shutdown then stop it).
func New(o Options) (*Gateway, error) {
	log := o.Log.With("component", "gateway")
	if o.Auth == nil {
		return nil, errors.New("gateway: Options.Auth is required")
	}
	clients, err := clientaddr.New(o.Config.HTTP)
	if err != nil {
		return nil, fmt.Errorf("gateway: %w", err)
	}
	g := &Gateway{log: log, cameras: o.Cameras, auth: o.Auth, clients: clients, done: make(chan struct{}),
		ln: o.Listener, hurry: o.Hurry}
	if g.hurry == nil {
		g.hurry = context.Background()
	}
	g.ptz, g.store = o.PTZ, o.Store
	g.metrics = newGatewayMetrics(g, o.Config.Metrics)
	sessions, err := rtc.New(rtcConfig(o.Config), rtc.Deps{Cameras: o.Cameras, PTZ: o.PTZ, Store: o.Store, Metrics: g.metrics.sessions, Codec: signaling.CommandCodec{}, Log: log, Renew: signaling.RenewOwners(renewOf(o.Auth))})
	if err != nil {
		return nil, err
	}
	g.sessions = sessions
	g.httpCfg, g.requests = o.Config.HTTP, newRequestTracker()
	g.conns = newConnLimiter(o.Config.HTTP, clients, log)
	g.metrics.reg.MustRegister(g.conns.collectors()...)
	g.cors = newCORSPolicy(o.Config.CORS)
	g.api = signaling.New(o.Config.WebSocket, signaling.Deps{
		Sessions: sessions, Auth: o.Auth, Cameras: o.Cameras, PTZ: o.PTZ, Store: o.Store,
		Metrics: g.metrics.sessions, Clients: clients,
		OriginAllowed: g.wsOriginAllowed, Upgraded: markWebSocket, StartExport: g.startExport,
		Log: log,
	})
	g.handler = g.trackRequests(g.checkHost(o.Config, caseInsensitiveAPI(g.cors.wrap(g.routes(o.Web)))))
	return g, nil
}

func (g *Gateway) routes(web fs.FS) *gin.Engine {
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.RedirectTrailingSlash = false
	r.RedirectFixedPath = false
	r.HandleMethodNotAllowed = true
	// gin's c.ClientIP() is not used: clientAddr is the one place that
	// reads forwarding headers, for every consumer. Trusting no proxy
	// here keeps c.ClientIP() the TCP peer should anything call it.
	_ = r.SetTrustedProxies(nil)
	r.Use(g.recoverJSON, g.accessLog)
	g.monitoringRoutes(r)

	// The identity provider answers without a token, as XProtect's does.
	idp := r.Group("/api/idp")
	// Any method: the token endpoint answers a GET with its own OAuth-shaped
	// error rather than the API's 405.
	idp.Any("/connect/token", gin.WrapF(g.handleToken))
	idp.GET("/.well-known/openid-configuration", gin.WrapF(g.auth.HandleDiscovery))
	idp.GET("/.well-known/jwks", gin.WrapF(g.auth.HandleJWKS))

	// The API's description needs no token: it is public knowledge and holds
	// no secret (docs/security.md).
	r.GET("/api/openapi.json", func(c *gin.Context) {
		c.Data(http.StatusOK, "application/json", openapi.Document)
	})

	// WebSocket signaling takes its token in the register message.
	r.GET("/api/ws/webrtc/v1", g.api.ServeWebSocket)

	api := r.Group("/api", g.requireAuth)
	webrtc := api.Group("/rest/v1/webrtc")
	webrtc.POST("/session", g.api.PostSession)
	webrtc.PATCH("/session/:id", g.api.PatchSession)
	webrtc.DELETE("/session/:id", g.api.DeleteSession)
	webrtc.PUT("/session", g.api.PatchSession)             // 2022 R3 README wording
	webrtc.PATCH("/webrtcsession/:id", g.api.PatchSession) // 2023 R1–R2 sample token refresh
	webrtc.GET("/icecandidates/:id", g.api.GetCandidates)
	webrtc.POST("/icecandidates/:id", g.api.PostCandidates)
	api.GET("/rest/v1/cameras", g.api.GetCameras)
	api.GET("/rest/v1/cameras/:id", g.api.GetCamera)
	api.GET("/rest/v1/cameras/:id/ptz", g.api.GetPTZ)
	api.POST("/rest/v1/cameras/:id/ptz/:operation", g.api.PostPTZ)
	api.GET("/rest/v1/cameras/:id/recordings", g.api.GetRecordings)
	api.GET("/rest/v1/cameras/:id/recordings/export", g.api.GetRecordingExport)
	// The 2025 sample's token refresh in WebSocket mode (docs/api.md).
	api.PATCH("/ws/webrtc/v1/session/:id", g.api.PatchSession)

	static := http.FileServerFS(web)
	r.NoRoute(func(c *gin.Context) {
		if isAPIPath(c.Request.URL.Path) || web == nil {
			signaling.WriteError(c, signaling.Errorf(http.StatusNotFound, "no such endpoint: %s %s", c.Request.Method, c.Request.URL.Path))
			return
		}
		static.ServeHTTP(c.Writer, c.Request)
	})
	r.NoMethod(func(c *gin.Context) {
		signaling.WriteError(c, signaling.Errorf(http.StatusMethodNotAllowed, "method %s is not allowed on %s", c.Request.Method, c.Request.URL.Path))
	})
	return r
}

func isAPIPath(p string) bool { return len(p) >= 4 && p[:4] == "/api" && (len(p) == 4 || p[4] == '/') }

// recoverJSON turns a panic in a handler into a 500 JSON error; a bug must
// not take down other viewers.
func (g *Gateway) recoverJSON(c *gin.Context) {
	defer func() {
		if v := recover(); v != nil {
			g.log.Error("handler panic", "panic", fmt.Sprint(v), "path", c.Request.URL.Path)
			signaling.WriteError(c, errors.New("panic"))
		}
	}()
	c.Next()
}

func (g *Gateway) accessLog(c *gin.Context) {
	start := time.Now()
	c.Next()
	if c.Writer.Status() >= 400 {
		g.log.Info("request failed", "method", c.Request.Method, "path", c.Request.URL.Path,
			"status", c.Writer.Status(), "client", g.clientAddr(c.Request),
			"duration", time.Since(start).Round(time.Microsecond))
	}
}

// handleToken is the identity provider's token endpoint, told the client
// address so that its sign-in rate limit counts what every other part of
// the gateway sees.
func (g *Gateway) handleToken(w http.ResponseWriter, r *http.Request) {
	g.auth.HandleToken(w, r.WithContext(oauth.WithClientAddress(r.Context(), g.clientAddr(r))))
}

// clientAddr is the address of the client that sent r, for every use the
// gateway has for it: sessions' mDNS substitution (REST and WebSocket), the
// sign-in rate limit, Metrics.AllowFrom and the log. It is the TCP peer,
// unless the peer is in Http.TrustedProxies; then it is the address the
// proxies forwarded in Http.ForwardedHeader (see clientaddr.Resolver).
func (g *Gateway) clientAddr(r *http.Request) netip.Addr { return g.clients.Addr(r) }

// Handler is the gateway's HTTP handler, for tests and embedding.
func (g *Gateway) Handler() http.Handler { return g.handler }

// Serve serves on a listener the caller opened (camgate opens it first to
// know its address before the identity provider is built), in the
// background, within the Http settings' timeouts and connection limits.
func (g *Gateway) Serve(ln net.Listener) {
	g.ln = ln
	g.serve()
}

// serve serves on g.ln in the background (Serve, Run).
func (g *Gateway) serve() {
	g.srv = g.newServer()
	limited := g.conns.wrap(g.ln, openFileLimit())
	go func() {
		defer close(g.done)
		if err := g.srv.Serve(limited); err != nil && !errors.Is(err, http.ErrServerClosed) {
			g.serveErr = err
			g.log.Error("http server stopped", "error", err)
		}
	}()
}

// Run serves on Options.Listener until ctx ends, then shuts down as
// camgate does on SIGTERM (Shutdown: /readyz answers 503 for
// Http.DrainPeriod, the listener closes, sessions and WebSockets are told
// that camgate shuts down, requests in flight get Http.ShutdownTimeout,
// the media sockets close); Options.Hurry cuts that short. It returns when
// every goroutine of the gateway has exited. Requests cut at the deadline
// are logged, not an error. When serving stops on its own (the listener
// fails), Run shuts down at once and returns the error.
func (g *Gateway) Run(ctx context.Context) error {
	if g.ln == nil {
		return errors.New("gateway: Run needs Options.Listener")
	}
	if ctx.Err() != nil {
		// camgate failed before the gateway served: nobody to drain for.
		_ = g.ln.Close()
		_, err := g.stop(g.hurry)
		return err
	}
	g.serve()
	select {
	case <-ctx.Done():
	case <-g.done:
		_, _ = g.stop(g.hurry)
		return fmt.Errorf("gateway: serving stopped: %w", g.serveErr)
	}
	g.log.Info("shutting down", "drainPeriod", time.Duration(g.httpCfg.DrainPeriod).String(),
		"shutdownTimeout", time.Duration(g.httpCfg.ShutdownTimeout).String())
	rep, err := g.Shutdown(g.hurry)
	if err != nil {
		return fmt.Errorf("gateway: shutdown: %w", err)
	}
	if !rep.Cut() {
		g.log.Info("shutdown: every request finished")
	}
	return nil
}

// Addr is the address the gateway listens on.
func (g *Gateway) Addr() net.Addr { return g.ln.Addr() }

// MediaPort is the UDP port that carries every session's media.
func (g *Gateway) MediaPort() int { return g.sessions.MediaPort() }

// SessionCount is the number of open sessions.
func (g *Gateway) SessionCount() int { return g.sessions.Count() }

// Close stops serving at once (no drain), ends every session and
// WebSocket, gives the requests in flight until ctx ends, cuts what is left
// (logged; see Shutdown) and releases the media sockets. It returns when
// all of the gateway's goroutines have exited.
func (g *Gateway) Close(ctx context.Context) error {
	_, err := g.stop(ctx)
	return err
}

// rtcConfig is the one mapping of the settings onto rtc.Config: rtc takes
// typed, parsed values and never reads settings strings itself, so that
// parsing stays where Validate checked it at load (appsettings).
func rtcConfig(c Config) rtc.Config {
	return rtc.Config{
		WebRTC:       rtcMediaConfig(c.WebRTC),
		Limits:       rtc.LimitsConfig(c.Limits),
		SessionGrace: c.SessionGrace,
	}
}

// rtcMediaConfig maps the WebRTC settings.
func rtcMediaConfig(w appsettings.WebRTC) rtc.MediaConfig {
	cfg := rtc.MediaConfig{
		UDPPort:                 w.UdpPort,
		TCPPort:                 w.TcpPort,
		PublicIPs:               w.PublicIPs,
		Interfaces:              w.Interfaces,
		IPs:                     appsettings.ParsePrefixes(w.IPs),
		IncludeLoopback:         w.IncludeLoopback,
		IPv6:                    w.IPv6,
		MDNS:                    rtc.MDNSDisabled,
		GatherTimeout:           time.Duration(w.GatherTimeout),
		AnswerTimeout:           time.Duration(w.AnswerTimeout),
		RtpClock:                rtc.RTPClockMs,
		ViewerQueueFrames:       w.ViewerQueueFrames,
		MaxRemoteCandidates:     w.MaxRemoteCandidates,
		MaxCandidatesPerRequest: w.MaxCandidatesPerRequest,
		MaxClientIceServers:     w.MaxClientIceServers,
		ICEHosts:                rtc.ICEHostSyntax{Normalize: appsettings.NormalizeIceHost, Usable: appsettings.NamesOneIceHost},
	}
	if w.MDNS == appsettings.MDNSQuery {
		cfg.MDNS = rtc.MDNSQuery
	}
	if w.RtpClock == appsettings.RtpClock90kHz {
		cfg.RtpClock = rtc.RTPClock90kHz
	}
	for _, s := range w.IceServers {
		cfg.IceServers = append(cfg.IceServers, rtc.ICEServer{URLs: s.Urls, Username: s.Username, Credential: s.Credential})
	}
	for _, e := range w.ClientIceServerHosts {
		// Validate refused any entry that does not parse.
		if h, err := appsettings.ParseIceHost(e); err == nil {
			cfg.ClientIceServerHosts = append(cfg.ClientIceServerHosts, h)
		}
	}
	return cfg
}
