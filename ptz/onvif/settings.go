package onvif

import (
	"math"
	"slices"
	"time"

	"github.com/camgate/camgate/appsettings"
)

// ConfigFromSettings is the driver configuration of a camera's Ptz
// settings (validated: every key set). The Timeout sent with moves is
// twice the nudge (NudgeLength), in whole seconds, at least 1s: a camera
// that honours it ends a move camgate could no longer stop, and never
// before the watchdog's own stop.
func ConfigFromSettings(p appsettings.Ptz) Config {
	nudge := time.Duration(p.NudgeLength)
	if nudge <= 0 {
		nudge = time.Duration(appsettings.PtzDefaults().NudgeLength)
	}
	mode := StopBoth
	switch p.Quirks.StopMode {
	case appsettings.StopZeroVelocity:
		mode = StopZeroVelocity
	case appsettings.StopStop:
		mode = StopStop
	}
	return Config{
		URL: p.Url, Username: p.Username, Password: p.Password,
		ProfileToken: p.ProfileToken, HomePreset: p.HomePreset, AuxCommands: slices.Clone(p.AuxCommands),
		MoveTimeout: time.Duration(math.Max(1, math.Ceil(2*nudge.Seconds()))) * time.Second,
		Quirks: Quirks{InvertPan: p.Quirks.InvertPan, InvertTilt: p.Quirks.InvertTilt, NoTimeout: p.Quirks.NoTimeout,
			StopMode: mode, NoDiagonal: p.Quirks.NoDiagonal, NoStop: p.Quirks.NoStop},
	}
}
