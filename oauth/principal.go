// Package oauth is camgate's sign-in and access control: the built-in
// identity provider (token endpoint, signing keys, users, refresh tokens),
// verification of bearer tokens from it and from external OIDC issuers, and
// the rights a caller has on each camera.
package oauth

import (
	"time"

	"github.com/camgate/camgate/appsettings"
)

// Right is a permission on a camera.
type Right string

// The rights a role can grant. Admin implies every other right.
const (
	RightLive     Right = "live"
	RightPlayback Right = "playback"
	RightPTZ      Right = "ptz"
	RightExport   Right = "export"
	RightAdmin    Right = "admin"
)

// AllRights lists every right (a new slice on each call).
func AllRights() []Right {
	return []Right{RightLive, RightPlayback, RightPTZ, RightExport, RightAdmin}
}

// Principal is an authenticated caller: who it is and what it may do.
type Principal struct {
	// Subject is the token's "sub": stable for one user of one issuer.
	Subject string
	// Issuer is the token's "iss".
	Issuer string
	// Name is a display name (the user name for the built-in provider).
	Name string
	// Roles are the camgate roles the token grants (after issuer mapping).
	Roles []string
	// ExpiresAt is the token's "exp".
	ExpiresAt time.Time
	// ClientID is the OAuth client the token was issued to ("client_id",
	// else "azp"; "" when the token names none): VmsClient or
	// GrantValidatorClient for the built-in provider. Signaling reads it to
	// tell a browser from a relay (docs/clients.md).
	ClientID string

	rights map[Right]cameraSet
}

// cameraSet is a set of lower-cased camera ids, or every camera.
type cameraSet struct {
	all bool
	ids map[appsettings.CameraKey]bool
}

// Grant adds a right on cameras ("*" for every camera) to the principal.
func (p *Principal) Grant(r Right, cameras ...string) {
	if p.rights == nil {
		p.rights = map[Right]cameraSet{}
	}
	set := p.rights[r]
	for _, c := range cameras {
		if c == "*" {
			set.all = true
			continue
		}
		if set.ids == nil {
			set.ids = map[appsettings.CameraKey]bool{}
		}
		set.ids[appsettings.KeyOf(c)] = true
	}
	p.rights[r] = set
}

// Can reports whether the principal has right r on the camera. Admin on a
// camera implies every right on it.
func (p *Principal) Can(r Right, cameraID string) bool {
	if p == nil {
		return false
	}
	id := appsettings.KeyOf(cameraID)
	for _, right := range []Right{r, RightAdmin} {
		if set, ok := p.rights[right]; ok && (set.all || set.ids[id]) {
			return true
		}
	}
	return false
}

// CanSee reports whether the principal may know the camera exists: any
// right on it.
func (p *Principal) CanSee(cameraID string) bool {
	for _, r := range AllRights() {
		if p.Can(r, cameraID) {
			return true
		}
	}
	return false
}

// SameCaller reports whether q is the same user as p (same issuer and
// subject), as required to replace a session's token.
func (p *Principal) SameCaller(q *Principal) bool {
	return p != nil && q != nil && p.Issuer == q.Issuer && p.Subject == q.Subject
}
