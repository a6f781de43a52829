package main

import (
	"context"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/camgate/camgate/appsettings"
	"github.com/camgate/camgate/cameras/testutil"
	"github.com/camgate/camgate/ptz"
	"github.com/camgate/camgate/ptz/onviftest"
)

// camgate gives every camera whose settings name a driver a controller on
// that driver, and the demo camera (by its overlay) a simulated one with
// every default.
func TestPTZRegistryFromSettings(t *testing.T) {
	t.Parallel()
	cam := onviftest.New(onviftest.Options{Username: "admin", Password: "pw"})
	defer cam.Close()
	const onvifID = "11111111-2222-3333-4444-555555555555"
	const simID = "22222222-3333-4444-5555-666666666666"
	s := appsettings.Defaults()
	s.Cameras = []appsettings.Camera{
		{Id: onvifID, Streams: []appsettings.Stream{{Id: "11111111-2222-3333-4444-000000000001", Url: "rtsp://192.0.2.10/x"}},
			Ptz: appsettings.Ptz{Driver: "onvif", Url: cam.URL, Username: "admin", Password: "pw"}},
		{Id: simID, Streams: []appsettings.Stream{{Id: "22222222-3333-4444-5555-000000000001", Url: "rtsp://192.0.2.11/x"}},
			Ptz: appsettings.Ptz{Driver: "simulated", Geometry: appsettings.PtzGeometry{HorizontalFov: 90}}},
		{Id: "33333333-4444-5555-6666-777777777777", Streams: []appsettings.Stream{{Id: "33333333-4444-5555-6666-000000000001", Url: "rtsp://192.0.2.12/x"}}},
	}
	overlay := demoOverlay{url: "rtsp://127.0.0.1:8554/demo"}
	if err := overlay.apply(&s); err != nil {
		t.Fatal(err)
	}
	s.ApplyDefaults()
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	r, err := newPTZRegistry(s, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	stop := testutil.Run(t, r.Run, nil)
	if got := r.CameraIDs(); !slices.Equal(got, []string{onvifID, simID, demoCameraID}) {
		t.Errorf("cameras %v", got)
	}
	if _, ok := r.Get("33333333-4444-5555-6666-777777777777"); ok {
		t.Error("a camera without Ptz has a controller")
	}
	demo, ok := r.Get(demoCameraID)
	if !ok {
		t.Fatal("no demo controller")
	}
	if cfg := demo.Config(); cfg.Driver != "simulated" || cfg.Geometry != ptz.DefaultGeometry() {
		t.Errorf("demo config %+v", cfg)
	}
	if sim, _ := r.Get(simID); sim.Config().Driver != "simulated" || sim.Config().Geometry.HorizontalFov != 90 {
		t.Errorf("simulated camera's config %+v", sim.Config())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := demo.Do(ctx, "s", move(t, "left")); err != nil {
		t.Fatal(err)
	}
	c, _ := r.Get("11111111-2222-3333-4444-555555555555")
	if c.Config().Driver != "onvif" {
		t.Errorf("ONVIF camera's config %+v", c.Config())
	}
	// A status request queues behind the controller's start-up (connect,
	// stop), which on a busy machine can outlast a move's 400 ms nudge: the
	// move would expire before the camera could take it.
	status := ptz.Request{Method: ptz.MethodStatus}
	if _, err := c.Do(ctx, "s", status); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Do(ctx, "s", move(t, "upLeft")); err != nil {
		t.Fatal(err)
	}
	if caps := c.Capabilities(); caps.NudgeMs != 400 || caps.LeaseTimeoutMs != 5000 {
		t.Errorf("capabilities %+v", caps)
	}
	if err := r.StopAll(ctx, "test"); err != nil {
		t.Fatal(err)
	}
	r.Release("s")
	stop()
	// The ONVIF camera got the start-up stop, the move, and stops; and
	// every move carried Timeout PT1S (twice the 400ms nudge, whole seconds).
	for _, k := range cam.Calls() {
		if k.IsMove() && k.Timeout != "PT1S" {
			t.Errorf("move with Timeout %q", k.Timeout)
		}
	}
	if cam.Moving() {
		t.Error("still moving after Close")
	}
	if _, err := demo.Do(ctx, "s", move(t, "left")); err == nil {
		t.Error("a closed controller took a command")
	}
}

func move(t *testing.T, dir string) ptz.Request {
	t.Helper()
	d, ok := ptz.LookupDirection(dir)
	if !ok {
		t.Fatalf("no direction %q", dir)
	}
	return ptz.Request{Method: ptz.MethodMove, Direction: d}
}
