// Package signaling is camgate's signaling: one adapter per protocol over
// the one session API of package rtc. Today these are the XProtect REST
// contract (rest.go, binding.go) and the XProtect WebSocket JSON-RPC
// contract (ws*.go); camgate's own REST resources (cameras, PTZ,
// recordings and export) share the REST error table. Each protocol maps
// rtc's typed errors, and the domain errors of playback and ptz, in
// exactly one table: errors.go for HTTP, rpcErrorOf (wsproto.go) for
// JSON-RPC.
//
// Every wire format lives here: the lenient JSON binding XProtect clients
// rely on (flexjson.go), the SDP and candidate strings (sdp_json.go), and
// the commands data channel's messages (commands_codec.go), which rtc uses
// through rtc.CommandCodec. A new protocol (WHEP, WHIP, events) is one more
// adapter here; rtc does not change.
//
// The HTTP shell (package gateway) routes the requests to the handlers of
// API and runs the server.
package signaling

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/camgate/camgate/appsettings"
	"github.com/camgate/camgate/cameras"
	"github.com/camgate/camgate/gateway/clientaddr"
	"github.com/camgate/camgate/gateway/rtc"
	"github.com/camgate/camgate/playback"
	"github.com/camgate/camgate/ptz"
)

// API holds the handlers of the signaling protocols and the REST resources,
// and the open WebSockets.
type API struct {
	log      *slog.Logger
	sessions *rtc.Manager
	auth     Authenticator
	cameras  *cameras.Registry
	// ptz is nil when no camera has PTZ; store is nil without a recording
	// store (no playback, no recordings API).
	ptz     *ptz.Registry
	store   *playback.Store
	metrics *rtc.Metrics
	clients *clientaddr.Resolver
	ws      *wsHub

	originAllowed func(*http.Request) bool
	upgraded      func(*http.Request)
	startExport   func(*http.Request) (ExportPacer, context.Context, context.CancelFunc)
	// configured is when the cameras were read from the settings: the
	// createdDate and lastModified of every camera (cameras.go).
	configured time.Time
}

// Deps are an API's collaborators, most of them the HTTP shell's.
type Deps struct {
	Sessions *rtc.Manager
	// Auth verifies the tokens of WebSocket registers and PATCH bodies
	// (REST requests come through the shell's auth middleware).
	Auth    Authenticator
	Cameras *cameras.Registry
	PTZ     *ptz.Registry
	Store   *playback.Store
	// Metrics counts the PTZ calls of the REST API; nil: not counted.
	Metrics *rtc.Metrics
	// Clients resolves a request's client address.
	Clients *clientaddr.Resolver
	// OriginAllowed is the WebSocket upgrade's origin check (the CORS
	// policy's).
	OriginAllowed func(*http.Request) bool
	// Upgraded tells the shell that a request became a WebSocket (no
	// deadline of the server's applies to it any more). Optional.
	Upgraded func(*http.Request)
	// StartExport gives an export download its deadlines (Http.WriteTimeout
	// per piece, Http.ExportTimeout in all) and a context that ends with
	// them.
	StartExport func(*http.Request) (ExportPacer, context.Context, context.CancelFunc)
	Log         *slog.Logger
}

// ExportPacer writes a download in pieces, each under its own deadline.
type ExportPacer interface {
	Write(w io.Writer, b []byte) (int, error)
}

// New builds the API. cfg is the WebSocket API's limits.
func New(cfg appsettings.WebSocket, d Deps) *API {
	return &API{
		log: d.Log, sessions: d.Sessions, auth: d.Auth, cameras: d.Cameras, ptz: d.PTZ, store: d.Store,
		metrics: d.Metrics, clients: d.Clients, ws: newWSHub(cfg),
		originAllowed: d.OriginAllowed, upgraded: d.Upgraded, startExport: d.StartExport,
		configured: time.Now().UTC(),
	}
}

// CloseWebSockets closes every WebSocket ("going away") and waits until
// their goroutines have exited; new ones are refused from then on. A
// socket still open when ctx ends is cut; it returns how many were.
func (a *API) CloseWebSockets(ctx context.Context) int { return a.ws.closeAll(ctx) }
