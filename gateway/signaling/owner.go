package signaling

import (
	"errors"
	"fmt"
	"time"

	"github.com/camgate/camgate/gateway/rtc"
	"github.com/camgate/camgate/oauth"
)

// OwnerOf is p as rtc sees a session's owner (rtc.Owner), so that rtc
// needs nothing of oauth; nil when p is nil (an anonymous caller, which
// may do nothing), never an Owner holding a nil principal.
func OwnerOf(p *oauth.Principal) rtc.Owner {
	if p == nil {
		return nil
	}
	return principalOwner{p}
}

// principalOwner adapts a verified token's principal to rtc.Owner. It is a
// comparable value: two of the same principal are equal, as rtc.Owner asks.
type principalOwner struct{ p *oauth.Principal }

func (o principalOwner) User() string         { return userKey(o.p) }
func (o principalOwner) Caller() string       { return Caller(o.p) }
func (o principalOwner) ExpiresAt() time.Time { return o.p.ExpiresAt }

// Can asks the principal for the oauth right of r; a right rtc might add
// without one here is refused, never granted by the admin right.
func (o principalOwner) Can(r rtc.Right, cameraID string) bool {
	right, ok := oauthRight(r)
	return ok && o.p.Can(right, cameraID)
}

// oauthRight is the oauth right of an rtc right.
func oauthRight(r rtc.Right) (oauth.Right, bool) {
	switch r {
	case rtc.RightLive:
		return oauth.RightLive, true
	case rtc.RightPlayback:
		return oauth.RightPlayback, true
	case rtc.RightPTZ:
		return oauth.RightPTZ, true
	case rtc.RightAdmin:
		return oauth.RightAdmin, true
	}
	return "", false
}

// userKey identifies p's user across tokens: its issuer and subject (as
// oauth.Principal.SameCaller compares them).
func userKey(p *oauth.Principal) string { return p.Issuer + "\x00" + p.Subject }

// Caller names a principal in an error text or a log line.
func Caller(p *oauth.Principal) string {
	if p == nil {
		return "the caller"
	}
	if p.Name != "" {
		return "user " + p.Name
	}
	return "subject " + p.Subject
}

// errNotPrincipal is what RenewOwners answers for an owner that signaling
// did not make (OwnerOf): it cannot be vouched for.
var errNotPrincipal = errors.New("the session's owner is not a token's principal")

// RenewOwners adapts the identity provider's renewal
// (oauth.Service.Renew) to rtc.Deps.Renew; nil when renew is nil (relay
// sessions then end with their token like the others).
func RenewOwners(renew func(*oauth.Principal) (*oauth.Principal, error)) rtc.RenewFunc {
	if renew == nil {
		return nil
	}
	return func(o rtc.Owner) (rtc.Owner, error) {
		po, ok := o.(principalOwner)
		if !ok {
			return nil, fmt.Errorf("renew %T: %w", o, errNotPrincipal)
		}
		q, err := renew(po.p)
		if err != nil {
			return nil, err
		}
		return OwnerOf(q), nil
	}
}
