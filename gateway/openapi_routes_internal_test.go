package gateway

import (
	"context"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/camgate/camgate/appsettings"
	"github.com/camgate/camgate/gateway/openapi"
	"github.com/camgate/camgate/oauth"
)

// noAuth is an Authenticator for tests that only build the router.
type noAuth struct{}

func (noAuth) Verify(context.Context, string) (*oauth.Principal, error) { return nil, nil }
func (noAuth) HandleToken(http.ResponseWriter, *http.Request)           {}
func (noAuth) HandleDiscovery(http.ResponseWriter, *http.Request)       {}
func (noAuth) HandleJWKS(http.ResponseWriter, *http.Request)            {}

// Every route the router registers is an operation of the OpenAPI document
// (gateway/openapi/openapi.json), and every operation of the document is a
// route: the document lists the whole API, and nothing it lists is gone.
// The gateway tests check each answer against it (openapi_check_test.go).
func TestOpenAPIDocumentListsEveryRoute(t *testing.T) {
	t.Parallel()
	doc, err := openapi3.NewLoader().LoadFromData(openapi.Document)
	if err != nil {
		t.Fatal(err)
	}
	documented := map[string]bool{}
	for p, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			documented[method+" "+routeShape(p)] = true
		}
	}
	g := &Gateway{log: slog.New(slog.DiscardHandler), auth: noAuth{}}
	g.metrics = newGatewayMetrics(g, appsettings.Metrics{Enabled: true})
	routed := map[string]bool{}
	for _, r := range g.routes(nil).Routes() {
		key := r.Method + " " + routeShape(r.Path)
		routed[key] = true
		// The token endpoint takes every method so as to answer the
		// others with OAuth's own 405; only POST is an operation.
		if r.Path == "/api/idp/connect/token" && r.Method != http.MethodPost {
			continue
		}
		if !documented[key] {
			t.Errorf("%s %s is routed but not in the OpenAPI document", r.Method, r.Path)
		}
	}
	for key := range documented {
		if !routed[key] {
			t.Errorf("%s is in the OpenAPI document but not routed", key)
		}
	}
}

var routeParam = regexp.MustCompile(`\{[^}]*\}|:[^/]+`)

// routeShape is a path as the router sees it, in lower case and with every
// parameter as {} (gin writes :id, OpenAPI {sessionId}).
func routeShape(p string) string {
	return routeParam.ReplaceAllString(strings.ToLower(p), "{}")
}
