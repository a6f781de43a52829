package ptz

import "github.com/camgate/camgate/ptz/driver"

// The driver interfaces and values, re-exported from ptz/driver so that
// users of this package need not import it.
type (
	Driver          = driver.Driver
	Connecter       = driver.Connecter
	Mover           = driver.Mover
	Refresher       = driver.Refresher
	Stopper         = driver.Stopper
	RelativeMover   = driver.RelativeMover
	AbsoluteMover   = driver.AbsoluteMover
	Homer           = driver.Homer
	Presetter       = driver.Presetter
	Aux             = driver.Aux
	StatusReporter  = driver.StatusReporter
	FeatureReporter = driver.FeatureReporter
	Velocity        = driver.Velocity
	Vector          = driver.Vector
	Preset          = driver.Preset
	Status          = driver.Status
	Features        = driver.Features
	Geometry        = driver.Geometry
)
