package ptz

import (
	"context"
	"errors"
	"time"
)

// A driver speaks to one kind of camera (ptz/onvif, ptz/simulated). It
// implements the small Driver interface and the optional capabilities the
// controller finds by interface assertion (Mover, Stopper, RelativeMover,
// AbsoluteMover, Homer, Presetter, Aux, StatusReporter, Connecter,
// Refresher, FeatureReporter). Drivers import this package; it imports
// none of them: cmd/camgate builds the driver a camera's settings name.
//
// All values are normalized, in the operator's frame (+pan = right,
// +tilt = up, +zoom = in): velocities −1…1, pan/tilt positions and
// translations −1…1, zoom positions 0…1 and zoom translations −1…1. A
// driver maps them onto its camera (ONVIF generic spaces, inversion
// quirks, degrees for the simulated camera).

// Driver is a PTZ camera driver. Every method is called from one goroutine
// (the controller's), never concurrently, so a driver needs no locking of
// its own for calls made by the controller.
type Driver interface {
	// Close releases the driver's resources (idle connections). It does
	// not stop the camera: the controller does that first.
	Close() error
}

// Connecter is a driver that must prepare before its first call (learn the
// camera's clock, discover services, probe capabilities). The controller
// calls Connect once at start-up; a driver whose Connect failed retries by
// itself on its next call.
type Connecter interface {
	Connect(ctx context.Context) error
}

// Mover moves continuously at a velocity until told otherwise. A zero
// axis stops that axis.
type Mover interface {
	Move(ctx context.Context, v Velocity) error
}

// Refresher is a Mover whose camera ends a continuous move by itself after
// a while (the ONVIF Timeout): while a move goes on, the controller sends
// it again every RefreshInterval. Zero means never.
type Refresher interface {
	RefreshInterval() time.Duration
}

// Stopper stops every movement (continuous, relative, absolute, preset).
type Stopper interface {
	Stop(ctx context.Context) error
}

// RelativeMover moves by a translation; nil axes are not moved.
type RelativeMover interface {
	RelativeMove(ctx context.Context, t Vector) error
}

// AbsoluteMover moves to a position; nil axes are not moved.
type AbsoluteMover interface {
	AbsoluteMove(ctx context.Context, p Vector) error
}

// Homer moves to the home position.
type Homer interface {
	GotoHome(ctx context.Context) error
}

// Presetter manages the camera's presets.
type Presetter interface {
	Presets(ctx context.Context) ([]Preset, error)
	GotoPreset(ctx context.Context, token string) error
	// SetPreset stores the current position under name. An empty token
	// creates a preset, a token overwrites that one. It returns the
	// preset's token.
	SetPreset(ctx context.Context, name, token string) (string, error)
	RemovePreset(ctx context.Context, token string) error
}

// Aux switches auxiliary outputs (wiper, IR lamp, washer…), numbered from
// 1 as XProtect's setAux does.
type Aux interface {
	SetAux(ctx context.Context, number int, on bool) error
}

// StatusReporter reads the camera's position and movement.
type StatusReporter interface {
	Status(ctx context.Context) (Status, error)
}

// FeatureReporter narrows the capabilities the interfaces promise to what
// the camera has (as probed): an ONVIF driver implements Homer, but a
// camera without a home position has no Home feature.
type FeatureReporter interface {
	Features() Features
}

// Velocity is a continuous move: each axis −1…1 of the camera's maximum
// speed; +pan = right, +tilt = up, +zoom = in.
type Velocity struct {
	Pan, Tilt, Zoom float64
}

// IsZero reports whether every axis is still.
func (v Velocity) IsZero() bool { return v == Velocity{} }

// Vector is a position (pan, tilt −1…1, zoom 0…1) or a translation (each
// −1…1). A nil axis is left as it is.
type Vector struct {
	Pan  *float64 `json:"pan,omitempty"`
	Tilt *float64 `json:"tilt,omitempty"`
	Zoom *float64 `json:"zoom,omitempty"`
}

// Preset is a stored position.
type Preset struct {
	Token string `json:"token"`
	Name  string `json:"name"`
}

// Move states a camera reports.
const (
	MoveIdle    = "idle"
	MoveMoving  = "moving"
	MoveUnknown = "unknown"
)

// Status is what a camera reports about itself. Nil axes are unknown.
type Status struct {
	Pan  *float64 `json:"pan,omitempty"`
	Tilt *float64 `json:"tilt,omitempty"`
	Zoom *float64 `json:"zoom,omitempty"`
	// MoveStatus is MoveIdle, MoveMoving or MoveUnknown. Never base a stop
	// on it: many cameras always report "unknown" or stay "moving".
	MoveStatus string `json:"moveStatus"`
	// Aux holds the state of auxiliary outputs by number, where the driver
	// knows it (the simulated camera does; ONVIF cameras do not say).
	Aux map[int]bool `json:"aux,omitempty"`
}

// Features says what a camera can do. The controller refuses a command the
// camera lacks with an "unsupported" error instead of sending it.
type Features struct {
	Move     bool  `json:"move"`
	Zoom     bool  `json:"zoom"`
	Stop     bool  `json:"stop"`
	Home     bool  `json:"home"`
	Presets  bool  `json:"presets"`
	Relative bool  `json:"relative"`
	Absolute bool  `json:"absolute"`
	Status   bool  `json:"status"`
	Aux      []int `json:"aux"` // aux numbers that do something; empty = none
}

// Errors a driver wraps (with %w or an Is method) so that the controller
// can tell its callers what went wrong without knowing the driver.
var (
	// ErrNotSupported: the camera cannot do this (no home position, no
	// presets, an ONVIF ActionNotSupported fault).
	ErrNotSupported = errors.New("not supported by the camera")
	// ErrCameraAuth: the camera refused the credentials.
	ErrCameraAuth = errors.New("the camera refused the credentials")
	// ErrCameraFault: the camera answered with an error (a SOAP fault).
	ErrCameraFault = errors.New("the camera reported an error")
	// ErrNotFound: no such preset.
	ErrNotFound = errors.New("not found")
)

// Fault is implemented by driver errors that carry the camera's own code
// (an ONVIF subcode such as "ter:InvalidArgVal"), shown to the operator.
type Fault interface {
	FaultCode() string
}
