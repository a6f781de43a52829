package appsettings

import (
	"net/netip"
	"strconv"
	"strings"
)

// metrics checks the scrape allowlist (Normalize writes each entry as a
// CIDR range: "192.0.2.7" becomes "192.0.2.7/32", "::ffff:10.0.0.1"
// becomes "10.0.0.1/32").
func (v *validator) metrics(m *Metrics) {
	for i, raw := range m.AllowFrom {
		if _, problem := rangeForm(raw); problem != "" {
			v.fail(indexPath("Metrics.AllowFrom", i), problem)
		}
	}
}

// allowPrefix reads an address or a CIDR range, refusing zones and ranges
// with bits set past their prefix length (a typo more often than not).
func allowPrefix(s string) (netip.Prefix, string) {
	const form = " is not an IP address or a CIDR range (such as \"10.0.0.0/8\" or \"::1/128\")"
	if strings.Contains(s, "%") {
		return netip.Prefix{}, quote(s) + " has a zone (%…); write the address without it"
	}
	if !strings.Contains(s, "/") {
		a, err := netip.ParseAddr(s)
		if err != nil {
			return netip.Prefix{}, quote(s) + form
		}
		a = a.Unmap()
		return netip.PrefixFrom(a, a.BitLen()), ""
	}
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return netip.Prefix{}, quote(s) + form
	}
	if p.Addr().Is4In6() {
		bits := p.Bits() - 96
		if bits < 0 {
			return netip.Prefix{}, quote(s) + " mixes IPv4 and IPv6: an IPv4-mapped range needs a prefix of at least /96"
		}
		p = netip.PrefixFrom(p.Addr().Unmap(), bits)
	}
	if m := p.Masked(); m != p {
		return netip.Prefix{}, quote(s) + " has bits set past its /" + strconv.Itoa(p.Bits()) + " prefix; did you mean " + quote(m.String()) + "?"
	}
	return p, ""
}
