package gateway

import (
	"os"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/camgate/camgate/appsettings"
	"github.com/camgate/camgate/gateway/internal/errtext"
)

func TestHostPolicy(t *testing.T) {
	t.Parallel()
	h := appsettings.Defaults().Http
	h.Listen = "nvr.lan:8080"
	h.AllowedHosts = []string{"cams.example.com", "*.example.net"}
	p := newHostPolicy(Config{HTTP: h, Issuer: "https://idp.example.org:8443/API/IDP"})
	cases := map[string]bool{
		"":                      true, // HTTP/1.0: no browser sends it
		"127.0.0.1":             true,
		"127.0.0.1:8080":        true,
		"10.1.2.3:80":           true, // any literal: it cannot be rebound
		"[::1]:8080":            true,
		"[::1]":                 true,
		"[fe80::1%25eth0]:8080": true,
		"[2001:db8::1]":         true,
		"localhost":             true,
		"localhost:8080":        true,
		"LocalHost.:8080":       true,
		"app.localhost":         true,
		"nvr.lan:9999":          true, // Http.Listen's name, any port
		"idp.example.org":       true, // Auth.BuiltIn.Issuer's
		"cams.example.com":      true,
		"CAMS.example.com.:443": true,
		"a.example.net":         true,
		"a.b.example.net:1":     true,
		"evil.example":          false,
		"evil.example:8080":     false,
		"example.net":           false, // "*.example.net" is the names under it
		"xexample.net":          false,
		"cams.example.com.evil": false,
		"localhost.evil":        false,
		"evillocalhost":         false,
		"[evil.example]":        false,
		"[::1":                  false,
		"[::1]x":                false,
		"::1":                   false, // IPv6 needs brackets in Host
		"1.2.3":                 false,
		"999.1.1.1":             false,
		":8080":                 false,
	}
	for host, want := range cases {
		if got := p.allows(host); got != want {
			t.Errorf("allows(%q) = %v, want %v", host, got, want)
		}
	}
	if h, err := os.Hostname(); err == nil && h != "" && !p.allows(h+":8080") {
		t.Errorf("the machine's own name %q is refused", h)
	}
	if !newHostPolicy(Config{HTTP: appsettings.HTTP{AllowedHosts: []string{"*"}}}).allows("evil.example") {
		t.Error(`"*" does not allow every name`)
	}
}

// The check runs on every request: a name or address that passes (or a
// name that does not) costs no allocation.
func TestHostPolicyAllocs(t *testing.T) {
	h := appsettings.Defaults().Http
	h.AllowedHosts = []string{"cams.example.com", "*.example.net"}
	p := newHostPolicy(Config{HTTP: h})
	for _, host := range []string{"127.0.0.1:8080", "[::1]:8080", "localhost:8080", "cams.example.com", "a.example.net", "evil.example:8080"} {
		if n := testing.AllocsPerRun(100, func() { p.allows(host) }); n != 0 {
			t.Errorf("allows(%q): %v allocations", host, n)
		}
	}
}

func TestQuoteInput(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   string
		n    int
		want string
	}{
		{"abc", 10, `"abc"`},
		{"abcdef", 3, `"abc"…`},
		{"a\"b", 10, `"a\"b"`},
		{"a\nb", 3, `"a\n"…`},
		{"\xff\xfe", 4, `"\xff"…`},
		{"ünï", 4, `"ün"…`}, // whole characters only
		{"é\x00", 10, `"é\x00"`},
	} {
		if got := errtext.Quote(tc.in, tc.n); got != tc.want {
			t.Errorf("errtext.Quote(%q, %d) = %s, want %s", tc.in, tc.n, got, tc.want)
		}
	}
	// Whatever the input, the quote stays within its bound and is valid UTF-8.
	for _, in := range []string{strings.Repeat("\xff", 1000), strings.Repeat("\u2028", 1000), strings.Repeat("😀", 1000)} {
		q := errtext.Quote(in, 40)
		if len(q) > 40+2+len("…") || !utf8.ValidString(q) {
			t.Errorf("errtext.Quote(%.12q…, 40) = %s: %d bytes", in, q, len(q))
		}
	}
}
