package oauth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/camgate/camgate/appsettings"
)

// Defaults of what is not a setting. The settings' defaults live in
// appsettings (Defaults, ApplyDefaults) only: Options take them as Load
// gives them.
const (
	defaultFailureDelay = 250 * time.Millisecond
	externalHTTPTimeout = 10 * time.Second
	janitorInterval     = time.Minute
)

// Options configure a Service.
type Options struct {
	// Auth is the Auth section as appsettings.Load gives it, defaults
	// applied: users, roles, issuers, the built-in provider's audience and
	// lifetimes, the sign-in limit.
	Auth appsettings.Auth
	// DataDir is camgate's DataDir: the signing keys live in DataDir/oauth.
	// Required when Auth.BuiltIn.Enabled.
	DataDir string
	// Issuer is the built-in provider's effective issuer URL, e.g.
	// "http://127.0.0.1:8080/API/IDP": the "iss" of its tokens and the base
	// of its discovery document. A trailing "/" is dropped. Required when
	// Auth.BuiltIn.Enabled.
	Issuer string
	// Log receives the service's log lines, with component=oauth. Default:
	// none.
	Log *slog.Logger
	// Now is the clock for token times, rate limits, key reloads and
	// refresh-token expiry. Default: time.Now.
	Now func() time.Time
	// FailureDelay is how long a failed or refused sign-in waits before it
	// is answered, to slow password guessing. Default (0): 250 ms; negative:
	// no delay.
	FailureDelay time.Duration
	// HTTPClient fetches external issuers' discovery documents and keys.
	// Default: a client with a 10 s timeout.
	HTTPClient *http.Client
}

// Service is camgate's sign-in and token verification: the built-in
// identity provider (token endpoint, discovery, JWKS) and the verifier of
// bearer tokens from it and from external OIDC issuers.
//
// Refresh tokens and sign-in failure counts live in memory: a restart signs
// every VmsClient out at its next refresh (it signs in again with its
// password) and forgets the counts.
type Service struct {
	log          *slog.Logger
	now          func() time.Time
	failureDelay time.Duration

	builtIn         bool
	issuer          string
	audience        string
	tokenLifetime   time.Duration
	refreshLifetime time.Duration
	keys            *keyring
	users           *userDirectory
	roles           roleTable
	refresh         *refreshStore
	limiter         *failureLimiter

	external   map[string]*externalIssuer // by exact issuer URL, the token's "iss"
	httpClient *http.Client
	ownClient  bool // httpClient is ours to clean up

	ctx       context.Context // ends at Close; parent of background work
	cancel    context.CancelFunc
	lifeMu    sync.Mutex // guards closed against wg.Add after Close
	closed    bool
	wg        sync.WaitGroup
	closeOnce sync.Once
}

// New builds the service: it reads (or creates) the signing keys when the
// built-in provider is on, checks users' password hashes, and starts
// discovering external issuers in the background once Run runs. An
// external issuer that is down does not fail New: it is retried on use,
// with back-off. New starts no goroutine.
func New(ctx context.Context, o Options) (*Service, error) {
	auth := o.Auth
	s := &Service{
		log:             o.Log,
		now:             o.Now,
		failureDelay:    o.FailureDelay,
		builtIn:         auth.BuiltIn.Enabled,
		issuer:          strings.TrimSuffix(o.Issuer, "/"),
		audience:        auth.BuiltIn.Audience,
		tokenLifetime:   time.Duration(auth.BuiltIn.TokenLifetime),
		refreshLifetime: time.Duration(auth.BuiltIn.RefreshTokenLifetime),
		roles:           newRoleTable(auth.Roles),
		refresh:         newRefreshStore(),
		external:        map[string]*externalIssuer{},
		httpClient:      o.HTTPClient,
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.log = s.log.With("component", "oauth")
	if s.now == nil {
		s.now = time.Now
	}
	if s.failureDelay == 0 {
		s.failureDelay = defaultFailureDelay
	}
	if auth.SignInFailuresPerMinute <= 0 {
		return nil, fmt.Errorf("oauth: Auth.SignInFailuresPerMinute is %d; give New validated settings", auth.SignInFailuresPerMinute)
	}
	s.limiter = newFailureLimiter(auth.SignInFailuresPerMinute)

	if s.builtIn {
		if err := s.openBuiltIn(auth.Users, o.DataDir); err != nil {
			return nil, err
		}
	}
	if err := s.addIssuers(auth.Issuers); err != nil {
		return nil, err
	}
	if s.httpClient == nil {
		s.httpClient = &http.Client{Timeout: externalHTTPTimeout, Transport: http.DefaultTransport.(*http.Transport).Clone()}
		s.ownClient = true
	}

	// ctx carries values (and bounds New, which does not block on the
	// network); the background work (discoveries that Verify starts) runs
	// until Close, not until ctx ends, so that a caller's start-up timeout
	// cannot silently stop it.
	s.ctx, s.cancel = context.WithCancel(context.WithoutCancel(ctx))
	return s, nil
}

// Run starts discovering the external issuers, prunes expired refresh
// tokens and old sign-in failures until ctx ends, then stops the
// background work (Close) and returns when its goroutines have exited.
// Verify and the handlers work without Run (an issuer is then discovered
// at its first token), but memory is pruned only while Run runs.
func (s *Service) Run(ctx context.Context) error {
	for _, e := range s.external {
		e.mu.Lock()
		if e.verifier == nil && e.retryAt.IsZero() {
			s.startDiscoveryLocked(e)
		}
		e.mu.Unlock()
	}
	s.janitor(ctx)
	s.Close()
	return nil
}

// openBuiltIn checks the issuer and the lifetimes, opens the keys in
// dataDir and reads the users.
func (s *Service) openBuiltIn(users []appsettings.User, dataDir string) error {
	if s.tokenLifetime <= 0 || s.refreshLifetime <= 0 || s.audience == "" {
		return errors.New("oauth: Auth.BuiltIn has no TokenLifetime, RefreshTokenLifetime or Audience; give New validated settings")
	}
	if s.issuer == "" {
		return errors.New("oauth: the built-in provider's issuer URL is empty")
	}
	if u, err := url.Parse(s.issuer); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("oauth: the built-in provider's issuer %q is not an http(s) URL", s.issuer)
	}
	if dataDir == "" {
		return errors.New("oauth: DataDir is empty; the signing keys need a folder")
	}
	keys, err := openKeyring(dataDir, s.tokenLifetime, s.now, s.log)
	if err != nil {
		return fmt.Errorf("oauth: %w", err)
	}
	s.keys = keys
	s.refresh = openRefreshStore(refreshPath(dataDir), s.now(), s.log)
	dir, err := newUserDirectory(users)
	if err != nil {
		return fmt.Errorf("oauth: %w", err)
	}
	s.users = dir
	for _, u := range dir.byKey {
		for _, r := range u.roles {
			if !s.roles.has(r) {
				s.log.Warn("user has a role that is not defined in Auth.Roles; it grants nothing", "user", u.name, "role", r)
			}
		}
	}
	return nil
}

// Close stops the background work (issuer discovery, pruning) and returns
// when its goroutines have exited. Verify and the handlers keep working
// with what they have; discovery is no longer retried. go-oidc's own key
// fetches end within the HTTP client's timeout.
func (s *Service) Close() {
	s.closeOnce.Do(func() {
		s.lifeMu.Lock()
		s.closed = true
		s.lifeMu.Unlock()
		s.cancel()
		s.wg.Wait()
		if s.ownClient {
			s.httpClient.CloseIdleConnections()
		}
	})
}

// goBackground runs f on a goroutine Close waits for; false after Close.
func (s *Service) goBackground(f func()) bool {
	s.lifeMu.Lock()
	defer s.lifeMu.Unlock()
	if s.closed {
		return false
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		f()
	}()
	return true
}

// janitor drops expired refresh tokens and old sign-in failures once a
// minute until ctx ends (or Close), so that memory stays bounded by recent
// activity.
func (s *Service) janitor(ctx context.Context) {
	t := time.NewTicker(janitorInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.ctx.Done():
			return
		case <-t.C:
			now := s.now()
			s.refresh.prune(now)
			s.limiter.prune(now)
		}
	}
}

// BuiltInEnabled reports whether the built-in provider is on: its token
// endpoint answers and its tokens verify. When it is off, HandleToken,
// HandleDiscovery and HandleJWKS answer 404 and its tokens are refused as
// from an unknown issuer.
func (s *Service) BuiltInEnabled() bool { return s.builtIn }
