package rtc

import (
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"

	"github.com/pion/stun/v4"
	"github.com/pion/webrtc/v4"

	"github.com/camgate/camgate/gateway/internal/errtext"
)

// ICEPolicy holds the STUN/TURN servers of the settings (WebRTC.IceServers)
// and decides which servers a client may add to its session's
// (WebRTC.MaxClientIceServers, WebRTC.ClientIceServerHosts).
type ICEPolicy struct {
	cfg      MediaConfig
	log      *slog.Logger // nil: refusals are not logged
	settings []webrtc.ICEServer
}

// NewICEPolicy reads the policy of the WebRTC settings.
func NewICEPolicy(cfg MediaConfig, log *slog.Logger) *ICEPolicy {
	p := &ICEPolicy{cfg: cfg, log: log}
	for _, s := range cfg.IceServers {
		p.settings = append(p.settings, webrtc.ICEServer{URLs: s.URLs, Username: s.Username, Credential: s.Credential})
	}
	return p
}

// Check merges the configured servers with the request's. The
// request's are checked, so that a typo is a 400, not a silent failure, and
// bounded: camgate contacts each server the client names (a UDP socket per
// STUN URL, a TCP or TLS connection per TURN one), so their number is
// capped (WebRTC.MaxClientIceServers) and only the servers of
// WebRTC.IceServers and the hosts of WebRTC.ClientIceServerHosts may be
// named; otherwise any Live user could make camgate probe any address.
func (m *ICEPolicy) Check(req []ICEServer) ([]webrtc.ICEServer, error) {
	out := append([]webrtc.ICEServer(nil), m.settings...)
	refuse := func(format string, args ...any) error {
		e := Errorf(OverLimit, format, args...)
		if m.log != nil {
			m.log.Warn("session request refused: its iceServers pass a limit", "reason", e.Text)
		}
		return e
	}
	limit := m.cfg.MaxClientIceServers
	if len(req) > limit {
		return nil, refuse("iceServers has %d entries; at most %d are allowed (WebRTC.MaxClientIceServers)", len(req), limit)
	}
	type clientServer struct {
		entry int
		urls  []string
		uris  []*stun.URI
	}
	var servers []clientServer
	total := 0
	// The syntax of every URL first, so that a typo is reported as such
	// rather than as a server that is not allowed.
	for i, s := range req {
		cs := clientServer{entry: i}
		for _, u := range s.URLs {
			u = strings.TrimSpace(u)
			if u == "" {
				continue
			}
			if total++; total > limit {
				return nil, refuse("iceServers lists more than %d URLs; at most %d are allowed in all (WebRTC.MaxClientIceServers)", limit, limit)
			}
			scheme, _, _ := strings.Cut(strings.ToLower(u), ":")
			switch scheme {
			case "stun", "stuns":
			case "turn", "turns":
				if s.Username == "" || s.Credential == "" {
					return nil, Errorf(BadInput, "iceServers[%d]: a TURN server needs username and credential", i)
				}
			default:
				return nil, Errorf(BadInput, "iceServers[%d]: %s is not a stun:, stuns:, turn: or turns: URL", i, errtext.Quote(u, 80))
			}
			// pion parses the URL again when it builds the peer
			// connection; one it rejects must be the client's 400 here, not
			// a 500 from there.
			uri, err := stun.ParseURI(u)
			if err != nil {
				return nil, Errorf(BadInput, "iceServers[%d]: %s is not a valid STUN or TURN URL: %s", i, errtext.Quote(u, 80), errtext.Truncate(err.Error(), errtext.MaxQuoted))
			}
			if uri.Port < 1 || uri.Port > 65535 {
				return nil, Errorf(BadInput, "iceServers[%d]: %s has port %d; a port is from 1 to 65535", i, errtext.Quote(u, 80), uri.Port)
			}
			if !m.cfg.ICEHosts.usable(uri.Host, uri.Port) {
				return nil, Errorf(BadInput, "iceServers[%d]: %s does not name a host name or a usable IP address", i, errtext.Quote(u, 80))
			}
			cs.urls = append(cs.urls, u)
			cs.uris = append(cs.uris, uri)
		}
		if len(cs.urls) > 0 {
			servers = append(servers, cs)
		}
	}
	for _, cs := range servers {
		for k, uri := range cs.uris {
			if err := m.clientICEServerAllowed(uri); err != nil {
				return nil, refuse("iceServers[%d]: %s: %s", cs.entry, errtext.Quote(cs.urls[k], 80), err)
			}
		}
		s := req[cs.entry]
		out = append(out, webrtc.ICEServer{URLs: cs.urls, Username: s.Username, Credential: s.Credential})
	}
	return out, nil
}

// clientICEServerAllowed checks a client's STUN/TURN server against
// WebRTC.IceServers (the same host and port) and
// WebRTC.ClientIceServerHosts; the error says what is allowed.
func (m *ICEPolicy) clientICEServerAllowed(uri *stun.URI) error {
	host := m.cfg.ICEHosts.normalize(uri.Host)
	for _, s := range m.cfg.IceServers {
		for _, u := range s.URLs {
			if own, err := stun.ParseURI(u); err == nil && m.cfg.ICEHosts.normalize(own.Host) == host && own.Port == uri.Port {
				return nil
			}
		}
	}
	for _, e := range m.cfg.ClientIceServerHosts {
		if e.Allows(host, uri.Port) {
			return nil
		}
	}
	own := "none configured"
	if len(m.cfg.IceServers) > 0 {
		own = "not this one"
	}
	hosts := "none listed"
	if len(m.cfg.ClientIceServerHosts) > 0 {
		hosts = "not this one on this port"
	}
	return fmt.Errorf("clients may not name %s: allowed are the servers of WebRTC.IceServers (%s) and the hosts of WebRTC.ClientIceServerHosts (%s)",
		errtext.Truncate(net.JoinHostPort(host, strconv.Itoa(uri.Port)), 80), own, hosts)
}

// Public are the URLs of the configured STUN servers, one list per
// server, for a client to use too. TURN servers are left out: their
// credentials are camgate's own.
func (m *ICEPolicy) Public() [][]string {
	out := [][]string{}
	for _, s := range m.settings {
		var urls []string
		for _, u := range s.URLs {
			scheme, _, _ := strings.Cut(strings.ToLower(u), ":")
			if scheme == "stun" || scheme == "stuns" {
				urls = append(urls, u)
			}
		}
		if len(urls) > 0 {
			out = append(out, urls)
		}
	}
	return out
}
