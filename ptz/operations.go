package ptz

import (
	"context"
	"log/slog"
	"math"
	"strings"
	"time"
)

// The discrete operations (presets, aux, home, absolute and relative
// moves, click-to-center, status): queued in FIFO order by admission and
// carried out one at a time by the controller's goroutine.

// op is a discrete operation waiting in the FIFO.
type op struct {
	ctx     context.Context
	session string
	req     Request
	reply   ReplyFunc
}

// runNextOp carries out the first operation in the FIFO. A discrete move
// replaces a continuous one, which is stopped first rather than trusting
// every camera to drop it for the new task; a preset is stored still.
// Called with c.mu held; it unlocks.
func (c *Controller) runNextOp() {
	var later []pendingReply
	o := c.queue[0]
	c.queue = c.queue[1:]
	needStop := false
	if moves(o.req) || o.req.Method == MethodSetPreset {
		c.dropMotion(&later, false)
		needStop = c.moving
	}
	c.mu.Unlock()
	callAll(later)
	if err := o.ctx.Err(); err != nil {
		o.reply(nil, AsError(string(o.req.Method), err))
		return
	}
	if needStop {
		if err := c.stopCamera(context.Background(), "before "+string(o.req.Method)); err != nil {
			o.reply(nil, AsError(string(o.req.Method), err))
			return
		}
	}
	v, err := c.execute(o)
	if err != nil {
		c.log.Warn("ptz: command failed", "session", o.session, "method", string(o.req.Method), "error", err)
		o.reply(nil, AsError(string(o.req.Method), err))
	} else {
		o.reply(v, nil)
	}
}

// moves reports whether a discrete operation moves the camera.
func moves(req Request) bool {
	switch req.Method {
	case MethodMove, MethodGotoPreset, MethodAbsolute, MethodRelative, MethodCenter:
		return true
	}
	return false
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
				return nil, newError(CodeNotFound, "ptzGotoPreset: no preset named "+QuoteInput(req.Name))
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
