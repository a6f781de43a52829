package appsettings

// Limits bounds the sessions that one user, one client address and the
// process as a whole may hold. Sessions signaled over REST and over the
// WebSocket API count together. A session counts from its creation until it
// ends (DELETE, its peer connection closing or failing, no answer within
// WebRTC.AnswerTimeout, its token expiring, shutdown).
type Limits struct {
	// SessionsPerUser is how many sessions one user (one subject of one
	// issuer) may have open at once, answered or not. One more is refused
	// (REST 429, WebSocket code 1001) until one ends. Default: 256, room
	// for four consoles showing a grid of 64 cameras, or two reloaded ones
	// whose old sessions have not timed out yet.
	SessionsPerUser int
	// PendingSessionsPerUser is how many of a user's sessions may wait for
	// their answer at once; they end after WebRTC.AnswerTimeout without
	// one. Browsers answer within a second, so this only bounds what a
	// client that never answers can hold. Default: 64, the sessions a
	// console starts at once over one socket
	// (WebSocket.MaxSessionsPerConnection).
	PendingSessionsPerUser int
	// SessionsPerAddress is how many sessions may be open at once from one
	// client address (an IPv6 client counted by its /64), whichever users
	// signed in there. Behind a reverse proxy this needs
	// Http.TrustedProxies, or every client has the proxy's address.
	// Default: 512.
	SessionsPerAddress int
	// MaxSessions is how many sessions camgate holds at once, whoever asks;
	// one more is refused with 503 and Retry-After. Each session costs
	// about 300 KB and 11 to 17 goroutines, and a core serves 400 to 600
	// viewers. Default: 1000.
	MaxSessions int
	// MinFreeFileDescriptors refuses new sessions (503 and Retry-After)
	// while fewer than this many file descriptors are free below the
	// process's soft limit (RLIMIT_NOFILE), counted in /proc/self/fd at
	// each session request (Linux; elsewhere not checked), so that sign-in,
	// the camera connections and recordings keep working. 0 turns the
	// check off. Default: 256.
	MinFreeFileDescriptors int
}

// defaultLimits is the Limits part of Defaults.
func defaultLimits() Limits {
	return Limits{
		SessionsPerUser:        256,
		PendingSessionsPerUser: 64,
		SessionsPerAddress:     512,
		MaxSessions:            1000,
		MinFreeFileDescriptors: 256,
	}
}
