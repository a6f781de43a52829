package ptz_test

import (
	"context"
	"log/slog"
	"slices"
	"strings"
	"testing"
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
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
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
