package ptz

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

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
// NewController starts nothing: requests that come before Run wait in the
// controller's queues (their ctx still bounds the wait) and are carried
// out once Run has connected the driver and stopped the camera once
// (motion left over from a crash). Run's end (its ctx, or Close) stops the
// camera and closes the driver.
type Controller struct {
	cfg Config
	drv Driver
	log *slog.Logger

	ctx    context.Context // cancelled by Close
	cancel context.CancelFunc
	wake   chan struct{}
	done   chan struct{} // closed when the goroutine has ended, or at a Close before Run
	close1 sync.Once
	drvErr error // the driver's Close, once

	mu      sync.Mutex // guards what follows
	closed  bool
	started bool // Run has begun

	// Admission (admission.go): the control lease and the rate limits.
	leaseHold  string
	leaseEnd   time.Time
	sessions   map[string]*rate.Limiter // each session's commands
	cameraRate *rate.Limiter            // calls to the camera

	// Work for the goroutine (actor.go), most urgent first.
	stops  []*stopReq
	motion *motion // the continuous move wanted; nil = none (motion.go)
	queue  []*op   // discrete operations, FIFO (operations.go)

	// What the goroutine knows of the camera.
	inflight context.CancelFunc // cancels the driver call running now
	moving   bool               // the camera may be moving continuously
	mover    string             // the session whose continuous move it is
	sentAt   time.Time          // when the running move was last sent
	status   *Status            // last status read, and when
	statusAt time.Time
}

// NewController makes a controller for the camera behind drv; Run starts
// it. log gets the attributes component=ptz and camera=cfg.CameraID.
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
		sessions: map[string]*rate.Limiter{},
		// A bucket holding one second's worth, full at the start.
		cameraRate: rate.NewLimiter(rate.Limit(cfg.RatePerCamera), cfg.RatePerCamera),
	}
	return c
}

// errRunTwice is a second Run, or a Run after Close.
var errRunTwice = errors.New("ptz: the controller was already run or closed")

// Run is the goroutine that owns the driver: it connects, stops the camera
// once, then carries out the requests, those that came before Run first.
// When ctx ends (or Close is called) it sends the final stop, closes the
// driver and returns the driver's Close error.
func (c *Controller) Run(ctx context.Context) error {
	c.mu.Lock()
	if c.started || c.closed {
		c.mu.Unlock()
		return errRunTwice
	}
	c.started = true
	c.mu.Unlock()
	stop := context.AfterFunc(ctx, c.shut)
	defer stop()
	c.run()
	return c.Close()
}

// Config returns the controller's configuration with every default
// applied: what it actually uses (the REST API shows its nudge and
// geometry to the console).
func (c *Controller) Config() Config { return c.cfg }

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
	cancelled := newError(CodeUnavailable, "cancelled: PTZ was stopped ("+Shorten(reason, 80)+")")
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

// Close stops the camera (bounded by a few seconds), ends Run, answers
// what still waits with an error, and closes the driver. A controller
// never Run only answers and closes the driver: it never moved the
// camera. It is safe to call more than once.
func (c *Controller) Close() error {
	c.shut()
	<-c.done
	c.close1.Do(func() { c.drvErr = c.drv.Close() })
	return c.drvErr
}

// shut refuses every later request, answers what waits, and ends the
// goroutine (which sends the final stop), or marks done at once when Run
// never began. It is safe to call more than once.
func (c *Controller) shut() {
	var later []pendingReply
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
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
	started := c.started
	c.mu.Unlock()
	callAll(later)
	c.cancel()
	if !started {
		close(c.done)
	}
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
