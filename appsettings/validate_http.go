package appsettings

import (
	"strings"
	"time"
)

// http checks the listener and the trusted proxies (Normalize writes each
// proxy entry as a CIDR range, as Metrics.AllowFrom).
func (v *validator) http(h *HTTP) {
	v.hostPort("Http.Listen", h.Listen)
	v.allowedHosts(h.AllowedHosts)
	for i, raw := range h.TrustedProxies {
		if _, problem := proxyRange(raw); problem != "" {
			v.fail(indexPath("Http.TrustedProxies", i), problem)
		}
	}
	if isRFC7239(string(h.ForwardedHeader)) {
		v.fail("Http.ForwardedHeader", rfc7239Unsupported)
		return
	}
	enumValid(v, "Http.ForwardedHeader", h.ForwardedHeader)
	v.httpLimits(h)
}

// proxyRange is an entry of Http.TrustedProxies as a CIDR range, or what is
// wrong with it.
func proxyRange(raw string) (string, string) {
	entry := strings.TrimSpace(raw)
	p, problem := allowPrefix(entry)
	switch {
	case problem != "":
		return "", problem
	case p.Bits() == 0:
		// Every address would be a proxy: any client could then name its
		// own address and dodge the sign-in limit or pass
		// Metrics.AllowFrom.
		return "", quote(entry) + " would trust every address, so any client could choose its own address; list the proxies' addresses"
	}
	return p.String(), ""
}

// httpLimits checks the server's timeouts, connection limits and shutdown
// timers. None can be turned off but the drain: a timeout of "no limit"
// is what let idle and slow clients pile up.
func (v *validator) httpLimits(h *HTTP) {
	v.durationRange("Http.IdleTimeout", h.IdleTimeout, time.Second, time.Hour)
	v.durationRange("Http.ReadTimeout", h.ReadTimeout, time.Second, 5*time.Minute)
	v.durationRange("Http.WriteTimeout", h.WriteTimeout, time.Second, 10*time.Minute)
	v.durationRange("Http.ExportTimeout", h.ExportTimeout, time.Minute, 24*time.Hour)
	v.intRange("Http.MaxConnectionsPerAddress", h.MaxConnectionsPerAddress, 1, 1_000_000)
	v.intRange("Http.MaxConnections", h.MaxConnections, 1, 1_000_000)
	v.durationRange("Http.DrainPeriod", h.DrainPeriod, 0, 10*time.Minute)
	v.durationRange("Http.ShutdownTimeout", h.ShutdownTimeout, 0, 10*time.Minute)
}

// writeTimeoutCoversGathering: the answer to a new session waits for ICE
// gathering, so a write timeout no longer than it would cut that answer.
func (v *validator) writeTimeoutCoversGathering(h HTTP, w WebRTC) {
	// Only between values that are valid on their own: each has its error.
	if h.WriteTimeout >= Duration(time.Second) && w.GatherTimeout > 0 && w.GatherTimeout <= Duration(30*time.Second) &&
		h.WriteTimeout <= w.GatherTimeout {
		v.fail("Http.WriteTimeout", "must be longer than WebRTC.GatherTimeout ("+w.GatherTimeout.String()+
			"): the answer to a new session waits for the gathering (got "+h.WriteTimeout.String()+")")
	}
}
