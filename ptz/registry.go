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
// built once (NewRegistry); Run keeps the controllers until its ctx ends,
// then stops every camera. Close does the same for a registry that is not
// Run (tests).
type Registry struct {
	byID  map[appsettings.CameraKey]*Controller
	ids   []string
	close sync.Once
}

// NewRegistry starts a controller for each camera, in the order given.
// Each controller connects to its camera and stops it in the background;
// nothing here waits for a camera. The registry owns the drivers from now
// on: when a camera has no id or no driver, or shares its id with another
// (in any case), NewRegistry starts nothing, closes every driver and
// returns the error.
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

// Run returns when ctx has ended and every controller has sent its final
// stop to its camera and ended its goroutine (Close). The controllers work
// from NewRegistry on, so that a command that comes before Run is served;
// Run only ties their end to ctx. The error names the cameras that may not
// have stopped.
func (r *Registry) Run(ctx context.Context) error {
	<-ctx.Done()
	return r.Close()
}

// Close stops every camera and ends the controllers, all at once.
func (r *Registry) Close() error {
	var err error
	r.close.Do(func() { err = r.each((*Controller).Close) })
	return err
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
