package ptz

import (
	"math"
	"time"

	"github.com/camgate/camgate/appsettings"
)

// Config configures a Controller. A zero field takes its default: the
// fields that are settings (Speed, NudgeLength, LeaseTimeout, the rates,
// Geometry) the default of that setting (appsettings.PtzDefaults, where
// each is written once), the others the default stated here.
// Controller.Config returns the configuration with every default applied.
type Config struct {
	// CameraID names the camera in logs and in the Registry.
	CameraID string
	// Driver names the camera's driver as clients see it ("onvif",
	// "simulated"): the console moves the picture itself for a simulated
	// camera, which has no head to turn. Default "" (not said).
	Driver string
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
	// ptzStatus. A zero (or not finite) field takes DefaultGeometry's.
	Geometry Geometry
}

// The defaults of the Config fields that are not settings.
const (
	defaultQueueLength  = 8
	defaultCallTimeout  = 10 * time.Second
	defaultStopAttempts = 3
	defaultStopBackoff  = 200 * time.Millisecond
	defaultStatusMaxAge = 250 * time.Millisecond
)

// ConfigFromSettings is the controller configuration of a camera's Ptz
// settings. Validated settings have every key set; a zero key takes the
// controller's default, which is the same.
func ConfigFromSettings(cameraID string, p appsettings.Ptz) Config {
	return Config{
		CameraID:       cameraID,
		Driver:         string(p.Driver),
		Speed:          p.Speed,
		NudgeLength:    time.Duration(p.NudgeLength),
		LeaseTimeout:   time.Duration(p.LeaseTimeout),
		RatePerSession: p.RatePerSession,
		RatePerCamera:  p.RatePerCamera,
		Geometry:       geometryOf(p.Geometry),
	}
}

func geometryOf(g appsettings.PtzGeometry) Geometry {
	return Geometry{PanDegrees: g.PanDegrees, TiltDegrees: g.TiltDegrees, HorizontalFov: g.HorizontalFov,
		VerticalFov: g.VerticalFov, ZoomRatio: g.ZoomRatio}
}

// DefaultGeometry is the geometry of a camera whose settings give none: a
// typical 10× PTZ dome with a 16:9 picture (appsettings.PtzDefaults).
func DefaultGeometry() Geometry { return geometryOf(appsettings.PtzDefaults().Geometry) }

// WithDefaults returns g with each field that is not a positive finite
// number replaced by DefaultGeometry's.
func (g Geometry) WithDefaults() Geometry {
	d := DefaultGeometry()
	for _, f := range []struct{ v, d *float64 }{{&g.PanDegrees, &d.PanDegrees}, {&g.TiltDegrees, &d.TiltDegrees},
		{&g.HorizontalFov, &d.HorizontalFov}, {&g.VerticalFov, &d.VerticalFov}, {&g.ZoomRatio, &d.ZoomRatio}} {
		if !(*f.v > 0) || math.IsInf(*f.v, 0) {
			*f.v = *f.d
		}
	}
	return g
}

// withDefaults fills the zero (or out-of-range) fields of c.
func (c Config) withDefaults() Config {
	def := ConfigFromSettings(c.CameraID, appsettings.PtzDefaults())
	dur := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	count := func(n *int, v int) {
		if *n <= 0 {
			*n = v
		}
	}
	if !(c.Speed > 0 && c.Speed <= 1) {
		c.Speed = def.Speed
	}
	dur(&c.NudgeLength, def.NudgeLength)
	dur(&c.LeaseTimeout, def.LeaseTimeout)
	count(&c.RatePerSession, def.RatePerSession)
	count(&c.RatePerCamera, def.RatePerCamera)
	count(&c.QueueLength, defaultQueueLength)
	dur(&c.CallTimeout, defaultCallTimeout)
	count(&c.StopAttempts, defaultStopAttempts)
	dur(&c.StopBackoff, defaultStopBackoff)
	dur(&c.StatusMaxAge, defaultStatusMaxAge)
	c.Geometry = c.Geometry.WithDefaults()
	return c
}
