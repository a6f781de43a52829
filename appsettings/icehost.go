package appsettings

import (
	"errors"
	"net"
	"net/netip"
	"strconv"
	"strings"
)

// IceHost is one entry of WebRTC.ClientIceServerHosts: a STUN/TURN host a
// client may name in iceServers, and the port it may name it with.
type IceHost struct {
	// Host is a host name in lower case without a trailing dot, an IP
	// address in its canonical form (IPv4-mapped IPv6 as IPv4, no
	// brackets), or "*" for any host.
	Host string
	// Port is the one port allowed; 0 allows the standard STUN/TURN ports,
	// 3478 and 5349.
	Port int
}

// Standard STUN/TURN ports (RFC 8489 section 18.6, RFC 8656): over UDP or
// TCP, and over TLS or DTLS.
const (
	StunPort    = 3478
	StunTLSPort = 5349
)

// Allows reports whether the entry lets a client name host (normalised
// with NormalizeIceHost) at port.
func (h IceHost) Allows(host string, port int) bool {
	if h.Host != "*" && h.Host != host {
		return false
	}
	if h.Port == 0 {
		return port == StunPort || port == StunTLSPort
	}
	return port == h.Port
}

// NormalizeIceHost writes a STUN/TURN host the way IceHost holds it, so
// that two spellings of one host compare equal: an IP address in canonical
// form, a name in lower case without a trailing dot.
func NormalizeIceHost(host string) string {
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if a, err := netip.ParseAddr(host); err == nil {
		return a.Unmap().String()
	}
	return strings.TrimSuffix(strings.ToLower(host), ".")
}

// ParseIceHost reads an entry of WebRTC.ClientIceServerHosts: "host",
// "host:port", "[ipv6]:port", a bare IPv6 address, "*" or "*:port".
// Validation uses it, and the gateway reads the validated list with it.
func ParseIceHost(s string) (IceHost, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return IceHost{}, errors.New("must not be empty")
	}
	lower := strings.ToLower(s)
	for _, scheme := range []string{"stun:", "stuns:", "turn:", "turns:"} {
		if strings.HasPrefix(lower, scheme) {
			return IceHost{}, errors.New("must be a host or host:port without the scheme (got " + quote(s) + ")")
		}
	}
	if strings.ContainsAny(s, "/?#@ \t") {
		return IceHost{}, errors.New("must be a host or host:port, without scheme, path, query or user (got " + quote(s) + ")")
	}
	host, port := s, 0
	if h, p, err := net.SplitHostPort(s); err == nil {
		if !validPort(p, 1) {
			return IceHost{}, errors.New("port must be a number from 1 to 65535 (got " + quote(s) + ")")
		}
		host = h
		port, _ = strconv.Atoi(p)
	} else if strings.HasPrefix(s, "[") && !strings.HasSuffix(s, "]") {
		return IceHost{}, errors.New("must be a host or host:port (got " + quote(s) + ")")
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if host == "*" {
		return IceHost{Host: "*", Port: port}, nil
	}
	if a, err := netip.ParseAddr(host); err == nil {
		switch {
		case a.Zone() != "":
			return IceHost{}, errors.New("must not carry a zone (got " + quote(s) + ")")
		case a.Unmap().IsUnspecified() || a.IsMulticast():
			return IceHost{}, errors.New("must not be an unspecified or multicast address (got " + quote(s) + ")")
		}
		return IceHost{Host: a.Unmap().String(), Port: port}, nil
	}
	if strings.Contains(host, ":") {
		return IceHost{}, errors.New("must be a host or host:port; write an IPv6 address with a port as [address]:port (got " + quote(s) + ")")
	}
	if !validHostName(host) {
		return IceHost{}, errors.New("must be a host name, an IP address or * (got " + quote(s) + ")")
	}
	return IceHost{Host: NormalizeIceHost(host), Port: port}, nil
}

// validHostName accepts DNS names: labels of letters, digits, '-' and '_'
// separated by dots (one trailing dot allowed), 253 characters at most.
func validHostName(h string) bool {
	h = strings.TrimSuffix(h, ".")
	if h == "" || len(h) > 253 {
		return false
	}
	for label := range strings.SplitSeq(h, ".") {
		if label == "" || len(label) > 63 {
			return false
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
				return false
			}
		}
	}
	return true
}

// NamesOneIceHost reports whether host at port reads as an entry of
// WebRTC.ClientIceServerHosts would and names one host, not "*": the
// gateway's check of the host of a STUN/TURN URL a client sends.
func NamesOneIceHost(host string, port int) bool {
	h, err := ParseIceHost(net.JoinHostPort(host, strconv.Itoa(port)))
	return err == nil && h.Host != "*"
}
