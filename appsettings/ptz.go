package appsettings

import (
	"slices"
	"time"
)

// Ptz configures a camera's pan-tilt-zoom control. With Driver empty (the
// default) the camera has none and the other keys must stay unset.
type Ptz struct {
	// Driver is "" (no PTZ), "onvif" or "simulated" (a camera that exists
	// only in memory, for tests and demos). Default: "".
	Driver PtzDriver
	// Url is the ONVIF device service, e.g.
	// "http://192.0.2.10/onvif/device_service". Required for "onvif".
	Url string
	// Username for the camera's WS-Security. Default: "" (no credentials).
	Username string
	// Password for the camera. Never logged or quoted. Default: "".
	Password string
	// ProfileToken selects the media profile by token or name. Default: ""
	// (the first profile with a PTZ configuration).
	ProfileToken string
	// HomePreset is a preset token that "home" goes to, for cameras
	// without a home position. Default: "" (the camera's home position).
	HomePreset string
	// AuxCommands name the auxiliary commands for setAux 1–4, without the
	// state ("tt:Wiper"; camgate sends "tt:Wiper|On" or "|Off"); "" leaves
	// a number unused. Default: none (the commands the camera advertises).
	AuxCommands []string
	// Speed is the velocity of a ptzMove nudge, as a fraction of the
	// camera's fastest (0, 1]. Default: 0.5.
	Speed float64
	// NudgeLength is how long one ptzMove moves the camera before camgate
	// stops it, unless the command comes again. Default: "400ms".
	NudgeLength Duration
	// LeaseTimeout is how long one session keeps control after its last
	// command. Default: "5s".
	LeaseTimeout Duration
	// RatePerSession is how many commands one session may send per
	// second. Default: 10.
	RatePerSession int
	// RatePerCamera is how many calls per second camgate makes to the
	// camera (stops not counted). Default: 10.
	RatePerCamera int
	// Quirks work around cameras that do not follow ONVIF.
	Quirks PtzQuirks
	// Geometry describes the camera's optics, for click-to-center.
	Geometry PtzGeometry
}

// PtzQuirks are workarounds for ONVIF cameras.
type PtzQuirks struct {
	// InvertPan and InvertTilt reverse an axis (ceiling mounts, cameras
	// with +x = left). Default: false.
	InvertPan  bool
	InvertTilt bool
	// NoTimeout never sends Timeout with ContinuousMove. Default: false.
	NoTimeout bool
	// StopMode is how moves are stopped: "both" (zero velocity, then
	// Stop), "zeroVelocity" or "stop". Default: "both".
	StopMode StopMode
	// NoDiagonal sends a diagonal move as its dominant axis (pan on a
	// tie). Default: false.
	NoDiagonal bool
	// NoStop never sends Stop. Default: false.
	NoStop bool
}

// PtzGeometry is a camera's optics and ranges, in degrees.
type PtzGeometry struct {
	// PanDegrees is the pan angle the normalized range −1…1 spans.
	// Default: 360.
	PanDegrees float64
	// TiltDegrees is the tilt angle −1…1 spans. Default: 180.
	TiltDegrees float64
	// HorizontalFov and VerticalFov are the fields of view at the widest
	// zoom. Defaults: 60 and 36.
	HorizontalFov float64
	VerticalFov   float64
	// ZoomRatio is the optical zoom (10 for 10×). Default: 10.
	ZoomRatio float64
}

// PtzDefaults is a camera's Ptz with every key at its default, Driver
// aside: ApplyDefaults fills the zero keys of a camera whose Driver is set
// from it, and package ptz gives a zero field of a controller's configuration
// the same value, so each default is written here only.
func PtzDefaults() Ptz {
	return Ptz{
		Speed:          0.5,
		NudgeLength:    Duration(400 * time.Millisecond),
		LeaseTimeout:   Duration(5 * time.Second),
		RatePerSession: 10,
		RatePerCamera:  10,
		Quirks:         PtzQuirks{StopMode: StopBoth},
		Geometry:       PtzGeometry{PanDegrees: 360, TiltDegrees: 180, HorizontalFov: 60, VerticalFov: 36, ZoomRatio: 10},
	}
}

// redacted is a copy of p without the password, with its own slices.
func (p Ptz) redacted() Ptz {
	r := p
	r.AuxCommands = slices.Clone(p.AuxCommands)
	if r.Password != "" {
		r.Password = redactedSecret
	}
	if r.Url != "" {
		r.Url = redactPassword(r.Url)
	}
	return r
}
