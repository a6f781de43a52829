package clientaddr

import (
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"

	"github.com/camgate/camgate/appsettings"
)

// addrCase is one request: the settings, its TCP peer, its header lines and
// the client address camgate must see. The table seeds FuzzAddr too.
type addrCase struct {
	name    string
	trusted []string
	header  appsettings.ForwardedHeader // Http.ForwardedHeader; "" for X-Forwarded-For
	remote  string                      // RemoteAddr
	xff     []string                    // X-Forwarded-For lines
	realIP  []string                    // X-Real-IP lines
	want    string                      // "" for the zero Addr
}

var addrCases = []addrCase{
	// No proxy trusted (the default): the header is the client's to forge.
	{name: "no header", remote: "192.0.2.1:5000", want: "192.0.2.1"},
	{name: "spoofed header, nothing trusted", remote: "192.0.2.1:5000", xff: []string{"198.51.100.7"}, want: "192.0.2.1"},
	{name: "spoofed header from an untrusted peer", trusted: []string{"10.0.0.1/32"},
		remote: "192.0.2.1:5000", xff: []string{"198.51.100.7"}, want: "192.0.2.1"},
	{name: "spoofed X-Real-IP from an untrusted peer", trusted: []string{"10.0.0.1/32"}, header: "X-Real-IP",
		remote: "192.0.2.1:5000", realIP: []string{"198.51.100.7"}, want: "192.0.2.1"},
	{name: "untrusted peer claims to be a trusted proxy", trusted: []string{"10.0.0.0/8"},
		remote: "192.0.2.1:5000", xff: []string{"198.51.100.7, 10.0.0.1"}, want: "192.0.2.1"},

	// A trusted proxy.
	{name: "one proxy", trusted: []string{"10.0.0.1/32"}, remote: "10.0.0.1:40000",
		xff: []string{"203.0.113.9"}, want: "203.0.113.9"},
	{name: "trusted peer without the header", trusted: []string{"10.0.0.1/32"}, remote: "10.0.0.1:40000", want: "10.0.0.1"},
	{name: "client prepends a forged address", trusted: []string{"10.0.0.1/32"}, remote: "10.0.0.1:40000",
		xff: []string{"198.51.100.7, 203.0.113.9"}, want: "203.0.113.9"},
	{name: "client prepends a trusted address", trusted: []string{"10.0.0.0/8"}, remote: "10.0.0.1:40000",
		xff: []string{"10.9.9.9, 203.0.113.9"}, want: "203.0.113.9"},
	{name: "chain of trusted proxies", trusted: []string{"10.0.0.0/8", "172.16.0.5/32"}, remote: "10.0.0.1:40000",
		xff: []string{"198.51.100.7, 203.0.113.9, 172.16.0.5, 10.1.2.3"}, want: "203.0.113.9"},
	{name: "a chain over several header lines", trusted: []string{"10.0.0.0/8"}, remote: "10.0.0.1:40000",
		xff: []string{"198.51.100.7", "203.0.113.9, 10.0.0.7", "10.0.0.8"}, want: "203.0.113.9"},
	{name: "proxy's own line wins over the client's", trusted: []string{"10.0.0.1/32"}, remote: "10.0.0.1:40000",
		xff: []string{"198.51.100.7", "203.0.113.9"}, want: "203.0.113.9"},
	{name: "every hop trusted: the left-most", trusted: []string{"10.0.0.0/8"}, remote: "10.0.0.1:40000",
		xff: []string{"10.0.0.3, 10.0.0.2"}, want: "10.0.0.3"},
	{name: "spaces and tabs", trusted: []string{"10.0.0.1/32"}, remote: "10.0.0.1:40000",
		xff: []string{" 198.51.100.7 ,\t203.0.113.9\t"}, want: "203.0.113.9"},
	{name: "a port on an entry", trusted: []string{"10.0.0.1/32"}, remote: "10.0.0.1:40000",
		xff: []string{"203.0.113.9:51234"}, want: "203.0.113.9"},
	{name: "loopback proxy on the same machine", trusted: []string{"127.0.0.1/32", "::1/128"}, remote: "127.0.0.1:40000",
		xff: []string{"203.0.113.9"}, want: "203.0.113.9"},

	// IPv6.
	{name: "IPv6 proxy and client", trusted: []string{"2001:db8:1::/48"}, remote: "[2001:db8:1::10]:40000",
		xff: []string{"2001:db8:beef::1, 2001:db8:1::20"}, want: "2001:db8:beef::1"},
	{name: "IPv6 client in brackets with a port", trusted: []string{"10.0.0.1/32"}, remote: "10.0.0.1:40000",
		xff: []string{"[2001:db8::7]:443"}, want: "2001:db8::7"},
	{name: "IPv6 client in brackets", trusted: []string{"10.0.0.1/32"}, remote: "10.0.0.1:40000",
		xff: []string{"[2001:db8::7]"}, want: "2001:db8::7"},
	{name: "IPv4-mapped client becomes IPv4", trusted: []string{"10.0.0.1/32"}, remote: "10.0.0.1:40000",
		xff: []string{"::ffff:203.0.113.9"}, want: "203.0.113.9"},
	{name: "IPv4-mapped peer matches an IPv4 proxy", trusted: []string{"10.0.0.1/32"}, remote: "[::ffff:10.0.0.1]:40000",
		xff: []string{"203.0.113.9"}, want: "203.0.113.9"},
	{name: "IPv4-mapped hop matches an IPv4 proxy", trusted: []string{"10.0.0.0/8"}, remote: "10.0.0.1:40000",
		xff: []string{"203.0.113.9, ::ffff:10.0.0.2"}, want: "203.0.113.9"},
	{name: "zoned peer", trusted: []string{"fe80::/10"}, remote: "[fe80::1%eth0]:40000",
		xff: []string{"2001:db8::7"}, want: "2001:db8::7"},
	{name: "IPv6 peer untrusted", trusted: []string{"10.0.0.0/8"}, remote: "[2001:db8::5]:40000",
		xff: []string{"203.0.113.9"}, want: "2001:db8::5"},

	// Garbage from a trusted peer: the peer, and the request goes on.
	{name: "a name", trusted: []string{"10.0.0.1/32"}, remote: "10.0.0.1:40000", xff: []string{"client.example.com"}, want: "10.0.0.1"},
	{name: "empty header", trusted: []string{"10.0.0.1/32"}, remote: "10.0.0.1:40000", xff: []string{""}, want: "10.0.0.1"},
	{name: "trailing comma", trusted: []string{"10.0.0.1/32"}, remote: "10.0.0.1:40000", xff: []string{"203.0.113.9,"}, want: "10.0.0.1"},
	{name: "empty entry among proxies", trusted: []string{"10.0.0.0/8"}, remote: "10.0.0.1:40000",
		xff: []string{"203.0.113.9, , 10.0.0.2"}, want: "10.0.0.1"},
	{name: "junk left of the client is not read", trusted: []string{"10.0.0.1/32"}, remote: "10.0.0.1:40000",
		xff: []string{"<script>, unknown, 203.0.113.9"}, want: "203.0.113.9"},
	{name: "zone in the header", trusted: []string{"10.0.0.1/32"}, remote: "10.0.0.1:40000", xff: []string{"fe80::1%eth0"}, want: "10.0.0.1"},
	{name: "RFC 7239 syntax", trusted: []string{"10.0.0.1/32"}, remote: "10.0.0.1:40000", xff: []string{"for=203.0.113.9"}, want: "10.0.0.1"},
	{name: "IPv4 in brackets", trusted: []string{"10.0.0.1/32"}, remote: "10.0.0.1:40000", xff: []string{"[203.0.113.9]"}, want: "10.0.0.1"},
	{name: "bad port", trusted: []string{"10.0.0.1/32"}, remote: "10.0.0.1:40000", xff: []string{"203.0.113.9:99999"}, want: "10.0.0.1"},
	{name: "out-of-range octet", trusted: []string{"10.0.0.1/32"}, remote: "10.0.0.1:40000", xff: []string{"203.0.113.256"}, want: "10.0.0.1"},
	{name: "control characters", trusted: []string{"10.0.0.1/32"}, remote: "10.0.0.1:40000", xff: []string{"203.0.113.9\x00"}, want: "10.0.0.1"},
	{name: "RemoteAddr without a port", trusted: []string{"10.0.0.1/32"}, remote: "10.0.0.1", xff: []string{"203.0.113.9"}, want: ""},
	{name: "RemoteAddr not an address", remote: "pipe", want: ""},

	// X-Real-IP.
	{name: "X-Real-IP", trusted: []string{"10.0.0.1/32"}, header: "X-Real-IP", remote: "10.0.0.1:40000",
		realIP: []string{"203.0.113.9"}, xff: []string{"198.51.100.7"}, want: "203.0.113.9"},
	{name: "X-Real-IP, IPv6", trusted: []string{"10.0.0.1/32"}, header: "X-Real-IP", remote: "10.0.0.1:40000",
		realIP: []string{" 2001:db8::7 "}, want: "2001:db8::7"},
	{name: "X-Real-IP ignores X-Forwarded-For", trusted: []string{"10.0.0.1/32"}, header: "X-Real-IP", remote: "10.0.0.1:40000",
		xff: []string{"198.51.100.7"}, want: "10.0.0.1"},
	{name: "X-Real-IP twice", trusted: []string{"10.0.0.1/32"}, header: "X-Real-IP", remote: "10.0.0.1:40000",
		realIP: []string{"198.51.100.7", "203.0.113.9"}, want: "10.0.0.1"},
	{name: "X-Real-IP with a list", trusted: []string{"10.0.0.1/32"}, header: "X-Real-IP", remote: "10.0.0.1:40000",
		realIP: []string{"198.51.100.7, 203.0.113.9"}, want: "10.0.0.1"},
	{name: "X-Forwarded-For ignores X-Real-IP", trusted: []string{"10.0.0.1/32"}, remote: "10.0.0.1:40000",
		realIP: []string{"198.51.100.7"}, want: "10.0.0.1"},
}

func TestAddr(t *testing.T) {
	for _, c := range addrCases {
		t.Run(c.name, func(t *testing.T) {
			r, err := New(appsettings.HTTP{TrustedProxies: c.trusted, ForwardedHeader: c.header})
			if err != nil {
				t.Fatal(err)
			}
			req := httptest.NewRequest("GET", "/", nil)
			req.RemoteAddr = c.remote
			for _, v := range c.xff {
				req.Header.Add("X-Forwarded-For", v)
			}
			for _, v := range c.realIP {
				req.Header.Add("X-Real-IP", v)
			}
			got := r.Addr(req)
			var want netip.Addr
			if c.want != "" {
				want = netip.MustParseAddr(c.want)
			}
			if got != want {
				t.Errorf("Addr = %v, want %v", got, want)
			}
		})
	}
}

// A nil or zero Resolver trusts nobody.
func TestNoResolver(t *testing.T) {
	req := httptest.NewRequest("GET", "/", nil)
	req.RemoteAddr = "127.0.0.1:1"
	req.Header.Set("X-Forwarded-For", "203.0.113.9")
	for _, r := range []*Resolver{nil, {}} {
		if got := r.Addr(req); got != netip.MustParseAddr("127.0.0.1") {
			t.Errorf("%#v: Addr = %v, want the peer", r, got)
		}
	}
}

func TestNewRefuses(t *testing.T) {
	cases := []struct {
		h    appsettings.HTTP
		want string
	}{
		{appsettings.HTTP{ForwardedHeader: "Forwarded"}, `Http.ForwardedHeader: "Forwarded" is neither X-Forwarded-For nor X-Real-IP`},
		{appsettings.HTTP{TrustedProxies: []string{"10.0.0.1", "proxy"}}, `Http.TrustedProxies[1]: "proxy": not an IP address or a CIDR range`},
		{appsettings.HTTP{TrustedProxies: []string{"fe80::1%eth0"}}, `Http.TrustedProxies[0]: "fe80::1%eth0": not an IP address or a CIDR range`},
		{appsettings.HTTP{TrustedProxies: []string{"::ffff:0.0.0.0/80"}}, `Http.TrustedProxies[0]: "::ffff:0.0.0.0/80": an IPv4-mapped range needs a prefix of at least /96`},
	}
	for _, c := range cases {
		if _, err := New(c.h); err == nil || err.Error() != c.want {
			t.Errorf("New(%+v) = %v, want %q", c.h, err, c.want)
		}
	}
	// What Validate writes always builds.
	if _, err := New(appsettings.HTTP{TrustedProxies: []string{"10.0.0.0/8", "::1/128", "192.0.2.7"}, ForwardedHeader: "X-Real-IP"}); err != nil {
		t.Error(err)
	}
}

// FuzzAddr: whatever a trusted proxy forwards, Addr never panics, and the
// client is the peer or an address written in the header; an untrusted
// peer is always its own client.
//
//	go test -run '^$' -fuzz FuzzAddr -fuzztime 60s ./gateway/clientaddr
func FuzzAddr(f *testing.F) {
	for _, c := range addrCases {
		f.Add(c.remote, strings.Join(c.xff, "\n"), strings.Join(c.realIP, "\n"), c.header != appsettings.HeaderXRealIP)
	}
	trusted := []string{"10.0.0.0/8", "2001:db8:1::/48", "127.0.0.1"}
	f.Fuzz(func(t *testing.T, remote, xff, realIP string, useXFF bool) {
		header := appsettings.HeaderXRealIP
		if useXFF {
			header = appsettings.HeaderXForwardedFor
		}
		r, err := New(appsettings.HTTP{TrustedProxies: trusted, ForwardedHeader: header})
		if err != nil {
			t.Fatal(err)
		}
		req := httptest.NewRequest("GET", "/", nil)
		req.RemoteAddr = remote
		if xff != "" {
			req.Header["X-Forwarded-For"] = strings.Split(xff, "\n")
		}
		if realIP != "" {
			req.Header["X-Real-Ip"] = strings.Split(realIP, "\n")
		}
		got := r.Addr(req)
		p := peer(remote)
		if !r.trusts(p) {
			if got != p {
				t.Fatalf("untrusted peer %v: Addr = %v", p, got)
			}
			return
		}
		if got == p {
			return
		}
		if !got.IsValid() || got.Zone() != "" || got.Is4In6() {
			t.Fatalf("Addr = %#v: not a plain address", got)
		}
		written := xff
		if !useXFF {
			written = realIP
		}
		if !mentions(written, got) {
			t.Fatalf("Addr = %v, which the header %q does not name", got, written)
		}
	})
}

// mentions reports whether some entry of header parses to a.
func mentions(header string, a netip.Addr) bool {
	for _, line := range strings.Split(header, "\n") {
		for _, item := range strings.Split(line, ",") {
			if b, ok := parseHop(item); ok && b == a {
				return true
			}
		}
	}
	return false
}
