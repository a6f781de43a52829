package ptz_test

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/camgate/camgate/ptz"
)

// The controller tests run in a synctest bubble: time is virtual, so
// "400ms after the move" is exact and no test waits for real.

func testConfig() ptz.Config {
	return ptz.Config{CameraID: "cam", RatePerSession: 100, RatePerCamera: 100}
}

// start makes a controller on a fake driver and waits until its start-up
// (Connect and one Stop) is over, then forgets those calls.
func start(t *testing.T, cfg ptz.Config, f *fakeDriver) *ptz.Controller {
	t.Helper()
	c := ptz.NewController(cfg, f, slog.New(slog.DiscardHandler))
	go func() { _ = c.Run(context.Background()) }() // Close ends it
	t.Cleanup(func() { c.Close() })
	synctest.Wait()
	if got := joined(f.log()); got != "Connect Stop" {
		t.Fatalf("start-up: driver calls %q, want Connect then Stop", got)
	}
	f.reset()
	return c
}

func mustDo(t *testing.T, c *ptz.Controller, session string, r ptz.Request) any {
	t.Helper()
	v, err := c.Do(context.Background(), session, r)
	if err != nil {
		t.Fatalf("%s: %v", r.Method, err)
	}
	return v
}

// wantCode fails the test unless err is a *ptz.Error with the code.
func wantCode(t *testing.T, err error, code ptz.Code) {
	t.Helper()
	var pe *ptz.Error
	if !errors.As(err, &pe) {
		t.Fatalf("error %v (%T), want a *ptz.Error with code %s", err, err, code)
	}
	if pe.Code != code {
		t.Fatalf("error %q has code %s, want %s", pe.Message, pe.Code, code)
	}
}

// wantError is wantCode that returns the error, for checks of its fields.
func wantError(t *testing.T, err error, code ptz.Code) *ptz.Error {
	t.Helper()
	wantCode(t, err, code)
	var pe *ptz.Error
	errors.As(err, &pe)
	return pe
}

func TestStartUpStopsTheCamera(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFake()
		start(t, testConfig(), f) // checks Connect, Stop
	})
}

func TestMoveEndsAfterTheNudge(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFake()
		c := start(t, testConfig(), f)
		t0 := time.Now()
		res := mustDo(t, c, "a", move("LEFT"))
		if r := res.(ptz.MoveResult); r.Direction != ptz.Left || r.NudgeMs != 400 {
			t.Errorf("result %+v", r)
		}
		time.Sleep(time.Second)
		synctest.Wait()
		calls := f.callList()
		if got := joined(f.log()); got != "Move(-0.5,0,0) Stop" {
			t.Fatalf("calls %q, want a move left then a stop", got)
		}
		if d := calls[1].at.Sub(t0); d != 400*time.Millisecond {
			t.Errorf("the watchdog stopped after %v, want 400ms", d)
		}
	})
}

func TestRepeatedMoveReArmsTheWatchdog(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFake()
		c := start(t, testConfig(), f)
		t0 := time.Now()
		for range 5 { // a held button: the same command every 300ms
			mustDo(t, c, "a", move("upRight"))
			time.Sleep(300 * time.Millisecond)
			synctest.Wait()
		}
		if got := joined(f.log()); got != "Move(0.5,0.5,0)" {
			t.Fatalf("while held: calls %q, want one move and no stop", got)
		}
		time.Sleep(time.Second)
		synctest.Wait()
		calls := f.callList()
		if got := joined(f.log()); got != "Move(0.5,0.5,0) Stop" {
			t.Fatalf("calls %q", got)
		}
		// The last command came at 1.2s; the stop 400ms later.
		if d := calls[1].at.Sub(t0); d != 1600*time.Millisecond {
			t.Errorf("stop at %v, want 1.6s", d)
		}
	})
}

func TestMoveRefreshForCamerasWithTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFake()
		f.refresh = 500 * time.Millisecond
		c := start(t, testConfig(), f)
		for range 12 { // held for 1.2s
			mustDo(t, c, "a", move("zoomIn"))
			time.Sleep(100 * time.Millisecond)
		}
		time.Sleep(time.Second)
		synctest.Wait()
		want := "Move(0,0,0.5) Move(0,0,0.5) Move(0,0,0.5) Stop"
		if got := joined(f.log()); got != want {
			t.Errorf("calls %q, want %q (sent again every 500ms while held)", got, want)
		}
	})
}

func TestMovesAreLatestWins(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFake()
		c := start(t, testConfig(), f)
		f.gate("Move") // the camera is slow to take the first move
		replies := make(chan ptz.MoveResult, 4)
		for _, d := range []string{"left", "right", "up", "down"} {
			c.Submit(context.Background(), "a", move(d), func(v any, err error) {
				if err != nil {
					t.Errorf("%s: %v", d, err)
				}
				replies <- v.(ptz.MoveResult)
			})
			synctest.Wait() // "left" is with the camera; the others wait
		}
		f.ungate("Move")
		synctest.Wait()
		if got := joined(f.log()); got != "Move(-0.5,0,0) Move(0,-0.5,0)" {
			t.Errorf("calls %q: want left (in progress) then down; right and up never sent", got)
		}
		var superseded []ptz.Direction
		for range 4 {
			if r := <-replies; r.Superseded {
				superseded = append(superseded, r.Direction)
			}
		}
		slices.Sort(superseded)
		if !slices.Equal(superseded, []ptz.Direction{ptz.Right, ptz.Up}) {
			t.Errorf("superseded %v, want right and up", superseded)
		}
	})
}

func TestDiscreteOperationsQueueInOrderAndAreBounded(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFake()
		cfg := testConfig()
		cfg.QueueLength = 3
		c := start(t, cfg, f)
		f.gate("GotoPreset")
		errs := make(chan error, 10)
		submit := func(r ptz.Request) {
			c.Submit(context.Background(), "a", r, func(_ any, err error) { errs <- err })
		}
		submit(req("ptzGotoPreset", `{"token":"1"}`)) // taken by the goroutine, held up
		synctest.Wait()
		submit(req("setAux", `{"auxNumber":"2","on":true}`))
		submit(req("ptzAbsolute", `{"pan":0.5}`))
		submit(req("ptzRemovePreset", `{"token":"2"}`))
		submit(req("ptzRelative", `{"zoom":-0.5}`)) // the fourth waiting: refused
		synctest.Wait()
		pe := wantError(t, <-errs, ptz.CodeBusy)
		if pe.RetryAfter <= 0 {
			t.Errorf("busy without RetryAfter: %+v", pe)
		}
		f.ungate("GotoPreset")
		synctest.Wait()
		for range 4 {
			if err := <-errs; err != nil {
				t.Error(err)
			}
		}
		want := "GotoPreset(1) SetAux(2,true) AbsoluteMove(0.5,-,-) RemovePreset(2)"
		if got := joined(f.log()); got != want {
			t.Errorf("calls %q, want %q", got, want)
		}
	})
}

func TestStopAllMidMove(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFake()
		c := start(t, testConfig(), f)
		mustDo(t, c, "a", move("right"))
		if err := c.StopAll(context.Background(), "test"); err != nil {
			t.Fatal(err)
		}
		if got := joined(f.log()); got != "Move(0.5,0,0) Stop" {
			t.Fatalf("calls %q", got)
		}
		time.Sleep(time.Second)
		synctest.Wait()
		if got := joined(f.log()); got != "Move(0.5,0,0) Stop" {
			t.Errorf("after StopAll the watchdog still acted: %q", got)
		}
		// The lease is free: another session may steer at once.
		mustDo(t, c, "b", move("left"))
	})
}

func TestStopAllCancelsACallInProgress(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFake()
		c := start(t, testConfig(), f)
		f.gate("GotoPreset")
		errs := make(chan error, 1)
		c.Submit(context.Background(), "a", req("ptzGotoPreset", `{"token":"1"}`), func(_ any, err error) { errs <- err })
		synctest.Wait()
		if err := c.StopAll(context.Background(), "test"); err != nil {
			t.Fatal(err)
		}
		wantCode(t, <-errs, ptz.CodeUnavailable)
		if got := joined(f.log()); got != "GotoPreset(1) Stop" {
			t.Errorf("calls %q", got)
		}
	})
}

func TestReleaseStopsTheSessionsMove(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFake()
		c := start(t, testConfig(), f)
		mustDo(t, c, "a", move("down"))
		c.Release("b") // another session: nothing happens
		synctest.Wait()
		if got := joined(f.log()); got != "Move(0,-0.5,0)" {
			t.Fatalf("calls %q", got)
		}
		c.Release("a")
		synctest.Wait()
		if got := joined(f.log()); got != "Move(0,-0.5,0) Stop" {
			t.Fatalf("calls %q", got)
		}
		mustDo(t, c, "b", move("up")) // a's lease is gone
	})
}

func TestReleaseOfAStillSessionSendsNothing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFake()
		c := start(t, testConfig(), f)
		mustDo(t, c, "a", move("down"))
		time.Sleep(time.Second)
		synctest.Wait()
		f.reset()
		c.Release("a")
		synctest.Wait()
		if got := f.log(); len(got) != 0 {
			t.Errorf("calls %q, want none: the camera was still", got)
		}
	})
}

func TestLease(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFake()
		c := start(t, testConfig(), f)
		mustDo(t, c, "a", move("left"))
		time.Sleep(time.Second)

		_, err := c.Do(context.Background(), "b", move("right"))
		pe := wantError(t, err, ptz.CodeBusy)
		if pe.RetryAfter != 4*time.Second {
			t.Errorf("RetryAfter %v, want 4s (5s lease, a's last command 1s ago)", pe.RetryAfter)
		}
		if want := "another session controls this camera; its control ends in 4s (at 00:00:05 UTC) unless it sends more commands"; pe.Message != want {
			t.Errorf("message %q\nwant    %q", pe.Message, want)
		}
		_, err = c.Do(context.Background(), "b", req("setAux", `{"auxNumber":1,"on":true}`))
		wantCode(t, err, ptz.CodeBusy)

		// Reading needs no lease, and anybody may stop the camera.
		st := mustDo(t, c, "b", req("ptzStatus", "")).(ptz.StatusResult)
		if !st.Control.Held || st.Control.Yours || st.Control.FreeInMs != 4000 {
			t.Errorf("control as b sees it: %+v", st.Control)
		}
		mustDo(t, c, "b", req("ptzPresets", ""))
		mustDo(t, c, "b", move("stop"))

		// a renews the lease with each command.
		time.Sleep(3 * time.Second)
		mustDo(t, c, "a", req("ptzStatus", "")) // reading does not renew
		mustDo(t, c, "a", move("up"))
		time.Sleep(4 * time.Second)
		_, err = c.Do(context.Background(), "b", move("right"))
		wantCode(t, err, ptz.CodeBusy)
		time.Sleep(time.Second)
		mustDo(t, c, "b", move("right")) // 5s after a's last command
		_, err = c.Do(context.Background(), "a", move("up"))
		wantCode(t, err, ptz.CodeBusy)
	})
}

func TestRateLimitPerSession(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFake()
		cfg := testConfig()
		cfg.RatePerSession = 5
		c := start(t, cfg, f)
		for range 5 {
			mustDo(t, c, "a", move("left"))
		}
		_, err := c.Do(context.Background(), "a", move("left"))
		pe := wantError(t, err, ptz.CodeRateLimited)
		if pe.RetryAfter != 200*time.Millisecond {
			t.Errorf("RetryAfter %v, want 200ms", pe.RetryAfter)
		}
		mustDo(t, c, "b", req("ptzPresets", "")) // other sessions have their own bucket
		mustDo(t, c, "a", move("stop"))          // a stop while moving is never refused
		_, err = c.Do(context.Background(), "a", move("stop"))
		wantCode(t, err, ptz.CodeRateLimited) // but a stop of a still camera is
		time.Sleep(200 * time.Millisecond)
		mustDo(t, c, "a", move("left"))
	})
}

func TestRateLimitPerCamera(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFake()
		cfg := testConfig()
		cfg.RatePerCamera = 3
		c := start(t, cfg, f)
		for _, s := range []string{"a", "b", "c"} {
			mustDo(t, c, s, req("ptzPresets", ""))
		}
		_, err := c.Do(context.Background(), "d", req("ptzPresets", ""))
		wantCode(t, err, ptz.CodeRateLimited)

		// A move waits for a token instead (latest wins), and stops are
		// never held up.
		mustDo(t, c, "a", move("left"))
		mustDo(t, c, "a", move("stop"))
		if got := joined(f.log()); got != "Presets Presets Presets Move(-0.5,0,0) Stop" {
			t.Errorf("calls %q", got)
		}
	})
}

func TestFailedMoveStopsAndReports(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFake()
		c := start(t, testConfig(), f)
		f.setErr("Move", fault{"ter:InvalidArgVal"})
		_, err := c.Do(context.Background(), "a", move("left"))
		pe := wantError(t, err, ptz.CodeCameraFault)
		if pe.Fault != "ter:InvalidArgVal" || pe.Message != "ptzMove: the camera reported an error (ter:InvalidArgVal)" {
			t.Errorf("error %+v", pe)
		}
		synctest.Wait()
		if got := joined(f.log()); got != "Move(-0.5,0,0) Stop" {
			t.Errorf("calls %q", got)
		}
	})
}

func TestSlowCameraTimesOutWithoutWedging(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFake()
		cfg := testConfig()
		cfg.CallTimeout = 3 * time.Second
		c := start(t, cfg, f)
		f.gate("GotoHome") // never answers
		t0 := time.Now()
		_, err := c.Do(context.Background(), "a", move("home"))
		wantCode(t, err, ptz.CodeTimeout)
		if d := time.Since(t0); d != 3*time.Second {
			t.Errorf("timed out after %v, want 3s", d)
		}
		mustDo(t, c, "a", req("ptzGotoPreset", `{"name":" yard "}`))
		if got := joined(f.log()); got != "GotoHome Presets GotoPreset(2)" {
			t.Errorf("calls %q", got)
		}
	})
}

func TestStopRetries(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFake()
		c := start(t, testConfig(), f)
		mustDo(t, c, "a", move("left"))
		f.setErr("Stop", errors.New("connection refused"))
		time.Sleep(2 * time.Second)
		synctest.Wait()
		calls := f.callList()
		if got := joined(f.log()); got != "Move(-0.5,0,0) Stop Stop Stop" {
			t.Fatalf("calls %q, want three stop attempts", got)
		}
		if d := calls[2].at.Sub(calls[1].at); d != 200*time.Millisecond {
			t.Errorf("back-off %v, want 200ms", d)
		}
	})
}

func TestUnsupportedCommandsAreRefused(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFake()
		f.features = &ptz.Features{Move: true, Stop: true, Status: true, Aux: []int{1}}
		c := start(t, testConfig(), f)
		for _, r := range []ptz.Request{move("home"), move("zoomIn"), req("setAux", `{"auxNumber":2,"on":true}`),
			req("ptzPresets", ""), req("ptzCenter", `{"x":0.1,"y":0.1}`), req("ptzAbsolute", `{"zoom":1}`)} {
			_, err := c.Do(context.Background(), "a", r)
			wantCode(t, err, ptz.CodeUnsupported)
		}
		mustDo(t, c, "a", req("setAux", `{"auxNumber":1,"on":false}`))
		synctest.Wait()
		if got := joined(f.log()); got != "SetAux(1,false)" {
			t.Errorf("calls %q", got)
		}
		caps := c.Capabilities()
		if !slices.Equal(caps.Methods, []ptz.Method{ptz.MethodMove, ptz.MethodSetAux, ptz.MethodStatus}) {
			t.Errorf("methods %v", caps.Methods)
		}
		if !slices.Contains(caps.Directions, ptz.Stop) || slices.Contains(caps.Directions, ptz.ZoomIn) {
			t.Errorf("directions %v", caps.Directions)
		}
	})
}

func TestCenter(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFake()
		c := start(t, testConfig(), f)
		// At the widest zoom the right edge is 30° off the axis (60°
		// field of view): 30° of 180° is a pan translation of 1/6.
		v := mustDo(t, c, "a", req("ptzCenter", `{"x":1,"y":0.5}`)).(ptz.Vector)
		if got := vec(v); got != "0.1667,0,-" {
			t.Errorf("translation %s", got)
		}
		// Zoomed in fully (10×), the field of view is 6.6° and the edge
		// 3.3° off the axis.
		f.mu.Lock()
		f.zoom = 1
		f.mu.Unlock()
		mustDo(t, c, "a", req("ptzCenter", `{"x":"1","y":0.5}`))
		if got := joined(f.log()); got != "Status RelativeMove(0.1667,0,-) Status RelativeMove(0.01836,0,-)" {
			t.Errorf("calls %q", got)
		}
	})
}

func TestSetPresetStopsFirst(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFake()
		c := start(t, testConfig(), f)
		mustDo(t, c, "a", move("left"))
		r := mustDo(t, c, "a", req("ptzSetPreset", `{"name":"Door"}`)).(ptz.PresetResult)
		if r.Token != "9" || r.Name != "Door" {
			t.Errorf("result %+v", r)
		}
		if got := joined(f.log()); got != "Move(-0.5,0,0) Stop SetPreset(Door|)" {
			t.Errorf("calls %q", got)
		}
	})
}

func TestGotoPresetByNameNotFound(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := start(t, testConfig(), newFake())
		_, err := c.Do(context.Background(), "a", req("ptzGotoPreset", `{"name":"Garage"}`))
		pe := wantError(t, err, ptz.CodeNotFound)
		if pe.Message != `ptzGotoPreset: no preset named "Garage"` {
			t.Errorf("message %q", pe.Message)
		}
	})
}

func TestStatusIsCachedBriefly(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFake()
		c := start(t, testConfig(), f)
		st := mustDo(t, c, "a", req("ptzStatus", "")).(ptz.StatusResult)
		if *st.PanDegrees != 90 || *st.TiltDegrees != -22.5 || *st.FieldOfView != 60 || st.MoveStatus != "unknown" {
			t.Errorf("status %+v", st)
		}
		mustDo(t, c, "b", req("ptzStatus", ""))
		time.Sleep(250 * time.Millisecond)
		mustDo(t, c, "b", req("ptzStatus", ""))
		if got := joined(f.log()); got != "Status Status" {
			t.Errorf("calls %q, want the second status from the cache", got)
		}
	})
}

func TestCloseStopsAndRefusesLater(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFake()
		c := start(t, testConfig(), f)
		mustDo(t, c, "a", move("left"))
		c.Close()
		if got := joined(f.log()); got != "Move(-0.5,0,0) Stop" {
			t.Errorf("calls %q", got)
		}
		if !f.closed {
			t.Error("driver not closed")
		}
		_, err := c.Do(context.Background(), "a", move("left"))
		wantCode(t, err, ptz.CodeUnavailable)
		c.Close() // twice is fine
	})
}

func TestCancelledRequestIsDropped(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFake()
		c := start(t, testConfig(), f)
		f.gate("GotoHome")
		c.Submit(context.Background(), "a", move("home"), func(any, error) {})
		synctest.Wait()
		ctx, cancel := context.WithCancel(context.Background())
		errs := make(chan error, 1)
		c.Submit(ctx, "a", req("ptzPresets", ""), func(_ any, err error) { errs <- err })
		cancel()
		f.ungate("GotoHome")
		wantCode(t, <-errs, ptz.CodeUnavailable)
		if got := joined(f.log()); got != "GotoHome" {
			t.Errorf("calls %q", got)
		}
	})
}

func TestDiscreteMoveStopsAContinuousOneFirst(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFake()
		c := start(t, testConfig(), f)
		mustDo(t, c, "a", move("left"))
		mustDo(t, c, "a", req("ptzGotoPreset", `{"token":"2"}`))
		time.Sleep(time.Second)
		synctest.Wait()
		if got := joined(f.log()); got != "Move(-0.5,0,0) Stop GotoPreset(2)" {
			t.Errorf("calls %q: want the move stopped before the preset, and no watchdog stop after", got)
		}
		st := mustDo(t, c, "a", req("ptzStatus", "")).(ptz.StatusResult)
		if st.Moving {
			t.Error("status says a continuous move runs")
		}
	})
}
