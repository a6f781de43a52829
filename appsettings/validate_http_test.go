package appsettings

import (
	"slices"
	"testing"
	"time"
)

func TestValidateTrustedProxies(t *testing.T) {
	cases := []struct {
		name    string
		proxies []string
		header  ForwardedHeader
		want    []string        // TrustedProxies after Validate, when there is no error
		header2 ForwardedHeader // ForwardedHeader after Validate, when there is no error
		errs    []string
	}{
		{"defaults", []string{}, "X-Forwarded-For", []string{}, "X-Forwarded-For", nil},
		{"addresses become ranges", []string{"10.0.0.5", " 2001:db8::7 ", "::ffff:192.0.2.1", "127.0.0.1"}, "X-Forwarded-For",
			[]string{"10.0.0.5/32", "2001:db8::7/128", "192.0.2.1/32", "127.0.0.1/32"}, "X-Forwarded-For", nil},
		{"ranges", []string{"10.0.0.0/8", "fd00::/8", "::ffff:172.16.0.0/108"}, "X-Real-IP",
			[]string{"10.0.0.0/8", "fd00::/8", "172.16.0.0/12"}, "X-Real-IP", nil},
		{"not an address", []string{"10.0.0.1", "proxy.example.com"}, "X-Forwarded-For", nil, "",
			[]string{`Http.TrustedProxies[1]: "proxy.example.com" is not an IP address or a CIDR range (such as "10.0.0.0/8" or "::1/128")`}},
		{"host bits set", []string{"10.0.0.1/24"}, "X-Forwarded-For", nil, "",
			[]string{`Http.TrustedProxies[0]: "10.0.0.1/24" has bits set past its /24 prefix; did you mean "10.0.0.0/24"?`}},
		{"zone", []string{"fe80::1%eth0"}, "X-Forwarded-For", nil, "",
			[]string{`Http.TrustedProxies[0]: "fe80::1%eth0" has a zone (%…); write the address without it`}},
		{"empty entry", []string{""}, "X-Forwarded-For", nil, "",
			[]string{`Http.TrustedProxies[0]: "" is not an IP address or a CIDR range (such as "10.0.0.0/8" or "::1/128")`}},
		{"every IPv4 address", []string{"0.0.0.0/0"}, "X-Forwarded-For", nil, "",
			[]string{`Http.TrustedProxies[0]: "0.0.0.0/0" would trust every address, so any client could choose its own address; list the proxies' addresses`}},
		{"every IPv6 address", []string{"10.0.0.1", " ::/0"}, "X-Forwarded-For", nil, "",
			[]string{`Http.TrustedProxies[1]: "::/0" would trust every address, so any client could choose its own address; list the proxies' addresses`}},
		{"every IPv4 address, mapped", []string{"::ffff:0.0.0.0/96"}, "X-Forwarded-For", nil, "",
			[]string{`Http.TrustedProxies[0]: "::ffff:0.0.0.0/96" would trust every address, so any client could choose its own address; list the proxies' addresses`}},
		{"RFC 7239 Forwarded", []string{"10.0.0.1"}, "forwarded", nil, "",
			[]string{`Http.ForwardedHeader: the RFC 7239 "Forwarded" header is not supported; have the proxy send "X-Forwarded-For" (or "X-Real-IP")`}},
		{"another header", []string{}, "CF-Connecting-IP", nil, "",
			[]string{`Http.ForwardedHeader: must be "X-Forwarded-For" or "X-Real-IP" (got "CF-Connecting-IP")`}},
		{"empty header", []string{}, "", nil, "",
			[]string{`Http.ForwardedHeader: must be "X-Forwarded-For" or "X-Real-IP" (got "")`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := validSettings()
			s.Http.TrustedProxies = slices.Clone(tc.proxies)
			s.Http.ForwardedHeader = tc.header
			s.Normalize()
			err := s.Validate()
			checkErrors(t, err, tc.errs)
			if err != nil {
				return
			}
			if !slices.Equal(s.Http.TrustedProxies, tc.want) || s.Http.ForwardedHeader != tc.header2 {
				t.Errorf("TrustedProxies = %q, ForwardedHeader = %q; want %q, %q",
					s.Http.TrustedProxies, s.Http.ForwardedHeader, tc.want, tc.header2)
			}
			// Validating again changes nothing.
			again := slices.Clone(s.Http.TrustedProxies)
			s.Normalize()
			if err := s.Validate(); err != nil || !slices.Equal(s.Http.TrustedProxies, again) || s.Http.ForwardedHeader != tc.header2 {
				t.Errorf("second Validate: %v, TrustedProxies %q, ForwardedHeader %q", err, s.Http.TrustedProxies, s.Http.ForwardedHeader)
			}
		})
	}
}

// TrustedProxies is replaced as a whole by a layer that sets it, so an
// environment's file or variable says exactly which proxies are trusted.
func TestTrustedProxiesReplace(t *testing.T) {
	cases := []struct {
		name    string
		base    string
		env     string // appsettings.Production.json, "" for none
		vars    []string
		proxies []string
		header  ForwardedHeader
	}{
		{"not set", `{}`, "", nil, []string{}, "X-Forwarded-For"},
		{"one proxy", `{"http":{"trustedproxies":["10.0.0.5"],"forwardedheader":"x-real-ip"}}`, "", nil,
			[]string{"10.0.0.5/32"}, "X-Real-IP"},
		{"environment file replaces", `{"Http":{"TrustedProxies":["10.0.0.0/8","192.0.2.0/24"]}}`,
			`{"Http":{"TrustedProxies":["198.51.100.1"]}}`, nil, []string{"198.51.100.1/32"}, "X-Forwarded-For"},
		{"environment file empties", `{"Http":{"TrustedProxies":["10.0.0.0/8"]}}`,
			`{"Http":{"TrustedProxies":[]}}`, nil, []string{}, "X-Forwarded-For"},
		{"environment file leaves it", `{"Http":{"TrustedProxies":["10.0.0.0/8"]}}`,
			`{"Http":{"Listen":":8080"}}`, nil, []string{"10.0.0.0/8"}, "X-Forwarded-For"},
		{"variable", `{"Http":{"TrustedProxies":["10.0.0.0/8"]}}`, "",
			[]string{"CAMGATE__Http__TrustedProxies=127.0.0.1, ::1", "CAMGATE__Http__ForwardedHeader=X-Real-IP"},
			[]string{"127.0.0.1/32", "::1/128"}, "X-Real-IP"},
		{"variable empties", `{"Http":{"TrustedProxies":["10.0.0.0/8"]}}`, "",
			[]string{"CAMGATE__Http__TrustedProxies="}, []string{}, "X-Forwarded-For"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := loadLayers(t, tc.base, tc.env, tc.vars)
			if !slices.Equal(s.Http.TrustedProxies, tc.proxies) || s.Http.ForwardedHeader != tc.header {
				t.Errorf("TrustedProxies = %q, ForwardedHeader = %q; want %q, %q",
					s.Http.TrustedProxies, s.Http.ForwardedHeader, tc.proxies, tc.header)
			}
		})
	}
}

// loadLayers loads base as appsettings.json, env (unless "") as
// appsettings.Production.json and the environment variables vars.
func loadLayers(t *testing.T, base, env string, vars []string) Settings {
	t.Helper()
	dir := t.TempDir()
	write(t, dir, "appsettings.json", base)
	if env != "" {
		write(t, dir, "appsettings.Production.json", env)
	}
	s, err := Load(LoadOptions{ConfigDir: dir, Env: vars})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// Wrong types and unknown keys in a file are named with file and path.
func TestHTTPSettingsErrors(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "appsettings.json", `{"Http":{"TrustedProxies":"10.0.0.1","ForwardedHeader":["X-Real-IP"],"TrustedProxy":[]}}`)
	_, err := Load(LoadOptions{ConfigDir: dir})
	checkErrors(t, err, []string{
		"appsettings.json: Http.TrustedProxies: want a list, got a string",
		"appsettings.json: Http.ForwardedHeader: want a string, got a list",
		"appsettings.json: Http.TrustedProxy: unknown setting",
	})
}

// The server's timeouts, connection limits and shutdown timers: each out
// of range is named with its range; only the drain and the shutdown
// deadline may be 0.
func TestValidateHTTPLimits(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(*HTTP)
		errs   []string
	}{
		{"defaults", func(*HTTP) {}, nil},
		{"smallest", func(h *HTTP) {
			h.IdleTimeout, h.ReadTimeout, h.WriteTimeout = Duration(time.Second), Duration(time.Second), Duration(2*time.Second+1)
			h.ExportTimeout, h.MaxConnectionsPerAddress, h.MaxConnections = Duration(time.Minute), 1, 1
			h.DrainPeriod, h.ShutdownTimeout = 0, 0
		}, nil},
		{"zero timeouts", func(h *HTTP) {
			h.IdleTimeout, h.ReadTimeout, h.WriteTimeout, h.ExportTimeout = 0, 0, 0, 0
		}, []string{
			"Http.IdleTimeout: must be from 1s to 1h (got 0s)",
			"Http.ReadTimeout: must be from 1s to 5m (got 0s)",
			"Http.WriteTimeout: must be from 1s to 10m (got 0s)",
			"Http.ExportTimeout: must be from 1m to 24h (got 0s)",
		}},
		{"no connection limit", func(h *HTTP) { h.MaxConnectionsPerAddress, h.MaxConnections = 0, -1 }, []string{
			"Http.MaxConnectionsPerAddress: must be from 1 to 1000000 (got 0)",
			"Http.MaxConnections: must be from 1 to 1000000 (got -1)",
		}},
		{"write timeout within the gathering", func(h *HTTP) { h.WriteTimeout = Duration(2 * time.Second) }, []string{
			"Http.WriteTimeout: must be longer than WebRTC.GatherTimeout (2s): the answer to a new session waits for the gathering (got 2s)",
		}},
		{"too long", func(h *HTTP) {
			h.DrainPeriod, h.ShutdownTimeout = Duration(11*time.Minute), Duration(-time.Second)
		}, []string{
			"Http.DrainPeriod: must be from 0s to 10m (got 11m0s)",
			"Http.ShutdownTimeout: must be from 0s to 10m (got -1s)",
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := validSettings()
			tc.mutate(&s.Http)
			checkErrors(t, s.Validate(), tc.errs)
		})
	}
}
