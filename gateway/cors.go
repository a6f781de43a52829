package gateway

import (
	"net/http"
	"strings"

	"github.com/camgate/camgate/appsettings"
	"github.com/camgate/camgate/gateway/internal/errtext"
	"github.com/camgate/camgate/gateway/signaling"
)

// corsPolicy is the cross-origin policy of XProtect's API Gateway, with its keys.
// Disabled, camgate adds no CORS headers and refuses preflights, so browsers
// allow same-origin calls only.
type corsPolicy struct {
	enabled    bool
	anyOrigin  bool
	origins    map[string]bool
	anyHeaders bool
	headers    string
	anyMethods bool
	methods    string
}

// preflightMaxAge lets browsers cache a preflight for 10 minutes: the XProtect
// sample polls candidates every 20 ms, and each poll would otherwise cost a
// preflight.
const preflightMaxAge = "600"

func newCORSPolicy(c appsettings.CORS) *corsPolicy {
	p := &corsPolicy{enabled: c.Enabled, origins: map[string]bool{}}
	for _, o := range splitList(c.AllowOrigin) {
		if o == "*" {
			p.anyOrigin = true
			continue
		}
		p.origins[strings.ToLower(strings.TrimRight(o, "/"))] = true
	}
	hs := splitList(c.AllowHeaders)
	p.anyHeaders = len(hs) == 0 || containsStar(hs)
	p.headers = strings.Join(hs, ", ")
	ms := splitList(c.AllowMethods)
	p.anyMethods = len(ms) == 0 || containsStar(ms)
	p.methods = strings.ToUpper(strings.Join(ms, ", "))
	return p
}

func splitList(s string) []string {
	var out []string
	for _, part := range strings.Split(s, ",") {
		if part = strings.TrimSpace(part); part != "" {
			out = append(out, part)
		}
	}
	return out
}

func containsStar(list []string) bool {
	for _, s := range list {
		if s == "*" {
			return true
		}
	}
	return false
}

// allowsOrigin reports whether a cross-origin caller may use the API. The
// literal origin "null" (pages opened from a file, sandboxed frames) passes
// only when listed or when any origin is allowed.
func (p *corsPolicy) allowsOrigin(origin string) bool {
	if !p.enabled || origin == "" {
		return false
	}
	return p.anyOrigin || p.origins[strings.ToLower(origin)]
}

// sameOrigin reports whether the request's Origin is the host it was sent
// to (for the WebSocket origin check when CORS is off).
func sameOrigin(r *http.Request, origin string) bool {
	for _, scheme := range []string{"http://", "https://"} {
		if strings.EqualFold(origin, scheme+r.Host) {
			return true
		}
	}
	return false
}

// wrap applies the policy to API paths: it answers preflights itself and
// adds the headers a browser needs to read cross-origin answers.
func (p *corsPolicy) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		origin := r.Header.Get("Origin")
		if origin == "" || !isAPIPath(r.URL.Path) || sameOrigin(r, origin) {
			next.ServeHTTP(w, r)
			return
		}
		allowed := p.allowsOrigin(origin)
		preflight := r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != ""
		h := w.Header()
		h.Add("Vary", "Origin")
		if preflight {
			h.Add("Vary", "Access-Control-Request-Method")
			h.Add("Vary", "Access-Control-Request-Headers")
			if !allowed {
				signaling.WriteErrorHTTP(w, signaling.Errorf(http.StatusForbidden, "origin %s may not call this API (see the CORS settings)", errtext.Truncate(origin, 100)))
				return
			}
			h.Set("Access-Control-Allow-Origin", origin)
			if p.anyMethods {
				h.Set("Access-Control-Allow-Methods", r.Header.Get("Access-Control-Request-Method"))
			} else {
				h.Set("Access-Control-Allow-Methods", p.methods)
			}
			// "*" would not cover Authorization in browsers, so echo what
			// the browser asks for, as ASP.NET Core's AllowAnyHeader does.
			if p.anyHeaders {
				if req := r.Header.Get("Access-Control-Request-Headers"); req != "" {
					h.Set("Access-Control-Allow-Headers", req)
				}
			} else {
				h.Set("Access-Control-Allow-Headers", p.headers)
			}
			h.Set("Access-Control-Max-Age", preflightMaxAge)
			w.WriteHeader(http.StatusNoContent)
			return
		}
		if allowed {
			h.Set("Access-Control-Allow-Origin", origin)
			// Let the page read why a call was refused and when to retry.
			h.Set("Access-Control-Expose-Headers", "WWW-Authenticate, Retry-After")
		}
		next.ServeHTTP(w, r)
	})
}

// wsOriginAllowed is the upgrade's origin check: a browser page may open the
// socket when it comes from camgate's own origin or from one the CORS policy
// allows. A request without Origin is not from a browser page, and a
// non-browser client could send any Origin anyway: the token protects it.
func (g *Gateway) wsOriginAllowed(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	return origin == "" || sameOrigin(r, origin) || g.cors.allowsOrigin(origin)
}
