package ptz

import (
	"context"
	"time"
)

// The controller's goroutine: it owns the driver, makes every call to it,
// and each round does the most urgent piece of work: stops, then the
// watchdog, then the discrete operations in order, then sending or
// refreshing a continuous move.

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
// when there will be some (next). Each piece is called with c.mu held and
// unlocks it.
func (c *Controller) step() (next time.Time, worked bool) {
	now := time.Now()
	c.mu.Lock()
	switch {
	case len(c.stops) > 0:
		c.runStops()
	case c.motion != nil && !now.Before(c.motion.deadline):
		c.runWatchdog()
	case len(c.queue) > 0:
		c.runNextOp()
	default:
		return c.runMotion(now)
	}
	return time.Time{}, true
}
