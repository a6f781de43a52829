package oauth

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// tokenScope is the "scope" of camgate's access tokens: what XProtect's IDP
// answers, so that clients written for it find what they expect.
const tokenScope = "managementserver"

// accessClaims are the claims of a built-in access token (RFC 9068 shape).
type accessClaims struct {
	jwt.Claims
	Name     string   `json:"name,omitempty"`
	Roles    []string `json:"roles"`
	ClientID string   `json:"client_id"`
	Scope    string   `json:"scope"`
}

// issueAccessToken signs an RS256 "at+jwt" access token for the user with
// the active key.
func (s *Service) issueAccessToken(u *user, client string) (token string, lifetime time.Duration, err error) {
	key := s.keys.keys().active
	signer, err := jose.NewSigner(
		jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: key.private, KeyID: key.kid}},
		(&jose.SignerOptions{}).WithType("at+jwt"),
	)
	if err != nil {
		return "", 0, fmt.Errorf("access token signer: %w", err)
	}
	jti := make([]byte, 16)
	if _, err := rand.Read(jti); err != nil {
		return "", 0, err
	}
	// Whole seconds: that is what the claims carry, and expires_in must
	// agree with exp.
	now := s.now().Truncate(time.Second)
	roles := append([]string{}, u.roles...)
	claims := accessClaims{
		Claims: jwt.Claims{
			Issuer:    s.issuer,
			Subject:   u.subject(),
			Audience:  jwt.Audience{s.audience},
			Expiry:    jwt.NewNumericDate(now.Add(s.tokenLifetime)),
			NotBefore: jwt.NewNumericDate(now),
			IssuedAt:  jwt.NewNumericDate(now),
			ID:        base64.RawURLEncoding.EncodeToString(jti),
		},
		Name:     u.name,
		Roles:    roles,
		ClientID: client,
		Scope:    tokenScope,
	}
	token, err = jwt.Signed(signer).Claims(claims).Serialize()
	if err != nil {
		return "", 0, fmt.Errorf("sign access token: %w", err)
	}
	return token, s.tokenLifetime.Truncate(time.Second), nil
}
