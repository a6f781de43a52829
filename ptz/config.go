package ptz

import (
	"math"
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
