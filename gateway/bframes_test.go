package gateway_test

import (
	"strings"
	"testing"
	"time"

	"github.com/camgate/camgate/appsettings"
	"github.com/camgate/camgate/cameras/cameratest"
)

// A camera with B-frames: the API and the viewer hear once that it is
// degraded and why, and the viewer's RTP clock increases and runs at the
// camera's real time (the frames' decode times), not faster.
func TestBFramesCameraDegradedAndClockAtRealTime(t *testing.T) {
	t.Parallel()
	cam, _ := cameratest.Serve(t, "bframes.mp4")
	camURL := cam.URL()
	env := newTestEnv(t, envOptions{mutate: func(s *appsettings.Settings) { s.Cameras[0].Streams[0].Url = camURL }})
	waitUntil(t, stateDeadline, "the camera degraded", func() bool { return env.cameraStatus().State == "degraded" })
	if st := env.cameraStatus(); st.Cause != "bFrames" || st.Reason == "" {
		t.Fatalf("cameras API: %+v, want cause bFrames and a reason", st)
	}

	states := &stateLog{}
	c := env.play(liveBody)
	states.listenDataChannel(c)
	ev := states.waitState(t, "REST viewer", 0, "degraded")
	const fix = "turn off B-frames on the camera, or set Transcode"
	if ev.Cause != "bFrames" || !strings.Contains(ev.Reason, fix) {
		t.Errorf("cameraState event %+v: want cause bFrames and the fix %q", ev, fix)
	}

	// The cached GOP comes first, 1 ms apart; from frame 60 on the frames
	// are live: 100 of them at the clip's 25 fps span 99 × 40 ms of the
	// camera's decode clock, so as many milliseconds of RTP clock (±2 %).
	frames := c.waitFrames(160, 30*time.Second)
	for i := 1; i < len(frames); i++ {
		if d := int32(frames[i].timestamp - frames[i-1].timestamp); d <= 0 {
			t.Fatalf("frame %d: RTP timestamp %d after %d: timestamps must increase", i, frames[i].timestamp, frames[i-1].timestamp)
		}
	}
	live := frames[60:160]
	span := int64(live[len(live)-1].timestamp - live[0].timestamp)
	if want := int64(99 * 40); span < want*98/100 || span > want*102/100 {
		t.Errorf("99 frame intervals span %d ms of RTP clock, want %d ms ±2 %% (the camera's decode clock)", span, want)
	}
	n := 0
	for _, ev := range states.from(0) {
		if ev.State == "degraded" {
			n++
		}
	}
	if n != 1 {
		t.Errorf("the viewer was told %d times that the camera is degraded, want once: %+v", n, states.from(0))
	}
	states.checkBad(t, "REST viewer")
}
