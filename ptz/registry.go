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

	"github.com/camgate/camgate/appsettings"
	"github.com/camgate/camgate/ptz/onvif"
	"github.com/camgate/camgate/ptz/simulated"
)

// Registry owns the PTZ controllers, one per camera that has PTZ: each
// camera whose Ptz.Driver is set, and the demo camera (simulated) while the
// demo is on. It is built once from settings; Close stops every camera.
type Registry struct {
	byID  map[string]*Controller // lower-case camera id
	ids   []string
	close sync.Once
}

// DemoPtz is the PTZ setting of the demo camera: the simulated driver with
// the defaults.
func DemoPtz() appsettings.Ptz {
	return appsettings.Ptz{Driver: "simulated"}
}

// NewRegistry builds and starts a controller for every camera with PTZ in
// validated settings. Each controller connects to its camera and stops it
// in the background; nothing here waits for a camera. A camera whose driver
// cannot be made (which validated settings rule out) is logged and left
// without PTZ.
func NewRegistry(s appsettings.Settings, log *slog.Logger) *Registry {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	r := &Registry{byID: map[string]*Controller{}}
	add := func(id string, p appsettings.Ptz) {
		drv, err := NewDriver(p, log.With("component", "ptz", "camera", id))
		if err != nil {
			log.Error("ptz: camera left without PTZ", "component", "ptz", "camera", id, "error", err)
			return
		}
		r.byID[strings.ToLower(id)] = NewController(ConfigFromSettings(id, p), drv, log)
		r.ids = append(r.ids, id)
	}
	if s.Demo.Enabled {
		add(appsettings.DemoCameraID, DemoPtz())
	}
	for _, c := range s.Cameras {
		if c.Ptz.Driver != "" {
			add(c.Id, c.Ptz)
		}
	}
	return r
}

// Get returns the controller of a camera (the id in any case), or false
// when the camera has no PTZ.
func (r *Registry) Get(cameraID string) (*Controller, bool) {
	c, ok := r.byID[strings.ToLower(cameraID)]
	return c, ok
}

// CameraIDs lists the cameras with PTZ, in settings order (the demo first).
func (r *Registry) CameraIDs() []string { return slices.Clone(r.ids) }

// Release releases a session on every camera (see Controller.Release).
func (r *Registry) Release(sessionID string) {
	for _, c := range r.byID {
		c.Release(sessionID)
	}
}

// StopAll stops every camera at once and waits for the stops.
func (r *Registry) StopAll(ctx context.Context, reason string) error {
	var wg sync.WaitGroup
	errs := make([]error, len(r.ids))
	for i, id := range r.ids {
		wg.Go(func() { errs[i] = r.byID[strings.ToLower(id)].StopAll(ctx, reason) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

// Close stops every camera and ends the controllers, all at once.
func (r *Registry) Close() error {
	var errs []error
	r.close.Do(func() {
		var wg sync.WaitGroup
		errs = make([]error, len(r.ids))
		for i, id := range r.ids {
			wg.Go(func() { errs[i] = r.byID[strings.ToLower(id)].Close() })
		}
		wg.Wait()
	})
	return errors.Join(errs...)
}

// ConfigFromSettings is the controller configuration of a camera's Ptz
// settings (validated: zero values take the controller's defaults).
func ConfigFromSettings(cameraID string, p appsettings.Ptz) Config {
	return Config{
		CameraID:       cameraID,
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

// NewDriver makes the driver a camera's Ptz settings name: an ONVIF driver
// or a simulated camera.
func NewDriver(p appsettings.Ptz, log *slog.Logger) (Driver, error) {
	switch strings.ToLower(p.Driver) {
	case "onvif":
		return onvif.New(OnvifConfig(p), log)
	case "simulated":
		return simulated.New(simulated.Config{Geometry: geometryOf(p.Geometry)}), nil
	}
	return nil, errors.New("ptz: unknown driver " + quote(p.Driver))
}

// OnvifConfig is the ONVIF driver configuration of a camera's Ptz
// settings. The Timeout sent with moves is twice the nudge, in whole
// seconds, at least 1s.
func OnvifConfig(p appsettings.Ptz) onvif.Config {
	nudge := time.Duration(p.NudgeLength)
	if nudge <= 0 {
		nudge = 400 * time.Millisecond
	}
	mode := onvif.StopBoth
	switch strings.ToLower(p.Quirks.StopMode) {
	case "zerovelocity":
		mode = onvif.StopZeroVelocity
	case "stop":
		mode = onvif.StopStop
	}
	return onvif.Config{
		URL: p.Url, Username: p.Username, Password: p.Password,
		ProfileToken: p.ProfileToken, HomePreset: p.HomePreset, AuxCommands: slices.Clone(p.AuxCommands),
		MoveTimeout: time.Duration(math.Max(1, math.Ceil(2*nudge.Seconds()))) * time.Second,
		Quirks: onvif.Quirks{InvertPan: p.Quirks.InvertPan, InvertTilt: p.Quirks.InvertTilt, NoTimeout: p.Quirks.NoTimeout,
			StopMode: mode, NoDiagonal: p.Quirks.NoDiagonal, NoStop: p.Quirks.NoStop},
	}
}
