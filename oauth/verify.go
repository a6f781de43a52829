package oauth

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// maxTokenLen bounds a bearer token before any parsing (Keycloak tokens
// with many groups reach a few KB).
const maxTokenLen = 64 << 10

// allowedAlgs are the signature algorithms Verify accepts: RS256 (camgate's
// and most issuers') and ES256. Never "none", never HMAC (a public key must
// not double as a shared secret).
func allowedAlgs() []jose.SignatureAlgorithm {
	return []jose.SignatureAlgorithm{jose.RS256, jose.ES256}
}

// tokenClaims are the registered claims Verify reads from every token.
type tokenClaims struct {
	Issuer            string           `json:"iss"`
	Subject           string           `json:"sub"`
	Audience          jwt.Audience     `json:"aud"`
	Expiry            *jwt.NumericDate `json:"exp"`
	NotBefore         *jwt.NumericDate `json:"nbf"`
	Name              string           `json:"name"`
	PreferredUsername string           `json:"preferred_username"`
	// ClientID is the OAuth client the token was issued to: "client_id"
	// (RFC 9068, camgate's own tokens), else "azp" (OpenID Connect).
	ClientID string `json:"client_id"`
	Azp      string `json:"azp"`
}

// displayName is the best name a token offers for a person to read.
func (c *tokenClaims) displayName() string {
	switch {
	case c.Name != "":
		return c.Name
	case c.PreferredUsername != "":
		return c.PreferredUsername
	}
	return c.Subject
}

// Verify checks a bearer token (without "Bearer ") and returns who presents
// it and what they may do. It routes the token by its "iss", read before
// the signature is checked and trusted for nothing else: camgate's own
// issuer is checked with the local keys (retired keys too, so tokens signed
// before a rotation stay good), an issuer of Auth.Issuers with go-oidc and
// that issuer's keys. Every failure is a *TokenError whose Reason is safe
// to show.
func (s *Service) Verify(ctx context.Context, raw string) (*Principal, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return nil, tokenError(ReasonMissing, nil)
	}
	if len(raw) > maxTokenLen {
		return nil, tokenError(ReasonMalformed, errors.New("token over 64 KB"))
	}
	jws, claims, terr := parseUnverified(raw)
	if terr != nil {
		return nil, terr
	}
	if s.builtIn && claims.Issuer == s.issuer {
		return s.verifyBuiltIn(jws)
	}
	if e := s.external[claims.Issuer]; e != nil {
		return s.verifyExternal(ctx, e, raw, claims)
	}
	return nil, tokenError(ReasonIssuer, nil)
}

// parseUnverified splits a compact JWS, checks its algorithm and decodes its
// claims, without checking the signature.
func parseUnverified(raw string) (*jose.JSONWebSignature, *tokenClaims, *TokenError) {
	header, _, ok := strings.Cut(raw, ".")
	if !ok {
		return nil, nil, tokenError(ReasonMalformed, errors.New("not a JWS compact serialization"))
	}
	// Read alg ourselves first, so that "alg not allowed" (none, HS256, …)
	// is told apart from a token that does not parse at all.
	var h struct {
		Alg string `json:"alg"`
	}
	hb, err := base64.RawURLEncoding.DecodeString(header)
	if err != nil || json.Unmarshal(hb, &h) != nil {
		return nil, nil, tokenError(ReasonMalformed, errors.New("header is not base64url JSON"))
	}
	allowed := false
	for _, a := range allowedAlgs() {
		allowed = allowed || h.Alg == string(a)
	}
	if !allowed {
		return nil, nil, tokenError(ReasonAlgorithm, nil)
	}
	jws, err := jose.ParseSignedCompact(raw, allowedAlgs())
	if err != nil {
		return nil, nil, tokenError(ReasonMalformed, err)
	}
	if len(jws.Signatures) != 1 {
		return nil, nil, tokenError(ReasonMalformed, errors.New("not exactly one signature"))
	}
	var c tokenClaims
	if err := json.Unmarshal(jws.UnsafePayloadWithoutVerification(), &c); err != nil {
		return nil, nil, tokenError(ReasonMalformed, err)
	}
	return jws, &c, nil
}

// checkTimes checks exp (required) and nbf (optional) with leeway.
func checkTimes(c *tokenClaims, now time.Time, leeway time.Duration) *TokenError {
	if c.Expiry == nil {
		return tokenError(ReasonNoExpiry, nil)
	}
	if !now.Before(c.Expiry.Time().Add(leeway)) {
		return tokenError(ReasonExpired, nil)
	}
	if c.NotBefore != nil && now.Add(leeway).Before(c.NotBefore.Time()) {
		return tokenError(ReasonNotYetValid, nil)
	}
	return nil
}

// verifyBuiltIn checks a token of camgate's own issuer: the key by kid
// (active or retired), the RS256 signature, then audience and times (no
// leeway: the clock that signed is the clock that checks).
func (s *Service) verifyBuiltIn(jws *jose.JSONWebSignature) (*Principal, error) {
	sig := jws.Signatures[0]
	if sig.Header.Algorithm != string(jose.RS256) {
		return nil, tokenError(ReasonAlgorithm, nil)
	}
	key := s.keys.lookup(sig.Header.KeyID)
	if key == nil {
		return nil, tokenError(ReasonUnknownKey, nil)
	}
	payload, err := jws.Verify(&key.private.PublicKey)
	if err != nil {
		return nil, tokenError(ReasonSignature, err)
	}
	var c struct {
		tokenClaims
		Roles []string `json:"roles"`
	}
	if err := json.Unmarshal(payload, &c); err != nil {
		return nil, tokenError(ReasonMalformed, err)
	}
	if !c.Audience.Contains(s.audience) {
		return nil, tokenError(ReasonAudience, nil)
	}
	return s.principalOf(&c.tokenClaims, 0, c.Roles)
}

// principalOf checks the times and subject of a token whose signature,
// issuer and audience were checked, and makes its principal. Rights come
// from the roles as Auth.Roles defines them now, not from the token.
func (s *Service) principalOf(c *tokenClaims, leeway time.Duration, roles []string) (*Principal, error) {
	if terr := checkTimes(c, s.now(), leeway); terr != nil {
		return nil, terr
	}
	if c.Subject == "" {
		return nil, tokenError(ReasonMalformed, errors.New("no sub"))
	}
	p := &Principal{
		Subject:   c.Subject,
		Issuer:    c.Issuer,
		Name:      c.displayName(),
		Roles:     roles,
		ExpiresAt: c.Expiry.Time(),
		ClientID:  c.ClientID,
	}
	if p.ClientID == "" {
		p.ClientID = c.Azp
	}
	s.roles.grant(p, roles)
	return p, nil
}
