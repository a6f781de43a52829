// Package clientaddr finds the address of the client that sent an HTTP
// request: the TCP peer, or, when the peer is a trusted reverse proxy, the
// address the proxies forwarded (Http.TrustedProxies and
// Http.ForwardedHeader). Every part of camgate that needs the client's
// address asks one Resolver, so the sign-in rate limit, Metrics.AllowFrom,
// the sessions' mDNS substitution and the log agree.
package clientaddr

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"

	"github.com/camgate/camgate/appsettings"
)

// Resolver computes client addresses. The zero value and a nil *Resolver
// trust no proxy: the client is always the TCP peer. It is safe for
// concurrent use.
type Resolver struct {
	trusted []netip.Prefix
	realIP  bool // the header is X-Real-IP, else X-Forwarded-For
}

// New builds the Resolver of the settings: it believes h.ForwardedHeader
// when the TCP peer is in h.TrustedProxies. Validated settings always
// build; the error names an entry that does not parse.
func New(h appsettings.HTTP) (*Resolver, error) {
	r := &Resolver{}
	switch h.ForwardedHeader {
	case "", appsettings.HeaderXForwardedFor:
	case appsettings.HeaderXRealIP:
		r.realIP = true
	default:
		return nil, fmt.Errorf("Http.ForwardedHeader: %q is neither %s nor %s",
			h.ForwardedHeader, appsettings.HeaderXForwardedFor, appsettings.HeaderXRealIP)
	}
	for i, s := range h.TrustedProxies {
		p, err := parsePrefix(strings.TrimSpace(s))
		if err != nil {
			return nil, fmt.Errorf("Http.TrustedProxies[%d]: %q: %w", i, s, err)
		}
		r.trusted = append(r.trusted, p)
	}
	return r, nil
}

var errNotPrefix = errors.New("not an IP address or a CIDR range")

// parsePrefix reads an address (a one-address range) or a CIDR range, an
// IPv4-mapped one as IPv4.
func parsePrefix(s string) (netip.Prefix, error) {
	if !strings.Contains(s, "/") {
		a, err := netip.ParseAddr(s)
		if err != nil || a.Zone() != "" {
			return netip.Prefix{}, errNotPrefix
		}
		a = a.Unmap()
		return netip.PrefixFrom(a, a.BitLen()), nil
	}
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return netip.Prefix{}, errNotPrefix
	}
	if a := p.Addr(); a.Is4In6() {
		if p.Bits() < 96 {
			return netip.Prefix{}, errors.New("an IPv4-mapped range needs a prefix of at least /96")
		}
		p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
	}
	return p.Masked(), nil
}

// Addr is the address of the client that sent req. It is the TCP peer
// (req.RemoteAddr) unless the peer is a trusted proxy; then it is what
// forwarded makes of the header's values. It is the zero Addr only when
// RemoteAddr is not an address (a request that did not come over TCP).
func (r *Resolver) Addr(req *http.Request) netip.Addr {
	p := peer(req.RemoteAddr)
	if !r.trusts(p) {
		return p
	}
	header := appsettings.HeaderXForwardedFor
	if r.realIP {
		header = appsettings.HeaderXRealIP
	}
	return r.forwarded(p, req.Header.Values(string(header)))
}

// forwarded is the client address of a request from peer, a trusted proxy,
// that carried values in the forwarded header (one entry per header line).
//
// X-Forwarded-For is read from the right, the end the trusted proxies
// wrote: the client is the first address that is not itself a trusted
// proxy, or the left-most address when all of them are. X-Real-IP must be
// one address. Without the header, or when the part read is malformed (a
// name, an empty entry, an address with a zone, two X-Real-IP lines), the
// client is the peer: a broken header never fails a request. Entries left
// of the client are the client's own to write and are never read, so junk
// there changes nothing. An entry may carry a port ("192.0.2.1:5000",
// "[2001:db8::1]:5000") or brackets ("[2001:db8::1]"); IPv4-mapped IPv6
// addresses are returned as IPv4.
func (r *Resolver) forwarded(peer netip.Addr, values []string) netip.Addr {
	if r == nil {
		return peer
	}
	if r.realIP {
		if len(values) != 1 {
			return peer
		}
		a, ok := parseHop(values[0])
		if !ok {
			return peer
		}
		return a
	}
	client := peer
	for i := len(values) - 1; i >= 0; i-- {
		chain := values[i]
		for {
			comma := strings.LastIndexByte(chain, ',')
			a, ok := parseHop(chain[comma+1:])
			if !ok {
				return peer
			}
			if !r.trusts(a) {
				return a
			}
			client = a
			if comma < 0 {
				break
			}
			chain = chain[:comma]
		}
	}
	return client
}

// TrustsPeer reports whether a, the address of a TCP peer, is a trusted
// proxy. The per-address connection limit exempts them: every client
// behind a proxy arrives from the proxy's address.
func (r *Resolver) TrustsPeer(a netip.Addr) bool { return r.trusts(a.WithZone("").Unmap()) }

// trusts reports whether a is a trusted proxy.
func (r *Resolver) trusts(a netip.Addr) bool {
	if r == nil || !a.IsValid() {
		return false
	}
	for _, p := range r.trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// parseHop reads one entry of a forwarding header.
func parseHop(s string) (netip.Addr, bool) {
	s = strings.Trim(s, " \t")
	a, err := netip.ParseAddr(s)
	if err != nil {
		ap, perr := netip.ParseAddrPort(s)
		switch {
		case perr == nil:
			a = ap.Addr()
		case len(s) > 2 && s[0] == '[' && s[len(s)-1] == ']':
			if a, err = netip.ParseAddr(s[1 : len(s)-1]); err != nil || !a.Is6() {
				return netip.Addr{}, false
			}
		default:
			return netip.Addr{}, false
		}
	}
	if a.Zone() != "" {
		return netip.Addr{}, false
	}
	return a.Unmap(), true
}

// peer is the address of a request's TCP peer from its RemoteAddr
// ("ip:port"), without a zone, IPv4-mapped IPv6 as IPv4; the zero Addr
// when RemoteAddr holds none.
func peer(remoteAddr string) netip.Addr {
	host, _, err := net.SplitHostPort(remoteAddr)
	if err != nil {
		return netip.Addr{}
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}
	}
	return a.WithZone("").Unmap()
}
