package appsettings

import (
	"slices"
	"testing"
)

func TestValidateMetricsRules(t *testing.T) {
	cases := []struct {
		name  string
		allow []string
		want  []string // AllowFrom after Validate, when there is no error
		errs  []string
	}{
		{"defaults", []string{"127.0.0.1/32", "::1/128"}, []string{"127.0.0.1/32", "::1/128"}, nil},
		{"empty", []string{}, []string{}, nil},
		{"addresses become ranges", []string{"192.0.2.7", " 2001:db8::1 ", "::ffff:10.0.0.1"},
			[]string{"192.0.2.7/32", "2001:db8::1/128", "10.0.0.1/32"}, nil},
		{"ranges", []string{"10.0.0.0/8", "0.0.0.0/0", "fd00::/8", "::ffff:10.0.0.0/104"},
			[]string{"10.0.0.0/8", "0.0.0.0/0", "fd00::/8", "10.0.0.0/8"}, nil},
		{"not an address", []string{"localhost"}, nil,
			[]string{`Metrics.AllowFrom[0]: "localhost" is not an IP address or a CIDR range (such as "10.0.0.0/8" or "::1/128")`}},
		{"bad prefix length", []string{"127.0.0.1/32", "10.0.0.0/33"}, nil,
			[]string{`Metrics.AllowFrom[1]: "10.0.0.0/33" is not an IP address or a CIDR range (such as "10.0.0.0/8" or "::1/128")`}},
		{"host bits set", []string{"10.1.2.3/8"}, nil,
			[]string{`Metrics.AllowFrom[0]: "10.1.2.3/8" has bits set past its /8 prefix; did you mean "10.0.0.0/8"?`}},
		{"zone", []string{"fe80::1%eth0"}, nil,
			[]string{`Metrics.AllowFrom[0]: "fe80::1%eth0" has a zone (%…); write the address without it`}},
		{"mapped range too wide", []string{"::ffff:0.0.0.0/80"}, nil,
			[]string{`Metrics.AllowFrom[0]: "::ffff:0.0.0.0/80" mixes IPv4 and IPv6: an IPv4-mapped range needs a prefix of at least /96`}},
		{"empty entry", []string{""}, nil,
			[]string{`Metrics.AllowFrom[0]: "" is not an IP address or a CIDR range (such as "10.0.0.0/8" or "::1/128")`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := validSettings()
			s.Metrics.AllowFrom = slices.Clone(tc.allow)
			s.Normalize()
			err := s.Validate()
			checkErrors(t, err, tc.errs)
			if err == nil && !slices.Equal(s.Metrics.AllowFrom, tc.want) {
				t.Errorf("AllowFrom = %q, want %q", s.Metrics.AllowFrom, tc.want)
			}
			// Validating again changes nothing.
			if err == nil {
				again := slices.Clone(s.Metrics.AllowFrom)
				s.Normalize()
				if err := s.Validate(); err != nil || !slices.Equal(s.Metrics.AllowFrom, again) {
					t.Errorf("second Validate: %v, AllowFrom %q", err, s.Metrics.AllowFrom)
				}
			}
		})
	}
}

// AllowFrom is replaced as a whole by a layer that sets it: [] empties the
// default, a shorter list does not keep the default's other items, and the
// environment file replaces the base file's list.
func TestMetricsAllowFromReplaces(t *testing.T) {
	cases := []struct {
		name  string
		base  string
		env   string // appsettings.Production.json, "" for none
		vars  []string
		allow []string
	}{
		{"not set", `{}`, "", nil, []string{"127.0.0.1/32", "::1/128"}},
		{"emptied", `{"Metrics":{"AllowFrom":[]}}`, "", nil, []string{}},
		{"one address", `{"metrics":{"allowfrom":["10.0.0.5"]}}`, "", nil, []string{"10.0.0.5/32"}},
		{"environment file replaces", `{"Metrics":{"AllowFrom":["10.0.0.0/8","192.0.2.0/24"]}}`,
			`{"Metrics":{"AllowFrom":["198.51.100.1"]}}`, nil, []string{"198.51.100.1/32"}},
		{"environment file leaves it", `{"Metrics":{"AllowFrom":["10.0.0.0/8"]}}`,
			`{"Metrics":{"Enabled":false}}`, nil, []string{"10.0.0.0/8"}},
		{"variable", `{"Metrics":{"AllowFrom":["10.0.0.0/8"]}}`, "",
			[]string{"CAMGATE__Metrics__AllowFrom=127.0.0.1, 203.0.113.0/24"}, []string{"127.0.0.1/32", "203.0.113.0/24"}},
		{"variable empties", `{}`, "", []string{"CAMGATE__Metrics__AllowFrom="}, []string{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := loadLayers(t, tc.base, tc.env, tc.vars)
			if !slices.Equal(s.Metrics.AllowFrom, tc.allow) {
				t.Errorf("AllowFrom = %q, want %q", s.Metrics.AllowFrom, tc.allow)
			}
		})
	}
}

// A bad entry in a file is named with its file and path.
func TestMetricsSettingsErrors(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "appsettings.json", `{"Metrics":{"Enabled":"yes","AllowFrom":"10.0.0.0/8","Unknown":1}}`)
	_, err := Load(LoadOptions{ConfigDir: dir})
	checkErrors(t, err, []string{
		"appsettings.json: Metrics.Enabled: want true or false, got a string",
		"appsettings.json: Metrics.AllowFrom: want a list, got a string",
		"appsettings.json: Metrics.Unknown: unknown setting",
	})
}
