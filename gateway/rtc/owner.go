package rtc

import "time"

// Right is a permission on a camera that rtc asks its session owners
// about. rtc names only the rights it checks; the identity provider's own
// rights stay behind Owner, which signaling implements over them.
type Right string

// The rights rtc checks. An owner with the admin right on a camera has
// every other right on it (Owner.Can answers so).
const (
	RightLive     Right = "live"
	RightPlayback Right = "playback"
	RightPTZ      Right = "ptz"
	RightAdmin    Right = "admin"
)

// Owner is the caller a session runs for, as of one token: whom its limits
// count, what it may do on each camera, and when its token expires. rtc
// does not verify tokens or know where rights come from (signaling adapts
// the identity provider's principal); a nil Owner is an anonymous caller
// that may do nothing. Implementations must be comparable with ==: a
// session tells its current token from an older one that way.
type Owner interface {
	// User identifies the user across its tokens: two owners with the same
	// User are the same user (a new token may replace a session's, the
	// per-user limits count them together).
	User() string
	// Caller names the owner in an error text or a log line ("user alice").
	Caller() string
	// Can reports whether the owner has right r on the camera.
	Can(r Right, cameraID string) bool
	// ExpiresAt is when the owner's token expires; zero: never.
	ExpiresAt() time.Time
}

// RenewFunc returns an owner of the same user with the rights it has now
// and a new expiry, or an error when the user cannot be vouched for
// without a new token (Deps.Renew).
type RenewFunc func(Owner) (Owner, error)

// callerOf names o in an error text or a log line, a nil o included.
func callerOf(o Owner) string {
	if o == nil {
		return "the caller"
	}
	return o.Caller()
}

// sameUser reports whether o and q are owners of one user.
func sameUser(o, q Owner) bool {
	return o != nil && q != nil && o.User() == q.User()
}

// can reports whether o, which may be nil, has right r on the camera.
func can(o Owner, r Right, cameraID string) bool {
	return o != nil && o.Can(r, cameraID)
}
