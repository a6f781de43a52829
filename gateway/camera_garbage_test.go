package gateway_test

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
	"github.com/pion/webrtc/v4"

	"github.com/camgate/camgate/appsettings"
	"github.com/camgate/camgate/cameras/demo"
)

// healthyCamera is a second camera, next to the corrupt harness camera.
const (
	healthyCameraID = "6C0D9F0E-3333-4A2B-8C3D-0123456789AB"
	healthyStreamID = "6C0D9F0E-4444-4A2B-8C3D-0123456789AB"
)

// TestCameraGarbage feeds camgate a camera whose encoder emits random NAL
// units and truncated slices. camgate must keep running, its viewer must
// keep receiving frames, and a healthy camera on the same gateway must be
// unaffected.
func TestCameraGarbage(t *testing.T) {
	t.Parallel()
	healthy := &demo.Server{Address: "127.0.0.1:0", Clip: loadClip(t), InBandParameterSets: true, StartOnFirstPlay: true, Logger: testLogger(t)}
	if err := healthy.Start(); err != nil {
		t.Fatalf("start healthy camera: %v", err)
	}
	t.Cleanup(healthy.Close) // runs after the env's cleanup

	// Garbage every 5th frame and a truncated slice every 7th; keyframes
	// (every 100th) are spared from garbage, so the viewer can decode.
	garbage, truncate := demo.GarbageEvery(5, 42), demo.TruncateEvery(7)
	env := newTestEnv(t, envOptions{
		inBandParams: true,
		corrupt:      func(i int, au [][]byte) [][]byte { return truncate(i, garbage(i, au)) },
		mutate: func(s *appsettings.Settings) {
			s.Cameras = append(s.Cameras, appsettings.Camera{
				Id: healthyCameraID, Name: "Healthy camera", Transport: "tcp",
				Streams: []appsettings.Stream{{Id: healthyStreamID, Url: healthy.URL(), Default: true}},
			})
		},
	})
	env.waitStreaming()
	hcam, _ := env.registry.Camera(healthyCameraID)
	waitFor(t, 15*time.Second, "the healthy camera to stream", func() (bool, string) {
		return hcam.DefaultStream().Hub.Stats().GOPFrames > 0, fmt.Sprint(hcam.DefaultStream().Status())
	})

	bad := env.play(liveBody)
	good := env.play(`{"deviceId":"` + healthyCameraID + `","resolution":"notInUse"}`)
	bad.waitFrames(30, 20*time.Second)
	goodFrames := good.waitFrames(30, 20*time.Second)
	// And they go on.
	bad.waitFrames(bad.frameCount()+25, 20*time.Second)
	goodFrames = good.waitFrames(len(goodFrames)+25, 20*time.Second)

	for _, c := range []*xprotectClient{bad, good} {
		if st := c.pc.ConnectionState(); st != webrtc.PeerConnectionStateConnected {
			t.Fatalf("viewer is %s, want connected", st)
		}
	}
	// The healthy stream is intact: it starts with a keyframe, every
	// keyframe carries the clip's SPS, and every NAL unit is of a kind the
	// clip has (slices, SEI, parameter sets).
	if first := goodFrames[0]; !first.isKey() {
		t.Fatalf("healthy viewer's first frame is %v, want a keyframe", first.types())
	}
	for i, f := range goodFrames {
		for _, typ := range f.types() {
			switch typ {
			case h264.NALUTypeNonIDR, h264.NALUTypeIDR, h264.NALUTypeSEI, h264.NALUTypeSPS, h264.NALUTypePPS:
			default:
				t.Fatalf("healthy frame %d has NAL types %v: garbage leaked across cameras", i, f.types())
			}
		}
		if f.isKey() {
			var sps h264.SPS
			if err := sps.Unmarshal(f.nalus[0]); err != nil || sps.Width() != 640 || sps.Height() != 360 {
				t.Fatalf("healthy keyframe %d: SPS %v (err %v), want the clip's 640x360", i, f.types(), err)
			}
		}
	}
	if r := env.send(http.MethodGet, "/rest/v1/cameras", nil); r.status != http.StatusOK {
		t.Fatalf("GET cameras: %d %s", r.status, r.body)
	}
}

// TestCameraGarbageKeepsParameterSets: a camera that gives SPS and PPS only
// in the SDP, then emits a garbage NAL unit whose type field says SPS. The
// hub must keep the SDP's SPS in front of keyframes instead of replacing it
// with the garbage for good, which would leave every later viewer with an
// undecodable stream.
func TestCameraGarbageKeepsParameterSets(t *testing.T) {
	t.Parallel()
	// Seed 4 puts a 1912-byte random "SPS" into frame 4 (and 19).
	env := newTestEnv(t, envOptions{corrupt: demo.GarbageEvery(5, 4)})
	c := env.play(liveBody)
	for i, f := range c.waitFrames(30, 20*time.Second) {
		if !f.isKey() {
			continue
		}
		var sps h264.SPS
		if err := sps.Unmarshal(f.nalus[0]); err != nil || sps.Width() != 640 || sps.Height() != 360 {
			t.Fatalf("keyframe %d (%v): SPS of %d bytes is %dx%d (err %v), want the SDP's 640x360",
				i, f.types(), len(f.nalus[0]), sps.Width(), sps.Height(), err)
		}
	}
}
