package appsettings

import (
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// Paths of the CORS keys, which are not Go names.
const (
	corsOriginPath  = "CORS.Access-Control-Allow-Origin"
	corsHeadersPath = "CORS.Access-Control-Allow-Headers"
	corsMethodsPath = "CORS.Access-Control-Allow-Methods"
)

// cors checks the CORS lists, whether the policy is on or not (so that a
// typo shows before someone turns it on). Normalize writes each in a normal
// form: entries trimmed and joined with ", ", empty entries and repeats
// dropped, origins as browsers send them (lower-case scheme and host, no
// final "/", no default port) and methods in upper case. The gateway can
// then compare them exactly.
func (v *validator) cors(c *CORS) {
	v.corsList(corsOriginPath, &c.AllowOrigin, c.Enabled, `list origins such as "https://portal.example.com", or "*" for any`, origin)
	v.corsList(corsHeadersPath, &c.AllowHeaders, c.Enabled, `"*" allows the headers the browser asks for`, headerName)
	v.corsList(corsMethodsPath, &c.AllowMethods, c.Enabled, `"*" allows the method the browser asks for`, method)
}

// corsList checks one comma-separated list. entry returns the normal form
// of an entry, or a problem.
func (v *validator) corsList(path string, value *string, enabled bool, hint string, entry func(string) (string, string)) {
	out, problems := corsEntries(*value, entry)
	for _, p := range problems {
		v.fail(path, p)
	}
	switch {
	case len(out) == 0 && enabled && len(problems) == 0:
		v.fail(path, "must not be empty while CORS.Enabled is true; "+hint)
	case len(out) > 1 && slices.Contains(out, "*"):
		v.fail(path, `"*" must stand alone: it already allows everything`)
	}
}

// corsEntries splits a comma-separated list into the normal forms of its
// entries, trimmed, without empty entries and repeats, and the problems of
// the entries that do not parse.
func corsEntries(value string, entry func(string) (string, string)) (out, problems []string) {
	for e := range strings.SplitSeq(value, ",") {
		if e = strings.TrimSpace(e); e == "" {
			continue
		}
		norm, problem := e, ""
		if e != "*" {
			norm, problem = entry(e)
		}
		switch {
		case problem != "":
			problems = append(problems, problem)
		case !slices.Contains(out, norm):
			out = append(out, norm)
		}
	}
	return out, problems
}

// origin normalizes an origin: "null", or scheme://host[:port] with scheme
// http or https.
func origin(e string) (string, string) {
	if strings.EqualFold(e, "null") {
		return "null", ""
	}
	const form = "; an origin is scheme://host[:port] with scheme http or https, or null"
	q := quoteOrigin(e)
	if !strings.Contains(e, "://") {
		return "", q + " is not an origin" + form
	}
	u, err := url.Parse(strings.TrimSuffix(e, "/"))
	switch {
	case err != nil:
		return "", q + " is not an origin" + form
	case u.Scheme != "http" && u.Scheme != "https":
		return "", q + " is not an origin: the scheme must be http or https"
	case u.User != nil:
		return "", q + " is not an origin: it must not hold a user name or password"
	case u.Path != "" || u.RawPath != "":
		return "", q + " is not an origin: it has a path" + form
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || strings.Contains(e, "#"):
		return "", q + " is not an origin: it has a query or fragment" + form
	case !originHost(u.Hostname()):
		return "", q + " is not an origin: it must name a host (no wildcards)"
	case u.Port() != "" && !validPort(u.Port(), 1):
		return "", q + " is not an origin: the port must be from 1 to 65535"
	}
	host := strings.ToLower(u.Hostname())
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	port := ""
	if n, _ := strconv.Atoi(u.Port()); n != 0 && !(u.Scheme == "http" && n == 80 || u.Scheme == "https" && n == 443) {
		port = ":" + strconv.Itoa(n) // browsers leave the default port out of Origin
	}
	return u.Scheme + "://" + host + port, ""
}

// originHost accepts a DNS name (letters, digits, "-" and ".", as browsers
// send internationalized names in punycode) or an IP address.
func originHost(h string) bool {
	if h == "" {
		return false
	}
	if ip, err := netip.ParseAddr(h); err == nil {
		return ip.Zone() == "" // browsers never send a zone ("%eth0")
	}
	for _, r := range h {
		if !(r == '-' || r == '.' || 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9') {
			return false
		}
	}
	return true
}

// quoteOrigin quotes a CORS origin entry for a message, without userinfo,
// query or fragment.
func quoteOrigin(e string) string {
	if strings.Contains(e, "://") {
		return quoteURL(e)
	}
	return quote(e)
}

func headerName(e string) (string, string) {
	if !isToken(e) {
		return "", quote(e) + " is not a header name (letters, digits and !#$%&'*+-.^_`|~)"
	}
	return e, ""
}

func method(e string) (string, string) {
	if !isToken(e) {
		return "", quote(e) + " is not a method name (letters, digits and !#$%&'*+-.^_`|~)"
	}
	return strings.ToUpper(e), ""
}

// isToken reports whether s is an RFC 7230 token (header names and methods).
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := range len(s) {
		c := s[i]
		switch {
		case '0' <= c && c <= '9', 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}
