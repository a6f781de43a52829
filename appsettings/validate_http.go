package appsettings

import (
	"strings"
)

// http checks the listener and the trusted proxies, and rewrites each
// proxy entry as a CIDR range, as Metrics.AllowFrom, so that the gateway
// parses ranges only.
func (v *validator) http(h *HTTP) {
	v.hostPort("Http.Listen", h.Listen)
	v.allowedHosts(h.AllowedHosts)
	for i, raw := range h.TrustedProxies {
		path := indexPath("Http.TrustedProxies", i)
		entry := strings.TrimSpace(raw)
		p, problem := allowPrefix(entry)
		switch {
		case problem != "":
			v.fail(path, problem)
			continue
		case p.Bits() == 0:
			// Every address would be a proxy: any client could then
			// name its own address and dodge the sign-in limit or pass
			// Metrics.AllowFrom.
			v.fail(path, quote(entry)+" would trust every address, so any client could choose its own address; list the proxies' addresses")
			continue
		}
		h.TrustedProxies[i] = p.String()
	}
	if strings.EqualFold(strings.TrimSpace(h.ForwardedHeader), "Forwarded") {
		v.fail("Http.ForwardedHeader", `the RFC 7239 "Forwarded" header is not supported; have the proxy send "X-Forwarded-For" (or "X-Real-IP")`)
		return
	}
	v.oneOf("Http.ForwardedHeader", &h.ForwardedHeader, HeaderXForwardedFor, HeaderXRealIP)
}
