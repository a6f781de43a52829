package oauth

import (
	"errors"
	"strings"
	"time"
)

// ErrCannotRenew is wrapped by Renew's errors: the principal cannot be
// renewed without a new token from its client.
var ErrCannotRenew = errors.New("cannot renew without a new token")

// Renew vouches again for a principal of the built-in provider whose token
// has expired or is about to: it returns a principal of the same user with
// the rights the user's roles give now (not those of the old token) and an
// expiry one Auth.BuiltIn.TokenLifetime from now, as if the client had
// refreshed. It is for media sessions of clients that cannot refresh (a
// relay that signed in with the password grant and GrantValidatorClient):
// their session may outlive the token while its user still exists, and is
// checked again at each renewed expiry. A user no longer configured, or a
// principal of an external issuer (camgate cannot ask that issuer about a
// user without a token), is not renewed: the error wraps ErrCannotRenew.
func (s *Service) Renew(p *Principal) (*Principal, error) {
	if p == nil {
		return nil, ErrCannotRenew
	}
	if !s.builtIn || p.Issuer != s.issuer {
		return nil, errors.Join(ErrCannotRenew, errors.New("the token is not camgate's own"))
	}
	key, ok := strings.CutPrefix(p.Subject, "user:")
	u := s.users.lookup(key)
	if !ok || u == nil {
		return nil, errors.Join(ErrCannotRenew, errors.New("the user is no longer configured"))
	}
	now := s.now()
	q := &Principal{
		Subject:   u.subject(),
		Issuer:    s.issuer,
		Name:      u.name,
		Roles:     append([]string(nil), u.roles...),
		ExpiresAt: now.Add(s.tokenLifetime).Truncate(time.Second),
		ClientID:  p.ClientID,
	}
	s.roles.grant(q, q.Roles)
	return q, nil
}
