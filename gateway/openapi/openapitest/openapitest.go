// Package openapitest checks HTTP answers against camgate's OpenAPI document
// (package openapi), for tests: the gateway's test harness runs every
// response its tests receive through a Checker, and the identity
// provider's tests their token, discovery and key answers. It is imported
// by tests only, so the validator is not linked into camgate.
package openapitest

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/camgate/camgate/gateway/openapi"
)

// Checker validates responses against the document.
type Checker struct {
	router routers.Router
}

// New loads and validates the document. It routes by the document's paths
// in lower case: camgate routes /API paths without regard to case and
// ignores a trailing slash, and so does the check.
func New() (*Checker, error) {
	doc, err := openapi3.NewLoader().LoadFromData(openapi.Document)
	if err != nil {
		return nil, fmt.Errorf("load the OpenAPI document: %w", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		return nil, fmt.Errorf("the OpenAPI document is not valid: %w", err)
	}
	lower := openapi3.NewPaths()
	for p, item := range doc.Paths.Map() {
		lower.Set(canonicalPath(p), item)
	}
	doc.Paths = lower
	r, err := gorillamux.NewRouter(doc)
	if err != nil {
		return nil, fmt.Errorf("route the OpenAPI document: %w", err)
	}
	return &Checker{router: r}, nil
}

// canonicalPath is a path as camgate routes it: under /API in lower case (a
// {parameter} keeps its name) and without a trailing slash.
func canonicalPath(p string) string {
	if !isAPIPath(p) {
		return p
	}
	var b strings.Builder
	inParam := false
	for _, r := range p {
		switch {
		case r == '{':
			inParam = true
		case r == '}':
			inParam = false
		case !inParam && r >= 'A' && r <= 'Z':
			r += 'a' - 'A'
		}
		b.WriteRune(r)
	}
	return strings.TrimRight(b.String(), "/")
}

func isAPIPath(p string) bool {
	return len(p) >= 4 && strings.EqualFold(p[:4], "/api") && (len(p) == 4 || p[4] == '/')
}

// isMonitoringPath reports the routes outside /API.
func isMonitoringPath(p string) bool {
	return p == "/healthz" || p == "/readyz" || p == "/metrics"
}

// Check validates resp, the answer to req. Requests the gateway does not
// route are left alone: the console's static files, CORS preflights, and
// what the gateway itself answers as an unknown endpoint (404) or method
// (405). Any other answer on a path that is not in the document is an
// error: every API route must be in it. Every status must be documented.
//
// When the document gives the answer's body a schema, Check reads the body
// and puts a copy back in resp.Body; otherwise (an MP4 download) it does
// not touch it.
func (c *Checker) Check(req *http.Request, resp *http.Response) error {
	if req.Method == http.MethodOptions {
		return nil
	}
	routed := req.Clone(req.Context())
	routed.URL.Path, routed.URL.RawPath = canonicalPath(req.URL.Path), ""
	route, params, err := c.router.FindRoute(routed)
	if err != nil {
		switch {
		case !isAPIPath(req.URL.Path) && !isMonitoringPath(req.URL.Path):
			return nil
		case resp.StatusCode == http.StatusNotFound && errors.Is(err, routers.ErrPathNotFound),
			resp.StatusCode == http.StatusMethodNotAllowed:
			return nil
		}
		return fmt.Errorf("the route is not in the OpenAPI document (%w)", err)
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: routed, PathParams: params, Route: route},
		Status:                 resp.StatusCode,
		Header:                 resp.Header,
		Body:                   resp.Body,
		Options:                &openapi3filter.Options{IncludeResponseStatus: true},
	}
	err = openapi3filter.ValidateResponse(req.Context(), in)
	resp.Body = in.Body
	return err
}
