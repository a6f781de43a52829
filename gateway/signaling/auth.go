package signaling

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/camgate/camgate/oauth"
)

// Authenticator is what the gateway needs from the identity service: token
// verification and the identity provider's endpoints (which the HTTP shell
// routes).
type Authenticator interface {
	Verify(ctx context.Context, raw string) (*oauth.Principal, error)
	HandleToken(w http.ResponseWriter, r *http.Request)
	HandleDiscovery(w http.ResponseWriter, r *http.Request)
	HandleJWKS(w http.ResponseWriter, r *http.Request)
}

// principalKey is where the shell's auth middleware leaves the caller in
// the gin context (SetPrincipal).
const principalKey = "camgate.principal"

// BearerToken returns the token of an "Authorization: Bearer …" header; the
// scheme is case-insensitive (RFC 6750 §2.1 via RFC 7235).
func BearerToken(header string) (string, bool) {
	scheme, token, ok := strings.Cut(strings.TrimSpace(header), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	return token, token != ""
}

// unauthorized is a 401 that tells the client, per RFC 6750, that its bearer
// token is the problem.
type unauthorized struct{ *HTTPError }

func (e unauthorized) Unwrap() error { return e.HTTPError }

// Unauthorized is a 401 whose text says what is wrong with the token.
func Unauthorized(format string, args ...any) error {
	return unauthorized{Errorf(http.StatusUnauthorized, format, args...)}
}

// VerifyToken turns a raw token into a principal or a 401 whose text says
// why, without ever repeating the token.
func VerifyToken(ctx context.Context, auth Authenticator, raw string) (*oauth.Principal, error) {
	p, err := auth.Verify(ctx, raw)
	if err == nil {
		return p, nil
	}
	var te *oauth.TokenError
	if errors.As(err, &te) {
		return nil, Unauthorized("invalid token: %s", te.Reason)
	}
	return nil, Unauthorized("invalid token")
}

// Deny answers an auth failure; a 401 carries the WWW-Authenticate
// challenge of RFC 6750.
func Deny(c *gin.Context, err error) {
	var u unauthorized
	if errors.As(err, &u) {
		c.Header("WWW-Authenticate", fmt.Sprintf(`Bearer realm="camgate", error="invalid_token", error_description=%q`, u.Text))
	}
	WriteError(c, err)
}

// SetPrincipal leaves the caller a token was verified for in the request's
// context, for the handlers.
func SetPrincipal(c *gin.Context, p *oauth.Principal) { c.Set(principalKey, p) }

// PrincipalOf is the caller SetPrincipal left; nil when none was.
func PrincipalOf(c *gin.Context) *oauth.Principal {
	p, _ := c.Get(principalKey)
	pr, _ := p.(*oauth.Principal)
	return pr
}
