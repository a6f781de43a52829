package simulated_test

import (
	"context"
	"log/slog"
	"math"
	"testing"
	"testing/synctest"
	"time"

	"github.com/camgate/camgate/ptz"
	"github.com/camgate/camgate/ptz/simulated"
)

// The camera integrates motion over time; in a synctest bubble time is
// virtual, so positions after a sleep are exact.

var ctx = context.Background()

func near(t *testing.T, what string, got, want float64) {
	t.Helper()
	if math.Abs(got-want) > 1e-9 {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}

func f(v float64) *float64 { return &v }

func TestContinuousMotion(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := simulated.New(simulated.Config{})
		must(t, c.Move(ctx, ptz.Velocity{Pan: 1, Tilt: -0.5, Zoom: 1}))
		time.Sleep(time.Second)
		pan, tilt, zoom := c.Degrees()
		near(t, "pan", pan, 60)    // 60°/s at full speed
		near(t, "tilt", tilt, -20) // half of 40°/s
		near(t, "zoom", zoom, 0.25)
		st, _ := c.Status(ctx)
		near(t, "normalized pan", *st.Pan, 60.0/180)
		near(t, "normalized tilt", *st.Tilt, -20.0/90)
		if st.MoveStatus != ptz.MoveMoving {
			t.Errorf("move status %s", st.MoveStatus)
		}
		must(t, c.Stop(ctx))
		time.Sleep(time.Second)
		pan2, _, _ := c.Degrees()
		near(t, "pan after stop", pan2, 60)
		if st, _ := c.Status(ctx); st.MoveStatus != ptz.MoveIdle {
			t.Errorf("after stop: %s", st.MoveStatus)
		}
	})
}

func TestRangesAreClamped(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := simulated.New(simulated.Config{})
		must(t, c.Move(ctx, ptz.Velocity{Pan: -1, Tilt: 1, Zoom: -1}))
		time.Sleep(time.Minute)
		pan, tilt, zoom := c.Degrees()
		near(t, "pan", pan, -180)
		near(t, "tilt", tilt, 90)
		near(t, "zoom", zoom, 0)
		if st, _ := c.Status(ctx); st.MoveStatus != ptz.MoveIdle {
			t.Errorf("held at the limits: %s, want idle", st.MoveStatus)
		}
		if err := c.Move(ctx, ptz.Velocity{Pan: 2}); err == nil {
			t.Error("velocity 2 accepted")
		}
	})
}

func TestMovesToATargetAtFullSpeed(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := simulated.New(simulated.Config{})
		must(t, c.AbsoluteMove(ctx, ptz.Vector{Pan: f(0.5), Zoom: f(0.5)})) // 90°, zoom 0.5
		time.Sleep(time.Second)
		pan, _, zoom := c.Degrees()
		near(t, "pan after 1s", pan, 60)
		near(t, "zoom after 1s", zoom, 0.25)
		time.Sleep(time.Second)
		pan, _, zoom = c.Degrees()
		near(t, "pan after 2s", pan, 90)
		near(t, "zoom after 2s", zoom, 0.5)
		if st, _ := c.Status(ctx); st.MoveStatus != ptz.MoveIdle {
			t.Errorf("arrived but %s", st.MoveStatus)
		}
		must(t, c.RelativeMove(ctx, ptz.Vector{Pan: f(-0.25), Tilt: f(0.5)})) // −45°, +45°
		time.Sleep(5 * time.Second)
		pan, tilt, _ := c.Degrees()
		near(t, "pan", pan, 45)
		near(t, "tilt", tilt, 45)
		must(t, c.GotoHome(ctx))
		time.Sleep(5 * time.Second)
		pan, tilt, zoom = c.Degrees()
		if pan != 0 || tilt != 0 || zoom != 0 {
			t.Errorf("home: %v %v %v", pan, tilt, zoom)
		}
	})
}

func TestPresetsAndAux(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := simulated.New(simulated.Config{MaxPresets: 2})
		must(t, c.AbsoluteMove(ctx, ptz.Vector{Pan: f(-0.25), Tilt: f(-0.5)}))
		time.Sleep(10 * time.Second)
		tok, err := c.SetPreset(ctx, "Door", "")
		must(t, err)
		if _, err := c.SetPreset(ctx, "Third", ""); err == nil {
			t.Error("a third preset beyond MaxPresets")
		}
		must(t, c.GotoPreset(ctx, "1")) // "Home"
		time.Sleep(10 * time.Second)
		must(t, c.GotoPreset(ctx, tok))
		time.Sleep(10 * time.Second)
		pan, tilt, _ := c.Degrees()
		near(t, "pan", pan, -45)
		near(t, "tilt", tilt, -45)
		ps, _ := c.Presets(ctx)
		if len(ps) != 2 || ps[1] != (ptz.Preset{Token: tok, Name: "Door"}) {
			t.Errorf("presets %+v", ps)
		}
		must(t, c.RemovePreset(ctx, tok))
		if err := c.GotoPreset(ctx, tok); err == nil {
			t.Error("a removed preset still works")
		}
		must(t, c.SetAux(ctx, 2, true))
		st, _ := c.Status(ctx)
		if !st.Aux[2] || st.Aux[1] {
			t.Errorf("aux %v", st.Aux)
		}
		if err := c.SetAux(ctx, 5, true); err == nil {
			t.Error("aux 5 accepted")
		}
	})
}

// TestBehindTheController: a ptzMove right nudges the simulated camera by
// speed × nudge (0.5 × 60°/s × 400ms = 12°), and ptzCenter on the right
// edge turns it by half the field of view.
func TestBehindTheController(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cam := simulated.New(simulated.Config{})
		c := ptz.NewController(ptz.Config{CameraID: "demo"}, cam, slog.New(slog.DiscardHandler))
		go func() { _ = c.Run(ctx) }() // Close ends it
		defer c.Close()
		r := ptz.Request{Method: ptz.MethodMove, Direction: ptz.Right}
		if _, err := c.Do(ctx, "s", r); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Second)
		synctest.Wait()
		pan, _, _ := cam.Degrees()
		near(t, "pan after one nudge", pan, 12)
		if v := cam.Velocity(); !v.IsZero() {
			t.Errorf("still moving at %+v", v)
		}
		r = ptz.Request{Method: ptz.MethodCenter, X: 1, Y: 0.5}
		if _, err := c.Do(ctx, "s", r); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Second)
		pan, _, _ = cam.Degrees()
		near(t, "pan after centering the right edge", pan, 42)
		r = ptz.Request{Method: ptz.MethodStatus}
		st, err := c.Do(ctx, "s", r)
		if err != nil {
			t.Fatal(err)
		}
		near(t, "status panDegrees", *st.(ptz.StatusResult).PanDegrees, 42)
	})
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
