package onvif_test

import (
	"testing"
	"time"

	"github.com/camgate/camgate/appsettings"
	"github.com/camgate/camgate/ptz/onvif"
)

func TestConfigFromSettings(t *testing.T) {
	t.Parallel()
	p := appsettings.Ptz{Driver: "onvif", Url: "http://192.0.2.10/onvif/device_service", NudgeLength: appsettings.Duration(1200 * time.Millisecond),
		Quirks: appsettings.PtzQuirks{StopMode: "zeroVelocity", InvertTilt: true}}
	c := onvif.ConfigFromSettings(p)
	if c.MoveTimeout != 3*time.Second || c.Quirks.StopMode != onvif.StopZeroVelocity || !c.Quirks.InvertTilt {
		t.Errorf("%+v", c)
	}
}
