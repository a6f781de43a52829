package oauth

import (
	"net/http"
)

// discoveryDocument is the built-in provider's OpenID Provider Metadata:
// enough for go-oidc (and other OIDC libraries) to find the issuer's keys
// and for XProtect clients to find the token endpoint.
type discoveryDocument struct {
	Issuer                            string   `json:"issuer"`
	TokenEndpoint                     string   `json:"token_endpoint"`
	JWKSURI                           string   `json:"jwks_uri"`
	GrantTypesSupported               []string `json:"grant_types_supported"`
	ResponseTypesSupported            []string `json:"response_types_supported"`
	SubjectTypesSupported             []string `json:"subject_types_supported"`
	IDTokenSigningAlgValuesSupported  []string `json:"id_token_signing_alg_values_supported"`
	TokenEndpointAuthMethodsSupported []string `json:"token_endpoint_auth_methods_supported"`
	ScopesSupported                   []string `json:"scopes_supported"`
	ClaimsSupported                   []string `json:"claims_supported"`
}

// HandleDiscovery serves GET {api}/IDP/.well-known/openid-configuration.
// It answers 404 when the built-in provider is off.
func (s *Service) HandleDiscovery(w http.ResponseWriter, r *http.Request) {
	if !s.serveMetadata(w, r) {
		return
	}
	doc := discoveryDocument{
		Issuer:                            s.issuer,
		TokenEndpoint:                     s.issuer + "/connect/token",
		JWKSURI:                           s.issuer + "/.well-known/jwks",
		GrantTypesSupported:               []string{"password", "refresh_token"},
		ResponseTypesSupported:            []string{"token"},
		SubjectTypesSupported:             []string{"public"},
		IDTokenSigningAlgValuesSupported:  []string{"RS256"},
		TokenEndpointAuthMethodsSupported: []string{"none"},
		ScopesSupported:                   []string{tokenScope},
		ClaimsSupported:                   []string{"iss", "sub", "aud", "exp", "iat", "nbf", "jti", "name", "roles", "client_id", "scope"},
	}
	writeMetadata(w, r, doc, "public, max-age=300")
}

// HandleJWKS serves GET {api}/IDP/.well-known/jwks: the public half of every
// key that verifies camgate's tokens, the active one first, retired ones
// after it. A short cache lifetime lets clients see a rotation soon;
// go-oidc also refetches when it meets an unknown key id.
func (s *Service) HandleJWKS(w http.ResponseWriter, r *http.Request) {
	if !s.serveMetadata(w, r) {
		return
	}
	writeMetadata(w, r, s.keys.keys().jwks(), "public, max-age=60")
}

// serveMetadata answers what the metadata endpoints do not serve and
// reports whether to go on.
func (s *Service) serveMetadata(w http.ResponseWriter, r *http.Request) bool {
	if !s.builtIn {
		writeOAuthError(w, &oauthError{status: http.StatusNotFound, code: "not_found",
			description: "the built-in identity provider is disabled"})
		return false
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		writeOAuthError(w, &oauthError{status: http.StatusMethodNotAllowed, code: errInvalidRequest,
			description: "use GET"})
		return false
	}
	return true
}

func writeMetadata(w http.ResponseWriter, r *http.Request, v any, cacheControl string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", cacheControl)
	if r.Method == http.MethodHead {
		w.WriteHeader(http.StatusOK)
		return
	}
	writeBody(w, v)
}
