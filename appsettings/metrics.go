package appsettings

// Metrics configures the Prometheus endpoint GET /metrics. The health
// endpoints /healthz and /readyz are always on and need nothing.
//
// Who may scrape: a caller whose client address (the TCP peer, or behind a
// proxy in Http.TrustedProxies the address it forwards) is in AllowFrom,
// without a token; anyone else with a bearer token that has the Admin
// right on at least one camera, while RequireRight is true (401 without a
// valid token, 403 without the right), or without a token when
// RequireRight is false.
type Metrics struct {
	// Enabled serves /metrics. Default: true. When false, /metrics answers
	// 404.
	Enabled bool
	// AllowFrom lists the addresses and CIDR ranges ("10.0.0.0/8",
	// "192.0.2.7", "::1/128") that may scrape without a token. A layer
	// that sets it replaces the whole list (so [] empties it), unlike
	// other lists. Default: ["127.0.0.1/32", "::1/128"] (this machine).
	AllowFrom []string `merge:"replace"`
	// RequireRight makes every other caller present a bearer token with
	// the Admin right on some camera (or "*"). False lets anyone who can
	// reach Http.Listen scrape without a token. Default: true.
	RequireRight bool
}

// defaultMetrics is the Metrics part of Defaults.
func defaultMetrics() Metrics {
	return Metrics{
		Enabled:      true,
		AllowFrom:    []string{"127.0.0.1/32", "::1/128"},
		RequireRight: true,
	}
}
