package appsettings

import (
	"slices"
	"testing"
)

func TestValidateAllowedHosts(t *testing.T) {
	const notName = ` is not a host name (letters, digits, "-" and "_" in dot-separated labels of at most 63, such as "cams.example.com" or "*.example.com")`
	cases := []struct {
		name  string
		hosts []string
		want  []string // AllowedHosts after Validate, when there is no error
		errs  []string
	}{
		{"default", []string{}, []string{}, nil},
		{"names in compared form", []string{" Cams.Example.COM. ", "nvr_1.lan", "*.Example.net", "*"},
			[]string{"cams.example.com", "nvr_1.lan", "*.example.net", "*"}, nil},
		{"literal addresses are harmless", []string{"192.0.2.7", "[2001:DB8::1]", "::1"},
			[]string{"192.0.2.7", "2001:db8::1", "::1"}, nil},
		{"a port", []string{"cams.example.com:443"}, nil,
			[]string{`Http.AllowedHosts[0]: "cams.example.com:443" has a port; list the name alone: the port of the Host header is not checked`}},
		{"an IPv6 address with a port", []string{"[::1]:8080"}, nil,
			[]string{`Http.AllowedHosts[0]: "[::1]:8080" has a port; list the name alone: the port of the Host header is not checked`}},
		{"a URL", []string{"ok.example", "https://cams.example.com/API"}, nil,
			[]string{`Http.AllowedHosts[1]: "https://cams.example.com/API" is a URL or a path; list the host name alone, such as "cams.example.com"`}},
		{"empty", []string{""}, nil, []string{`Http.AllowedHosts[0]: ""` + notName}},
		{"empty label", []string{"cams..example"}, nil, []string{`Http.AllowedHosts[0]: "cams..example"` + notName}},
		{"space inside", []string{"cams example"}, nil, []string{`Http.AllowedHosts[0]: "cams example"` + notName}},
		{"not ASCII", []string{"kamera.bücher.example"}, nil, []string{`Http.AllowedHosts[0]: "kamera.bücher.example"` + notName}},
		{"wildcard inside", []string{"cams.*.example"}, nil, []string{`Http.AllowedHosts[0]: "cams.*.example"` + notName}},
		{"wildcard of a top-level domain", []string{"*.com"}, nil,
			[]string{`Http.AllowedHosts[0]: "*.com" would allow every name under a top-level domain; name your own domain, such as "*.example.com"`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := validSettings()
			s.Http.AllowedHosts = slices.Clone(tc.hosts)
			s.Normalize()
			err := s.Validate()
			checkErrors(t, err, tc.errs)
			if err != nil {
				return
			}
			if !slices.Equal(s.Http.AllowedHosts, tc.want) {
				t.Errorf("AllowedHosts = %q, want %q", s.Http.AllowedHosts, tc.want)
			}
			again := slices.Clone(s.Http.AllowedHosts)
			s.Normalize()
			if err := s.Validate(); err != nil || !slices.Equal(s.Http.AllowedHosts, again) {
				t.Errorf("second Validate: %v, AllowedHosts %q", err, s.Http.AllowedHosts)
			}
		})
	}
}
