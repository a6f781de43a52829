package cameras

import (
	"context"
	"strings"
	"testing"

	"github.com/camgate/camgate/cameras/cameratest"
)

// A camera with B-frames streams, but says it is degraded, why and what to
// do; its frames come in decode order with decode times that increase and
// follow the camera's clock, whatever their presentation times do.
func TestBFramesCameraIsDegraded(t *testing.T) {
	t.Parallel()
	srv, clip := cameratest.Serve(t, "bframes.mp4")
	if !clip.Reordered() {
		t.Fatal("testdata/bframes.mp4 has no B-frames: regenerate it with testdata/make-clips.sh")
	}
	log, logs := captureLog()
	r := startTestRegistry(t, oneCamera("bcam", srv.URL(), "tcp"), log)
	cs := defaultStreamOf(t, r, "bcam")
	reader := cs.Hub.AddReader(256)
	defer reader.Close()

	st := waitState(t, cs, StateDegraded)
	if st.Cause != CauseBFrames || !strings.Contains(st.Reason, "turn off B-frames on the camera, or set Transcode") {
		t.Errorf("status = %+v, want cause %q and a reason saying what to do", st, CauseBFrames)
	}

	// Two and a half GOPs' worth of frames from the first keyframe.
	ctx, cancel := context.WithTimeout(context.Background(), svDeadline)
	defer cancel()
	var frames []*Frame
	for len(frames) < 120 {
		it, err := reader.Next(ctx)
		if err != nil {
			t.Fatalf("after %d frames: %v", len(frames), err)
		}
		frames = append(frames, it.Frame)
	}
	ptsBack := false
	for i := 1; i < len(frames); i++ {
		prev, f := frames[i-1], frames[i]
		if f.DTS <= prev.DTS {
			t.Fatalf("frame %d: DTS %d after %d: decode times must increase", i, f.DTS, prev.DTS)
		}
		ptsBack = ptsBack || f.PTS < prev.PTS
	}
	if !ptsBack {
		t.Fatal("no PTS went backwards: the frames are not the clip's B-frames")
	}
	// The decode clock runs at the camera's rate: 99 frame intervals of a
	// 25 fps clip are 99 × 3600 ticks (±2 %), however the frames were
	// reordered. The first frames are left out: until the DTS extractor
	// has seen how deep the camera reorders, it steps 1 ms at a time.
	span := frames[119].DTS - frames[20].DTS
	if want := int64(99 * 3600); span < want*98/100 || span > want*102/100 {
		t.Errorf("99 frame intervals span %d DTS ticks, want %d ±2 %%", span, want)
	}
	// Told once, not at every reordered frame (one in three here).
	if n := strings.Count(logs.String(), "camera degraded"); n != 1 {
		t.Errorf("the log says %d times that the camera is degraded, want once:\n%s", n, logs.String())
	}
}

// A camera without B-frames is never degraded, and its decode times are
// its presentation times.
func TestCameraWithoutBFramesIsNotDegraded(t *testing.T) {
	t.Parallel()
	cam := startTestCamera(t, nil)
	r := startTestRegistry(t, oneCamera("plain", cam.URL(), "tcp"), discardLog())
	cs := defaultStreamOf(t, r, "plain")
	reader := cs.Hub.AddReader(256)
	defer reader.Close()
	ctx, cancel := context.WithTimeout(context.Background(), svDeadline)
	defer cancel()
	for i := 0; i < 30; i++ {
		it, err := reader.Next(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if it.Frame.DTS != it.Frame.PTS {
			t.Fatalf("frame %d: DTS %d, PTS %d: want them equal without B-frames", i, it.Frame.DTS, it.Frame.PTS)
		}
	}
	if st := cs.Status(); st.State != StateStreaming {
		t.Errorf("state = %+v, want streaming", st)
	}
}
