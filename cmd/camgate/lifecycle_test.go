package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/camgate/camgate/appsettings"
	"github.com/camgate/camgate/cameras/testutil"
)

// servingDemoSettings are the settings of a camgate on loopback with the demo
// camera (recorded, with simulated PTZ) serving until the test ends,
// DataDir in a folder of the test, and the drain given.
func servingDemoSettings(t *testing.T, drain time.Duration) appsettings.Settings {
	t.Helper()
	s := appsettings.Defaults()
	s.Http.Listen = "127.0.0.1:0"
	s.WebRTC.UdpPort = 0
	s.WebRTC.MDNS = "disabled"
	s.DataDir = t.TempDir()
	s.Http.DrainPeriod = appsettings.Duration(drain)
	srv, err := startDemo(demoListen, filepath.Join("..", "..", "testdata", "demo.h264"), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	overlay := demoOverlay{url: srv.URL()}
	if err := overlay.apply(&s); err != nil {
		t.Fatal(err)
	}
	s.ApplyDefaults()
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	return s
}

// waitFor polls cond until it holds; the deadline only bounds a hang.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not after 30 s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// The shutdown goes in reverse order of construction: while the gateway
// drains (/readyz 503), the demo camera still streams into its hub and
// the recorder still records it; only then do the recorders finish, the
// store close, PTZ send its final stop, the cameras stop, and oauth end.
// A second signal (hurry) cuts the drain short.
func TestShutdownDrainsWhileCamerasAndRecordersRun(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("streams the demo camera in real time")
	}
	s := servingDemoSettings(t, 10*time.Minute) // drains until hurry
	logs := &testutil.SyncBuffer{}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	ctx, shutdown := context.WithCancel(context.Background())
	defer shutdown()
	hurry, cutNow := context.WithCancel(context.Background())
	defer cutNow()
	a, err := build(ctx, hurry, s, log)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- runComponents(ctx, a.components(log), log) }()

	cam, _ := a.cameras.Camera(demoCameraID)
	hub := cam.DefaultStream().Hub
	if len(a.recorders) != 1 || len(a.ptz.CameraIDs()) != 1 {
		t.Fatalf("%d recorders and %d PTZ cameras; want the demo camera's", len(a.recorders), len(a.ptz.CameraIDs()))
	}
	rec := a.recorders[0]
	waitFor(t, "the demo camera recorded", func() bool { return rec.Stats().FramesWritten > 0 })

	shutdown() // the first signal
	readyz := "http://" + a.gw.Addr().String() + "/readyz"
	waitFor(t, "/readyz 503 while draining", func() bool {
		resp, err := http.Get(readyz)
		if err != nil {
			t.Fatalf("/readyz while draining: %v", err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode == http.StatusServiceUnavailable
	})
	// A second of video more, in the hub and on disk, while draining.
	framesIn, written := hub.Stats().FramesIn, rec.Stats().FramesWritten
	waitFor(t, "frames while the gateway drains", func() bool {
		return hub.Stats().FramesIn >= framesIn+25 && rec.Stats().FramesWritten >= written+25
	})
	select {
	case err := <-done:
		t.Fatalf("camgate stopped during the drain: %v", err)
	default:
	}

	cutNow() // the second signal
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("runComponents: %v", err)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("camgate did not stop after the second signal")
	}
	out := logs.String()
	var order []string
	for _, m := range regexp.MustCompile(`msg=stopped component=(\w+)`).FindAllStringSubmatch(out, -1) {
		order = append(order, m[1])
	}
	if want := []string{"gateway", "recorders", "playback", "ptz", "cameras", "oauth"}; !slices.Equal(order, want) {
		t.Errorf("components stopped in the order %v; want %v", order, want)
	}
	for _, bad := range []string{"no frames for", "level=ERROR", "stop at shutdown failed"} {
		if strings.Contains(out, bad) {
			t.Errorf("the log says %q:\n%s", bad, out)
		}
	}
}
