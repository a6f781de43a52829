package appsettings

import "time"

// The values of Http.ForwardedHeader, in the spelling Validate rewrites them
// to.
const (
	// HeaderXForwardedFor is the de-facto standard chain "client, proxy1,
	// proxy2": each proxy appends the address it received the request from.
	HeaderXForwardedFor = "X-Forwarded-For"
	// HeaderXRealIP holds one address, set by the one proxy in front of
	// camgate (nginx's proxy_set_header X-Real-IP $remote_addr).
	HeaderXRealIP = "X-Real-IP"
)

// defaultHTTP is the Http part of Defaults. TrustedProxies and
// AllowedHosts are empty lists, not nil, because a layer that sets one
// replaces it whole (as the decoder then leaves an empty list, not nil).
func defaultHTTP() HTTP {
	return HTTP{
		Listen:          "127.0.0.1:8080",
		TrustedProxies:  []string{},
		ForwardedHeader: HeaderXForwardedFor,
		AllowedHosts:    []string{},

		IdleTimeout:              Duration(2 * time.Minute),
		ReadTimeout:              Duration(10 * time.Second),
		WriteTimeout:             Duration(30 * time.Second),
		ExportTimeout:            Duration(time.Hour),
		MaxConnectionsPerAddress: 128,
		MaxConnections:           4096,
		DrainPeriod:              Duration(3 * time.Second),
		ShutdownTimeout:          Duration(5 * time.Second),
	}
}
