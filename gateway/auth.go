package gateway

import (
	"github.com/gin-gonic/gin"

	"github.com/camgate/camgate/gateway/signaling"
)

// Authenticator is what the gateway needs from the identity service: token
// verification and the identity provider's endpoints.
type Authenticator = signaling.Authenticator

// requireAuth admits requests with a valid bearer token and leaves the
// principal in the context.
func (g *Gateway) requireAuth(c *gin.Context) {
	raw, ok := signaling.BearerToken(c.GetHeader("Authorization"))
	if !ok {
		signaling.Deny(c, signaling.Unauthorized("a bearer token is required: get one at /API/IDP/connect/token and send it as \"Authorization: Bearer <token>\""))
		return
	}
	p, err := signaling.VerifyToken(c.Request.Context(), g.auth, raw)
	if err != nil {
		signaling.Deny(c, err)
		return
	}
	signaling.SetPrincipal(c, p)
	c.Next()
}
