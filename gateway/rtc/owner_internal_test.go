package rtc

import (
	"slices"
	"time"
)

// fakeOwner is an Owner for rtc's own tests, which need no identity
// provider: user is its User, rights its cameras per right ("*": every
// camera); admin implies every right, as signaling's owners answer.
type fakeOwner struct {
	user    string
	expires time.Time
	rights  map[Right][]string
}

func (o *fakeOwner) User() string         { return o.user }
func (o *fakeOwner) Caller() string       { return "user " + o.user }
func (o *fakeOwner) ExpiresAt() time.Time { return o.expires }

func (o *fakeOwner) Can(r Right, cameraID string) bool {
	for _, right := range []Right{r, RightAdmin} {
		if ids := o.rights[right]; slices.Contains(ids, "*") || slices.Contains(ids, cameraID) {
			return true
		}
	}
	return false
}
