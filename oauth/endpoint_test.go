package oauth

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/camgate/camgate/appsettings"
)

// tokenCase is one token request and the answer it must get. The table is
// shared by TestTokenEndpoint and the seeds of FuzzTokenRequest.
type tokenCase struct {
	name        string
	method      string // default POST
	contentType string // default form-encoded; "-" for none
	body        string
	status      int
	code        string // the "error"; "" for success
	refresh     bool   // a refresh_token comes with a success
}

func tokenCases() []tokenCase {
	form := func(v url.Values) string { return v.Encode() }
	return []tokenCase{
		{name: "password VmsClient", body: form(passwordForm("alice", alicePassword, ClientVms)), status: 200, refresh: true},
		{name: "password GrantValidatorClient", body: form(passwordForm("alice", alicePassword, ClientGrantValidator)), status: 200},
		{name: "bcrypt user", body: form(passwordForm("bob", bobPassword, ClientGrantValidator)), status: 200},
		{name: "user name ignores case", body: form(passwordForm("ALICE", alicePassword, ClientVms)), status: 200, refresh: true},
		{name: "content type with charset", contentType: "application/x-www-form-urlencoded; charset=UTF-8",
			body: form(passwordForm("bob", bobPassword, ClientVms)), status: 200, refresh: true},
		{name: "wrong password", body: form(passwordForm("alice", "nope", ClientVms)), status: 400, code: errInvalidGrant},
		{name: "unknown user", body: form(passwordForm("mallory", alicePassword, ClientVms)), status: 400, code: errInvalidGrant},
		{name: "password of another user", body: form(passwordForm("alice", bobPassword, ClientVms)), status: 400, code: errInvalidGrant},
		{name: "missing grant_type", body: "username=alice&password=x&client_id=VmsClient", status: 400, code: errInvalidRequest},
		{name: "missing client_id", body: "grant_type=password&username=alice&password=x", status: 400, code: errInvalidRequest},
		{name: "unknown client_id", body: form(passwordForm("alice", alicePassword, "AdminClient")), status: 401, code: errInvalidClient},
		{name: "client_credentials", body: "grant_type=client_credentials&client_id=VmsClient&client_secret=s", status: 400, code: errUnsupportedGrantType},
		{name: "authorization_code", body: "grant_type=authorization_code&client_id=VmsClient&code=c", status: 400, code: errUnsupportedGrantType},
		{name: "missing password", body: "grant_type=password&username=alice&client_id=VmsClient", status: 400, code: errInvalidRequest},
		{name: "empty user name", body: "grant_type=password&username=&password=x&client_id=VmsClient", status: 400, code: errInvalidRequest},
		{name: "refresh from GrantValidatorClient", body: "grant_type=refresh_token&refresh_token=abc&client_id=GrantValidatorClient", status: 400, code: errUnauthorizedClient},
		{name: "refresh token missing", body: "grant_type=refresh_token&client_id=VmsClient", status: 400, code: errInvalidRequest},
		{name: "refresh token unknown", body: form(refreshForm("bm90LWEtcmVmcmVzaC10b2tlbg")), status: 400, code: errInvalidGrant},
		{name: "repeated grant_type", body: "grant_type=password&grant_type=password&username=alice&password=x&client_id=VmsClient", status: 400, code: errInvalidRequest},
		{name: "repeated password", body: "grant_type=password&username=alice&password=x&password=y&client_id=VmsClient", status: 400, code: errInvalidRequest},
		{name: "JSON body", contentType: "application/json", body: `{"grant_type":"password"}`, status: 400, code: errInvalidRequest},
		{name: "no content type", contentType: "-", body: form(passwordForm("alice", alicePassword, ClientVms)), status: 400, code: errInvalidRequest},
		{name: "bad form encoding", body: "grant_type=%zz&client_id=VmsClient", status: 400, code: errInvalidRequest},
		{name: "empty body", body: "", status: 400, code: errInvalidRequest},
		{name: "body over 64 KB", body: "grant_type=password&client_id=VmsClient&pad=" + strings.Repeat("a", 64<<10), status: 400, code: errInvalidRequest},
		{name: "GET", method: http.MethodGet, status: 405, code: errInvalidRequest},
	}
}

func (c tokenCase) do(t testing.TB, svc *Service, addr string) tokenAnswer {
	t.Helper()
	method := c.method
	if method == "" {
		method = http.MethodPost
	}
	ct := c.contentType
	switch ct {
	case "":
		ct = "application/x-www-form-urlencoded"
	case "-":
		ct = ""
	}
	return doToken(t, svc, method, ct, c.body, addr)
}

func TestTokenEndpoint(t *testing.T) {
	t.Parallel()
	svc := newTestService(t, testSettings(t))
	for i, tc := range tokenCases() {
		t.Run(tc.name, func(t *testing.T) {
			// One address per case, so that the failures of one case do not
			// rate-limit the next.
			a := tc.do(t, svc.Service, fmt.Sprintf("192.0.2.%d:40000", i+1))
			if a.status != tc.status {
				t.Fatalf("status %d, want %d; body %s", a.status, tc.status, a.raw)
			}
			if got := a.header.Get("Cache-Control"); got != "no-store" {
				t.Errorf("Cache-Control %q, want no-store", got)
			}
			if got := a.header.Get("Content-Type"); !strings.HasPrefix(got, "application/json") {
				t.Errorf("Content-Type %q", got)
			}
			if tc.code != "" {
				if a.str("error") != tc.code || a.str("error_description") == "" {
					t.Fatalf("error %q (%q), want %q with a description", a.str("error"), a.str("error_description"), tc.code)
				}
				return
			}
			if a.str("token_type") != "Bearer" || a.str("scope") != "managementserver" || a.body["expires_in"] != float64(3600) {
				t.Fatalf("success body %s", a.raw)
			}
			if (a.str("refresh_token") != "") != tc.refresh {
				t.Fatalf("refresh_token present = %v, want %v", a.str("refresh_token") != "", tc.refresh)
			}
			p, err := svc.Verify(context.Background(), a.str("access_token"))
			if err != nil {
				t.Fatalf("the issued access token does not verify: %v", err)
			}
			if p.Issuer != testIssuer || !strings.HasPrefix(p.Subject, "user:") {
				t.Fatalf("principal %+v", p)
			}
		})
	}
}

// A wrong password and an unknown user get byte-identical answers.
func TestFailureDoesNotTellUserFromPassword(t *testing.T) {
	t.Parallel()
	svc := newTestService(t, testSettings(t))
	wrongPassword := postToken(t, svc.Service, passwordForm("alice", "wrong", ClientVms), "192.0.2.1:1")
	unknownUser := postToken(t, svc.Service, passwordForm("nobody", "wrong", ClientVms), "192.0.2.2:1")
	if wrongPassword.status != unknownUser.status || wrongPassword.raw != unknownUser.raw {
		t.Fatalf("answers differ:\n wrong password: %d %s\n unknown user:   %d %s",
			wrongPassword.status, wrongPassword.raw, unknownUser.status, unknownUser.raw)
	}
}

func TestAccessTokenClaims(t *testing.T) {
	t.Parallel()
	svc := newTestService(t, testSettings(t))
	a := signIn(t, svc.Service, "Alice", alicePassword)
	jws, claims, terr := parseUnverified(a.str("access_token"))
	if terr != nil {
		t.Fatal(terr)
	}
	h := jws.Signatures[0].Header
	if h.Algorithm != "RS256" || h.KeyID == "" || h.ExtraHeaders["typ"] != "at+jwt" {
		t.Fatalf("header alg %q kid %q typ %v", h.Algorithm, h.KeyID, h.ExtraHeaders["typ"])
	}
	now := svc.clock.Now()
	if claims.Issuer != testIssuer || claims.Subject != "user:alice" || !claims.Audience.Contains("camgate") ||
		!claims.Expiry.Time().Equal(now.Add(time.Hour)) || !claims.NotBefore.Time().Equal(now) || claims.Name != "alice" {
		t.Fatalf("claims %+v", claims)
	}
	p, err := svc.Verify(context.Background(), a.str("access_token"))
	if err != nil {
		t.Fatal(err)
	}
	if !p.Can(RightPTZ, cam1) || !p.Can(RightLive, cam2) || p.Can(RightPTZ, cam2) || p.Can(RightAdmin, cam1) {
		t.Fatalf("alice's rights are wrong: %+v", p)
	}
	if len(p.Roles) != 1 || p.Roles[0] != "operators" || !p.ExpiresAt.Equal(now.Add(time.Hour)) {
		t.Fatalf("principal %+v", p)
	}
}

// A user's rights are the union of their roles'.
func TestRolesAddUp(t *testing.T) {
	t.Parallel()
	s := testSettings(t)
	s.Auth.Users[1].Roles = []string{"viewers", "operators"}
	svc := newTestService(t, s)
	p, err := svc.Verify(context.Background(), signIn(t, svc.Service, "bob", bobPassword).str("access_token"))
	if err != nil {
		t.Fatal(err)
	}
	if !p.Can(RightLive, cam2) || !p.Can(RightPTZ, cam1) || !p.Can(RightLive, "any") || p.Can(RightExport, cam1) {
		t.Fatalf("rights are not the union of both roles")
	}
}

func TestRefreshRotationAndReuse(t *testing.T) {
	t.Parallel()
	svc := newTestService(t, testSettings(t))
	first := signIn(t, svc.Service, "alice", alicePassword)
	r1 := first.str("refresh_token")

	second := postToken(t, svc.Service, refreshForm(r1), "198.51.100.1:1")
	if second.status != 200 {
		t.Fatalf("refresh: %d %s", second.status, second.raw)
	}
	r2 := second.str("refresh_token")
	if r2 == "" || r2 == r1 {
		t.Fatalf("refresh did not rotate the refresh token")
	}
	if _, err := svc.Verify(context.Background(), second.str("access_token")); err != nil {
		t.Fatalf("refreshed access token: %v", err)
	}

	// r1 is spent: presenting it again is reuse, which revokes the chain.
	reuse := postToken(t, svc.Service, refreshForm(r1), "203.0.113.9:1")
	if reuse.status != 400 || reuse.str("error") != errInvalidGrant {
		t.Fatalf("reuse: %d %s", reuse.status, reuse.raw)
	}
	// ... so the newest token of the chain no longer works either.
	if a := postToken(t, svc.Service, refreshForm(r2), "198.51.100.1:1"); a.status != 400 || a.str("error") != errInvalidGrant {
		t.Fatalf("newest token after reuse: %d %s", a.status, a.raw)
	}
	if !strings.Contains(svc.logs.String(), "spent refresh token was presented again") {
		t.Fatalf("reuse was not logged:\n%s", svc.logs)
	}

	// Another sign-in's chain is not affected.
	other := signIn(t, svc.Service, "alice", alicePassword)
	if a := postToken(t, svc.Service, refreshForm(other.str("refresh_token")), "198.51.100.1:1"); a.status != 200 {
		t.Fatalf("another chain: %d %s", a.status, a.raw)
	}
}

func TestRefreshTokenExpires(t *testing.T) {
	t.Parallel()
	svc := newTestService(t, testSettings(t))
	r := signIn(t, svc.Service, "alice", alicePassword).str("refresh_token")
	svc.clock.Add(24*time.Hour + time.Second)
	if a := postToken(t, svc.Service, refreshForm(r), "198.51.100.1:1"); a.status != 400 || a.str("error") != errInvalidGrant {
		t.Fatalf("expired refresh token: %d %s", a.status, a.raw)
	}
	// The janitor's pruning forgets it; it stays refused.
	svc.refresh.prune(svc.clock.Now())
	if a := postToken(t, svc.Service, refreshForm(r), "198.51.100.1:1"); a.status != 400 {
		t.Fatalf("pruned refresh token: %d %s", a.status, a.raw)
	}
}

// A refresh token keeps working while it is refreshed within its lifetime:
// each new one lives RefreshTokenLifetime from its issue.
func TestRefreshTokenSlides(t *testing.T) {
	t.Parallel()
	svc := newTestService(t, testSettings(t))
	r := signIn(t, svc.Service, "alice", alicePassword).str("refresh_token")
	for range 3 {
		svc.clock.Add(20 * time.Hour)
		a := postToken(t, svc.Service, refreshForm(r), "198.51.100.1:1")
		if a.status != 200 {
			t.Fatalf("refresh: %d %s", a.status, a.raw)
		}
		r = a.str("refresh_token")
	}
}

func TestRateLimitPerUser(t *testing.T) {
	t.Parallel()
	s := testSettings(t)
	s.Auth.SignInFailuresPerMinute = 3
	svc := newTestService(t, s)
	for i := range 3 {
		a := postToken(t, svc.Service, passwordForm("alice", "guess"+strconv.Itoa(i), ClientVms), fmt.Sprintf("192.0.2.%d:1", i+1))
		if a.status != 400 || a.str("error") != errInvalidGrant {
			t.Fatalf("failure %d: %d %s", i, a.status, a.raw)
		}
		svc.clock.Add(time.Second)
	}
	// Over the limit: even the right password, from a fresh address, is
	// refused for now.
	a := postToken(t, svc.Service, passwordForm("ALICE", alicePassword, ClientVms), "192.0.2.50:1")
	if a.status != http.StatusTooManyRequests || a.str("error") != errInvalidGrant || a.str("error_description") != descTooManyFailures {
		t.Fatalf("over the limit: %d %s", a.status, a.raw)
	}
	if ra, err := strconv.Atoi(a.header.Get("Retry-After")); err != nil || ra < 1 || ra > 60 {
		t.Fatalf("Retry-After %q", a.header.Get("Retry-After"))
	}
	// Other users are not affected.
	signIn(t, svc.Service, "bob", bobPassword)
	// A minute after the first failure, one attempt is allowed again.
	svc.clock.Add(58 * time.Second)
	if a := postToken(t, svc.Service, passwordForm("alice", alicePassword, ClientVms), "192.0.2.50:1"); a.status != 200 {
		t.Fatalf("after the window: %d %s", a.status, a.raw)
	}
	if !strings.Contains(svc.logs.String(), "too many failed sign-ins") {
		t.Fatalf("reaching the limit was not logged")
	}
}

func TestRateLimitPerAddress(t *testing.T) {
	t.Parallel()
	s := testSettings(t)
	s.Auth.SignInFailuresPerMinute = 3
	svc := newTestService(t, s)
	const addr = "203.0.113.7:5555"
	for i := range 3 {
		a := postToken(t, svc.Service, passwordForm(fmt.Sprintf("user%d", i), "x", ClientVms), addr)
		if a.status != 400 {
			t.Fatalf("failure %d: %d %s", i, a.status, a.raw)
		}
	}
	// The address is limited, whatever the user (same host, other port).
	if a := postToken(t, svc.Service, passwordForm("bob", bobPassword, ClientVms), "203.0.113.7:6666"); a.status != http.StatusTooManyRequests {
		t.Fatalf("limited address: %d %s", a.status, a.raw)
	}
	// Another address is not.
	if a := postToken(t, svc.Service, passwordForm("bob", bobPassword, ClientVms), "203.0.113.8:5555"); a.status != 200 {
		t.Fatalf("other address: %d %s", a.status, a.raw)
	}
	svc.clock.Add(time.Minute)
	if a := postToken(t, svc.Service, passwordForm("bob", bobPassword, ClientVms), addr); a.status != 200 {
		t.Fatalf("after the window: %d %s", a.status, a.raw)
	}
}

// Passwords, access tokens and refresh tokens appear neither in the log
// (debug level) nor in error bodies.
func TestSecretsStayOutOfLogsAndErrors(t *testing.T) {
	t.Parallel()
	s := testSettings(t)
	s.Auth.SignInFailuresPerMinute = 2
	svc := newTestService(t, s)
	var secrets, bodies []string
	ok := signIn(t, svc.Service, "alice", alicePassword)
	secrets = append(secrets, alicePassword, ok.str("access_token"), ok.str("refresh_token"))

	const typo = "hunter2-typed-as-user-name"
	for _, f := range []url.Values{
		passwordForm("alice", "wrong-password-1", ClientVms),
		passwordForm(typo, "wrong-password-2", ClientVms),
		passwordForm("alice", "wrong-password-3", ClientVms),
		passwordForm("alice", alicePassword, "EvilClient"),
	} {
		a := postToken(t, svc.Service, f, "192.0.2.1:1")
		bodies = append(bodies, a.raw)
		secrets = append(secrets, f.Get("password"))
	}
	refreshed := postToken(t, svc.Service, refreshForm(ok.str("refresh_token")), "192.0.2.2:1")
	secrets = append(secrets, refreshed.str("access_token"), refreshed.str("refresh_token"))
	reuse := postToken(t, svc.Service, refreshForm(ok.str("refresh_token")), "192.0.2.2:1") // revokes the chain
	bodies = append(bodies, reuse.raw)
	_, err := svc.Verify(context.Background(), ok.str("access_token")+"x")
	bodies = append(bodies, err.Error())

	logs := svc.logs.String()
	if !strings.Contains(logs, "sign-in failed") || !strings.Contains(logs, "signed in") {
		t.Fatalf("expected sign-in log lines:\n%s", logs)
	}
	if strings.Contains(logs, typo) {
		t.Errorf("the log names an unknown user name, which may be a password:\n%s", logs)
	}
	for _, secret := range secrets {
		if secret == "" {
			t.Fatal("empty secret in the test")
		}
		if strings.Contains(logs, secret) {
			t.Errorf("the log contains a secret %.12q…:\n%s", secret, logs)
		}
		for _, b := range bodies {
			if strings.Contains(b, secret) {
				t.Errorf("an error answer contains a secret: %s", b)
			}
		}
	}
}

// The failure delay gives up when the client does: it never holds a
// handler after its request ended.
func TestFailureDelayEndsWithTheRequest(t *testing.T) {
	t.Parallel()
	svc := newTestService(t, testSettings(t), func(o *Options) { o.FailureDelay = time.Hour })
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r := httptest.NewRequestWithContext(ctx, http.MethodPost, "/API/IDP/connect/token",
		strings.NewReader(passwordForm("alice", "wrong", ClientVms).Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	w := httptest.NewRecorder()
	svc.HandleToken(w, r) // would block for an hour if the delay ignored ctx
	if w.Code != 400 {
		t.Fatalf("status %d", w.Code)
	}
}

// oauth has no user of its own: the demo's user comes from cmd/camgate's
// settings overlay, like any configured user.
func TestNoBuiltInUser(t *testing.T) {
	t.Parallel()
	s := appsettings.Defaults()
	s.DataDir = t.TempDir()
	svc := newTestService(t, s)
	for _, creds := range [][2]string{{"demo", "demo"}, {"admin", "admin"}, {"admin", ""}} {
		a := postToken(t, svc.Service, passwordForm(creds[0], creds[1], ClientVms), "192.0.2.1:1")
		if a.status == 200 {
			t.Fatalf("%s/%s signed in without being configured", creds[0], creds[1])
		}
	}
}

func TestBuiltInDisabled(t *testing.T) {
	t.Parallel()
	enabled := newTestService(t, testSettings(t))
	token := signIn(t, enabled.Service, "alice", alicePassword).str("access_token")

	s := testSettings(t)
	s.Auth.BuiltIn.Enabled = false
	svc := newTestService(t, s)
	if svc.BuiltInEnabled() {
		t.Fatal("BuiltInEnabled")
	}
	a := postToken(t, svc.Service, passwordForm("alice", alicePassword, ClientVms), "192.0.2.1:1")
	if a.status != 404 || a.str("error") != errUnsupportedGrantType {
		t.Fatalf("token endpoint: %d %s", a.status, a.raw)
	}
	for path, h := range map[string]http.HandlerFunc{"/API/IDP/.well-known/openid-configuration": svc.HandleDiscovery, "/API/IDP/.well-known/jwks": svc.HandleJWKS} {
		w := httptest.NewRecorder()
		r := httptest.NewRequest(http.MethodGet, path, nil)
		h(w, r)
		if w.Code != 404 {
			t.Fatalf("metadata: %d", w.Code)
		}
		checkOpenAPI(t, r, w)
	}
	if got := reasonOf(t, verifyErr(svc.Service, token)); got != ReasonIssuer {
		t.Fatalf("token of the disabled provider: %q", got)
	}
}

func verifyErr(svc *Service, token string) error {
	_, err := svc.Verify(context.Background(), token)
	return err
}

// Guesses sent at once get no more than the limit between them: each
// attempt takes its place in the count before the password is checked.
func TestRateLimitHoldsUnderConcurrency(t *testing.T) {
	t.Parallel()
	s := testSettings(t)
	s.Auth.SignInFailuresPerMinute = 3
	svc := newTestService(t, s)
	const attempts = 24
	statuses := make(chan int, attempts)
	var wg sync.WaitGroup
	for i := range attempts {
		wg.Go(func() {
			r := httptest.NewRequest(http.MethodPost, "/API/IDP/connect/token",
				strings.NewReader(passwordForm("alice", fmt.Sprint("guess", i), ClientVms).Encode()))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			r.RemoteAddr = fmt.Sprintf("192.0.2.%d:1", i+1)
			w := httptest.NewRecorder()
			svc.HandleToken(w, r)
			statuses <- w.Code
		})
	}
	wg.Wait()
	close(statuses)
	counts := map[int]int{}
	for code := range statuses {
		counts[code]++
	}
	if counts[400] != 3 || counts[429] != attempts-3 {
		t.Fatalf("answers %v, want 3 × 400 and %d × 429", counts, attempts-3)
	}
}

// Successful sign-ins do not count against the address.
func TestSuccessesDoNotCount(t *testing.T) {
	t.Parallel()
	s := testSettings(t)
	s.Auth.SignInFailuresPerMinute = 3
	svc := newTestService(t, s)
	const addr = "203.0.113.1:1"
	for range 2 {
		postToken(t, svc.Service, passwordForm("mallory", "x", ClientVms), addr)
	}
	for range 5 {
		if a := postToken(t, svc.Service, passwordForm("bob", bobPassword, ClientVms), addr); a.status != 200 {
			t.Fatalf("success counted as failure: %d %s", a.status, a.raw)
		}
	}
	postToken(t, svc.Service, passwordForm("mallory", "x", ClientVms), addr)
	if a := postToken(t, svc.Service, passwordForm("bob", bobPassword, ClientVms), addr); a.status != 429 {
		t.Fatalf("third failure did not limit the address: %d", a.status)
	}
}
