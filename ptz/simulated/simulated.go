// Package simulated is a PTZ camera that exists only in memory, for the
// demo camera and for tests: it keeps pan, tilt and zoom, presets and aux
// outputs, and moves at a realistic speed (60°/s pan and 40°/s tilt at full
// velocity, the zoom range in 4 s), integrated over time and clamped to its
// ranges, so that a page polling ptzStatus sees it travel.
//
// Positions follow the camera's Geometry: a normalized pan of 1 is
// PanDegrees/2 (180° by default), a tilt of 1 is TiltDegrees/2 (90°).
package simulated

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/camgate/camgate/ptz"
)

// Config configures a simulated camera. Zero fields take the defaults.
type Config struct {
	// Geometry is the camera's optics and ranges. A zero field takes
	// ptz.DefaultGeometry's.
	Geometry ptz.Geometry
	// PanSpeed and TiltSpeed are degrees per second at full velocity.
	// Defaults 60 and 40.
	PanSpeed, TiltSpeed float64
	// ZoomSpeed is normalized zoom per second at full velocity. Default
	// 0.25 (wide to tele in 4 s).
	ZoomSpeed float64
	// MaxPresets bounds the presets. Default 32.
	MaxPresets int
}

// Camera is a simulated PTZ camera. It implements every optional driver
// interface; its methods are safe for concurrent use.
type Camera struct {
	cfg Config

	mu      sync.Mutex
	at      time.Time // when the position was last brought up to date
	pos     position
	vel     ptz.Velocity
	target  *position // where a preset, home, absolute or relative move goes
	presets []preset
	nextTok int
	aux     map[int]bool
}

// position is pan and tilt in degrees and zoom 0…1.
type position struct{ pan, tilt, zoom float64 }

type preset struct {
	token, name string
	pos         position
}

// New returns a camera at pan 0, tilt 0, zoom 0 with a preset "Home" at
// that position.
func New(cfg Config) *Camera {
	cfg.Geometry = cfg.Geometry.WithDefaults()
	if !(cfg.PanSpeed > 0) {
		cfg.PanSpeed = 60
	}
	if !(cfg.TiltSpeed > 0) {
		cfg.TiltSpeed = 40
	}
	if !(cfg.ZoomSpeed > 0) {
		cfg.ZoomSpeed = 0.25
	}
	if cfg.MaxPresets <= 0 {
		cfg.MaxPresets = 32
	}
	return &Camera{cfg: cfg, at: time.Now(), aux: map[int]bool{}, nextTok: 2,
		presets: []preset{{token: "1", name: "Home"}}}
}

func (c *Camera) panMax() float64  { return c.cfg.Geometry.PanDegrees / 2 }
func (c *Camera) tiltMax() float64 { return c.cfg.Geometry.TiltDegrees / 2 }

func clamp(v, lo, hi float64) float64 { return math.Max(lo, math.Min(hi, v)) }

// advance brings the position up to now. Call with c.mu held.
func (c *Camera) advance() {
	now := time.Now()
	dt := now.Sub(c.at).Seconds()
	c.at = now
	if dt <= 0 {
		return
	}
	if t := c.target; t != nil {
		step := func(cur, to, speed float64) float64 {
			d := to - cur
			maxStep := speed * dt
			if math.Abs(d) <= maxStep {
				return to
			}
			return cur + math.Copysign(maxStep, d)
		}
		c.pos.pan = step(c.pos.pan, t.pan, c.cfg.PanSpeed)
		c.pos.tilt = step(c.pos.tilt, t.tilt, c.cfg.TiltSpeed)
		c.pos.zoom = step(c.pos.zoom, t.zoom, c.cfg.ZoomSpeed)
		if c.pos == *t {
			c.target = nil
		}
		return
	}
	c.pos.pan = clamp(c.pos.pan+c.vel.Pan*c.cfg.PanSpeed*dt, -c.panMax(), c.panMax())
	c.pos.tilt = clamp(c.pos.tilt+c.vel.Tilt*c.cfg.TiltSpeed*dt, -c.tiltMax(), c.tiltMax())
	c.pos.zoom = clamp(c.pos.zoom+c.vel.Zoom*c.cfg.ZoomSpeed*dt, 0, 1)
}

// goTo starts a move to p (clamped). Call with c.mu held.
func (c *Camera) goTo(p position) {
	p.pan = clamp(p.pan, -c.panMax(), c.panMax())
	p.tilt = clamp(p.tilt, -c.tiltMax(), c.tiltMax())
	p.zoom = clamp(p.zoom, 0, 1)
	c.vel = ptz.Velocity{}
	c.target = &p
}

func (c *Camera) lock() {
	c.mu.Lock()
	c.advance()
}

// Close does nothing.
func (c *Camera) Close() error { return nil }

// Features says the camera can do everything, with aux outputs 1–4.
func (c *Camera) Features() ptz.Features {
	return ptz.Features{Move: true, Zoom: true, Stop: true, Home: true, Presets: true,
		Relative: true, Absolute: true, Status: true, Aux: []int{1, 2, 3, 4}}
}

// Move starts a continuous move (each axis −1…1 of full speed).
func (c *Camera) Move(_ context.Context, v ptz.Velocity) error {
	if err := checkVelocity(v); err != nil {
		return err
	}
	c.lock()
	defer c.mu.Unlock()
	c.target = nil
	c.vel = v
	return nil
}

func checkVelocity(v ptz.Velocity) error {
	for _, f := range []float64{v.Pan, v.Tilt, v.Zoom} {
		if !(f >= -1 && f <= 1) {
			return fmt.Errorf("%w: velocity out of range", ptz.ErrCameraFault)
		}
	}
	return nil
}

// Stop ends every movement.
func (c *Camera) Stop(context.Context) error {
	c.lock()
	defer c.mu.Unlock()
	c.vel = ptz.Velocity{}
	c.target = nil
	return nil
}

// RelativeMove moves by a normalized translation.
func (c *Camera) RelativeMove(_ context.Context, t ptz.Vector) error {
	c.lock()
	defer c.mu.Unlock()
	p := c.pos
	if t.Pan != nil {
		p.pan += *t.Pan * c.panMax()
	}
	if t.Tilt != nil {
		p.tilt += *t.Tilt * c.tiltMax()
	}
	if t.Zoom != nil {
		p.zoom += *t.Zoom
	}
	c.goTo(p)
	return nil
}

// AbsoluteMove moves to a normalized position.
func (c *Camera) AbsoluteMove(_ context.Context, v ptz.Vector) error {
	c.lock()
	defer c.mu.Unlock()
	p := c.pos
	if v.Pan != nil {
		p.pan = *v.Pan * c.panMax()
	}
	if v.Tilt != nil {
		p.tilt = *v.Tilt * c.tiltMax()
	}
	if v.Zoom != nil {
		p.zoom = *v.Zoom
	}
	c.goTo(p)
	return nil
}

// GotoHome moves to pan 0, tilt 0, zoom 0.
func (c *Camera) GotoHome(context.Context) error {
	c.lock()
	defer c.mu.Unlock()
	c.goTo(position{})
	return nil
}

// Presets lists the presets in the order they were made.
func (c *Camera) Presets(context.Context) ([]ptz.Preset, error) {
	c.lock()
	defer c.mu.Unlock()
	out := make([]ptz.Preset, len(c.presets))
	for i, p := range c.presets {
		out[i] = ptz.Preset{Token: p.token, Name: p.name}
	}
	return out, nil
}

func (c *Camera) find(token string) int {
	return slices.IndexFunc(c.presets, func(p preset) bool { return p.token == token })
}

// GotoPreset moves to a preset.
func (c *Camera) GotoPreset(_ context.Context, token string) error {
	c.lock()
	defer c.mu.Unlock()
	i := c.find(token)
	if i < 0 {
		return fmt.Errorf("%w: preset %q", ptz.ErrNotFound, token)
	}
	c.goTo(c.presets[i].pos)
	return nil
}

// SetPreset stores the current position: as a new preset when token is
// empty, else over that preset.
func (c *Camera) SetPreset(_ context.Context, name, token string) (string, error) {
	c.lock()
	defer c.mu.Unlock()
	if token != "" {
		i := c.find(token)
		if i < 0 {
			return "", fmt.Errorf("%w: preset %q", ptz.ErrNotFound, token)
		}
		c.presets[i].name, c.presets[i].pos = name, c.pos
		return token, nil
	}
	if len(c.presets) >= c.cfg.MaxPresets {
		return "", fmt.Errorf("%w: too many presets", ptz.ErrCameraFault)
	}
	tok := strconv.Itoa(c.nextTok)
	c.nextTok++
	c.presets = append(c.presets, preset{token: tok, name: name, pos: c.pos})
	return tok, nil
}

// RemovePreset deletes a preset.
func (c *Camera) RemovePreset(_ context.Context, token string) error {
	c.lock()
	defer c.mu.Unlock()
	i := c.find(token)
	if i < 0 {
		return fmt.Errorf("%w: preset %q", ptz.ErrNotFound, token)
	}
	c.presets = slices.Delete(c.presets, i, i+1)
	return nil
}

// SetAux switches aux output 1–4.
func (c *Camera) SetAux(_ context.Context, n int, on bool) error {
	if n < 1 || n > 4 {
		return fmt.Errorf("%w: aux %d", ptz.ErrNotSupported, n)
	}
	c.lock()
	defer c.mu.Unlock()
	c.aux[n] = on
	return nil
}

// Status reports the normalized position, whether the camera moves, and
// the aux outputs. It is safe to call from any goroutine (the page may poll
// it besides the controller).
func (c *Camera) Status(context.Context) (ptz.Status, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.advance()
	pan, tilt, zoom := c.pos.pan/c.panMax(), c.pos.tilt/c.tiltMax(), c.pos.zoom
	st := ptz.Status{Pan: &pan, Tilt: &tilt, Zoom: &zoom, MoveStatus: ptz.MoveIdle, Aux: map[int]bool{}}
	if c.target != nil || c.movingNow() {
		st.MoveStatus = ptz.MoveMoving
	}
	for k, v := range c.aux {
		st.Aux[k] = v
	}
	return st, nil
}

// movingNow: a continuous move that is not held up at a limit.
func (c *Camera) movingNow() bool {
	v, p := c.vel, c.pos
	return (v.Pan < 0 && p.pan > -c.panMax()) || (v.Pan > 0 && p.pan < c.panMax()) ||
		(v.Tilt < 0 && p.tilt > -c.tiltMax()) || (v.Tilt > 0 && p.tilt < c.tiltMax()) ||
		(v.Zoom < 0 && p.zoom > 0) || (v.Zoom > 0 && p.zoom < 1)
}

// Degrees returns the position in degrees (pan, tilt) and zoom 0…1.
func (c *Camera) Degrees() (pan, tilt, zoom float64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.advance()
	return c.pos.pan, c.pos.tilt, c.pos.zoom
}

// Velocity is the continuous velocity the camera runs at (zero when still
// or on a preset/absolute/relative move).
func (c *Camera) Velocity() ptz.Velocity {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.vel
}
