package appsettings

import "net/netip"

// linkLocal6 is IPv6 link-local unicast, fe80::/10. Such an address needs
// a zone (the interface) to be used at all, browsers neither offer nor try
// it, and pion never signals it as a candidate, so camgate never offers it.
func linkLocal6() netip.Prefix {
	return netip.PrefixFrom(netip.AddrFrom16([16]byte{0xfe, 0x80}), 10)
}

// webRTCAddresses checks the address lists against the IPv6 switch: an
// IPv6 entry while IPv6 is off, a link-local entry or an entry with a zone
// could never match a candidate, which would silently leave the operator
// without the candidates they asked for. Entries that do not parse are
// reported by webRTC.
func (v *validator) webRTCAddresses(w *WebRTC) {
	for i, s := range w.PublicIPs {
		a, err := netip.ParseAddr(s)
		if err != nil {
			continue
		}
		if a.Zone() != "" {
			v.fail(indexPath("WebRTC.PublicIPs", i), "must not carry a zone (got "+quote(s)+")")
			continue
		}
		a = a.Unmap()
		v.addressFamily(indexPath("WebRTC.PublicIPs", i), s, netip.PrefixFrom(a, a.BitLen()), w.IPv6)
	}
	for i, s := range w.IPs {
		p, ok := ParsePrefix(s)
		if !ok {
			if a, err := netip.ParseAddr(s); err == nil && a.Zone() != "" {
				v.fail(indexPath("WebRTC.IPs", i), "must not carry a zone (got "+quote(s)+")")
			}
			continue
		}
		v.addressFamily(indexPath("WebRTC.IPs", i), s, p, w.IPv6)
	}
}

// addressFamily fails an IPv6 entry while IPv6 is off, and one that lies
// within fe80::/10.
func (v *validator) addressFamily(path, s string, p netip.Prefix, ipv6 bool) {
	if !p.Addr().Is6() {
		return
	}
	switch {
	case !ipv6:
		v.fail(path, "must be IPv4 while WebRTC.IPv6 is false (got "+quote(s)+")")
	case p.Bits() >= linkLocal6().Bits() && linkLocal6().Contains(p.Addr()):
		v.fail(path, "must not be link-local (fe80::/10), which is never offered as a candidate (got "+quote(s)+")")
	}
}
