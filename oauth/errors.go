package oauth

// The reasons Verify gives. They are short, say what is wrong with the token
// in terms a client developer understands, and never quote the token.
const (
	ReasonMissing           = "token is missing"
	ReasonMalformed         = "token is malformed"
	ReasonAlgorithm         = "token algorithm is not allowed"
	ReasonIssuer            = "token issuer is not accepted"
	ReasonAudience          = "token audience is not accepted"
	ReasonExpired           = "token expired"
	ReasonNotYetValid       = "token is not valid yet"
	ReasonNoExpiry          = "token has no expiry"
	ReasonSignature         = "token signature is invalid"
	ReasonUnknownKey        = "token signing key is unknown"
	ReasonIssuerUnavailable = "token issuer is unavailable, try again later"
)

// TokenError is why Verify refused a bearer token. Every error Verify returns
// is (or wraps) a *TokenError, which the gateway maps to 401 invalid_token.
type TokenError struct {
	// Reason is safe to show to the client: it never contains the token.
	Reason string

	// cause is the underlying error, for logs (errors.Unwrap). It never holds
	// the token either.
	cause error
}

// Error returns the Reason only, so that printing the error cannot leak
// what the cause might hold.
func (e *TokenError) Error() string { return e.Reason }

// Unwrap returns the underlying error, if any.
func (e *TokenError) Unwrap() error { return e.cause }

// tokenError makes a *TokenError with a cause for the log.
func tokenError(reason string, cause error) *TokenError {
	return &TokenError{Reason: reason, cause: cause}
}
