package main

import (
	"fmt"
	"log/slog"

	"github.com/camgate/camgate/appsettings"
	"github.com/camgate/camgate/ptz"
	"github.com/camgate/camgate/ptz/onvif"
	"github.com/camgate/camgate/ptz/simulated"
)

// newPTZRegistry starts a PTZ controller for every camera whose settings
// name a driver. A camera whose driver cannot be made (which validated
// settings rule out) is logged and left without PTZ.
func newPTZRegistry(s appsettings.Settings, log *slog.Logger) (*ptz.Registry, error) {
	var cams []ptz.Camera
	add := func(id string, p appsettings.Ptz) {
		cfg := ptz.ConfigFromSettings(id, p)
		drv, err := newPTZDriver(cfg, p, log.With("component", "ptz", "camera", id))
		if err != nil {
			log.Error("ptz: camera left without PTZ", "component", "ptz", "camera", id, "error", err)
			return
		}
		cams = append(cams, ptz.Camera{Config: cfg, Driver: drv})
	}
	for _, c := range s.Cameras {
		if c.Ptz.Driver != appsettings.PtzNone {
			add(c.Id, c.Ptz)
		}
	}
	return ptz.NewRegistry(cams, log)
}

// newPTZDriver makes the driver a camera's Ptz settings name: an ONVIF
// camera or a simulated one in the camera's geometry.
func newPTZDriver(cfg ptz.Config, p appsettings.Ptz, log *slog.Logger) (ptz.Driver, error) {
	switch p.Driver {
	case appsettings.PtzOnvif:
		d, err := onvif.New(onvif.ConfigFromSettings(p), log)
		if err != nil {
			return nil, err
		}
		return d, nil
	case appsettings.PtzSimulated:
		return simulated.New(simulated.Config{Geometry: cfg.Geometry}), nil
	}
	return nil, fmt.Errorf("ptz: unknown driver %q", p.Driver)
}
