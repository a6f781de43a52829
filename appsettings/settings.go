// Package appsettings holds camgate's settings: their types and defaults, the
// layering of appsettings.json, appsettings.{Environment}.json and
// CAMGATE__Section__Key environment variables, the strict decoder that names
// the path of an unknown key, and Validate, which names the field and the rule
// that a value breaks.
//
// It imports only the standard library so that every other package may use it.
package appsettings

import "time"

// Settings is the whole of camgate's configuration. The zero value is not
// usable; start from Defaults().
type Settings struct {
	// Http is the HTTP listener that serves the API and the web console.
	Http HTTP
	// WebRTC tunes media delivery to browsers.
	WebRTC WebRTC
	// Cameras lists the RTSP cameras camgate pulls. Default: none.
	Cameras []Camera
	// DataDir is the folder for camgate's own state (signing keys,
	// recordings). Relative paths are relative to the working directory.
	// Default: "data".
	DataDir string
	// Auth is sign-in and access control.
	Auth Auth
	// CORS is the cross-origin policy for web portals on other origins.
	CORS CORS
	// WebSocket is the WebSocket signaling endpoint.
	WebSocket WebSocket
	// Limits bounds the sessions of one user, one client address and the
	// whole process.
	Limits Limits
	// Recording is continuous recording, retention and playback.
	Recording Recording
	// Metrics is the Prometheus endpoint /metrics and who may scrape it.
	Metrics Metrics
	// Logging selects what is logged.
	Logging Logging
}

// HTTP configures the HTTP server.
type HTTP struct {
	// Listen is the TCP address (host:port) of the API and the console.
	// Default: "127.0.0.1:8080". Port 0 picks a free port.
	Listen string
	// TrustedProxies lists the reverse proxies (IP addresses or CIDR
	// ranges, such as "10.0.0.5" or "10.0.0.0/24") whose ForwardedHeader
	// camgate believes. Only a request whose TCP peer is in the list has
	// its client address taken from that header: the right-most address
	// of X-Forwarded-For that is not itself a trusted proxy. That address
	// is what the sign-in rate limit counts, Metrics.AllowFrom checks, the
	// mDNS substitution of sessions uses and the log shows. A layer that
	// sets it replaces the whole list, as Metrics.AllowFrom. Default: none
	// (every forwarding header is ignored; the client is the TCP peer).
	TrustedProxies []string `merge:"replace"`
	// ForwardedHeader is the request header that carries the client
	// address from a trusted proxy: "X-Forwarded-For" (a comma-separated
	// chain, one address appended by each proxy) or "X-Real-IP" (one
	// address, set by a single proxy). Only read from TrustedProxies.
	// Default: "X-Forwarded-For".
	ForwardedHeader ForwardedHeader
	// AllowedHosts lists the host names (without port) by which clients
	// reach camgate, in addition to those always allowed: "localhost" and
	// names under ".localhost", every literal IP address, the host of
	// Http.Listen and of Auth.BuiltIn.Issuer, and the machine's host name.
	// A request whose Host header names anything else is refused with 421,
	// so that a web page on a name its owner controls cannot reach camgate
	// by DNS rebinding. "*.example.com" allows every name under
	// example.com (not example.com itself); "*" allows every name and turns
	// the check off. The port of the Host header is not checked. Behind a
	// reverse proxy that forwards the public Host, list the public name. A
	// layer that sets it replaces the whole list. Default: none.
	AllowedHosts []string `merge:"replace"`

	// IdleTimeout is how long a keep-alive connection may wait for its
	// next request before camgate closes it. Behind a load balancer, keep
	// the balancer's idle timeout for its connections to camgate shorter.
	// Default: "2m".
	IdleTimeout Duration
	// ReadTimeout is how long a client may take to send a whole request,
	// headers and body, from its first byte; a connection that is slower
	// is closed. Every request camgate takes is small (sign-in, session
	// offers and answers, candidates). Default: "10s".
	ReadTimeout Duration
	// WriteTimeout is how long camgate may take to answer a request, from
	// the end of its headers to the last byte of the answer, and, for an
	// export download, how long one piece of it may wait for the client to
	// take it. WebSockets are exempt once upgraded (their pings tell a dead
	// client). Must be longer than WebRTC.GatherTimeout, which a new
	// session's answer waits for. Default: "30s".
	WriteTimeout Duration
	// ExportTimeout is how long an export download
	// (…/recordings/export) may take from its request to its last byte; a
	// download still running then is cut. Default: "1h".
	ExportTimeout Duration
	// MaxConnectionsPerAddress is how many TCP connections one client
	// address (an IPv6 client by its /64) may have open at once; a
	// connection beyond it is answered 429 and closed. A peer in
	// TrustedProxies is exempt: every client behind it shares its
	// address. Default: 128.
	MaxConnectionsPerAddress int
	// MaxConnections is how many TCP connections camgate keeps open at
	// once, from every client together; a connection beyond it is
	// answered 503 and closed. camgate lowers it to half its open-file
	// limit when that is less, so that sessions, cameras and recordings
	// keep file descriptors. Default: 4096.
	MaxConnections int
	// DrainPeriod is how long camgate keeps serving after SIGTERM or
	// SIGINT while /readyz answers 503, so that a load balancer moves
	// clients elsewhere before the listener closes. "0s": no drain.
	// Default: "3s".
	DrainPeriod Duration
	// ShutdownTimeout is how long requests in flight (a download, a slow
	// client) get to finish after the drain, once the listener has closed;
	// what still runs then is cut and logged, and camgate exits 0.
	// Default: "5s".
	ShutdownTimeout Duration
}

// WebRTC configures the WebRTC media path shared by every session.
type WebRTC struct {
	// IceServers are STUN/TURN servers camgate uses to gather its own
	// candidates, in addition to those a client sends with its request
	// (clients may name these, see ClientIceServerHosts). Each entry takes
	// "url" or "urls" (a string or a list). Default: none.
	IceServers []IceServer
	// UdpPort is the one UDP port that carries the media of every session
	// (ICE UDP mux). Default: 8189. 0 picks a free port at start-up.
	UdpPort int
	// TcpPort is the port for ICE over TCP, for clients that cannot use UDP.
	// camgate only accepts ICE-TCP connections; it never dials a client's
	// TCP candidates. Default: 0 (off).
	TcpPort int
	// PublicIPs are the addresses to advertise in place of the host
	// addresses when camgate sits behind a 1:1 NAT; each family maps on
	// its own (IPv6 entries need IPv6). Default: none.
	PublicIPs []string
	// Interfaces keeps host candidates to these network interface names
	// (for example "eth0"). Default: none, which means every interface.
	Interfaces []string
	// IPs keeps host candidates to these addresses or CIDR ranges, of
	// either family (for example "192.168.1.0/24", "2001:db8:1::/64"; IPv6
	// entries need IPv6). Default: none, which means every address.
	IPs []string
	// IncludeLoopback adds loopback addresses (127.0.0.1, and ::1 with
	// IPv6) to the candidates so that a browser on the same machine can
	// connect over loopback. Default: true.
	IncludeLoopback bool
	// IPv6 also offers the host's IPv6 addresses as candidates (UDP, and
	// TCP when TcpPort is set) and substitutes an IPv6 signaling address
	// for a browser's mDNS candidate, so that dual-stack and IPv6-only
	// clients connect. Link-local addresses (fe80::/10) are never offered.
	// A host without a usable IPv6 address stays IPv4 only. Default: true.
	IPv6 bool
	// MDNS decides what camgate does with browsers' mDNS ".local" host
	// candidates: "disabled" ignores them (camgate tries the address the
	// signaling request came from in their place, and peer-reflexive
	// candidates still connect); "query" also resolves them on the local
	// network, at the cost of about 4 sockets per session (pion opens
	// multicast sockets for every peer connection). Default: "disabled".
	MDNS MDNSMode
	// GatherTimeout bounds how long camgate waits for its own ICE gathering
	// (STUN/TURN) before it answers a session request with the offer.
	// Default: "2s".
	GatherTimeout Duration
	// AnswerTimeout is how long a session waits for the client's SDP answer
	// before it is closed. Browsers and go2rtc answer within a second; an
	// unanswered session holds a place of Limits.PendingSessionsPerUser
	// this long. Default: "10s".
	AnswerTimeout Duration
	// RtpClock is the unit of video RTP timestamps: "ms" counts milliseconds
	// since the session started, as Milestone XProtect does and its web
	// client expects; "90kHz" is the standard H.264 clock. It is the clock
	// of browser clients only: relays and WHEP players get 90 kHz
	// (docs/clients.md). Default: "ms".
	RtpClock RtpClock
	// ViewerQueueFrames is the number of video frames a slow viewer may have
	// waiting before it skips to the next keyframe. Default: 128.
	ViewerQueueFrames int
	// MaxRemoteCandidates is how many ICE candidates a client may give one
	// session over its whole life: before and after the answer, over REST
	// and WebSocket, and inside the answer SDP. camgate sends connectivity
	// checks to each, so the cap bounds the traffic one session can aim at
	// addresses the client names. A browser sends a handful per network
	// interface. Default: 64 (candidates).
	MaxRemoteCandidates int
	// MaxCandidatesPerRequest is how many candidates one POST
	// …/IceCandidates/{id} may carry. Default: 32 (candidates).
	MaxCandidatesPerRequest int
	// MaxClientIceServers is how many STUN/TURN servers a client may name
	// in the iceServers of a session request: at most this many entries,
	// and this many URLs in all. camgate contacts each for the session's
	// own gathering. 0 refuses any. Default: 4 (entries, and URLs).
	MaxClientIceServers int
	// ClientIceServerHosts are the STUN/TURN hosts a client may name in
	// iceServers besides the servers of IceServers (whose host and port
	// are always allowed): "host" allows the standard ports 3478 and 5349,
	// "host:port" that port; "*" is any host (on the standard ports, "*:port"
	// on that port), which lets every Live user make camgate contact any
	// address it can reach. Default: none (only the servers of IceServers).
	ClientIceServerHosts []string
}

// IceServer is one STUN or TURN server.
type IceServer struct {
	// Urls are the server's URLs ("stun:host:port", "turn:host:port").
	// The key "url" (singular) is accepted as an alias.
	Urls []string
	// Username for TURN. Default: "".
	Username string
	// Credential for TURN. Never logged. Default: "".
	Credential string
}

// Camera is one RTSP camera.
type Camera struct {
	// Id is the camera's GUID, the deviceId clients ask for. Required.
	Id string
	// Name is shown to operators. Default: the Id.
	Name string
	// Streams are the camera's RTSP streams. At least one is required.
	Streams []Stream
	// Transport is the RTSP transport: "udp", "tcp" or "auto" (UDP first,
	// TCP when no UDP packet arrives). Default: "auto".
	Transport Transport
	// Recording is the camera's continuous recording (of its default
	// stream). Default: off.
	Recording CameraRecording
	// Ptz is the camera's pan-tilt-zoom control. Default: none.
	Ptz Ptz
}

// Stream is one RTSP stream of a camera.
type Stream struct {
	// Id is the stream's GUID, the streamId clients may ask for. Required.
	Id string
	// Name is shown to operators. Default: "".
	Name string
	// Url is the RTSP URL ("rtsp://user:password@host:554/path"). The
	// credentials in it are used for Basic or Digest authentication and are
	// never logged or shown. Required.
	Url string
	// Default marks the stream a session gets when it names no streamId.
	// Default: false; when no stream of a camera is marked, the first one is
	// the default.
	Default bool
}

// Logging configures the log.
type Logging struct {
	// Level is "debug", "info", "warn" or "error". Default: "info".
	Level LogLevel
}

// Duration is a time.Duration written as a Go duration string ("30s",
// "400ms", "1h") in settings files and environment variables.
type Duration time.Duration

// Defaults returns the built-in settings, used when no config folder is given
// and as the base that files and environment variables override.
func Defaults() Settings {
	return Settings{
		Http: defaultHTTP(),
		WebRTC: WebRTC{
			UdpPort:           8189,
			IncludeLoopback:   true,
			IPv6:              true,
			MDNS:              MDNSDisabled,
			GatherTimeout:     Duration(2 * time.Second),
			AnswerTimeout:     Duration(10 * time.Second),
			RtpClock:          RtpClockMs,
			ViewerQueueFrames: 128,
			// A browser gathers a few candidates per interface, family
			// and protocol, plus one per STUN/TURN server: a few dozen
			// at most.
			MaxRemoteCandidates:     64,
			MaxCandidatesPerRequest: 32,
			// The XProtect samples send at most a STUN and a TURN entry.
			MaxClientIceServers: 4,
		},
		DataDir:   "data",
		Auth:      defaultAuth(),
		CORS:      defaultCORS(),
		WebSocket: defaultWebSocket(),
		Limits:    defaultLimits(),
		Recording: defaultRecording(),
		Metrics:   defaultMetrics(),
		Logging:   Logging{Level: LogInfo},
	}
}
