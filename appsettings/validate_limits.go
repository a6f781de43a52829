package appsettings

import "strconv"

// maxLimit bounds the session limits: far beyond what one process serves,
// low enough that a typo (an extra digit or two) is caught.
const maxLimit = 100000

// limits checks the session limits.
func (v *validator) limits(l *Limits) {
	v.limitRange("Limits.SessionsPerUser", l.SessionsPerUser, 1, maxLimit)
	// Pending sessions count towards SessionsPerUser too: more could
	// never be reached.
	if l.SessionsPerUser >= 1 && l.SessionsPerUser <= maxLimit {
		if n := l.PendingSessionsPerUser; n < 1 || n > l.SessionsPerUser {
			v.fail("Limits.PendingSessionsPerUser", "must be from 1 to Limits.SessionsPerUser, "+strconv.Itoa(l.SessionsPerUser)+" (got "+strconv.Itoa(n)+")")
		}
	} else {
		v.limitRange("Limits.PendingSessionsPerUser", l.PendingSessionsPerUser, 1, maxLimit)
	}
	v.limitRange("Limits.SessionsPerAddress", l.SessionsPerAddress, 1, maxLimit)
	v.limitRange("Limits.MaxSessions", l.MaxSessions, 1, maxLimit)
	v.limitRange("Limits.MinFreeFileDescriptors", l.MinFreeFileDescriptors, 0, 65536)
}

func (v *validator) limitRange(path string, n, lo, hi int) {
	if n < lo || n > hi {
		v.fail(path, "must be from "+strconv.Itoa(lo)+" to "+strconv.Itoa(hi)+" (got "+strconv.Itoa(n)+")")
	}
}
