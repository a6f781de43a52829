package ptz

import (
	"context"
	"math"
	"time"

	"golang.org/x/time/rate"
)

// Admission: every request passes here, on the caller's goroutine, before
// the controller's goroutine sees it. It is refused when the camera lacks
// the feature (capabilities.go), when its session sends too fast, when
// another session holds the control lease, or when the camera's queue or
// rate is full; a stop is never held up while something moves. What
// passes is answered at once (a re-armed move, a cached status) or handed
// to the goroutine: a continuous move to motion.go, a stop to the stop
// list, a discrete operation to the FIFO.

// maxSessions is how many sessions' rate buckets are kept before full ones
// (which a new session would start with anyway) are dropped.
const maxSessions = 64

// admit checks a request and either answers it (async false) or hands it
// to the goroutine. Replies to superseded moves go to later, to be called
// without the lock.
func (c *Controller) admit(ctx context.Context, session string, req Request, reply ReplyFunc, later *[]pendingReply) (any, bool, error) {
	if err := supported(c.features(), req); err != nil {
		return nil, false, err
	}
	now := time.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil, false, newError(CodeUnavailable, "PTZ control of this camera is shutting down")
	}
	isStop := req.Method == MethodMove && req.Direction == Stop
	if err := c.sessionRate(session, isStop, now); err != nil {
		return nil, false, err
	}
	if err := c.lease(session, req.Method, isStop, now); err != nil {
		return nil, false, err
	}

	switch {
	case isStop:
		c.wantStop(reply, later)
		return nil, true, nil
	case req.Method == MethodMove && req.Direction != Home:
		v, async := c.wantMove(session, req.Direction, reply, now, later)
		return v, async, nil
	case req.Method == MethodStatus && c.status != nil && now.Sub(c.statusAt) < c.cfg.StatusMaxAge:
		return c.statusResult(*c.status, session, now), false, nil
	}
	if len(c.queue) >= c.cfg.QueueLength {
		return nil, false, &Error{Code: CodeBusy, RetryAfter: time.Second,
			Message: "the camera is busy: " + itoa(len(c.queue)) + " commands are waiting; try again shortly"}
	}
	if ok, wait := take(c.cameraRate, now); !ok {
		return nil, false, &Error{Code: CodeRateLimited, RetryAfter: wait,
			Message: "the camera takes at most " + itoa(c.cfg.RatePerCamera) + " commands per second; try again in " + fmtDur(wait)}
	}
	c.queue = append(c.queue, &op{ctx: ctx, session: session, req: req, reply: reply})
	c.poke()
	return nil, true, nil
}

// sessionRate takes one of the session's tokens. A stop while something
// moves is never refused for the session's rate. Call with c.mu held.
func (c *Controller) sessionRate(session string, isStop bool, now time.Time) *Error {
	lim := c.sessions[session]
	if lim == nil {
		c.pruneSessions(now)
		// A bucket holding one second's worth, full at the start.
		lim = rate.NewLimiter(rate.Limit(c.cfg.RatePerSession), c.cfg.RatePerSession)
		c.sessions[session] = lim
	}
	if ok, wait := take(lim, now); !ok && !(isStop && (c.motion != nil || c.moving)) {
		return &Error{Code: CodeRateLimited, RetryAfter: wait,
			Message: "too many commands: at most " + itoa(c.cfg.RatePerSession) + " per second; try again in " + fmtDur(wait)}
	}
	return nil
}

// lease gives the session the control lease, or renews it, for every
// method that changes the camera; it refuses when another session holds
// it, except for a stop: anybody may stop the camera. Reading needs no
// lease and does not renew it. Call with c.mu held.
func (c *Controller) lease(session string, m Method, isStop bool, now time.Time) *Error {
	if m.ReadOnly() {
		return nil
	}
	if c.leaseHold != "" && c.leaseHold != session && now.Before(c.leaseEnd) {
		if isStop {
			return nil
		}
		wait := c.leaseEnd.Sub(now)
		return &Error{Code: CodeBusy, RetryAfter: wait,
			Message: "another session controls this camera; its control ends in " + fmtDur(wait) +
				" (at " + c.leaseEnd.UTC().Format("15:04:05") + " UTC) unless it sends more commands"}
	}
	if c.leaseHold != session {
		c.log.Info("ptz control taken", "session", session, "method", string(m))
	}
	c.leaseHold, c.leaseEnd = session, now.Add(c.cfg.LeaseTimeout)
	return nil
}

func (c *Controller) pruneSessions(now time.Time) {
	if len(c.sessions) < maxSessions {
		return
	}
	for id, lim := range c.sessions {
		if lim.TokensAt(now) >= float64(lim.Burst()) {
			delete(c.sessions, id)
		}
	}
}

// take takes a token from l, or says how long until one is there (rounded
// up, so that trying again after the wait succeeds).
func take(l *rate.Limiter, now time.Time) (bool, time.Duration) {
	if l.AllowN(now, 1) {
		return true, 0
	}
	need := 1 - l.TokensAt(now)
	wait := time.Duration(math.Ceil(need / float64(l.Limit()) * float64(time.Second)))
	return false, max(wait, time.Millisecond)
}
