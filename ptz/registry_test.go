package ptz_test

import (
	"context"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/camgate/camgate/cameras/testutil"
	"github.com/camgate/camgate/ptz"
)

func TestRegistry(t *testing.T) {
	a, b := newFake(), newFake()
	r, err := ptz.NewRegistry([]ptz.Camera{
		{Config: ptz.Config{CameraID: "Cam-A", NudgeLength: time.Second}, Driver: a},
		{Config: ptz.Config{CameraID: "cam-b"}, Driver: b},
	}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if got := r.CameraIDs(); !slices.Equal(got, []string{"Cam-A", "cam-b"}) {
		t.Errorf("cameras %v", got)
	}
	stop := testutil.Run(t, r.Run, nil)
	if _, ok := r.Get("cam-c"); ok {
		t.Error("a camera without PTZ has a controller")
	}
	ca, ok := r.Get("CAM-a") // any case
	if !ok {
		t.Fatal("no controller for cam-a")
	}
	// Each controller has its own configuration, defaults applied.
	if cfg := ca.Config(); cfg.CameraID != "Cam-A" || cfg.NudgeLength != time.Second || cfg.LeaseTimeout != 5*time.Second {
		t.Errorf("cam-a config %+v", cfg)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := ca.Do(ctx, "s", move("left")); err != nil {
		t.Fatal(err)
	}
	if err := r.StopAll(ctx, "test"); err != nil {
		t.Fatal(err)
	}
	r.Release("s")
	stop()
	if err := r.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	for name, f := range map[string]*fakeDriver{"a": a, "b": b} {
		f.mu.Lock()
		closed := f.closed
		f.mu.Unlock()
		if !closed {
			t.Errorf("driver %s not closed", name)
		}
	}
	if _, err := ca.Do(ctx, "s", move("left")); err == nil {
		t.Error("a closed controller took a command")
	}
}

// A camera listed twice (in any case), without an id or without a driver
// starts nothing, and the registry closes the drivers it was given.
func TestRegistryRefusesBadCameras(t *testing.T) {
	for name, ids := range map[string][]string{
		"twice":     {"cam", "CAM"},
		"no id":     {"cam", ""},
		"no driver": {"cam", "nil"},
	} {
		t.Run(name, func(t *testing.T) {
			var cams []ptz.Camera
			var fakes []*fakeDriver
			for _, id := range ids {
				if id == "nil" {
					cams = append(cams, ptz.Camera{Config: ptz.Config{CameraID: id}})
					continue
				}
				f := newFake()
				fakes = append(fakes, f)
				cams = append(cams, ptz.Camera{Config: ptz.Config{CameraID: id}, Driver: f})
			}
			r, err := ptz.NewRegistry(cams, nil)
			if err == nil || r != nil {
				t.Fatalf("NewRegistry(%q) = %v, %v; want an error", ids, r, err)
			}
			t.Log(err)
			for i, f := range fakes {
				f.mu.Lock()
				closed, calls := f.closed, len(f.calls)
				f.mu.Unlock()
				if !closed || calls != 0 {
					t.Errorf("driver %d: closed %v, %d calls; want closed and never called", i, closed, calls)
				}
			}
		})
	}
}

// Run keeps the controllers until its ctx ends; then every camera gets its
// final stop and Run returns once the controllers have ended (the drivers
// are closed).
func TestRegistryRunStopsEveryCameraWhenCtxEnds(t *testing.T) {
	t.Parallel()
	a, b := newFake(), newFake()
	r, err := ptz.NewRegistry([]ptz.Camera{
		{Config: ptz.Config{CameraID: "cam-a"}, Driver: a},
		{Config: ptz.Config{CameraID: "cam-b"}, Driver: b},
	}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	stop := testutil.Run(t, r.Run, nil)
	ca, _ := r.Get("cam-a")
	cmdCtx, cmdCancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cmdCancel()
	if _, err := ca.Do(cmdCtx, "s", move("left")); err != nil {
		t.Fatalf("a command while Run runs: %v", err)
	}
	a.reset()
	b.reset()
	stop() // ends Run's ctx and returns once Run has
	for name, f := range map[string]*fakeDriver{"a": a, "b": b} {
		f.mu.Lock()
		closed := f.closed
		f.mu.Unlock()
		if log := f.log(); !closed || len(log) == 0 || !strings.HasPrefix(log[len(log)-1], "Stop") {
			t.Errorf("driver %s: closed=%v, calls at shutdown %v; want a final stop, then closed", name, closed, log)
		}
	}
}

// NewRegistry starts nothing: no call reaches a camera before Run. A
// command sent before Run waits and is carried out once Run has started
// the controller (after its start-up stop), not lost.
func TestRegistryCommandBeforeRunWaitsForRun(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a := newFake()
		r, err := ptz.NewRegistry([]ptz.Camera{{Config: ptz.Config{CameraID: "cam-a"}, Driver: a}}, slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		ca, _ := r.Get("cam-a")
		got := make(chan error, 1)
		go func() {
			_, err := ca.Do(context.Background(), "s", ptz.Request{Method: ptz.MethodStatus})
			got <- err
		}()
		synctest.Wait() // the command waits in the queue
		if log := a.log(); len(log) != 0 {
			t.Fatalf("driver calls before Run: %v", log)
		}
		ctx, cancel := context.WithCancel(context.Background())
		ran := make(chan error, 1)
		go func() { ran <- r.Run(ctx) }()
		if err := <-got; err != nil {
			t.Fatalf("a command sent before Run: %v", err)
		}
		if log := joined(a.log()); log != "Connect Stop Status" {
			t.Errorf("driver calls %q, want the start-up (Connect Stop) then the status", log)
		}
		cancel()
		if err := <-ran; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
}

// A registry never Run (camgate failing to start) closes its drivers
// without a call to any camera.
func TestRegistryCloseWithoutRun(t *testing.T) {
	t.Parallel()
	a := newFake()
	r, err := ptz.NewRegistry([]ptz.Camera{{Config: ptz.Config{CameraID: "cam-a"}, Driver: a}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	a.mu.Lock()
	closed := a.closed
	a.mu.Unlock()
	if log := a.log(); !closed || len(log) != 0 {
		t.Errorf("closed=%v, calls %v; want closed without calls", closed, log)
	}
	if err := r.Run(context.Background()); err == nil {
		t.Error("Run after Close succeeded")
	}
}

// A registry without cameras runs until its ctx ends, like any component
// (cmd/camgate takes an early return for a failure).
func TestRegistryWithoutCamerasRunsUntilCtxEnds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r, err := ptz.NewRegistry(nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		ran := make(chan error, 1)
		go func() { ran <- r.Run(ctx) }()
		synctest.Wait()
		select {
		case err := <-ran:
			t.Fatalf("Run returned before its ctx ended: %v", err)
		default:
		}
		cancel()
		if err := <-ran; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
}
