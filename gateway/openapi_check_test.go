package gateway_test

import (
	"fmt"
	"net/http"
	"os"
	"sync"
	"testing"

	"github.com/camgate/camgate/gateway/openapi"
	"github.com/camgate/camgate/gateway/openapi/openapitest"
)

// Every response the tests receive from a gateway of the harness is
// checked against the OpenAPI document (gateway/openapi/openapi.json):
// TestMain gives http.DefaultClient, which every test's HTTP request goes
// through (http.Get, http.PostForm, http.DefaultClient.Do), a validating
// RoundTripper in front of http.DefaultTransport (itself left alone:
// camgate clones it), and newTestEnv tells it which test owns the gateway
// at each address, so that a response that does not match the document
// fails the test that asked for it.
func TestMain(m *testing.M) {
	checker, err := openapitest.New()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	apiCheck.checker = checker
	http.DefaultClient.Transport = &validatingTransport{next: http.DefaultTransport}
	os.Exit(m.Run())
}

// apiCheck knows the gateways under test and the test of each.
var apiCheck = &openAPICheck{owners: map[string]testing.TB{}}

type openAPICheck struct {
	checker *openapitest.Checker
	mu      sync.Mutex
	owners  map[string]testing.TB // host:port of a gateway → its test
}

// watch has the responses of the gateway at addr checked for t until t ends.
func (c *openAPICheck) watch(t testing.TB, addr string) {
	c.mu.Lock()
	c.owners[addr] = t
	c.mu.Unlock()
	t.Cleanup(func() {
		c.mu.Lock()
		delete(c.owners, addr)
		c.mu.Unlock()
	})
}

type validatingTransport struct{ next http.RoundTripper }

func (v *validatingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := v.next.RoundTrip(req)
	if err != nil {
		return resp, err
	}
	apiCheck.mu.Lock()
	defer apiCheck.mu.Unlock()
	// Errorf under the lock: watch's cleanup waits for it, so no test is
	// told of a response after it ended.
	t, ok := apiCheck.owners[req.URL.Host]
	if !ok {
		return resp, nil
	}
	if err := apiCheck.checker.Check(req, resp); err != nil {
		t.Errorf("OpenAPI: %s %s answered %d: %v", req.Method, req.URL.Path, resp.StatusCode, err)
	}
	return resp, nil
}

// The document is served at /API/openapi.json without a token (it holds
// no secret), and it is the one the suite checks answers against.
func TestOpenAPIDocumentServedWithoutToken(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t, envOptions{})
	for _, path := range []string{"/openapi.json", "/OpenAPI.json"} {
		status, body := env.doAs("", http.MethodGet, path, nil)
		if status != http.StatusOK {
			t.Fatalf("GET /API%s without a token: %d %s", path, status, body)
		}
		if string(body) != string(openapi.Document) {
			t.Errorf("GET /API%s is not the embedded document", path)
		}
	}
}
