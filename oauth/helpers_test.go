package oauth

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/camgate/camgate/appsettings"
	"github.com/camgate/camgate/cameras/testutil"
	"github.com/camgate/camgate/gateway/openapi/openapitest"
)

// clock is a settable Options.Now, safe for concurrent use.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// Test users: alice has an argon2id hash, bob a bcrypt one, both at low
// cost to keep the tests quick (the algorithms are the same).
const (
	alicePassword = "correct horse battery staple"
	bobPassword   = "Tr0ub4dor&3"
	testIssuer    = "http://127.0.0.1:8080/API/IDP"
	cam1          = "11111111-1111-1111-1111-111111111111"
	cam2          = "22222222-2222-2222-2222-222222222222"
)

// testHashes are computed once per test binary run: argon2id takes tens of
// milliseconds and every test wants them.
type testHashes struct {
	once        sync.Once
	alice, bob  string
	hashingFail error
}

func (h *testHashes) get(t testing.TB) (alice, bob string) {
	t.Helper()
	h.once.Do(func() {
		// A cheap argon2id (256 KiB, one pass) keeps -race runs quick;
		// HashPassword's own parameters are tested in passwords_test.go.
		alice := &passwordHash{argon: true, memory: 256, time: 1, threads: 1, salt: []byte("0123456789abcdef")}
		alice.key = alice.argonKey(alicePassword, argonKeyLen)
		h.alice = alice.String()
		var raw []byte
		raw, h.hashingFail = bcrypt.GenerateFromPassword([]byte(bobPassword), bcrypt.MinCost)
		h.bob = string(raw)
	})
	if h.hashingFail != nil {
		t.Fatal(h.hashingFail)
	}
	return h.alice, h.bob
}

// fixtures is per test binary, passed explicitly (no package state is
// touched by the code under test).
var fixtures testHashes

// testSettings are settings with users alice (role operators: PTZ on cam1,
// live everywhere) and bob (role viewers: live on cam2), in a fresh DataDir.
func testSettings(t testing.TB) appsettings.Settings {
	t.Helper()
	alice, bob := fixtures.get(t)
	s := appsettings.Defaults()
	s.DataDir = t.TempDir()
	s.Auth.Users = []appsettings.User{
		{Username: "alice", PasswordHash: alice, Roles: []string{"operators"}},
		{Username: "Bob", PasswordHash: bob, Roles: []string{"viewers"}},
	}
	s.Auth.Roles = []appsettings.Role{
		{Name: "operators", Live: []string{"*"}, Ptz: []string{cam1}},
		{Name: "viewers", Live: []string{cam2}},
	}
	return s
}

type testService struct {
	*Service
	clock *clock
	logs  *testutil.SyncBuffer
}

// newTestService starts a Service on s (with its defaults applied, as
// Load gives them) with a settable clock, no failure delay and debug logs
// captured.
func newTestService(t testing.TB, s appsettings.Settings, mutate ...func(*Options)) *testService {
	t.Helper()
	c := newClock()
	logs := &testutil.SyncBuffer{}
	s.ApplyDefaults()
	o := Options{
		Auth:         s.Auth,
		DataDir:      s.DataDir,
		Issuer:       testIssuer,
		Log:          slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Now:          c.Now,
		FailureDelay: -1,
	}
	for _, m := range mutate {
		m(&o)
	}
	svc, err := New(context.Background(), o)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(svc.Close)
	return &testService{Service: svc, clock: c, logs: logs}
}

// tokenAnswer is a decoded token endpoint answer.
type tokenAnswer struct {
	status int
	header http.Header
	raw    string
	body   map[string]any
}

func (a tokenAnswer) str(key string) string {
	s, _ := a.body[key].(string)
	return s
}

// postToken sends a form body to HandleToken from addr.
func postToken(t testing.TB, svc *Service, form url.Values, addr string) tokenAnswer {
	t.Helper()
	return doToken(t, svc, http.MethodPost, "application/x-www-form-urlencoded", form.Encode(), addr)
}

func doToken(t testing.TB, svc *Service, method, contentType, body, addr string) tokenAnswer {
	t.Helper()
	r := httptest.NewRequest(method, "/API/IDP/connect/token", strings.NewReader(body))
	if contentType != "" {
		r.Header.Set("Content-Type", contentType)
	}
	if addr != "" {
		r.RemoteAddr = addr
	}
	w := httptest.NewRecorder()
	svc.HandleToken(w, r)
	checkOpenAPI(t, r, w)
	raw, _ := io.ReadAll(w.Result().Body)
	a := tokenAnswer{status: w.Code, header: w.Header(), raw: string(raw)}
	if err := json.Unmarshal(raw, &a.body); err != nil {
		t.Fatalf("answer is not JSON (status %d): %q", w.Code, raw)
	}
	return a
}

// openAPIChecker checks the identity provider's answers against camgate's
// OpenAPI document, as the gateway's tests check theirs.
var openAPIChecker = sync.OnceValues(openapitest.New)

// checkOpenAPI fails t when w, the answer to r, does not match the document.
func checkOpenAPI(t testing.TB, r *http.Request, w *httptest.ResponseRecorder) {
	t.Helper()
	c, err := openAPIChecker()
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Check(r, w.Result()); err != nil {
		t.Errorf("OpenAPI: %s %s answered %d: %v", r.Method, r.URL.Path, w.Code, err)
	}
}

func passwordForm(user, password, client string) url.Values {
	return url.Values{"grant_type": {"password"}, "username": {user}, "password": {password}, "client_id": {client}}
}

func refreshForm(token string) url.Values {
	return url.Values{"grant_type": {"refresh_token"}, "refresh_token": {token}, "client_id": {ClientVms}}
}

// signIn gets tokens for a user, as the VMS client, or fails the test.
func signIn(t testing.TB, svc *Service, user, password string) tokenAnswer {
	t.Helper()
	a := postToken(t, svc, passwordForm(user, password, ClientVms), "198.51.100.1:5000")
	if a.status != http.StatusOK {
		t.Fatalf("sign-in of %s: status %d, body %s", user, a.status, a.raw)
	}
	return a
}

// reasonOf returns the TokenError reason of err, failing if it is not one.
func reasonOf(t testing.TB, err error) string {
	t.Helper()
	if err == nil {
		t.Fatal("Verify accepted the token")
	}
	var te *TokenError
	if !errors.As(err, &te) {
		t.Fatalf("Verify error %T (%v) is not a *TokenError", err, err)
	}
	return te.Reason
}
