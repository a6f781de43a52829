package appsettings

import "time"

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
