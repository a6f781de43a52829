package appsettings

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzLoadJSON feeds arbitrary bytes to Load as appsettings.json. Whatever
// the input, Load must not panic, every error must be an *Error of one
// line, and settings it accepts must stay valid.
func FuzzLoadJSON(f *testing.F) {
	for _, tc := range fileCases {
		f.Add([]byte(tc.json))
	}
	seeds, _ := filepath.Glob(filepath.Join("testdata", "*", "*.json"))
	seeds = append(seeds, filepath.Join("..", "appsettings.example.json"))
	for _, name := range seeds {
		if b, err := os.ReadFile(name); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := build([]layer{{name: "appsettings.json", data: data}}, nil, nil)
		if err != nil {
			errs := []error{err}
			if j, ok := err.(interface{ Unwrap() []error }); ok {
				errs = j.Unwrap()
			}
			for _, e := range errs {
				var typed *Error
				if !errors.As(e, &typed) {
					t.Errorf("%q is a %T, not an *Error", e, e)
				}
				if strings.Contains(e.Error(), "\n") {
					t.Errorf("%q is more than one line", e)
				}
			}
			return
		}
		if err := s.Validate(); err != nil {
			t.Errorf("accepted settings fail a second Validate: %v", err)
		}
		_ = s.Redacted()
	})
}

// FuzzCORSLists feeds arbitrary CORS lists to Normalize and Validate:
// neither may panic, every error must be one line, Validate must change
// nothing, and a list it accepts must be in a normal form that a second
// Normalize leaves as it is.
func FuzzCORSLists(f *testing.F) {
	f.Add("*", "*", "*")
	f.Add(" HTTPS://Portal.Example.COM/ ,NULL,, https://a.example:443, http://[::1]:80", "Authorization,Content-Type,", "get, Post,GET")
	f.Add("http://[fe80::1%25eth0]:8080, https://*.example.com", "X Custom", "PO ST")
	f.Add("https://u:p@a.example?x#y, file://, a", "*,Authorization", "GET,*")
	f.Fuzz(func(t *testing.T, origin, headers, methods string) {
		s := Defaults()
		s.CORS = CORS{Enabled: true, AllowOrigin: origin, AllowHeaders: headers, AllowMethods: methods}
		s.Normalize()
		normal := s.CORS
		err := s.Validate()
		if s.CORS != normal {
			t.Errorf("Validate changed %+v into %+v", normal, s.CORS)
		}
		if err != nil {
			for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
				if strings.Contains(e.Error(), "\n") {
					t.Errorf("%q is more than one line", e)
				}
			}
			return
		}
		s.Normalize()
		if err := s.Validate(); err != nil || s.CORS != normal {
			t.Errorf("a second Normalize: %v, %+v became %+v", err, normal, s.CORS)
		}
	})
}
