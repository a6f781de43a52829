package oauth

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"

	"github.com/camgate/camgate/appsettings"
	"github.com/camgate/camgate/cameras/testutil"
)

// servedIDP is a Service whose discovery document, JWKS and token endpoint
// are served over HTTP on loopback, under /API/IDP as the gateway mounts
// them; its issuer is the server's URL + "/API/IDP".
type servedIDP struct {
	*testService
	server *httptest.Server
	issuer string
	up     atomic.Bool  // false: every request gets 503 (an issuer that is down)
	hits   atomic.Int64 // discovery requests seen
}

func serveIDP(t *testing.T, mutate ...func(*Options)) *servedIDP {
	t.Helper()
	idp := &servedIDP{}
	idp.up.Store(true)
	mux := http.NewServeMux()
	idp.server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/openid-configuration") {
			idp.hits.Add(1)
		}
		if !idp.up.Load() {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(idp.server.Close)
	idp.issuer = idp.server.URL + "/API/IDP"
	idp.testService = newTestService(t, testSettings(t), append([]func(*Options){func(o *Options) { o.Issuer = idp.issuer }}, mutate...)...)
	mux.HandleFunc("/API/IDP/.well-known/openid-configuration", idp.HandleDiscovery)
	mux.HandleFunc("/API/IDP/.well-known/jwks", idp.HandleJWKS)
	mux.HandleFunc("/API/IDP/connect/token", idp.HandleToken)
	return idp
}

// token signs a user in over HTTP.
func (idp *servedIDP) token(t *testing.T, user, password string) string {
	t.Helper()
	resp, err := idp.server.Client().PostForm(idp.issuer+"/connect/token", passwordForm(user, password, ClientGrantValidator))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || resp.StatusCode != 200 || body.AccessToken == "" {
		t.Fatalf("token endpoint: %d %v", resp.StatusCode, err)
	}
	return body.AccessToken
}

func TestDiscoveryDocument(t *testing.T) {
	t.Parallel()
	idp := serveIDP(t)
	resp, err := http.Get(idp.issuer + "/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var doc map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
		t.Fatal(err)
	}
	if doc["issuer"] != idp.issuer || doc["token_endpoint"] != idp.issuer+"/connect/token" || doc["jwks_uri"] != idp.issuer+"/.well-known/jwks" {
		t.Fatalf("document %v", doc)
	}
	if algs, _ := doc["id_token_signing_alg_values_supported"].([]any); len(algs) != 1 || algs[0] != "RS256" {
		t.Fatalf("algs %v", doc["id_token_signing_alg_values_supported"])
	}
	if grants, _ := doc["grant_types_supported"].([]any); len(grants) != 2 {
		t.Fatalf("grants %v", doc["grant_types_supported"])
	}
	if resp.Header.Get("Content-Type") != "application/json; charset=utf-8" {
		t.Fatalf("content type %q", resp.Header.Get("Content-Type"))
	}
	post, err := http.Post(idp.issuer+"/.well-known/jwks", "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	post.Body.Close()
	if post.StatusCode != http.StatusMethodNotAllowed {
		t.Fatalf("POST to the JWKS: %d", post.StatusCode)
	}
}

// go-oidc, knowing only the issuer URL, finds camgate's discovery document
// and keys and verifies a token from camgate's token endpoint.
func TestGoOIDCVerifiesCamgateToken(t *testing.T) {
	t.Parallel()
	idp := serveIDP(t, func(o *Options) { o.Now = nil }) // go-oidc checks exp by the real clock
	ctx := context.Background()
	provider, err := oidc.NewProvider(ctx, idp.issuer)
	if err != nil {
		t.Fatal(err)
	}
	if provider.Endpoint().TokenURL != idp.issuer+"/connect/token" {
		t.Fatalf("token URL %q", provider.Endpoint().TokenURL)
	}
	tok, err := provider.Verifier(&oidc.Config{ClientID: "camgate"}).Verify(ctx, idp.token(t, "alice", alicePassword))
	if err != nil {
		t.Fatalf("go-oidc: %v", err)
	}
	var claims struct {
		Roles []string `json:"roles"`
		Name  string   `json:"name"`
	}
	if err := tok.Claims(&claims); err != nil || tok.Subject != "user:alice" || claims.Name != "alice" || len(claims.Roles) != 1 {
		t.Fatalf("token %+v claims %+v %v", tok, claims, err)
	}
	if _, err := provider.Verifier(&oidc.Config{ClientID: "someone-else"}).Verify(ctx, idp.token(t, "alice", alicePassword)); err == nil {
		t.Fatal("go-oidc accepted camgate's token for another audience")
	}
}

// camgate accepts another camgate as an external issuer; roles map through
// RoleMappings. The issuer is down at start: New does not fail, tokens are
// refused as "issuer unavailable" (one warning, no request storm) and
// accepted once it answers and the back-off has passed.
func TestExternalIssuerDownAtStart(t *testing.T) {
	t.Parallel()
	idp := serveIDP(t)
	token := idp.token(t, "alice", alicePassword) // role "operators" at the issuer
	idp.up.Store(false)

	s := testSettings(t)
	s.Auth.BuiltIn.Enabled = false
	s.Auth.Issuers = []appsettings.Issuer{{
		Url: idp.issuer, Audience: "camgate", RolesClaim: "roles",
		RoleMappings: []appsettings.RoleMapping{{Value: "operators", Roles: []string{"viewers"}}},
	}}
	rp := newTestService(t, s)
	for range 3 {
		if got := reasonOf(t, verifyErr(rp.Service, token)); got != ReasonIssuerUnavailable {
			t.Fatalf("issuer down: %q", got)
		}
	}
	if n := idp.hits.Load(); n != 1 {
		t.Fatalf("%d discovery requests while backing off, want 1", n)
	}
	idp.up.Store(true)
	rp.clock.Add(discoveryMinBackoff)
	p, err := rp.Verify(context.Background(), token)
	if err != nil {
		t.Fatalf("issuer up again: %v", err)
	}
	if p.Issuer != idp.issuer || p.Subject != "user:alice" || len(p.Roles) != 1 || p.Roles[0] != "viewers" ||
		!p.Can(RightLive, cam2) || p.Can(RightLive, cam1) {
		t.Fatalf("principal %+v", p)
	}
	if n := strings.Count(rp.logs.String(), "external issuer unreachable"); n != 1 {
		t.Fatalf("%d outage warnings, want 1:\n%s", n, rp.logs)
	}
	// The issuer's keys are checked.
	if got := reasonOf(t, verifyErr(rp.Service, tamper(token))); got != ReasonSignature {
		t.Fatalf("tampered: %q", got)
	}
}

// An issuer whose discovery document names it differently from
// Auth.Issuers[n].Url (here a trailing slash) answers, so it is not
// "unreachable": the log says what mismatched and what to set, once.
func TestExternalIssuerMismatchSaysWhatToChange(t *testing.T) {
	t.Parallel()
	idp := serveIDP(t)
	s := testSettings(t)
	s.Auth.BuiltIn.Enabled = false
	s.Auth.Issuers = []appsettings.Issuer{{Url: idp.issuer + "/", Audience: "camgate", RolesClaim: "roles"}}
	rp := newTestService(t, s)
	// The discovery New started, then one more after the back-off.
	for range 2 {
		if _, err := rp.verifierFor(context.Background(), rp.external[idp.issuer+"/"]); err == nil {
			t.Fatal("a verifier for an issuer that names itself differently")
		}
		rp.clock.Add(discoveryMaxBackoff)
	}
	if n := idp.hits.Load(); n != 2 {
		t.Fatalf("%d discoveries, want 2", n)
	}
	logs := rp.logs.String()
	// The text handler escapes the message's quotes.
	for _, want := range []string{
		"level=ERROR", `Auth.Issuers[0].Url is \"` + idp.issuer + `/\"`,
		`calls itself \"` + idp.issuer + `\"`, `set Auth.Issuers[0].Url to exactly \"` + idp.issuer + `\"`,
		"configured=" + idp.issuer + "/ ", "issuerSays=" + idp.issuer,
	} {
		if !strings.Contains(logs, want) {
			t.Errorf("the log lacks %s:\n%s", want, logs)
		}
	}
	if strings.Contains(logs, "unreachable") {
		t.Errorf("an issuer that answers is logged as unreachable:\n%s", logs)
	}
	if n := strings.Count(logs, "calls itself"); n != 1 {
		t.Errorf("%d mismatch lines for 2 discoveries, want 1:\n%s", n, logs)
	}
}

func TestNewRefusesBadIssuerSettings(t *testing.T) {
	t.Parallel()
	for name, is := range map[string]appsettings.Issuer{
		"no URL":      {Audience: "a"},
		"not http":    {Url: "ftp://x", Audience: "a"},
		"no audience": {Url: "https://idp.example"},
		"own issuer":  {Url: testIssuer, Audience: "a"},
	} {
		t.Run(name, func(t *testing.T) {
			s := testSettings(t)
			s.Auth.Issuers = []appsettings.Issuer{is}
			if _, err := New(context.Background(), Options{Auth: s.Auth, DataDir: s.DataDir, Issuer: testIssuer}); err == nil {
				t.Fatal("New accepted it")
			}
		})
	}
	s := testSettings(t)
	if _, err := New(context.Background(), Options{Auth: s.Auth, DataDir: s.DataDir, Issuer: ""}); err == nil {
		t.Fatal("New accepted an empty built-in issuer")
	}
}

// Run discovers the external issuers without waiting for a token, and
// returns once its ctx has ended.
func TestRunDiscoversIssuersThenStops(t *testing.T) {
	t.Parallel()
	idp := serveIDP(t)
	s := testSettings(t)
	s.Auth.BuiltIn.Enabled = false
	s.Auth.Issuers = []appsettings.Issuer{{Url: idp.issuer, Audience: "camgate", RolesClaim: "roles"}}
	rp := newTestService(t, s)
	stop := testutil.Run(t, rp.Run, nil)
	deadline := time.Now().Add(30 * time.Second) // only bounds a hang
	for !strings.Contains(rp.logs.String(), "external issuer discovered") {
		if time.Now().After(deadline) {
			t.Fatalf("Run did not discover the issuer (%d requests):\n%s", idp.hits.Load(), rp.logs)
		}
		time.Sleep(time.Millisecond)
	}
	stop() // returns once Run has
	if n := idp.hits.Load(); n != 1 {
		t.Errorf("%d discovery requests; want 1", n)
	}
}
