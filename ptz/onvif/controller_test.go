package onvif_test

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/camgate/camgate/ptz"
	"github.com/camgate/camgate/ptz/onvif"
	"github.com/camgate/camgate/ptz/onviftest"
)

// These tests run the controller on the ONVIF driver against the fake
// camera, in real time. They assert on the order of the calls the camera
// recorded; times are logged, and fail only beyond generous bounds.

const generous = 5 * time.Second

func startController(t *testing.T, cam *onviftest.Camera, mod func(*onvif.Config), cmod func(*ptz.Config)) *ptz.Controller {
	t.Helper()
	d := newDriver(t, cam, mod)
	cfg := ptz.Config{CameraID: "cam-1", RatePerSession: 100, RatePerCamera: 100}
	if cmod != nil {
		cmod(&cfg)
	}
	c := ptz.NewController(cfg, d, slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug})))
	go func() { _ = c.Run(context.Background()) }() // Close ends it
	t.Cleanup(func() { c.Close() })
	// A status request queues behind the start-up (connect, stop).
	if _, err := c.Do(context.Background(), "setup", ptz.Request{Method: ptz.MethodStatus}); err != nil {
		t.Fatalf("start-up: %v (calls %q)", err, cam.Ops())
	}
	calls := cam.Calls()
	stopped := false
	for _, k := range calls {
		stopped = stopped || k.IsStop() || k.Op == "Stop"
	}
	if !stopped {
		t.Fatalf("no stop at start-up: %q", cam.Ops())
	}
	cam.Reset()
	return c
}

func mv(dir string) ptz.Request {
	d, ok := ptz.LookupDirection(dir)
	if !ok {
		panic("no direction " + dir)
	}
	return ptz.Request{Method: ptz.MethodMove, Direction: d}
}

func waitCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), generous)
	t.Cleanup(cancel)
	return ctx
}

// moveThenStop waits for a move whose pan has sign (−1 left, +1 right, 0
// any) and the stop after it, and returns the time between them.
func moveThenStop(t *testing.T, cam *onviftest.Camera, sign float64) time.Duration {
	t.Helper()
	ctx := waitCtx(t)
	m, i, err := cam.WaitFor(ctx, 0, func(c onviftest.Call) bool {
		return c.IsMove() && (sign == 0 || c.Pan != nil && *c.Pan*sign > 0)
	})
	if err != nil {
		t.Fatalf("no move: %v", err)
	}
	s, _, err := cam.WaitFor(ctx, i+1, onviftest.Call.IsStop)
	if err != nil {
		t.Fatalf("no stop after the move: %v", err)
	}
	return s.At.Sub(m.At)
}

func TestControllerMoveLeftStopsByItself(t *testing.T) {
	t.Parallel()
	cam := newCamera(t, onviftest.Options{})
	c := startController(t, cam, nil, nil)
	res, err := c.Do(context.Background(), "s1", mv("left"))
	if err != nil {
		t.Fatal(err)
	}
	if r := res.(ptz.MoveResult); r.Direction != ptz.Left || r.NudgeMs != 400 {
		t.Errorf("result %+v", r)
	}
	gap := moveThenStop(t, cam, -1)
	t.Logf("ptzMove left: the camera got the move, then the stop %v later (nudge 400ms, bound 600ms)", gap)
	if gap > generous {
		t.Errorf("stop came %v after the move", gap)
	}
	if cam.Moving() {
		t.Error("the camera still moves")
	}
}

func TestControllerHeldButtonMovesSmoothly(t *testing.T) {
	t.Parallel()
	cam := newCamera(t, onviftest.Options{})
	c := startController(t, cam, nil, func(cfg *ptz.Config) { cfg.NudgeLength = time.Second })
	for range 25 { // held for 2.5s, a command every 100ms
		if _, err := c.Do(context.Background(), "s1", mv("right")); err != nil {
			t.Fatal(err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	held := cam.Calls()
	moves := 0
	for _, k := range held {
		if k.IsStop() || k.Op == "Stop" {
			t.Fatalf("stopped while the button was held: %q", cam.Ops())
		}
		if k.IsMove() {
			moves++
		}
	}
	// Timeout PT1S goes with each move, so the move is sent again every
	// 500ms to keep a camera that honours it going.
	if moves < 3 {
		t.Errorf("%d moves in 2.5s, want the move refreshed: %q", moves, cam.Ops())
	}
	moveThenStop(t, cam, 1)
}

func TestControllerStopAllMidMove(t *testing.T) {
	t.Parallel()
	cam := newCamera(t, onviftest.Options{Faults: onviftest.Faults{IgnoreTimeout: true}})
	c := startController(t, cam, nil, func(cfg *ptz.Config) { cfg.NudgeLength = time.Minute })
	if _, err := c.Do(context.Background(), "s1", mv("right")); err != nil {
		t.Fatal(err)
	}
	if !cam.Moving() {
		t.Fatal("not moving")
	}
	if err := c.StopAll(waitCtx(t), "data channel closed"); err != nil {
		t.Fatal(err)
	}
	if got := ops(cam); got != "ContinuousMove ContinuousMove Stop" {
		t.Errorf("calls %q", got)
	}
	if cam.Moving() {
		t.Error("the camera still moves after StopAll")
	}
}

func TestControllerReleaseMidMove(t *testing.T) {
	t.Parallel()
	cam := newCamera(t, onviftest.Options{Faults: onviftest.Faults{IgnoreTimeout: true}})
	c := startController(t, cam, nil, func(cfg *ptz.Config) { cfg.NudgeLength = time.Minute })
	if _, err := c.Do(context.Background(), "s1", mv("up")); err != nil {
		t.Fatal(err)
	}
	c.Release("s1") // its data channel closed
	moveThenStop(t, cam, 0)
	if _, err := c.Do(context.Background(), "s2", mv("down")); err != nil {
		t.Errorf("the lease did not free: %v", err)
	}
}

func TestControllerLeaseContention(t *testing.T) {
	t.Parallel()
	cam := newCamera(t, onviftest.Options{})
	c := startController(t, cam, nil, nil)
	if _, err := c.Do(context.Background(), "s1", mv("left")); err != nil {
		t.Fatal(err)
	}
	_, err := c.Do(context.Background(), "s2", mv("right"))
	var pe *ptz.Error
	if !errors.As(err, &pe) || pe.Code != ptz.CodeBusy || pe.RetryAfter <= 0 || pe.RetryAfter > 5*time.Second {
		t.Fatalf("second session: %v, want busy with a RetryAfter up to 5s", err)
	}
	t.Logf("busy: %s", pe.Message)
	for _, k := range cam.Calls() {
		if k.IsMove() && k.Pan != nil && *k.Pan > 0 {
			t.Errorf("the camera got the second session's move")
		}
	}
}

func TestControllerCameraClockAnHourOff(t *testing.T) {
	t.Parallel()
	cam := newCamera(t, onviftest.Options{ClockOffset: time.Hour})
	c := startController(t, cam, nil, nil)
	if _, err := c.Do(context.Background(), "s1", mv("downLeft")); err != nil {
		t.Fatal(err)
	}
	moveThenStop(t, cam, -1)
	for _, k := range cam.Calls() {
		if !k.Authenticated || k.Fault != "" {
			t.Errorf("%s: authenticated %v, fault %q", k.Op, k.Authenticated, k.Fault)
		}
	}
}

func TestControllerNoStop(t *testing.T) {
	t.Parallel()
	cam := newCamera(t, onviftest.Options{Faults: onviftest.Faults{NoStop: true, IgnoreTimeout: true}})
	c := startController(t, cam, nil, nil)
	for range 2 {
		if _, err := c.Do(context.Background(), "s1", mv("left")); err != nil {
			t.Fatal(err)
		}
		n := len(cam.Calls())
		if _, _, err := cam.WaitFor(waitCtx(t), n, onviftest.Call.IsStop); err != nil {
			t.Fatal(err)
		}
		if cam.Moving() {
			t.Fatal("still moving: the zero velocity did not stop it")
		}
	}
	// Stop faulted at start-up, so it is never sent again.
	for _, k := range cam.Calls() {
		if k.Op == "Stop" {
			t.Errorf("Stop sent again: %q", cam.Ops())
		}
	}
}

func TestControllerDiagonalRefused(t *testing.T) {
	t.Parallel()
	cam := newCamera(t, onviftest.Options{Faults: onviftest.Faults{RejectDiagonal: true}})
	c := startController(t, cam, nil, nil)
	if _, err := c.Do(context.Background(), "s1", mv("upRight")); err != nil {
		t.Fatalf("a refused diagonal should fall back to pan: %v", err)
	}
	moveThenStop(t, cam, 1)

	cam2 := newCamera(t, onviftest.Options{Faults: onviftest.Faults{RejectDiagonal: true}})
	c2 := startController(t, cam2, func(cfg *onvif.Config) { cfg.Quirks.NoDiagonal = true }, nil)
	if _, err := c2.Do(context.Background(), "s1", mv("downLeft")); err != nil {
		t.Fatal(err)
	}
	moveThenStop(t, cam2, -1)
	for _, k := range cam2.Calls() {
		if k.Fault != "" {
			t.Errorf("with NoDiagonal the camera still refused: %q", cam2.Ops())
		}
	}
}

func TestControllerSlowCamera(t *testing.T) {
	t.Parallel()
	cam := newCamera(t, onviftest.Options{})
	c := startController(t, cam, func(cfg *onvif.Config) { cfg.CallTimeout = 300 * time.Millisecond }, nil)
	cam.Set(onviftest.Faults{Slow: true})
	_, err := c.Do(context.Background(), "s1", mv("home"))
	var pe *ptz.Error
	if !errors.As(err, &pe) || pe.Code != ptz.CodeTimeout {
		t.Fatalf("error %v, want a timeout", err)
	}
	cam.Set(onviftest.Faults{})
	// The controller is not wedged.
	res, err := c.Do(context.Background(), "s1", ptz.Request{Method: ptz.MethodPresets})
	if err != nil {
		t.Fatal(err)
	}
	if p := res.(ptz.PresetsResult).Presets; len(p) != 1 || p[0].Name != "Gate" {
		t.Errorf("presets %+v", p)
	}
	if _, err := c.Do(context.Background(), "s1", mv("left")); err != nil {
		t.Fatal(err)
	}
	moveThenStop(t, cam, -1)
}

func TestControllerIgnoredTimeout(t *testing.T) {
	t.Parallel()
	// The camera ignores Timeout: only the watchdog's stop ends the move.
	cam := newCamera(t, onviftest.Options{Faults: onviftest.Faults{IgnoreTimeout: true}})
	c := startController(t, cam, nil, nil)
	if _, err := c.Do(context.Background(), "s1", mv("zoomOut")); err != nil {
		t.Fatal(err)
	}
	gap := moveThenStop(t, cam, 0)
	t.Logf("watchdog stop %v after the move", gap)
	if cam.Moving() {
		t.Error("still moving")
	}
}

func TestControllerPresetsAndStatus(t *testing.T) {
	t.Parallel()
	cam := newCamera(t, onviftest.Options{})
	c := startController(t, cam, nil, nil)
	ctx := context.Background()
	res, err := c.Do(ctx, "s1", ptz.Request{Method: ptz.MethodSetPreset, Name: "Door"})
	if err != nil {
		t.Fatal(err)
	}
	tok := res.(ptz.PresetResult).Token
	if _, err := c.Do(ctx, "s1", ptz.Request{Method: ptz.MethodGotoPreset, Name: "door"}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Do(ctx, "s1", ptz.Request{Method: ptz.MethodRemovePreset, Token: tok}); err != nil {
		t.Fatal(err)
	}
	_, err = c.Do(ctx, "s1", ptz.Request{Method: ptz.MethodRemovePreset, Token: tok})
	var pe *ptz.Error
	if !errors.As(err, &pe) || pe.Code != ptz.CodeNotFound || pe.Fault != "ter:NoToken" {
		t.Errorf("removing twice: %v", err)
	}
	st, err := c.Do(ctx, "s1", ptz.Request{Method: ptz.MethodStatus})
	if err != nil {
		t.Fatal(err)
	}
	s := st.(ptz.StatusResult)
	if *s.Pan != 0.5 || *s.PanDegrees != 90 || s.MoveStatus != "idle" || !s.Control.Yours {
		t.Errorf("status %+v", s)
	}
	if _, err := c.Do(ctx, "s1", ptz.Request{Method: ptz.MethodCenter, X: 0.75, Y: 0.25}); err != nil {
		t.Fatal(err)
	}
	caps := c.Capabilities()
	if !caps.Home || !caps.Zoom || len(caps.Aux) != 3 {
		t.Errorf("capabilities %+v", caps)
	}
}
