package ptz

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"

	"github.com/camgate/camgate/appsettings"
)

// Camera is a camera's PTZ as a Registry starts it: the controller's
// configuration (Config.CameraID names the camera) and the driver that
// speaks to the camera, built by the caller (cmd/camgate picks the driver
// a camera's settings name).
type Camera struct {
	Config Config
	Driver Driver
}

// Registry owns the PTZ controllers, one per camera that has PTZ. It is
// built once (NewRegistry), which starts nothing; Run runs the controllers
// until its ctx ends, then stops every camera. Close ends a registry that
// is never Run (camgate failing to start) or ends Run early.
type Registry struct {
	byID map[appsettings.CameraKey]*Controller
	ids  []string
}

// NewRegistry makes a controller for each camera, in the order given, and
// starts none: no goroutine, no call to a camera. Commands that come
// before Run wait in their controller's queues and are carried out once
// Run has started it. The registry owns the drivers from now on: when a
// camera has no id or no driver, or shares its id with another (in any
// case), NewRegistry closes every driver and returns the error.
func NewRegistry(cams []Camera, log *slog.Logger) (*Registry, error) {
	r := &Registry{byID: make(map[appsettings.CameraKey]*Controller, len(cams))}
	seen := make(map[appsettings.CameraKey]bool, len(cams))
	var errs []error
	for i, c := range cams {
		id := appsettings.KeyOf(c.Config.CameraID)
		switch {
		case id == "":
			errs = append(errs, fmt.Errorf("ptz: camera %d has no id", i))
		case seen[id]:
			errs = append(errs, fmt.Errorf("ptz: camera %s is listed twice", QuoteInput(c.Config.CameraID)))
		case c.Driver == nil:
			errs = append(errs, fmt.Errorf("ptz: camera %s has no driver", QuoteInput(c.Config.CameraID)))
		}
		seen[id] = true
	}
	if err := errors.Join(errs...); err != nil {
		for _, c := range cams {
			if c.Driver != nil {
				_ = c.Driver.Close()
			}
		}
		return nil, err
	}
	for _, c := range cams {
		r.byID[appsettings.KeyOf(c.Config.CameraID)] = NewController(c.Config, c.Driver, log)
		r.ids = append(r.ids, c.Config.CameraID)
	}
	return r, nil
}

// Get returns the controller of a camera (the id in any case), or false
// when the camera has no PTZ.
func (r *Registry) Get(cameraID string) (*Controller, bool) {
	c, ok := r.byID[appsettings.KeyOf(cameraID)]
	return c, ok
}

// CameraIDs lists the cameras with PTZ, in the order NewRegistry got them.
func (r *Registry) CameraIDs() []string { return slices.Clone(r.ids) }

// Release releases a session on every camera (see Controller.Release).
func (r *Registry) Release(sessionID string) {
	for _, c := range r.byID {
		c.Release(sessionID)
	}
}

// StopAll stops every camera at once and waits for the stops.
func (r *Registry) StopAll(ctx context.Context, reason string) error {
	return r.each(func(c *Controller) error { return c.StopAll(ctx, reason) })
}

// Run starts every controller (each connects to its camera and stops it
// once, then serves the commands, those that came before Run first) and
// returns when ctx has ended and every controller has sent its final stop,
// ended its goroutine and closed its driver. The error names the cameras
// that may not have stopped. Without cameras it just waits for ctx: a
// component's Run returns only when camgate stops.
func (r *Registry) Run(ctx context.Context) error {
	if len(r.ids) == 0 {
		<-ctx.Done()
		return nil
	}
	return r.each(func(c *Controller) error { return c.Run(ctx) })
}

// Close stops every camera and ends the controllers, all at once; for a
// registry never Run it only closes the drivers.
func (r *Registry) Close() error {
	return r.each((*Controller).Close)
}

// each runs f on every controller at once and joins the errors.
func (r *Registry) each(f func(*Controller) error) error {
	var wg sync.WaitGroup
	errs := make([]error, len(r.ids))
	for i, id := range r.ids {
		wg.Go(func() { errs[i] = f(r.byID[appsettings.KeyOf(id)]) })
	}
	wg.Wait()
	return errors.Join(errs...)
}
