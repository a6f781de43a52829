package appsettings

import (
	"net/netip"
	"strings"
)

// allowedHosts checks Http.AllowedHosts (Normalize writes each entry the
// way the gateway compares Host headers: lower case, without a final dot,
// an IPv6 address without brackets).
func (v *validator) allowedHosts(hosts []string) {
	for i, raw := range hosts {
		if _, problem := allowedHost(raw); problem != "" {
			v.fail(indexPath("Http.AllowedHosts", i), problem)
		}
	}
}

// allowedHost is one entry of Http.AllowedHosts in its compared form, or
// what is wrong with it.
func allowedHost(raw string) (string, string) {
	e := strings.ToLower(strings.TrimSpace(raw))
	if e == "*" {
		return e, ""
	}
	if strings.Contains(e, "/") {
		return "", quote(raw) + ` is a URL or a path; list the host name alone, such as "cams.example.com"`
	}
	if a, err := netip.ParseAddr(strings.TrimSuffix(strings.TrimPrefix(e, "["), "]")); err == nil && a.Zone() == "" {
		// Every literal address passes anyway (it cannot be rebound);
		// listing one is harmless.
		return a.String(), ""
	}
	if strings.Contains(e, ":") {
		return "", quote(raw) + " has a port; list the name alone: the port of the Host header is not checked"
	}
	name, wildcard := strings.CutPrefix(e, "*.")
	name = strings.TrimSuffix(name, ".")
	if !isHostName(name) {
		return "", quote(raw) + ` is not a host name (letters, digits, "-" and "_" in dot-separated labels of at most 63, such as "cams.example.com" or "*.example.com")`
	}
	if wildcard && !strings.Contains(name, ".") {
		// Anyone can register a name under a top-level domain, and so make
		// it resolve to camgate.
		return "", quote(raw) + " would allow every name under a top-level domain; name your own domain, such as \"*.example.com\""
	}
	if wildcard {
		return "*." + name, ""
	}
	return name, ""
}

// isHostName reports whether s is a DNS name of dot-separated labels of
// letters, digits, "-" and "_" (as host names in the wild have), each of 1
// to 63 characters, at most 253 in all.
func isHostName(s string) bool {
	if s == "" || len(s) > 253 {
		return false
	}
	for label := range strings.SplitSeq(s, ".") {
		if label == "" || len(label) > 63 {
			return false
		}
		for _, r := range label {
			if !('a' <= r && r <= 'z' || '0' <= r && r <= '9' || r == '-' || r == '_') {
				return false
			}
		}
	}
	return true
}
