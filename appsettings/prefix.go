package appsettings

import "net/netip"

// ParsePrefix reads an address list entry of the settings (WebRTC.IPs,
// Metrics.AllowFrom, …): an IP address, as a one-address range, or a CIDR
// range, masked; IPv4-mapped IPv6 is taken as IPv4. An address with a zone
// is not read. Validation uses it, and the gateway reads the validated
// lists with it.
func ParsePrefix(s string) (netip.Prefix, bool) {
	if p, err := netip.ParsePrefix(s); err == nil {
		if p.Addr().Is4In6() && p.Bits() >= 96 {
			p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
		}
		return p.Masked(), true
	}
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" {
		return netip.Prefix{}, false
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), true
}

// ParsePrefixes reads a validated address list with ParsePrefix, leaving
// out what it does not read (validation has refused it already).
func ParsePrefixes(list []string) []netip.Prefix {
	var out []netip.Prefix
	for _, s := range list {
		if p, ok := ParsePrefix(s); ok {
			out = append(out, p)
		}
	}
	return out
}
