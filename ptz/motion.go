package ptz

import (
	"context"
	"errors"
	"strings"
	"time"
)

// Motion: continuous moves (ptzMove) are latest-wins: the controller keeps
// the one move its goroutine should send (c.motion), which a new ptzMove
// replaces before the camera has got it. A dead-man watchdog stops the
// camera NudgeLength after the move's last command; the same command again
// re-arms it without a camera call. Cameras that end a move by themselves
// (Refresher) get it again while it goes on. Stops come first, are retried,
// and are never held up by the rate limits.

// motion is a continuous move that a session wants.
type motion struct {
	session  string
	dir      Direction
	vel      Velocity
	deadline time.Time
	applied  bool // sent to the camera
	waiters  []ReplyFunc
}

// stopReq asks the goroutine to stop the camera.
type stopReq struct {
	reason string
	force  bool // stop even when no continuous move is known to run
	reply  ReplyFunc
	done   chan error
}

func (s *stopReq) finish(err error) {
	if s.reply != nil {
		s.reply(nil, err)
	}
	if s.done != nil {
		s.done <- err
	}
}

// wantStop drops the wanted move and asks the goroutine for a stop,
// answered once it is sent. Call with c.mu held.
func (c *Controller) wantStop(reply ReplyFunc, later *[]pendingReply) {
	c.dropMotion(later, false)
	c.stops = append(c.stops, &stopReq{reason: "stop command", force: true,
		reply: func(_ any, err error) { answer(reply, MethodMove, MoveResult{Direction: Stop}, err) }})
	c.poke()
}

// wantMove makes a continuous direction the wanted move (latest wins).
// The same move again from the same session only re-arms the watchdog:
// answered at once (async false) when the camera has it already. Call
// with c.mu held.
func (c *Controller) wantMove(session string, dir Direction, reply ReplyFunc, now time.Time, later *[]pendingReply) (v any, async bool) {
	unit, _ := dir.unit()
	vel := Velocity{Pan: unit.Pan * c.cfg.Speed, Tilt: unit.Tilt * c.cfg.Speed, Zoom: unit.Zoom * c.cfg.Speed}
	result := MoveResult{Direction: dir, NudgeMs: c.cfg.NudgeLength.Milliseconds()}
	if m := c.motion; m != nil && m.session == session && m.vel == vel {
		m.deadline = now.Add(c.cfg.NudgeLength) // re-arm the watchdog: no camera call
		if m.applied {
			return result, false
		}
		m.waiters = append(m.waiters, func(_ any, err error) { answer(reply, MethodMove, result, err) })
		return nil, true
	}
	c.dropMotion(later, false)
	c.motion = &motion{session: session, dir: dir, vel: vel, deadline: now.Add(c.cfg.NudgeLength),
		waiters: []ReplyFunc{func(v any, err error) {
			if s, ok := v.(MoveResult); ok && s.Superseded {
				result.Superseded = true
			}
			answer(reply, MethodMove, result, err)
		}}}
	c.poke()
	return nil, true
}

// dropMotion forgets the wanted move; its waiters learn that they were
// superseded (or get err). Call with c.mu held.
func (c *Controller) dropMotion(later *[]pendingReply, expired bool) {
	m := c.motion
	if m == nil {
		return
	}
	c.motion = nil
	for _, w := range m.waiters {
		if expired {
			*later = append(*later, pendingReply{f: w, err: newError(CodeRateLimited,
				"the move expired before the camera could take it (camera rate limit)")})
		} else {
			*later = append(*later, pendingReply{f: w, v: MoveResult{Superseded: true}})
		}
	}
	m.waiters = nil
}

// sendMove sends m to the camera. Called with c.mu held; it releases the
// lock during the call. The camera counts as moving afterwards even when
// the call failed (a timed-out move may have started): the caller stops it.
func (c *Controller) sendMove(m *motion, now time.Time) error {
	ctx, cancel := context.WithTimeout(c.ctx, c.cfg.CallTimeout)
	c.inflight = cancel
	c.mu.Unlock()
	err := c.drv.(Mover).Move(ctx, m.vel)
	cancel()
	c.mu.Lock()
	c.inflight = nil
	c.moving, c.mover, c.sentAt = true, m.session, now
	return err
}

// stopCamera sends the stop sequence, retried StopAttempts times.
func (c *Controller) stopCamera(ctx context.Context, reason string) error {
	var err error
	for attempt := 1; ; attempt++ {
		cctx, cancel := context.WithTimeout(ctx, c.cfg.CallTimeout)
		err = c.stopOnce(cctx)
		cancel()
		if err == nil || attempt >= c.cfg.StopAttempts || ctx.Err() != nil || errors.Is(err, ErrNotSupported) {
			break
		}
		t := time.NewTimer(c.cfg.StopBackoff)
		select {
		case <-t.C:
		case <-ctx.Done():
		}
		t.Stop()
	}
	c.mu.Lock()
	if err == nil {
		c.moving, c.mover = false, ""
	}
	c.mu.Unlock()
	if err != nil {
		c.log.Warn("ptz: stop failed", "reason", reason, "error", err)
	} else {
		c.log.Debug("ptz: stopped", "reason", reason)
	}
	return err
}

// stopOnce: the driver's Stop, or a zero velocity for a driver without one.
func (c *Controller) stopOnce(ctx context.Context) error {
	if s, ok := c.drv.(Stopper); ok {
		return s.Stop(ctx)
	}
	if m, ok := c.drv.(Mover); ok {
		return m.Move(ctx, Velocity{})
	}
	return nil
}

// runStops sends one stop for every stop request waiting, when one is
// forced or the camera may be moving, and answers them all. Called with
// c.mu held; it unlocks.
func (c *Controller) runStops() {
	reqs := c.stops
	c.stops = nil
	force := c.moving
	reasons := make([]string, 0, len(reqs))
	for _, r := range reqs {
		force = force || r.force
		reasons = append(reasons, r.reason)
	}
	c.mu.Unlock()
	var err error
	if force {
		err = c.stopCamera(context.Background(), strings.Join(reasons, ", "))
	}
	for _, r := range reqs {
		r.finish(err)
	}
}

// runWatchdog ends the wanted move whose deadline has passed and stops the
// camera if it moves; waiters of a move that never reached the camera hear
// that it expired, after the stop. Called with c.mu held; it unlocks.
func (c *Controller) runWatchdog() {
	var later []pendingReply
	m := c.motion
	c.dropMotion(&later, !m.applied)
	moving := c.moving
	c.mu.Unlock()
	if moving {
		if err := c.stopCamera(context.Background(), "watchdog"); err != nil {
			c.log.Warn("ptz: watchdog stop failed", "error", err)
		}
	}
	callAll(later)
}

// runMotion sends a continuous move the camera has not got yet (when the
// camera's rate allows), or again when the driver wants it refreshed, or
// says when there is motion work next. Called with c.mu held; it unlocks.
func (c *Controller) runMotion(now time.Time) (next time.Time, worked bool) {
	var later []pendingReply
	defer func() { callAll(later) }()

	// A continuous move the camera has not got yet.
	if m := c.motion; m != nil && !m.applied {
		if ok, wait := take(c.cameraRate, now); !ok {
			next = now.Add(wait)
			if m.deadline.Before(next) {
				next = m.deadline
			}
			c.mu.Unlock()
			return next, false
		}
		// Those waiting now learn how the call went even if a newer move
		// replaces this one meanwhile.
		sending := m.waiters
		m.waiters = nil
		err := c.sendMove(m, now)
		for _, w := range sending {
			later = append(later, pendingReply{f: w, err: err})
		}
		if c.motion == m {
			m.applied = true
			for _, w := range m.waiters {
				later = append(later, pendingReply{f: w, err: err})
			}
			m.waiters = nil
			if err != nil {
				c.motion = nil
			}
		}
		c.mu.Unlock()
		if err != nil {
			c.log.Warn("ptz: move failed; stopping", "session", m.session, "direction", string(m.dir), "error", err)
			_ = c.stopCamera(context.Background(), "move failed")
		}
		return next, true
	}

	// Keep a running move alive on cameras that end it by themselves.
	refresh := time.Duration(0)
	if r, ok := c.drv.(Refresher); ok {
		refresh = r.RefreshInterval()
	}
	if m := c.motion; m != nil && m.applied && refresh > 0 && now.Sub(c.sentAt) >= refresh {
		err := c.sendMove(m, now)
		if err != nil && c.motion == m {
			c.motion = nil
		}
		c.mu.Unlock()
		if err != nil {
			c.log.Warn("ptz: move refresh failed; stopping", "error", err)
			_ = c.stopCamera(context.Background(), "move refresh failed")
		}
		return next, true
	}

	next = now.Add(time.Hour)
	if m := c.motion; m != nil {
		next = m.deadline
		if refresh > 0 && c.sentAt.Add(refresh).Before(next) {
			next = c.sentAt.Add(refresh)
		}
	}
	c.mu.Unlock()
	return next, false
}
