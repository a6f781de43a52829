package oauth

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/go-jose/go-jose/v4"

	"github.com/camgate/camgate/appsettings"
)

// Discovery of an external issuer is retried on use after a failure, no
// sooner than the back-off, which doubles from discoveryMinBackoff up to
// discoveryMaxBackoff.
const (
	discoveryTimeout    = 10 * time.Second
	discoveryMinBackoff = time.Second
	discoveryMaxBackoff = 5 * time.Minute
)

// externalIssuer is one of Auth.Issuers and, once discovered, its go-oidc
// verifier (which caches the issuer's JWKS and refetches it when a token
// names a key id it has not seen: the issuer's key rotation).
type externalIssuer struct {
	field     string // its place in the settings: Auth.Issuers[n]
	url       string
	audience  string
	leeway    time.Duration
	rolesPath []string
	mappings  map[string][]string // claim value → camgate roles

	mu       sync.Mutex
	verifier *oidc.IDTokenVerifier // nil until discovered
	pending  chan struct{}         // closed when the running discovery ends
	retryAt  time.Time
	backoff  time.Duration
	warned   bool // the current outage is logged
}

// addIssuers reads Auth.Issuers.
func (s *Service) addIssuers(issuers []appsettings.Issuer) error {
	for i, is := range issuers {
		field := fmt.Sprintf("Auth.Issuers[%d]", i)
		if u, err := url.Parse(is.Url); is.Url == "" || err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("oauth: %s.Url %q is not an http(s) URL", field, is.Url)
		}
		if is.Audience == "" {
			return fmt.Errorf("oauth: %s.Audience is empty", field)
		}
		if s.external[is.Url] != nil || (s.builtIn && is.Url == s.issuer) {
			return fmt.Errorf("oauth: %s.Url %q is configured twice (or is camgate's own issuer)", field, is.Url)
		}
		claim := is.RolesClaim
		if claim == "" {
			return fmt.Errorf("oauth: %s.RolesClaim is empty; give New settings with their defaults applied", field)
		}
		e := &externalIssuer{
			field:     field,
			url:       is.Url,
			audience:  is.Audience,
			leeway:    max(time.Duration(is.Leeway), 0),
			rolesPath: strings.Split(claim, "."),
			mappings:  map[string][]string{},
		}
		for _, m := range is.RoleMappings {
			e.mappings[m.Value] = append(e.mappings[m.Value], m.Roles...)
		}
		s.external[is.Url] = e
	}
	return nil
}

// startDiscoveryLocked starts discovering e in the background unless a
// discovery runs already. e.mu is held.
func (s *Service) startDiscoveryLocked(e *externalIssuer) {
	if e.pending != nil {
		return
	}
	done := make(chan struct{})
	if s.goBackground(func() { s.discover(e, done) }) {
		e.pending = done
	}
}

// discover fetches e's discovery document and builds its verifier.
func (s *Service) discover(e *externalIssuer, done chan struct{}) {
	defer close(done)
	ctx, cancel := context.WithTimeout(s.ctx, discoveryTimeout)
	defer cancel()
	provider, err := oidc.NewProvider(oidc.ClientContext(ctx, s.httpClient), e.url)

	e.mu.Lock()
	defer e.mu.Unlock()
	e.pending = nil
	if err != nil {
		if s.ctx.Err() != nil {
			return // Close cancelled it: not an outage
		}
		e.backoff = min(max(2*e.backoff, discoveryMinBackoff), discoveryMaxBackoff)
		e.retryAt = s.now().Add(e.backoff)
		// Once per outage: a token every second must not mean a log line
		// every second.
		var mismatch *oidc.IssuerMismatchError
		switch {
		case e.warned:
			s.log.Debug("external issuer still unavailable", "issuer", e.url, "error", err, "retryIn", e.backoff)
		case errors.As(err, &mismatch):
			// The issuer answers, but names itself differently (a trailing
			// slash, http for https, another host name behind a proxy):
			// tokens carry its own name, so this never heals by waiting.
			s.log.Error(fmt.Sprintf("external issuer: %s.Url is %q, but the issuer at that address calls itself %q in its discovery document; "+
				"set %s.Url to exactly %q (or change the issuer's own public URL). Its tokens are refused until the two match",
				e.field, mismatch.Provided, mismatch.Discovered, e.field, mismatch.Discovered),
				"setting", e.field+".Url", "configured", mismatch.Provided, "issuerSays", mismatch.Discovered)
			e.warned = true
		default:
			s.log.Warn("external issuer unreachable; its tokens are refused until it answers (retried on use, with back-off)",
				"setting", e.field+".Url", "issuer", e.url, "error", err)
			e.warned = true
		}
		return
	}
	e.verifier = provider.Verifier(&oidc.Config{
		ClientID:             e.audience,
		SupportedSigningAlgs: []string{string(jose.RS256), string(jose.ES256)},
		// go-oidc checks exp without leeway and nbf with a fixed 5 minutes;
		// verifyExternal checks both with the issuer's Leeway instead.
		SkipExpiryCheck: true,
		Now:             s.now,
	})
	if e.warned {
		s.log.Info("external issuer reachable again", "issuer", e.url)
	} else {
		s.log.Info("external issuer discovered", "issuer", e.url)
	}
	e.warned, e.backoff = false, 0
}

// verifierFor returns e's verifier, discovering the issuer first if needed
// (and allowed by the back-off). Callers wait for a running discovery
// together, or until their ctx ends.
func (s *Service) verifierFor(ctx context.Context, e *externalIssuer) (*oidc.IDTokenVerifier, error) {
	for {
		e.mu.Lock()
		if e.verifier != nil {
			v := e.verifier
			e.mu.Unlock()
			return v, nil
		}
		if e.pending == nil {
			if s.now().Before(e.retryAt) {
				e.mu.Unlock()
				return nil, errors.New("discovery failed; waiting for the back-off")
			}
			s.startDiscoveryLocked(e)
			if e.pending == nil { // closed service
				e.mu.Unlock()
				return nil, errors.New("service closed")
			}
		}
		pending := e.pending
		e.mu.Unlock()
		select {
		case <-pending:
			// The loop reads the result. A failure has set retryAt, so it
			// does not start another discovery at once.
			e.mu.Lock()
			failed := e.verifier == nil
			e.mu.Unlock()
			if failed {
				return nil, errors.New("discovery failed")
			}
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// verifyExternal checks a token of an external issuer. The cheap checks on
// the unverified claims (audience, times) come first, which spares the
// issuer a JWKS fetch for tokens that would fail anyway and gives precise
// reasons; go-oidc then checks signature, issuer and audience, and the
// claims used are those of the verified payload.
func (s *Service) verifyExternal(ctx context.Context, e *externalIssuer, raw string, unverified *tokenClaims) (*Principal, error) {
	if !unverified.Audience.Contains(e.audience) {
		return nil, tokenError(ReasonAudience, nil)
	}
	if terr := checkTimes(unverified, s.now(), e.leeway); terr != nil {
		return nil, terr
	}
	v, err := s.verifierFor(ctx, e)
	if err != nil {
		return nil, tokenError(ReasonIssuerUnavailable, err)
	}
	tok, err := v.Verify(ctx, raw)
	if err != nil {
		// go-oidc's errors are strings; "fetching keys" is its wording for
		// a JWKS it could not get. Everything else left after the checks
		// above is a signature (or key) that does not match.
		if strings.Contains(err.Error(), "fetching keys") {
			return nil, tokenError(ReasonIssuerUnavailable, err)
		}
		s.log.Debug("external token refused", "issuer", e.url, "error", err)
		return nil, tokenError(ReasonSignature, err)
	}
	var c tokenClaims
	var all map[string]any
	if err := tok.Claims(&c); err != nil {
		return nil, tokenError(ReasonMalformed, err)
	}
	if err := tok.Claims(&all); err != nil {
		return nil, tokenError(ReasonMalformed, err)
	}
	return s.principalOf(&c, e.leeway, e.mapRoles(claimStrings(all, e.rolesPath)))
}

// mapRoles turns the values of the issuer's roles claim into camgate roles
// through RoleMappings; values without a mapping grant nothing.
func (e *externalIssuer) mapRoles(values []string) []string {
	var roles []string
	for _, v := range values {
		for _, r := range e.mappings[v] {
			if !slices.Contains(roles, r) {
				roles = append(roles, r)
			}
		}
	}
	return roles
}

// claimStrings follows a dotted path ("realm_access.roles") into the claims
// and returns the strings found there: one string, or the strings of a list
// (other items are ignored). Anything else yields nothing.
func claimStrings(claims map[string]any, path []string) []string {
	var v any = claims
	for _, name := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		if v, ok = m[name]; !ok {
			return nil
		}
	}
	switch x := v.(type) {
	case string:
		return []string{x}
	case []any:
		var out []string
		for _, item := range x {
			if s, ok := item.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}
