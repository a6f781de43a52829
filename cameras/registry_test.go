package cameras

import (
	"context"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/camgate/camgate/appsettings"
	"github.com/camgate/camgate/cameras/demo"
	"github.com/camgate/camgate/cameras/testutil"
)

// busyGoroutines lists the goroutines that are inside the package's
// supervisor, RTSP source or hub. The goroutines the registry starts are
// closures that call into these; once such a closure has signalled its exit
// (wg.Done, close(done)) it may linger on its last line for a moment, but it
// has left these functions for good. So after Close the list must be empty.
func busyGoroutines() []string {
	return goroutinesIn(
		"camgate/cameras.(*supervisor).run(",
		"camgate/cameras.(*supervisor).reportProblems(",
		"camgate/cameras.(*rtspPull).",
		"camgate/cameras.(*Stream).",
		"camgate/cameras.(*ingestCounters).",
	)
}

// goroutinesIn returns the stacks of the goroutines with a frame that
// contains one of the markers.
func goroutinesIn(markers ...string) []string {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	var found []string
	for _, g := range strings.Split(string(buf), "\n\n") {
		for _, m := range markers {
			if strings.Contains(g, m) {
				found = append(found, g)
				break
			}
		}
	}
	return found
}

// TestRegistryStreamsAndCloses is the happy path: a camera in settings
// streams into its hub, the hub caches a keyframe for new viewers, and Run
// returns with every goroutine of the registry gone.
// Not parallel: it counts the process's goroutines.
func TestRegistryStreamsAndCloses(t *testing.T) {
	baseline := runtime.NumGoroutine()

	cam := startTestCamera(t, nil)
	log, logs := captureLog()
	r := NewRegistry(oneCamera("front-door", cam.URL(), "auto").Cameras, log)
	if r.Started() {
		t.Fatal("Started before Run")
	}
	stop := testutil.Run(t, r.Run, r.Started)

	cs := defaultStreamOf(t, r, "front-door")
	if !cs.Default || cs.ID != "front-door-main" {
		t.Fatalf("default stream = %+v, want the camera's only stream", cs)
	}
	if cs.Hub.CameraID != "front-door" || cs.Hub.StreamID != "front-door-main" {
		t.Fatalf("hub is named %s/%s", cs.Hub.CameraID, cs.Hub.StreamID)
	}
	st := waitState(t, cs, StateStreaming)
	if st.Cause != "" || st.Reason != "" || st.Detail != "" || st.Since.IsZero() {
		t.Fatalf("streaming status = %+v, want no error and a Since", st)
	}
	first := waitFrames(t, cs.Hub, 0)
	later := waitFrames(t, cs.Hub, first.FramesIn+20)
	if later.Keyframes == 0 || later.GOPFrames == 0 || later.BytesIn == 0 || later.Epoch != 1 {
		t.Fatalf("hub stats = %+v, want frames, a cached GOP and epoch 1", later)
	}

	// A new viewer starts from the cached keyframe.
	viewer := cs.Hub.AddReader(256)
	ctx, cancel := context.WithTimeout(context.Background(), svDeadline)
	it, err := viewer.Next(ctx)
	cancel()
	if err != nil {
		t.Fatalf("viewer: %v", err)
	}
	if !it.Frame.Key || !it.CatchUp || len(it.Frame.Payloads) == 0 {
		t.Fatalf("first viewer item: key=%v catchUp=%v payloads=%d, want the cached keyframe",
			it.Frame.Key, it.CatchUp, len(it.Frame.Payloads))
	}
	viewer.Close()

	if out := logs.String(); !strings.Contains(out, "camera streaming") ||
		!strings.Contains(out, "component=cameras") || !strings.Contains(out, "camera=front-door") {
		t.Fatalf("log lacks the streaming line with component and camera:\n%s", out)
	}

	stop()
	if r.Started() {
		t.Fatal("Started after Run returned")
	}
	// Run returns only when the registry's goroutines have exited.
	if busy := busyGoroutines(); len(busy) != 0 {
		t.Fatalf("after Run returned, %d goroutines of the registry still run:\n%s", len(busy), strings.Join(busy, "\n\n"))
	}
	if err := r.Run(context.Background()); err == nil {
		t.Fatal("a second Run succeeded")
	}
	cam.Close()
	// gortsplib's and the demo camera's goroutines end on their own
	// schedule; nothing may be left behind for good.
	deadline := time.Now().Add(svDeadline)
	for runtime.NumGoroutine() > baseline {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("%d goroutines after Close, %d before the test:\n%s",
				runtime.NumGoroutine(), baseline, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// The registry keeps the cameras in settings order, finds cameras and
// streams by Id in any case, picks each camera's default stream, and runs
// every stream on its own: cameras nobody serves fail without affecting a
// camera that streams.
func TestRegistryCamerasAndStreams(t *testing.T) {
	t.Parallel()
	const gateID, gateStream = "A364956F-39A5-4CBC-9FFE-55B0C802CA77", "0E7A1C52-3B7D-4C55-9D0B-5C8E51D0A001"
	cam := startTestCamera(t, func(s *demo.Server) { s.InBandParameterSets = true })
	s := appsettings.Defaults()
	s.Cameras = []appsettings.Camera{{
		Id: gateID, Name: "Gate", Transport: "tcp",
		Streams: []appsettings.Stream{{Id: gateStream, Name: "main", Url: cam.URL(), Default: true}},
	}, {
		Id: "Lobby", Transport: "tcp",
		// No stream is marked default: the first one is.
		Streams: []appsettings.Stream{
			{Id: "Lobby-High", Url: "rtsp://" + freeAddr(t) + "/high"},
			{Id: "Lobby-Low", Url: "rtsp://" + freeAddr(t) + "/low"},
		},
	}}
	r := startTestRegistry(t, s, discardLog())

	cams := r.Cameras()
	if len(cams) != 2 || cams[0].ID != gateID || cams[1].ID != "Lobby" {
		t.Fatalf("cameras = %v, want the settings' order", cameraIDs(cams))
	}
	if cams[1].Name != "Lobby" {
		t.Errorf("a camera without a Name is called %q, want its Id", cams[1].Name)
	}
	for _, id := range []string{gateID, strings.ToLower(gateID)} {
		if c, ok := r.Camera(id); !ok || c != cams[0] {
			t.Errorf("Camera(%q) = %v, %v; want the gate", id, c, ok)
		}
	}
	if c, ok := r.Camera("lobby"); !ok || c != cams[1] {
		t.Errorf("Camera(lobby) = %v, %v", c, ok)
	}
	if _, ok := r.Camera("no-such-camera"); ok {
		t.Error("Camera(no-such-camera) found something")
	}

	gate := cams[0]
	def, ok := gate.Stream("")
	if !ok || def.ID != gateStream || !def.Default || gate.DefaultStream() != def {
		t.Fatalf("gate's default stream = %+v, %v", def, ok)
	}
	if s, ok := gate.Stream(strings.ToLower(gateStream)); !ok || s != def {
		t.Errorf("Stream(lower-case id) = %v, %v", s, ok)
	}
	if _, ok := gate.Stream("no-such-stream"); ok {
		t.Error("Stream(no-such-stream) found something")
	}
	lobby := cams[1]
	if d := lobby.DefaultStream(); d == nil || d.ID != "Lobby-High" || lobby.Streams[1].Default {
		t.Errorf("Lobby's default stream = %+v, want the first", d)
	}
	if s, ok := lobby.Stream("lobby-low"); !ok || s != lobby.Streams[1] {
		t.Errorf("Stream(lobby-low) = %v, %v", s, ok)
	}

	waitState(t, def, StateStreaming)
	st := waitFrames(t, def.Hub, 0)
	if st.Keyframes == 0 || st.GOPFrames == 0 {
		t.Fatalf("gate hub = %+v, want a cached keyframe at once (the camera starts with one)", st)
	}
	// The cameras nobody serves fail on their own without affecting the gate.
	waitState(t, lobby.Streams[0], StateOffline)
	waitState(t, lobby.Streams[1], StateOffline)
	if def.Status().State != StateStreaming {
		t.Fatalf("gate stream = %+v", def.Status())
	}
}

func cameraIDs(cams []*Camera) []string {
	var ids []string
	for _, c := range cams {
		ids = append(ids, c.ID)
	}
	return ids
}
