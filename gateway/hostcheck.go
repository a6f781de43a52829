package gateway

import (
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"strings"

	"github.com/camgate/camgate/gateway/internal/errtext"
	"github.com/camgate/camgate/gateway/signaling"
)

// The Host check defends against DNS rebinding: a page on evil.example whose
// name the attacker then points at camgate's address (or at 127.0.0.1) is,
// to the browser, still evil.example, so its requests count as same-origin
// and it may read camgate's answers, open the WebSocket and call the token
// endpoint. The one thing such requests cannot hide is their Host header:
// it names the attacker's domain. So camgate answers only Hosts it knows to
// be its own (hostPolicy), and refuses everything else with 421.
//
// What always passes, because no attacker can make a browser send it from
// a page of their own:
//   - every literal IP address: a page at http://192.0.2.7/ is the origin
//     192.0.2.7, and for its requests to reach camgate that address must be
//     camgate's (or forwarded to it by a NAT); no DNS is involved, so there
//     is nothing to rebind. Accepting any literal rather than only the
//     machine's own addresses keeps NAT, Docker port publishing and
//     Kubernetes node ports working, and needs no list of the machine's
//     addresses to keep fresh;
//   - "localhost" and names under ".localhost", which browsers resolve to
//     loopback themselves (RFC 6761);
//   - the host of Http.Listen and of Auth.BuiltIn.Issuer, and the machine's
//     host name, names the operator chose, whose DNS an attacker does not
//     control;
//   - a request without Host (HTTP/1.0): no browser sends one.

// hostPolicy is the set of Host names camgate answers. It is read-only
// after newHostPolicy, so requests check it without a lock.
type hostPolicy struct {
	anyHost  bool
	names    map[string]struct{} // lower case, no final dot
	suffixes []string            // ".example.com" for "*.example.com"
}

// hostCheckExempt reports the paths answered whatever the Host: probes of
// load balancers and orchestrators may name the service by a name nobody
// listed, and the answers hold nothing a page could use (no secret,
// address or camera).
func hostCheckExempt(path string) bool { return path == "/healthz" || path == "/readyz" }

func newHostPolicy(s Config) *hostPolicy {
	p := &hostPolicy{names: map[string]struct{}{}}
	add := func(h string) {
		h = strings.TrimSuffix(strings.ToLower(strings.TrimSpace(h)), ".")
		switch {
		case h == "":
		case h == "*":
			p.anyHost = true
		case strings.HasPrefix(h, "*."):
			p.suffixes = append(p.suffixes, h[1:])
		default:
			p.names[h] = struct{}{}
		}
	}
	for _, h := range s.HTTP.AllowedHosts {
		add(h)
	}
	if h, _, err := net.SplitHostPort(s.HTTP.Listen); err == nil {
		add(h) // a literal passes anyway; a name is the operator's
	}
	if u, err := url.Parse(s.Issuer); err == nil && s.Issuer != "" {
		add(u.Hostname())
	}
	if h, err := os.Hostname(); err == nil {
		add(h)
	}
	return p
}

// allows reports whether camgate answers a request with this Host header
// (r.Host: a name or address, with or without a port). It allocates
// nothing unless the name has upper-case letters.
func (p *hostPolicy) allows(hostport string) bool {
	if p.anyHost || hostport == "" {
		return true
	}
	host, ok := hostOfHeader(hostport)
	if !ok {
		return false
	}
	if isIPLiteral(host) {
		return true
	}
	host = strings.TrimSuffix(host, ".")
	if hasUpper(host) {
		host = strings.ToLower(host)
	}
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	if _, ok := p.names[host]; ok {
		return true
	}
	for _, s := range p.suffixes {
		if len(host) > len(s) && strings.HasSuffix(host, s) {
			return true
		}
	}
	return false
}

// hostOfHeader splits a Host header into its host, without the port and
// an IPv6 address's brackets. ok is false when it is not of the form
// host[:port] or [ipv6][:port].
func hostOfHeader(h string) (host string, ok bool) {
	if h[0] == '[' {
		end := strings.IndexByte(h, ']')
		if end < 0 || (end+1 < len(h) && h[end+1] != ':') {
			return "", false
		}
		return h[1:end], strings.IndexByte(h[1:end], ':') >= 0
	}
	if i := strings.IndexByte(h, ':'); i >= 0 {
		if strings.IndexByte(h[i+1:], ':') >= 0 {
			return "", false // an IPv6 address without brackets
		}
		h = h[:i]
	}
	return h, h != ""
}

// isIPLiteral reports whether host (without brackets) is an IP address.
// Only strings that look like one are parsed, so that a name costs no
// parse error.
func isIPLiteral(host string) bool {
	if strings.IndexByte(host, ':') < 0 {
		for i := range len(host) {
			if c := host[i]; c != '.' && (c < '0' || c > '9') {
				return false
			}
		}
	}
	_, err := netip.ParseAddr(host)
	return err == nil
}

func hasUpper(s string) bool {
	for i := range len(s) {
		if 'A' <= s[i] && s[i] <= 'Z' {
			return true
		}
	}
	return false
}

// checkHost wraps the whole HTTP handler (API, identity provider,
// WebSocket upgrade, console, /metrics) in the Host check of the settings.
func (g *Gateway) checkHost(s Config, next http.Handler) http.Handler {
	p := newHostPolicy(s)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p.allows(r.Host) || hostCheckExempt(r.URL.Path) {
			next.ServeHTTP(w, r)
			return
		}
		host := errtext.Quote(r.Host, 100)
		g.log.Info("request refused: its Host is not one of camgate's names (Http.AllowedHosts)",
			"host", host, "method", r.Method, "path", errtext.Quote(r.URL.Path, 100), "client", g.clientAddr(r))
		signaling.WriteErrorHTTP(w, signaling.Errorf(http.StatusMisdirectedRequest,
			"this camgate does not answer to the host %s: list it in Http.AllowedHosts if clients reach camgate by that name (requests for other names are refused so that DNS rebinding cannot reach the API)", host))
	})
}
