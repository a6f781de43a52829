package rtc

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"strconv"
	"sync"
	"time"

	"github.com/camgate/camgate/gateway/internal/errtext"
)

// The limits' names as settings: the text of a refusal, the log and the
// "limit" label of camgate_sessions_refused_total.
const (
	limitSessionsPerUser        = "Limits.SessionsPerUser"
	limitPendingSessionsPerUser = "Limits.PendingSessionsPerUser"
	limitSessionsPerAddress     = "Limits.SessionsPerAddress"
	limitMaxSessions            = "Limits.MaxSessions"
	limitMinFreeFileDescriptors = "Limits.MinFreeFileDescriptors"
)

// sessionEndWait is what Retry-After says when a place may free up at any
// time: a viewer that vanished without a DELETE has its session ended
// within 15 s (5 s without ICE traffic to disconnected, 10 s more to
// failed; see SetICETimeouts in media.go).
const sessionEndWait = 15 * time.Second

// sessionLimits admits sessions: it counts the open sessions per user, per
// client address and in all, and the pending (unanswered) ones per user.
// Manager.Create is its only caller, so sessions signaled over REST,
// the WebSocket API and any later flow share one count.
type sessionLimits struct {
	cfg LimitsConfig
	// answerTimeout is how long a pending session lasts at most
	// (WebRTC.AnswerTimeout): when a pending place frees up at the latest.
	answerTimeout time.Duration
	// fds reports the process's open file descriptors and its soft limit
	// on them; ok is false where they cannot be read (then they are not
	// checked). Tests replace it.
	fds func() (open, limit int, ok bool)

	mu    sync.Mutex
	total int
	users map[string]*userSessions
	addrs map[netip.Prefix]int
}

// userSessions are one user's counts.
type userSessions struct{ open, pending int }

// sessionSlot is one admitted session's place in the counts.
type sessionSlot struct {
	user    string
	addr    netip.Prefix // not valid: the session has no client address
	pending bool
	freed   bool
}

func newSessionLimits(cfg LimitsConfig, answerTimeout time.Duration) *sessionLimits {
	return &sessionLimits{
		cfg: cfg, answerTimeout: answerTimeout, fds: openFileDescriptors,
		users: map[string]*userSessions{}, addrs: map[netip.Prefix]int{},
	}
}

// limitError is a refusal by one of the limits: TooMany (a user's or an
// address's share) or Unavailable (the process is full), whose text says
// what was reached, names the limit's setting and ends with when to retry
// (the Retry-After of REST, repeated for the WebSocket API).
func limitError(k Kind, limit string, retry time.Duration, format string, args ...any) *Error {
	e := Errorf(k, format, args...)
	e.Limit, e.RetryAfter = limit, retry
	e.Text += fmt.Sprintf("retry in %d s", errtext.Seconds(retry))
	return e
}

// plural writes a count with its noun: "1 open session", "2 open sessions".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.Itoa(n) + " " + noun + "s"
}

// AddressKey is what SessionsPerAddress counts: an IPv4 address, or the
// /64 of an IPv6 one (a host is usually handed a whole /64 and can take a
// new address in it for every request).
func AddressKey(a netip.Addr) netip.Prefix {
	a = a.Unmap()
	if !a.IsValid() {
		return netip.Prefix{}
	}
	if a.Is6() {
		return netip.PrefixFrom(a.WithZone(""), 64).Masked()
	}
	return netip.PrefixFrom(a, 32)
}

// describeAddress names an address key in a refusal.
func describeAddress(p netip.Prefix) string {
	if p.Addr().Is6() {
		return "client network " + p.String()
	}
	return "client address " + p.Addr().String()
}

// admit takes a place for the session req asks for, or says which limit
// refuses it: in the log and in camgate_sessions_refused_total. Without
// limits (nil) every session is admitted and the slot is nil.
func (m *Manager) admit(req CreateRequest) (*sessionSlot, error) {
	if m.limits == nil {
		return nil, nil
	}
	slot, err := m.limits.admit(req.Owner, req.ClientIP)
	if err != nil {
		e, _ := AsError(err)
		m.metrics.sessionRefused(e.Limit)
		// A full process is the operator's concern; a user or address
		// over its share is that client's.
		level := slog.LevelInfo
		if e.Kind == Unavailable {
			level = slog.LevelWarn
		}
		m.log.Log(context.Background(), level, "session refused", "limit", e.Limit, "user", callerOf(req.Owner), "client", req.ClientIP)
	}
	return slot, err
}

// admit counts a new pending session of p from addr, or refuses it with a
// *Error that names the limit (TooMany: the user's or the address's share;
// Unavailable: the process is full). The slot is given back with free.
func (l *sessionLimits) admit(p Owner, addr netip.Addr) (*sessionSlot, error) {
	slot := &sessionSlot{addr: AddressKey(addr), pending: true}
	if p != nil {
		slot.user = p.User()
	}
	l.mu.Lock()
	u := l.users[slot.user]
	if u == nil {
		u = &userSessions{}
	}
	var err error
	switch {
	case u.open >= l.cfg.SessionsPerUser:
		err = limitError(TooMany, limitSessionsPerUser, sessionEndWait,
			"%s has reached %s (%s); end one, or ", callerOf(p), limitSessionsPerUser, plural(u.open, "open session"))
	case u.pending >= l.cfg.PendingSessionsPerUser:
		// Every pending session is answered or closed within
		// answerTimeout: a place is free by then at the latest.
		err = limitError(TooMany, limitPendingSessionsPerUser, l.answerTimeout,
			"%s has reached %s (%s without an answer); answer them, or ", callerOf(p), limitPendingSessionsPerUser, plural(u.pending, "session"))
	case slot.addr.IsValid() && l.addrs[slot.addr] >= l.cfg.SessionsPerAddress:
		err = limitError(TooMany, limitSessionsPerAddress, sessionEndWait,
			"%s has reached %s (%s); end one, or ", describeAddress(slot.addr), limitSessionsPerAddress, plural(l.addrs[slot.addr], "open session"))
	case l.total >= l.cfg.MaxSessions:
		err = limitError(Unavailable, limitMaxSessions, sessionEndWait,
			"camgate has reached %s (%s in all); ", limitMaxSessions, plural(l.total, "open session"))
	}
	if err != nil {
		l.mu.Unlock()
		return nil, err
	}
	u.open++
	u.pending++
	l.users[slot.user] = u
	if slot.addr.IsValid() {
		l.addrs[slot.addr]++
	}
	l.total++
	l.mu.Unlock()

	// Counted after the place is taken, so that a burst of requests
	// cannot all pass on the same count; a session itself opens no file
	// descriptor unless it talks to STUN or TURN servers, resolves mDNS
	// names (WebRTC.MDNS "query") or uses ICE over TCP.
	if need := l.cfg.MinFreeFileDescriptors; need > 0 {
		// The figures are in /metrics: process_open_fds, process_max_fds.
		if open, limit, ok := l.fds(); ok && limit-open < need {
			l.free(slot)
			return nil, limitError(Unavailable, limitMinFreeFileDescriptors, sessionEndWait,
				"camgate has too few free file descriptors for another session (%s); ", limitMinFreeFileDescriptors)
		}
	}
	return slot, nil
}

// answered moves a slot from pending to answered; later calls do nothing.
func (l *sessionLimits) answered(slot *sessionSlot) {
	if l == nil || slot == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if slot.freed || !slot.pending {
		return
	}
	slot.pending = false
	l.users[slot.user].pending--
}

// free gives a slot back; later calls do nothing.
func (l *sessionLimits) free(slot *sessionSlot) {
	if l == nil || slot == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if slot.freed {
		return
	}
	slot.freed = true
	u := l.users[slot.user]
	u.open--
	if slot.pending {
		u.pending--
	}
	if u.open == 0 {
		delete(l.users, slot.user)
	}
	if slot.addr.IsValid() {
		if l.addrs[slot.addr]--; l.addrs[slot.addr] <= 0 {
			delete(l.addrs, slot.addr)
		}
	}
	l.total--
}
