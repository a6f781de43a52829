package ptz

import (
	"context"
	"errors"
	"log/slog"
	"math"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/camgate/camgate/ptz/driver"
)

// Config configures a Controller. Zero fields take the documented default.
type Config struct {
	// CameraID names the camera in logs.
	CameraID string
	// Speed is the velocity of a ptzMove nudge, as a fraction of the
	// camera's maximum (0…1]. Default 0.5.
	Speed float64
	// NudgeLength is how long one ptzMove moves the camera before the
	// dead-man watchdog stops it; the same command again within it
	// re-arms the watchdog. Default 400ms.
	NudgeLength time.Duration
	// LeaseTimeout is how long the control lease outlives its holder's
	// last command. Default 5s.
	LeaseTimeout time.Duration
	// RatePerSession is how many commands one session may send per
	// second (a token bucket holding one second's worth). Default 10.
	RatePerSession int
	// RatePerCamera is how many calls per second camgate makes to the
	// camera, stops and move refreshes not counted (a token bucket holding
	// one second's worth). Default 10.
	RatePerCamera int
	// QueueLength bounds the discrete operations waiting for the camera;
	// more get "busy". Default 8.
	QueueLength int
	// CallTimeout bounds each driver call, as a backstop to the driver's
	// own timeout. Default 10s.
	CallTimeout time.Duration
	// StopAttempts is how often a failed stop is tried, StopBackoff the
	// pause between tries. Defaults 3 and 200ms.
	StopAttempts int
	StopBackoff  time.Duration
	// StatusMaxAge is how long a ptzStatus answer is reused for other
	// requests. Default 250ms.
	StatusMaxAge time.Duration
	// Geometry is the camera's optics, for ptzCenter and degrees in
	// ptzStatus. Default DefaultGeometry().
	Geometry Geometry
}

// DefaultGeometry is a typical 10× PTZ dome with a 16:9 picture.
func DefaultGeometry() Geometry { return driver.DefaultGeometry() }

func (c Config) withDefaults() Config {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	defInt := func(n *int, v int) {
		if *n <= 0 {
			*n = v
		}
	}
	if c.Speed <= 0 || c.Speed > 1 || math.IsNaN(c.Speed) {
		c.Speed = 0.5
	}
	def(&c.NudgeLength, 400*time.Millisecond)
	def(&c.LeaseTimeout, 5*time.Second)
	defInt(&c.RatePerSession, 10)
	defInt(&c.RatePerCamera, 10)
	defInt(&c.QueueLength, 8)
	def(&c.CallTimeout, 10*time.Second)
	defInt(&c.StopAttempts, 3)
	def(&c.StopBackoff, 200*time.Millisecond)
	def(&c.StatusMaxAge, 250*time.Millisecond)
	g, d := &c.Geometry, driver.DefaultGeometry()
	for _, f := range []struct{ v, d *float64 }{{&g.PanDegrees, &d.PanDegrees}, {&g.TiltDegrees, &d.TiltDegrees},
		{&g.HorizontalFov, &d.HorizontalFov}, {&g.VerticalFov, &d.VerticalFov}, {&g.ZoomRatio, &d.ZoomRatio}} {
		if *f.v <= 0 || math.IsNaN(*f.v) || math.IsInf(*f.v, 0) {
			*f.v = *f.d
		}
	}
	return c
}

// maxSessions is how many sessions' rate buckets are kept before full ones
// (which a new session would start with anyway) are dropped.
const maxSessions = 64

// finalStopTimeout bounds the stop Close sends.
const finalStopTimeout = 5 * time.Second

// ReplyFunc receives the result of a request: a *Error when it failed.
type ReplyFunc func(result any, err error)

// Controller steers one PTZ camera safely. One goroutine owns the driver
// and makes every call to it, so calls never overlap and a stop never
// overtakes the move it ends. Continuous moves are latest-wins: a new
// ptzMove replaces one the camera has not got yet. Discrete operations
// (presets, aux, absolute and relative moves, status) wait in a bounded
// FIFO. A dead-man watchdog stops every continuous move NudgeLength after
// its last command. A control lease lets one session steer at a time, and
// token buckets limit each session's commands and the calls to the camera.
//
// NewController starts the goroutine, which first connects the driver and
// stops the camera once (motion left over from a crash); Close stops the
// camera and waits for the goroutine.
type Controller struct {
	cfg Config
	drv Driver
	log *slog.Logger

	ctx    context.Context // cancelled by Close
	cancel context.CancelFunc
	wake   chan struct{}
	done   chan struct{}
	close1 sync.Once

	mu        sync.Mutex
	closed    bool
	motion    *motion // the continuous move wanted; nil = none
	queue     []*op
	stops     []*stopReq
	leaseHold string
	leaseEnd  time.Time
	sessions  map[string]*bucket
	camBucket bucket
	status    *Status // last status read, and when
	statusAt  time.Time
	inflight  context.CancelFunc // cancels the driver call running now
	moving    bool               // the camera may be moving continuously
	mover     string             // the session whose continuous move it is
	sentAt    time.Time          // when the running move was last sent
}

// motion is a continuous move that a session wants.
type motion struct {
	session  string
	dir      Direction
	vel      Velocity
	deadline time.Time
	applied  bool // sent to the camera
	waiters  []ReplyFunc
}

// op is a discrete operation waiting in the FIFO.
type op struct {
	ctx     context.Context
	session string
	req     Request
	reply   ReplyFunc
}

// stopReq asks the goroutine to stop the camera.
type stopReq struct {
	reason string
	force  bool // stop even when no continuous move is known to run
	reply  ReplyFunc
	done   chan error
}

type pendingReply struct {
	f   ReplyFunc
	v   any
	err error
}

func callAll(rs []pendingReply) {
	for _, r := range rs {
		r.f(r.v, r.err)
	}
}

// NewController starts a controller for the camera behind drv. log gets
// the attributes component=ptz and camera=cfg.CameraID.
func NewController(cfg Config, drv Driver, log *slog.Logger) *Controller {
	cfg = cfg.withDefaults()
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithCancel(context.Background())
	c := &Controller{
		cfg:      cfg,
		drv:      drv,
		log:      log.With("component", "ptz", "camera", cfg.CameraID),
		ctx:      ctx,
		cancel:   cancel,
		wake:     make(chan struct{}, 1),
		done:     make(chan struct{}),
		sessions: map[string]*bucket{},
	}
	c.camBucket = newBucket(cfg.RatePerCamera, time.Now())
	go c.run()
	return c
}

// Capabilities says what the camera's controller accepts, as far as the
// driver knows (an ONVIF driver knows more once it has probed the camera).
func (c *Controller) Capabilities() Capabilities {
	f := c.features()
	caps := Capabilities{Features: f, NudgeMs: c.cfg.NudgeLength.Milliseconds(), LeaseTimeoutMs: c.cfg.LeaseTimeout.Milliseconds()}
	for _, m := range Methods {
		if m == MethodMove {
			for _, d := range Directions {
				if supported(f, Request{Method: MethodMove, Direction: d}) == nil {
					caps.Directions = append(caps.Directions, d)
				}
			}
			if len(caps.Directions) > 0 {
				caps.Methods = append(caps.Methods, m)
			}
			continue
		}
		if supported(f, Request{Method: m, Aux: firstAux(f)}) == nil {
			caps.Methods = append(caps.Methods, m)
		}
	}
	return caps
}

func firstAux(f Features) int {
	if len(f.Aux) > 0 {
		return f.Aux[0]
	}
	return 1
}

// features combines the interfaces the driver implements with what it
// reports.
func (c *Controller) features() Features {
	_, mover := c.drv.(Mover)
	_, stopper := c.drv.(Stopper)
	_, homer := c.drv.(Homer)
	_, presetter := c.drv.(Presetter)
	_, rel := c.drv.(RelativeMover)
	_, abs := c.drv.(AbsoluteMover)
	_, st := c.drv.(StatusReporter)
	_, aux := c.drv.(Aux)
	f := Features{Move: mover, Zoom: mover, Stop: stopper || mover, Home: homer, Presets: presetter,
		Relative: rel, Absolute: abs, Status: st}
	if aux {
		f.Aux = []int{1, 2, 3, 4}
	}
	if fr, ok := c.drv.(FeatureReporter); ok {
		r := fr.Features()
		f.Move, f.Zoom, f.Stop = f.Move && r.Move, f.Zoom && r.Zoom, f.Stop && r.Stop
		f.Home, f.Presets = f.Home && r.Home, f.Presets && r.Presets
		f.Relative, f.Absolute, f.Status = f.Relative && r.Relative, f.Absolute && r.Absolute, f.Status && r.Status
		if aux {
			f.Aux = slices.Clone(r.Aux)
		}
	}
	return f
}

// supported refuses a request the camera cannot carry out.
func supported(f Features, req Request) *Error {
	ok := true
	what := string(req.Method)
	switch req.Method {
	case MethodMove:
		what = "ptzMove " + string(req.Direction)
		switch req.Direction {
		case Home:
			ok = f.Home
		case Stop:
			ok = f.Stop
		case ZoomIn, ZoomOut:
			ok = f.Move && f.Zoom
		default:
			ok = f.Move
		}
	case MethodSetAux:
		ok = slices.Contains(f.Aux, req.Aux)
		what = "aux " + itoa(req.Aux)
	case MethodPresets, MethodGotoPreset, MethodSetPreset, MethodRemovePreset:
		ok = f.Presets
	case MethodAbsolute:
		ok = f.Absolute
	case MethodRelative, MethodCenter:
		ok = f.Relative
	case MethodStatus:
		ok = f.Status
	default:
		return newError(CodeMethodNotFound, "method "+quote(string(req.Method))+" does not exist")
	}
	if !ok {
		return newError(CodeUnsupported, what+" is not supported by this camera")
	}
	return nil
}

// Do carries out a request for a session and returns its result, or a
// *Error. It waits for the camera (up to the driver's call timeout) except
// for what needs no camera call; ctx bounds the wait, not the operation.
func (c *Controller) Do(ctx context.Context, sessionID string, req Request) (any, error) {
	type res struct {
		v   any
		err error
	}
	ch := make(chan res, 1)
	c.Submit(ctx, sessionID, req, func(v any, err error) { ch <- res{v, err} })
	select {
	case r := <-ch:
		return r.v, r.err
	case <-ctx.Done():
		return nil, AsError(string(req.Method), ctx.Err())
	}
}

// Submit is Do without waiting: reply is called exactly once with the
// result or a *Error, either before Submit returns (refusals, re-armed
// moves, cached status) or later from the controller's goroutine. reply
// must not block: send the data-channel reply or hand the result to a
// buffered channel. A request whose ctx ends while it waits in the queue
// is dropped (reply gets an error).
//
// Calling Submit in the order requests arrive keeps their order.
func (c *Controller) Submit(ctx context.Context, sessionID string, req Request, reply ReplyFunc) {
	var later []pendingReply
	v, async, err := c.admit(ctx, sessionID, req, reply, &later)
	callAll(later)
	if !async {
		answer(reply, req.Method, v, err)
	}
}

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
	b := c.sessions[session]
	if b == nil {
		c.pruneSessions(now)
		b = ptr(newBucket(c.cfg.RatePerSession, now))
		c.sessions[session] = b
	}
	isStop := req.Method == MethodMove && req.Direction == Stop
	// A stop while something moves is never refused for the session's rate.
	if ok, wait := b.take(now); !ok && !(isStop && (c.motion != nil || c.moving)) {
		return nil, false, &Error{Code: CodeRateLimited, RetryAfter: wait,
			Message: "too many commands: at most " + itoa(c.cfg.RatePerSession) + " per second; try again in " + fmtDur(wait)}
	}
	if !req.Method.ReadOnly() {
		if c.leaseHold != "" && c.leaseHold != session && now.Before(c.leaseEnd) {
			if !isStop { // anybody may stop the camera
				wait := c.leaseEnd.Sub(now)
				return nil, false, &Error{Code: CodeBusy, RetryAfter: wait,
					Message: "another session controls this camera; its control ends in " + fmtDur(wait) +
						" (at " + c.leaseEnd.UTC().Format("15:04:05") + " UTC) unless it sends more commands"}
			}
		} else {
			if c.leaseHold != session {
				c.log.Info("ptz control taken", "session", session, "method", string(req.Method))
			}
			c.leaseHold, c.leaseEnd = session, now.Add(c.cfg.LeaseTimeout)
		}
	}

	switch {
	case isStop:
		c.dropMotion(later, false)
		c.stops = append(c.stops, &stopReq{reason: "stop command", force: true,
			reply: func(_ any, err error) { answer(reply, MethodMove, MoveResult{Direction: Stop}, err) }})
		c.poke()
		return nil, true, nil
	case req.Method == MethodMove && req.Direction != Home:
		unit, _ := req.Direction.unit()
		vel := Velocity{Pan: unit.Pan * c.cfg.Speed, Tilt: unit.Tilt * c.cfg.Speed, Zoom: unit.Zoom * c.cfg.Speed}
		result := MoveResult{Direction: req.Direction, NudgeMs: c.cfg.NudgeLength.Milliseconds()}
		if m := c.motion; m != nil && m.session == session && m.vel == vel {
			m.deadline = now.Add(c.cfg.NudgeLength) // re-arm the watchdog: no camera call
			if m.applied {
				return result, false, nil
			}
			m.waiters = append(m.waiters, func(_ any, err error) { answer(reply, MethodMove, result, err) })
			return nil, true, nil
		}
		c.dropMotion(later, false)
		c.motion = &motion{session: session, dir: req.Direction, vel: vel, deadline: now.Add(c.cfg.NudgeLength),
			waiters: []ReplyFunc{func(v any, err error) {
				if s, ok := v.(MoveResult); ok && s.Superseded {
					result.Superseded = true
				}
				answer(reply, MethodMove, result, err)
			}}}
		c.poke()
		return nil, true, nil
	case req.Method == MethodStatus && c.status != nil && now.Sub(c.statusAt) < c.cfg.StatusMaxAge:
		return c.statusResult(*c.status, session, now), false, nil
	}
	if len(c.queue) >= c.cfg.QueueLength {
		return nil, false, &Error{Code: CodeBusy, RetryAfter: time.Second,
			Message: "the camera is busy: " + itoa(len(c.queue)) + " commands are waiting; try again shortly"}
	}
	if ok, wait := c.camBucket.take(now); !ok {
		return nil, false, &Error{Code: CodeRateLimited, RetryAfter: wait,
			Message: "the camera takes at most " + itoa(c.cfg.RatePerCamera) + " commands per second; try again in " + fmtDur(wait)}
	}
	c.queue = append(c.queue, &op{ctx: ctx, session: session, req: req, reply: reply})
	c.poke()
	return nil, true, nil
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

// answer replies v, or err as an *Error.
func answer(reply ReplyFunc, m Method, v any, err error) {
	if err != nil {
		reply(nil, AsError(string(m), err))
		return
	}
	reply(v, nil)
}

func (c *Controller) poke() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

func (c *Controller) pruneSessions(now time.Time) {
	if len(c.sessions) < maxSessions {
		return
	}
	for id, b := range c.sessions {
		if b.full(now) {
			delete(c.sessions, id)
		}
	}
}

// Release ends a session's part: call it when its data channel closes, its
// peer connection fails or closes, or its token expires. The camera stops
// if that session's continuous move is running, the session's lease (if
// it holds it) frees at once, and its queued operations are dropped. It
// does not wait for the stop.
func (c *Controller) Release(sessionID string) {
	var later []pendingReply
	c.mu.Lock()
	if c.leaseHold == sessionID {
		c.leaseHold, c.leaseEnd = "", time.Time{}
		c.log.Info("ptz control released", "session", sessionID)
	}
	delete(c.sessions, sessionID)
	c.queue = slices.DeleteFunc(c.queue, func(o *op) bool {
		if o.session == sessionID {
			later = append(later, pendingReply{f: o.reply, err: newError(CodeUnavailable, "the session ended")})
			return true
		}
		return false
	})
	if (c.motion != nil && c.motion.session == sessionID) || (c.moving && c.mover == sessionID) {
		if c.motion != nil && c.motion.session == sessionID {
			c.dropMotion(&later, false)
		}
		c.stops = append(c.stops, &stopReq{reason: "session " + sessionID + " ended"})
		c.poke()
	}
	c.mu.Unlock()
	callAll(later)
}

// StopAll stops the camera now, whoever moves it: pending moves and queued
// operations are cancelled, the lease frees, a driver call in progress is
// cancelled, and the stop sequence is sent (retried on failure). It
// returns when the stop was sent, or with ctx's error. reason is logged.
func (c *Controller) StopAll(ctx context.Context, reason string) error {
	var later []pendingReply
	done := make(chan error, 1)
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return newError(CodeUnavailable, "PTZ control of this camera is shutting down")
	}
	cancelled := newError(CodeUnavailable, "cancelled: PTZ was stopped ("+short(reason, 80)+")")
	c.dropMotion(&later, false)
	for _, o := range c.queue {
		later = append(later, pendingReply{f: o.reply, err: cancelled})
	}
	c.queue = nil
	c.leaseHold, c.leaseEnd = "", time.Time{}
	c.stops = append(c.stops, &stopReq{reason: reason, force: true, done: done})
	if c.inflight != nil {
		c.inflight()
	}
	c.poke()
	c.mu.Unlock()
	callAll(later)
	select {
	case err := <-done:
		if err != nil {
			return AsError("stop", err)
		}
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-c.done:
		return nil // Close sent the final stop
	}
}

// Close stops the camera (bounded by a few seconds), ends the goroutine,
// answers what still waits with an error, and closes the driver. It is
// safe to call more than once.
func (c *Controller) Close() error {
	c.close1.Do(func() {
		var later []pendingReply
		c.mu.Lock()
		c.closed = true
		closing := newError(CodeUnavailable, "PTZ control of this camera is shutting down")
		c.dropMotion(&later, false)
		for _, o := range c.queue {
			later = append(later, pendingReply{f: o.reply, err: closing})
		}
		c.queue = nil
		for _, s := range c.stops {
			s.finish(closing)
		}
		c.stops = nil
		c.mu.Unlock()
		callAll(later)
		c.cancel()
	})
	<-c.done
	return c.drv.Close()
}

func (s *stopReq) finish(err error) {
	if s.reply != nil {
		s.reply(nil, err)
	}
	if s.done != nil {
		s.done <- err
	}
}

// run is the goroutine that owns the driver.
func (c *Controller) run() {
	defer close(c.done)
	c.startup()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		if c.ctx.Err() != nil {
			c.shutdown()
			return
		}
		next, worked := c.step()
		if worked {
			continue
		}
		timer.Reset(time.Until(next))
		select {
		case <-c.ctx.Done():
		case <-c.wake:
		case <-timer.C:
		}
		timer.Stop()
	}
}

// startup connects the driver and stops the camera once, to end motion a
// crash may have left (after Connect, which learns the camera's clock).
func (c *Controller) startup() {
	if cn, ok := c.drv.(Connecter); ok {
		ctx, cancel := context.WithTimeout(c.ctx, 3*c.cfg.CallTimeout)
		err := cn.Connect(ctx)
		cancel()
		if err != nil {
			c.log.Warn("ptz: cannot connect to the camera yet; will retry on the next command", "error", err)
		}
	}
	if c.ctx.Err() != nil {
		return
	}
	ctx, cancel := context.WithTimeout(c.ctx, c.cfg.CallTimeout)
	err := c.stopOnce(ctx)
	cancel()
	if err != nil {
		c.log.Warn("ptz: start-up stop failed", "error", err)
	} else {
		c.log.Debug("ptz: start-up stop sent")
	}
}

// shutdown sends the final stop.
func (c *Controller) shutdown() {
	ctx, cancel := context.WithTimeout(context.Background(), finalStopTimeout)
	defer cancel()
	if err := c.stopCamera(ctx, "shutdown"); err != nil {
		c.log.Warn("ptz: stop at shutdown failed", "error", err)
	}
}

// step does the most urgent piece of work, if any (worked), else says
// when there will be some (next).
func (c *Controller) step() (next time.Time, worked bool) {
	now := time.Now()
	var later []pendingReply
	defer func() { callAll(later) }()
	c.mu.Lock()

	// 1. Stops first.
	if len(c.stops) > 0 {
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
		return next, true
	}

	// 2. The watchdog.
	if m := c.motion; m != nil && !now.Before(m.deadline) {
		c.dropMotion(&later, !m.applied)
		moving := c.moving
		c.mu.Unlock()
		if moving {
			if err := c.stopCamera(context.Background(), "watchdog"); err != nil {
				c.log.Warn("ptz: watchdog stop failed", "error", err)
			}
		}
		return next, true
	}

	// 3. Discrete operations, in order.
	if len(c.queue) > 0 {
		o := c.queue[0]
		c.queue = c.queue[1:]
		needStop := false
		if moves(o.req) || o.req.Method == MethodSetPreset {
			// A discrete move replaces a continuous one, which is stopped
			// first rather than trusting every camera to drop it for the
			// new task; a preset is stored still.
			c.dropMotion(&later, false)
			needStop = c.moving
		}
		c.mu.Unlock()
		callAll(later)
		later = nil
		if err := o.ctx.Err(); err != nil {
			o.reply(nil, AsError(string(o.req.Method), err))
			return next, true
		}
		if needStop {
			if err := c.stopCamera(context.Background(), "before "+string(o.req.Method)); err != nil {
				o.reply(nil, AsError(string(o.req.Method), err))
				return next, true
			}
		}
		v, err := c.execute(o)
		if err != nil {
			c.log.Warn("ptz: command failed", "session", o.session, "method", string(o.req.Method), "error", err)
			o.reply(nil, AsError(string(o.req.Method), err))
		} else {
			o.reply(v, nil)
		}
		return next, true
	}

	// 4. A continuous move the camera has not got yet.
	if m := c.motion; m != nil && !m.applied {
		if ok, wait := c.camBucket.take(now); !ok {
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

	// 5. Keep a running move alive on cameras that end it by themselves.
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

// moves reports whether a discrete operation moves the camera.
func moves(req Request) bool {
	switch req.Method {
	case MethodMove, MethodGotoPreset, MethodAbsolute, MethodRelative, MethodCenter:
		return true
	}
	return false
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
		if err == nil || attempt >= c.cfg.StopAttempts || ctx.Err() != nil || errors.Is(err, driver.ErrNotSupported) {
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

// execute runs a discrete operation on the goroutine.
func (c *Controller) execute(o *op) (any, error) {
	ctx, cancel := context.WithTimeout(c.ctx, c.cfg.CallTimeout)
	defer cancel()
	c.mu.Lock()
	c.inflight = cancel
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		c.inflight = nil
		c.mu.Unlock()
	}()
	req := o.req
	level := slog.LevelInfo // an audit line per command that changes the camera
	if req.Method.ReadOnly() {
		level = slog.LevelDebug
	}
	c.log.Log(ctx, level, "ptz command", "session", o.session, "method", string(req.Method))
	switch req.Method {
	case MethodMove: // home; the other directions never queue
		if err := c.drv.(Homer).GotoHome(ctx); err != nil {
			return nil, err
		}
		return MoveResult{Direction: Home}, nil
	case MethodSetAux:
		if err := c.drv.(Aux).SetAux(ctx, req.Aux, req.On); err != nil {
			return nil, err
		}
		return AuxResult{AuxNumber: req.Aux, On: req.On}, nil
	case MethodPresets:
		ps, err := c.drv.(Presetter).Presets(ctx)
		if err != nil {
			return nil, err
		}
		if ps == nil {
			ps = []Preset{}
		}
		return PresetsResult{Presets: ps}, nil
	case MethodGotoPreset:
		p := c.drv.(Presetter)
		tok, name := req.Token, ""
		if tok == "" {
			ps, err := p.Presets(ctx)
			if err != nil {
				return nil, err
			}
			for _, ps := range ps {
				if strings.EqualFold(strings.TrimSpace(ps.Name), strings.TrimSpace(req.Name)) {
					tok, name = ps.Token, ps.Name
					break
				}
			}
			if tok == "" {
				return nil, newError(CodeNotFound, "ptzGotoPreset: no preset named "+quote(req.Name))
			}
		}
		if err := p.GotoPreset(ctx, tok); err != nil {
			return nil, err
		}
		return PresetResult{Token: tok, Name: name}, nil
	case MethodSetPreset:
		tok, err := c.drv.(Presetter).SetPreset(ctx, req.Name, req.Token)
		if err != nil {
			return nil, err
		}
		return PresetResult{Token: tok, Name: req.Name}, nil
	case MethodRemovePreset:
		if err := c.drv.(Presetter).RemovePreset(ctx, req.Token); err != nil {
			return nil, err
		}
		return PresetResult{Token: req.Token}, nil
	case MethodAbsolute:
		v := Vector{Pan: req.Pan, Tilt: req.Tilt, Zoom: req.Zoom}
		if err := c.drv.(AbsoluteMover).AbsoluteMove(ctx, v); err != nil {
			return nil, err
		}
		return v, nil
	case MethodRelative:
		v := Vector{Pan: req.Pan, Tilt: req.Tilt, Zoom: req.Zoom}
		if err := c.drv.(RelativeMover).RelativeMove(ctx, v); err != nil {
			return nil, err
		}
		return v, nil
	case MethodCenter:
		zoom := 0.0 // the widest view, when the camera does not say
		if sr, ok := c.drv.(StatusReporter); ok && c.features().Status {
			st, err := sr.Status(ctx)
			if err != nil {
				return nil, err
			}
			c.keepStatus(st)
			if st.Zoom != nil {
				zoom = *st.Zoom
			}
		}
		pan, tilt := c.cfg.Geometry.CenterTranslation(req.X, req.Y, zoom)
		if err := c.drv.(RelativeMover).RelativeMove(ctx, Vector{Pan: &pan, Tilt: &tilt}); err != nil {
			return nil, err
		}
		// The reply shows six places, as much as ONVIF sends.
		return Vector{Pan: ptr(math.Round(pan*1e6) / 1e6), Tilt: ptr(math.Round(tilt*1e6) / 1e6)}, nil
	case MethodStatus:
		st, err := c.drv.(StatusReporter).Status(ctx)
		if err != nil {
			return nil, err
		}
		c.keepStatus(st)
		c.mu.Lock()
		defer c.mu.Unlock()
		return c.statusResult(st, o.session, time.Now()), nil
	}
	return nil, newError(CodeInternal, "internal error")
}

func (c *Controller) keepStatus(st Status) {
	c.mu.Lock()
	c.status, c.statusAt = &st, time.Now()
	c.mu.Unlock()
}

// statusResult adds the controller's view to a status. Call with c.mu held.
func (c *Controller) statusResult(st Status, session string, now time.Time) StatusResult {
	g := c.cfg.Geometry
	r := StatusResult{Status: st, Moving: c.moving || c.motion != nil}
	if st.Pan != nil {
		r.PanDegrees = ptr(round3(*st.Pan * g.PanDegrees / 2))
	}
	if st.Tilt != nil {
		r.TiltDegrees = ptr(round3(*st.Tilt * g.TiltDegrees / 2))
	}
	if st.Zoom != nil {
		h, _ := g.FieldOfView(*st.Zoom)
		r.FieldOfView = ptr(round3(h))
	}
	if c.leaseHold != "" && now.Before(c.leaseEnd) {
		r.Control = ControlState{Held: true, Yours: c.leaseHold == session, FreeInMs: c.leaseEnd.Sub(now).Milliseconds()}
	}
	return r
}

func round3(f float64) float64 { return math.Round(f*1000) / 1000 }

func ptr[T any](v T) *T { return &v }

func itoa(n int) string { return fmtNum(float64(n)) }

// fmtDur writes a wait for a message: "0.4s", "4.2s".
func fmtDur(d time.Duration) string {
	s := math.Ceil(d.Seconds()*10) / 10
	return fmtNum(s) + "s"
}

// bucket is a token bucket that holds one second's worth of tokens.
type bucket struct {
	tokens, rate float64
	last         time.Time
}

func newBucket(perSecond int, now time.Time) bucket {
	return bucket{tokens: float64(perSecond), rate: float64(perSecond), last: now}
}

func (b *bucket) refill(now time.Time) {
	if el := now.Sub(b.last).Seconds(); el > 0 {
		b.tokens = math.Min(b.rate, b.tokens+el*b.rate)
	}
	b.last = now
}

// take takes a token, or says how long until one is there.
func (b *bucket) take(now time.Time) (bool, time.Duration) {
	b.refill(now)
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	wait := time.Duration(math.Ceil((1 - b.tokens) / b.rate * float64(time.Second)))
	return false, max(wait, time.Millisecond)
}

func (b *bucket) full(now time.Time) bool {
	b.refill(now)
	return b.tokens >= b.rate
}
