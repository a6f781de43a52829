package oauth

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"math"
	"mime"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// The clients of the built-in provider: XProtect's, neither with a secret.
// VmsClient (the 2025 R1+ WebRTC sample) gets refresh tokens;
// GrantValidatorClient (older samples, go2rtc) does not.
const (
	ClientVms            = "VmsClient"
	ClientGrantValidator = "GrantValidatorClient"
)

// maxTokenRequestBody bounds the form body of a token request.
const maxTokenRequestBody = 64 << 10

// The OAuth 2.0 error codes the token endpoint answers with (RFC 6749 5.2).
const (
	errInvalidRequest       = "invalid_request"
	errInvalidClient        = "invalid_client"
	errInvalidGrant         = "invalid_grant"
	errUnauthorizedClient   = "unauthorized_client"
	errUnsupportedGrantType = "unsupported_grant_type"
	errServerError          = "server_error"
)

// The form fields the endpoint reads; each may appear at most once.
const (
	fieldGrantType    = "grant_type"
	fieldClientID     = "client_id"
	fieldUsername     = "username"
	fieldPassword     = "password"
	fieldRefreshToken = "refresh_token"
	fieldScope        = "scope"
)

// descBadCredentials is the one answer to a wrong user name and to a wrong
// password: it must not tell which.
const descBadCredentials = "the user name or password is incorrect"

// descTooManyFailures answers sign-ins refused by the rate limit.
const descTooManyFailures = "too many failed sign-ins, try again later"

// oauthError is a token endpoint error: its HTTP status and JSON body.
type oauthError struct {
	status      int
	code        string
	description string
	retryAfter  time.Duration // sets Retry-After when > 0
}

func (e *oauthError) Error() string { return e.code + ": " + e.description }

func badRequest(description string) *oauthError {
	return &oauthError{status: http.StatusBadRequest, code: errInvalidRequest, description: description}
}

// tokenResponse is a successful answer, as XProtect's IDP gives it.
type tokenResponse struct {
	AccessToken  string `json:"access_token"`
	ExpiresIn    int64  `json:"expires_in"`
	TokenType    string `json:"token_type"`
	Scope        string `json:"scope"`
	RefreshToken string `json:"refresh_token,omitempty"`
}

// HandleToken is the token endpoint, POST {api}/IDP/connect/token, with a
// form-encoded body:
//
//   - grant_type=password with username, password and client_id VmsClient
//     (the answer includes a refresh_token) or GrantValidatorClient;
//   - grant_type=refresh_token with refresh_token and client_id VmsClient.
//     The refresh token is spent and a new one comes with the answer;
//     presenting a spent one revokes every token of its sign-in.
//
// Success is 200 {access_token, expires_in, token_type "Bearer", scope
// "managementserver"[, refresh_token]}. Errors are JSON {error,
// error_description}: 400 invalid_request (not POST-form-encoded, over 64
// KB, a field missing or repeated), 401 invalid_client (unknown client_id),
// 400 unauthorized_client (refresh_token from GrantValidatorClient), 400
// unsupported_grant_type, 400 invalid_grant (wrong user name or password —
// never saying which — or a bad, expired or spent refresh token); 405 for a
// method other than POST.
//
// Failed sign-ins are answered after Options.FailureDelay. After
// Auth.SignInFailuresPerMinute failures within a minute for one user name,
// or from one client address (the one WithClientAddress put into the
// request's context, else r.RemoteAddr), sign-ins for it are refused for
// the rest of that minute with
// 429 and {"error":"invalid_grant","error_description":"too many failed
// sign-ins, try again later"} and Retry-After: the status tells tools it is
// throttling, while clients that only read error_description show the
// reason.
//
// With the built-in provider off the endpoint answers 404
// unsupported_grant_type, so it can stay mounted.
//
// Every answer carries Cache-Control: no-store.
func (s *Service) HandleToken(w http.ResponseWriter, r *http.Request) {
	if !s.builtIn {
		writeOAuthError(w, &oauthError{status: http.StatusNotFound, code: errUnsupportedGrantType,
			description: "the built-in identity provider is disabled"})
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		writeOAuthError(w, &oauthError{status: http.StatusMethodNotAllowed, code: errInvalidRequest,
			description: "the token endpoint takes POST"})
		return
	}
	form, oerr := readTokenForm(w, r)
	if oerr == nil {
		var resp *tokenResponse
		if resp, oerr = s.exchange(r.Context(), form, clientAddress(r)); oerr == nil {
			writeJSON(w, http.StatusOK, resp)
			return
		}
	}
	writeOAuthError(w, oerr)
}

// readTokenForm reads and checks the form body.
func readTokenForm(w http.ResponseWriter, r *http.Request) (url.Values, *oauthError) {
	mediaType, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mediaType != "application/x-www-form-urlencoded" {
		return nil, badRequest("the body must be form-encoded (Content-Type: application/x-www-form-urlencoded)")
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxTokenRequestBody))
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return nil, badRequest("the request body is over 64 KB")
		}
		return nil, badRequest("the request body cannot be read")
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, badRequest("the body is not valid form encoding")
	}
	for _, f := range []string{fieldGrantType, fieldClientID, fieldUsername, fieldPassword, fieldRefreshToken, fieldScope} {
		if len(form[f]) > 1 {
			return nil, badRequest(f + " is repeated")
		}
	}
	return form, nil
}

// exchange runs one token request.
func (s *Service) exchange(ctx context.Context, form url.Values, addr string) (*tokenResponse, *oauthError) {
	grant := form.Get(fieldGrantType)
	if grant == "" {
		return nil, badRequest("grant_type is missing")
	}
	client := form.Get(fieldClientID)
	if client == "" {
		return nil, badRequest("client_id is missing")
	}
	if client != ClientVms && client != ClientGrantValidator {
		return nil, &oauthError{status: http.StatusUnauthorized, code: errInvalidClient,
			description: "unknown client_id; use VmsClient or GrantValidatorClient"}
	}
	switch grant {
	case "password":
		return s.passwordGrant(ctx, form, client, addr)
	case "refresh_token":
		if client != ClientVms {
			return nil, &oauthError{status: http.StatusBadRequest, code: errUnauthorizedClient,
				description: "refresh tokens are for client VmsClient"}
		}
		return s.refreshGrant(form, client)
	}
	return nil, &oauthError{status: http.StatusBadRequest, code: errUnsupportedGrantType,
		description: "grant_type must be password or refresh_token"}
}

// passwordGrant signs a user in with a user name and password.
func (s *Service) passwordGrant(ctx context.Context, form url.Values, client, addr string) (*tokenResponse, *oauthError) {
	name, password := form.Get(fieldUsername), form.Get(fieldPassword)
	if name == "" || password == "" {
		return nil, badRequest("username and password are required")
	}
	userK, addrK := userKey(strings.ToLower(strings.TrimSpace(name))), addrKey(addr)
	started := s.now()
	wait, limited, full := s.limiter.begin(started, userK, addrK)
	if limited {
		s.log.Debug("sign-in refused by the failure limit", "address", addr)
		s.delayFailure(ctx)
		return nil, &oauthError{status: http.StatusTooManyRequests, code: errInvalidGrant,
			description: descTooManyFailures, retryAfter: wait}
	}
	u, ok := s.users.authenticate(name, password)
	if !ok {
		// Name the user only if it exists: an unknown "user name" may be a
		// password typed into the wrong field.
		logName := "(unknown)"
		if s.users.known(name) {
			logName = strings.TrimSpace(name)
		}
		s.log.Info("sign-in failed", "user", logName, "client", client, "address", addr)
		if full {
			s.log.Warn("too many failed sign-ins; refusing more for a minute", "user", logName, "address", addr)
		}
		s.delayFailure(ctx)
		return nil, &oauthError{status: http.StatusBadRequest, code: errInvalidGrant, description: descBadCredentials}
	}
	s.limiter.reset(userK)
	s.limiter.succeeded(started, addrK)
	resp, oerr := s.tokenFor(u, client)
	if oerr != nil {
		return nil, oerr
	}
	if client == ClientVms {
		chain, err := newChainID()
		if err == nil {
			resp.RefreshToken, err = s.refresh.start(chain, u.key, client, s.now().Add(s.refreshLifetime))
		}
		if err != nil {
			s.log.Error("cannot issue a refresh token", "error", err)
			return nil, serverError()
		}
	}
	s.log.Info("signed in", "user", u.name, "client", client, "address", addr)
	return resp, nil
}

// refreshGrant swaps a refresh token for new tokens.
func (s *Service) refreshGrant(form url.Values, client string) (*tokenResponse, *oauthError) {
	token := form.Get(fieldRefreshToken)
	if token == "" {
		return nil, badRequest("refresh_token is missing")
	}
	now := s.now()
	entry, next, res, err := s.refresh.rotate(token, client, now, now.Add(s.refreshLifetime))
	if err != nil {
		s.log.Error("cannot issue a refresh token", "error", err)
		return nil, serverError()
	}
	invalid := &oauthError{status: http.StatusBadRequest, code: errInvalidGrant,
		description: "the refresh token is invalid, expired or already used; sign in again"}
	switch res {
	case redeemOK:
	case redeemReused:
		s.log.Warn("a spent refresh token was presented again; revoked every token of its sign-in",
			"user", entry.user, "chain", entry.chain)
		return nil, invalid
	default:
		return nil, invalid
	}
	u := s.users.lookup(entry.user)
	if u == nil { // removed from the settings since the sign-in (refresh tokens outlive a restart)
		return nil, invalid
	}
	resp, oerr := s.tokenFor(u, client)
	if oerr != nil {
		return nil, oerr
	}
	resp.RefreshToken = next
	return resp, nil
}

// tokenFor signs an access token and wraps it in the answer.
func (s *Service) tokenFor(u *user, client string) (*tokenResponse, *oauthError) {
	token, lifetime, err := s.issueAccessToken(u, client)
	if err != nil {
		s.log.Error("cannot sign an access token", "error", err)
		return nil, serverError()
	}
	return &tokenResponse{
		AccessToken: token,
		ExpiresIn:   int64(lifetime / time.Second),
		TokenType:   "Bearer",
		Scope:       tokenScope,
	}, nil
}

func serverError() *oauthError {
	return &oauthError{status: http.StatusInternalServerError, code: errServerError,
		description: "the token could not be issued; see the server log"}
}

// delayFailure waits Options.FailureDelay, or until the client gives up.
func (s *Service) delayFailure(ctx context.Context) {
	if s.failureDelay <= 0 {
		return
	}
	t := time.NewTimer(s.failureDelay)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

// clientAddressKey is the context key of WithClientAddress.
type clientAddressKey struct{}

// WithClientAddress returns a copy of ctx that tells HandleToken which
// address the request came from: the one the sign-in rate limit counts and
// the log shows. The gateway resolves it (the TCP peer, or behind a trusted
// reverse proxy the address the proxy forwards, see Http.TrustedProxies),
// so that the rate limit agrees with every other use of the client's
// address. An invalid addr is ignored.
func WithClientAddress(ctx context.Context, addr netip.Addr) context.Context {
	if !addr.IsValid() {
		return ctx
	}
	return context.WithValue(ctx, clientAddressKey{}, addr)
}

// clientAddress is the address WithClientAddress gave the request, else
// the IP of r.RemoteAddr. It never reads a forwarding header itself: those
// are the client's to forge unless a trusted proxy wrote them, which only
// the gateway knows.
func clientAddress(r *http.Request) string {
	if a, ok := r.Context().Value(clientAddressKey{}).(netip.Addr); ok {
		return a.String()
	}
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		return host
	}
	return r.RemoteAddr
}

func writeOAuthError(w http.ResponseWriter, e *oauthError) {
	if e.retryAfter > 0 {
		w.Header().Set("Retry-After", strconv.FormatInt(int64(math.Ceil(e.retryAfter.Seconds())), 10))
	}
	writeJSON(w, e.status, map[string]string{"error": e.code, "error_description": e.description})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	w.WriteHeader(status)
	writeBody(w, v)
}

// writeBody encodes v after the header is written; a write error means the
// client has gone, and there is no one left to tell.
func writeBody(w http.ResponseWriter, v any) {
	_ = json.NewEncoder(w).Encode(v)
}
