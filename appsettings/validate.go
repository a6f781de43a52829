package appsettings

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Validate checks every rule and changes nothing. Load has filled the
// defaults (ApplyDefaults) and written the values that have several
// spellings in their normal form (Normalize), and decoding has put the
// values of a fixed set (the enum types) in their constants' spelling;
// settings built in Go call ApplyDefaults (and Normalize, where they want
// the normal forms) before Validate: a camera without Transport is refused
// here.
//
// The error joins one *Error per broken rule (errors.Join), each one line
// naming the field and the rule, so that all of them can be fixed at once.
// No error quotes a URL's userinfo or query, where passwords live, nor a
// password hash or a user name.
func (s *Settings) Validate() error {
	var v validator
	v.http(&s.Http)
	v.webRTC(&s.WebRTC)
	v.writeTimeoutCoversGathering(s.Http, s.WebRTC)
	cameraIDs := v.cameras(s.Cameras)
	if strings.TrimSpace(s.DataDir) == "" {
		v.fail("DataDir", "must not be empty")
	}
	v.auth(&s.Auth, cameraIDs)
	v.cors(&s.CORS)
	v.webSocket(&s.WebSocket)
	v.limits(&s.Limits)
	v.recording(&s.Recording, s.Cameras)
	v.ptz(s.Cameras)
	v.metrics(&s.Metrics)
	enumValid(&v, "Logging.Level", s.Logging.Level)
	return errors.Join(v.errs...)
}

// validator collects the broken rules.
type validator struct {
	errs []error
}

func (v *validator) fail(path, msg string) {
	v.errs = append(v.errs, &Error{Path: path, Msg: msg})
}

func (v *validator) webRTC(w *WebRTC) {
	for i, ice := range w.IceServers {
		v.iceServer(indexPath("WebRTC.IceServers", i), ice)
	}
	v.port("WebRTC.UdpPort", w.UdpPort)
	v.port("WebRTC.TcpPort", w.TcpPort)
	for i, ip := range w.PublicIPs {
		if _, err := netip.ParseAddr(ip); err != nil {
			v.fail(indexPath("WebRTC.PublicIPs", i), "must be an IP address (got "+quote(ip)+")")
		}
	}
	for i, name := range w.Interfaces {
		if strings.TrimSpace(name) == "" {
			v.fail(indexPath("WebRTC.Interfaces", i), "must not be empty")
		}
	}
	for i, ip := range w.IPs {
		_, errAddr := netip.ParseAddr(ip)
		_, errPrefix := netip.ParsePrefix(ip)
		if errAddr != nil && errPrefix != nil {
			v.fail(indexPath("WebRTC.IPs", i), "must be an IP address or a CIDR range (got "+quote(ip)+")")
		}
	}
	v.webRTCAddresses(w)
	enumValid(v, "WebRTC.MDNS", w.MDNS)
	if d := time.Duration(w.GatherTimeout); d <= 0 || d > 30*time.Second {
		v.fail("WebRTC.GatherTimeout", "must be more than 0s and at most 30s (got "+d.String()+")")
	}
	if d := time.Duration(w.AnswerTimeout); d < time.Second || d > 10*time.Minute {
		v.fail("WebRTC.AnswerTimeout", "must be from 1s to 10m (got "+d.String()+")")
	}
	enumValid(v, "WebRTC.RtpClock", w.RtpClock)
	if n := w.ViewerQueueFrames; n < 8 || n > 4096 {
		v.fail("WebRTC.ViewerQueueFrames", "must be from 8 to 4096 (got "+strconv.Itoa(n)+")")
	}
	v.iceLimits(w)
}

// iceLimits checks the bounds on what a client can make camgate's ICE
// agent do: candidates per session and per request, and the STUN/TURN
// servers a client may name.
func (v *validator) iceLimits(w *WebRTC) {
	v.intRange("WebRTC.MaxRemoteCandidates", w.MaxRemoteCandidates, 1, 500)
	if n := w.MaxCandidatesPerRequest; n < 1 || n > max(w.MaxRemoteCandidates, 1) {
		v.fail("WebRTC.MaxCandidatesPerRequest", "must be from 1 to WebRTC.MaxRemoteCandidates (got "+strconv.Itoa(n)+")")
	}
	v.intRange("WebRTC.MaxClientIceServers", w.MaxClientIceServers, 0, 32)
	for i, h := range w.ClientIceServerHosts {
		if _, err := ParseIceHost(h); err != nil {
			v.fail(indexPath("WebRTC.ClientIceServerHosts", i), err.Error())
		}
	}
}

func (v *validator) iceServer(path string, ice IceServer) {
	if len(ice.Urls) == 0 {
		v.fail(path+".Urls", "must list at least one URL")
	}
	turn := false
	for i, u := range ice.Urls {
		scheme, rest, _ := strings.Cut(u, ":")
		switch strings.ToLower(scheme) {
		case "turn", "turns":
			turn = true
		case "stun", "stuns":
		default:
			v.fail(indexPath(path+".Urls", i), "must start with stun:, stuns:, turn: or turns: (got "+quoteICE(u)+")")
			continue
		}
		if host, _, _ := strings.Cut(rest, "?"); host == "" {
			v.fail(indexPath(path+".Urls", i), "must name a host after "+strings.ToLower(scheme)+":")
		}
	}
	if turn && (ice.Username == "" || ice.Credential == "") {
		v.fail(path, "a turn: or turns: server needs Username and Credential")
	}
}

// cameras checks the cameras and the uniqueness of their Ids, which clients
// use to name them and which must therefore not collide. It returns the
// keys of the cameras there are, for the rights of roles, or nil when an Id
// is wrong: roles naming the camera would only repeat the problem.
func (v *validator) cameras(cams []Camera) map[CameraKey]string {
	cameraIDs := map[CameraKey]string{} // key -> path that has it
	streamIDs := map[CameraKey]string{}
	badID := false
	for i := range cams {
		cam := &cams[i]
		path := indexPath("Cameras", i)
		n := len(v.errs)
		v.guid(path+".Id", cam.Id, cameraIDs)
		badID = badID || len(v.errs) > n
		if len(cam.Streams) == 0 {
			v.fail(path+".Streams", "must list at least one stream")
		}
		defaultAt := -1
		for j, st := range cam.Streams {
			spath := indexPath(path+".Streams", j)
			v.guid(spath+".Id", st.Id, streamIDs)
			v.rtspURL(spath+".Url", st.Url)
			if st.Default {
				if defaultAt >= 0 {
					v.fail(spath+".Default", "only one stream of a camera may be the default, and "+
						indexPath("Streams", defaultAt)+" already is")
				} else {
					defaultAt = j
				}
			}
		}
		enumValid(v, path+".Transport", cam.Transport)
	}
	if badID {
		return nil
	}
	return cameraIDs
}

// guid checks an Id and that no earlier one in seen has its key (case
// does not matter), then records it.
func (v *validator) guid(path, id string, seen map[CameraKey]string) {
	switch {
	case id == "":
		v.fail(path, "is required")
		return
	case !isGUID(id):
		v.fail(path, "must be a GUID (got "+quote(id)+")")
		return
	}
	key := KeyOf(id)
	if prev, dup := seen[key]; dup {
		v.fail(path, "duplicates "+prev)
		return
	}
	seen[key] = path
}

// rtspURL checks a camera stream URL. The messages quote the URL only
// through gotURL, which drops the credentials.
func (v *validator) rtspURL(path, raw string) {
	if raw == "" {
		v.fail(path, "is required")
		return
	}
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		// A URL that does not parse, or parses without a user where the
		// text has one: a user name or password may hold a character that
		// cuts it short.
		if problem := userinfoProblem(raw, err == nil); problem != "" {
			v.fail(path, problem+gotURL(raw))
			return
		}
	}
	switch {
	case err != nil:
		// url.Parse's own message quotes the whole URL, password and all.
		v.fail(path, "is not a valid URL"+gotURL(raw))
	case u.Scheme != "rtsp" && u.Scheme != "rtsps":
		v.fail(path, "must be an rtsp:// or rtsps:// URL"+gotURL(raw))
	case u.Hostname() == "":
		v.fail(path, "must name a host"+gotURL(raw))
	case u.Port() != "" && !validPort(u.Port(), 1):
		v.fail(path, "port must be from 1 to 65535"+gotURL(raw))
	case strings.Contains(raw, "#"):
		// RTSP URLs have no fragment: a '#' is almost always part of a
		// password, which must then be written %23. Not quoted: the text
		// after '#' may be the rest of that password.
		v.fail(path, "contains '#': RTSP URLs have no fragment; write a '#' in a user name or password as %23")
	}
}

// userinfoProblem names a character of a URL's user name or password that
// must be percent-encoded, without quoting either: a '/', '?' or '#' ends
// the address part of a URL, so the rest of the password is read as a
// path, query or fragment (the URL then fails to parse, or parses with the
// user name as its host); a space or another character outside RFC 3986's
// userinfo set, or a '%' that starts no %XX escape, makes it invalid. The
// user name and password are what comes before the last '@' that is
// followed by a host; "" when there is none or nothing is wrong. For a URL
// that parsed (without a user), the host must be an IP address or a
// dotted name, so that an '@' in a path ("/live@ch1") is not taken for
// one.
func userinfoProblem(raw string, parsed bool) string {
	i := strings.Index(raw, "://")
	if i < 0 {
		return ""
	}
	rest := raw[i+3:]
	at := strings.LastIndex(rest, "@")
	if at < 0 {
		return ""
	}
	host := rest[at+1:]
	if j := strings.IndexAny(host, "/?#"); j >= 0 {
		host = host[:j]
	}
	if !looksLikeHost(host, parsed) {
		return "" // the '@' may belong to the path
	}
	user, password, _ := strings.Cut(rest[:at], ":")
	for _, part := range []struct{ name, text string }{{"user name", user}, {"password", password}} {
		for k := 0; k < len(part.text); k++ {
			c := part.text[k]
			switch {
			case c == '/' || c == '?' || c == '#':
				return fmt.Sprintf("the %s contains '%c', which ends the address part of a URL; write it as %%%02X", part.name, c, c)
			case c == '%' && !(k+2 < len(part.text) && isHex(part.text[k+1]) && isHex(part.text[k+2])):
				return fmt.Sprintf("the %s contains a '%%' that starts no %%XX escape; write a '%%' as %%25", part.name)
			case !userinfoChar(c):
				shown := fmt.Sprintf("'%c'", c)
				if c <= ' ' || c >= 0x7f {
					shown = fmt.Sprintf("the byte 0x%02X", c)
				}
				return fmt.Sprintf("the %s contains %s, which a URL cannot hold as it is; write it as %%%02X", part.name, shown, c)
			}
		}
	}
	return ""
}

// looksLikeHost reports whether s is host[:port] with an IP address, a
// bracketed IPv6 address, or a name with letters, digits, '-', '_' and
// '.' only (with dotted, at least one '.').
func looksLikeHost(s string, dotted bool) bool {
	if h, _, err := net.SplitHostPort(s); err == nil {
		s = h
	} else if strings.HasPrefix(s, "[") && strings.HasSuffix(s, "]") {
		s = s[1 : len(s)-1]
	}
	if s == "" {
		return false
	}
	if _, err := netip.ParseAddr(s); err == nil {
		return true
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return false
		}
	}
	return !dotted || strings.Contains(s, ".")
}

// userinfoChar reports whether c may stand as it is in a URL's user name
// or password (RFC 3986: unreserved, sub-delims, ':'; '%' is handled
// apart), as Go's url.Parse requires.
func userinfoChar(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	}
	return strings.IndexByte("-._~!$&'()*+,;=:%@", c) >= 0
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// hostPort checks a listen address.
func (v *validator) hostPort(path, addr string) {
	_, port, err := net.SplitHostPort(addr)
	switch {
	case err != nil:
		v.fail(path, `must be host:port, such as "127.0.0.1:8080" or ":8080" (got `+quote(addr)+")")
	case !validPort(port, 0):
		v.fail(path, "port must be a number from 0 to 65535 (got "+quote(port)+")")
	}
}

func (v *validator) port(path string, n int) {
	if n < 0 || n > 65535 {
		v.fail(path, "must be from 0 to 65535 (got "+strconv.Itoa(n)+")")
	}
}

// orList writes `"a", "b" or "c"`.
func orList(items []string) string {
	var b strings.Builder
	for i, it := range items {
		switch {
		case i == 0:
		case i == len(items)-1:
			b.WriteString(" or ")
		default:
			b.WriteString(", ")
		}
		b.WriteString(strconv.Quote(it))
	}
	return b.String()
}

// validPort reports whether s is a decimal port from lowest to 65535.
func validPort(s string, lowest int) bool {
	if s == "" || len(s) > 5 {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	n, err := strconv.Atoi(s)
	return err == nil && n >= lowest && n <= 65535
}

// isGUID reports whether s has the form 8-4-4-4-12 hex digits, in any case.
func isGUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := range len(s) {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
				return false
			}
		}
	}
	return true
}

// quoteICE quotes an ICE server URL for an error message without userinfo
// or query, in case someone put a credential there.
func quoteICE(raw string) string {
	s := raw
	if at := strings.LastIndex(s, "@"); at >= 0 {
		prefix := ""
		if scheme, _, ok := strings.Cut(s, ":"); ok && !strings.Contains(scheme, "@") {
			prefix = scheme + ":"
		}
		s = prefix + s[at+1:]
	}
	if i := strings.IndexAny(s, "?#"); i >= 0 {
		s = s[:i]
	}
	return quote(s)
}
