package main

import (
	"context"
	"io"
	"log/slog"
	"net"
	"os"
	"testing"
	"time"

	"github.com/camgate/camgate/appsettings"
	"github.com/camgate/camgate/cameras"
	"github.com/camgate/camgate/gateway"
	"github.com/camgate/camgate/oauth"
)

// TestScenarioAgainstInProcessGateway runs a short ramp (1 then 3 viewers)
// against a gateway in this process, fed by the stamped bench camera
// looping the demo clip. It checks the client's plumbing (sign-in, REST
// flow, frame assembly, stamps, accounting), never a speed.
func TestScenarioAgainstInProcessGateway(t *testing.T) {
	if testing.Short() {
		t.Skip("needs a few seconds of real streaming")
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	cam, err := startCamera("../../testdata/demo.h264", "127.0.0.1:0", 25, log)
	if err != nil {
		t.Fatal(err)
	}
	defer cam.close()

	const camID = "B3E7C0DE-0000-4BEC-8000-000000000001"
	hash, err := oauth.HashPassword("bench")
	if err != nil {
		t.Fatal(err)
	}
	s := appsettings.Defaults()
	s.Http.Listen = "127.0.0.1:0"
	s.WebRTC.UdpPort = 0
	s.WebRTC.MDNS = "disabled"
	s.WebRTC.IPs = []string{"127.0.0.1"}
	s.DataDir = t.TempDir()
	s.Cameras = []appsettings.Camera{{Id: camID, Name: "Bench", Transport: "tcp",
		Streams: []appsettings.Stream{{Id: "B3E7C0DE-0000-4BEC-8000-000000000002", Url: cam.url(), Default: true}}}}
	s.Auth.Roles = []appsettings.Role{{Name: "viewer", Live: []string{"*"}}}
	s.Auth.Users = []appsettings.User{{Username: "bench", PasswordHash: hash, Roles: []string{"viewer"}}}
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", s.Http.Listen)
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	auth, err := oauth.New(context.Background(), oauth.Options{Settings: s, Issuer: base + "/API/IDP", Log: log, FailureDelay: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer auth.Close()
	reg := cameras.NewRegistry(s, log)
	if err := reg.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer reg.Close()
	gw, err := gateway.New(gateway.Options{Settings: s, Cameras: reg, Auth: auth, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	gw.Serve(ln)
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = gw.Close(ctx)
	}()

	c, err := newClient(base, camID, true)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := c.signIn(ctx, "bench", "bench"); err != nil {
		t.Fatal(err)
	}
	if err := c.waitStreaming(ctx); err != nil {
		t.Fatal(err)
	}
	sc := &scenario{
		client: c, pid: os.Getpid(), camera: cam, fps: 25, steps: []int{1, 3}, batch: 2,
		window: 1500 * time.Millisecond, settle: 200 * time.Millisecond, tail: 300 * time.Millisecond,
		connectTimeout: 20 * time.Second, log: log,
	}
	results, err := sc.run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(results) != 3 {
		t.Fatalf("%d rows, want the baseline and 2 steps", len(results))
	}
	for _, r := range results[1:] {
		if r.Failed != 0 || r.TTFF.N != r.Added {
			t.Fatalf("step %d: %d failed, %d first frames for %d added", r.Viewers, r.Failed, r.TTFF.N, r.Added)
		}
		if r.CameraFrames == 0 || r.FramesReceived == 0 || r.FramesReceived > r.FramesExpected {
			t.Fatalf("step %d: received %d of %d frames (camera sent %d)", r.Viewers, r.FramesReceived, r.FramesExpected, r.CameraFrames)
		}
		if r.CamgateFramesOut == nil || *r.CamgateFramesOut == 0 {
			t.Fatalf("step %d: no frames out in camgate's /metrics", r.Viewers)
		}
		if r.Latency.N == 0 || r.PacketsRecv == 0 || r.CamgateRSSKB == 0 {
			t.Fatalf("step %d: latency samples %d, packets %d, RSS %d", r.Viewers, r.Latency.N, r.PacketsRecv, r.CamgateRSSKB)
		}
	}
	if gw.SessionCount() != 0 {
		t.Fatalf("%d sessions left after the scenario closed its viewers", gw.SessionCount())
	}
}
