package gateway

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
// verification and the identity provider's endpoints.
type Authenticator interface {
	Verify(ctx context.Context, raw string) (*oauth.Principal, error)
	HandleToken(w http.ResponseWriter, r *http.Request)
	HandleDiscovery(w http.ResponseWriter, r *http.Request)
	HandleJWKS(w http.ResponseWriter, r *http.Request)
}

// principalKey is where requireAuth leaves the caller in the gin context.
const principalKey = "camgate.principal"

// bearerToken returns the token of an "Authorization: Bearer …" header; the
// scheme is case-insensitive (RFC 6750 §2.1 via RFC 7235).
func bearerToken(header string) (string, bool) {
	scheme, token, ok := strings.Cut(strings.TrimSpace(header), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	return token, token != ""
}

// unauthorized is a 401 that tells the client, per RFC 6750, that its bearer
// token is the problem.
type unauthorized struct{ *apiError }

func (e unauthorized) Unwrap() error { return e.apiError }

func newUnauthorized(format string, args ...any) error {
	return unauthorized{errorf(http.StatusUnauthorized, format, args...)}
}

// verifyToken turns a raw token into a principal or a 401 whose text says
// why, without ever repeating the token.
func verifyToken(ctx context.Context, auth Authenticator, raw string) (*oauth.Principal, error) {
	p, err := auth.Verify(ctx, raw)
	if err == nil {
		return p, nil
	}
	var te *oauth.TokenError
	if errors.As(err, &te) {
		return nil, newUnauthorized("invalid token: %s", te.Reason)
	}
	return nil, newUnauthorized("invalid token")
}

// requireAuth admits requests with a valid bearer token and leaves the
// principal in the context.
func (g *Gateway) requireAuth(c *gin.Context) {
	raw, ok := bearerToken(c.GetHeader("Authorization"))
	if !ok {
		g.deny(c, newUnauthorized("a bearer token is required: get one at /API/IDP/connect/token and send it as \"Authorization: Bearer <token>\""))
		return
	}
	p, err := verifyToken(c.Request.Context(), g.auth, raw)
	if err != nil {
		g.deny(c, err)
		return
	}
	c.Set(principalKey, p)
	c.Next()
}

// deny answers an auth failure; a 401 carries the WWW-Authenticate
// challenge of RFC 6750.
func (g *Gateway) deny(c *gin.Context, err error) {
	var u unauthorized
	if errors.As(err, &u) {
		c.Header("WWW-Authenticate", fmt.Sprintf(`Bearer realm="camgate", error="invalid_token", error_description=%q`, u.Text))
	}
	writeError(c, err)
}

func principalOf(c *gin.Context) *oauth.Principal {
	p, _ := c.Get(principalKey)
	pr, _ := p.(*oauth.Principal)
	return pr
}
