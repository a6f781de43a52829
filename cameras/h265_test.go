package cameras

import (
	"bytes"
	"context"
	"testing"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h265"

	"github.com/camgate/camgate/cameras/cameratest"
)

// An H.265 camera streams: its frames are H.265, each keyframe carries the
// VPS, SPS and PPS that the camera announced only in its SDP, and their
// decode times are their presentation times (no B-frames).
func TestH265CameraStreams(t *testing.T) {
	t.Parallel()
	srv, clip := cameratest.Serve(t, "h265.mp4")
	if clip.Codec != cameratest.H265 {
		t.Fatalf("testdata/h265.mp4 is %s", clip.Codec)
	}
	r := startTestRegistry(t, oneCamera("hevc", srv.URL(), "tcp"), discardLog())
	cs := defaultStreamOf(t, r, "hevc")
	reader := cs.Hub.AddReader(256)
	defer reader.Close()
	ctx, cancel := context.WithTimeout(context.Background(), svDeadline)
	defer cancel()
	keys := 0
	for i := 0; i < 60; i++ {
		it, err := reader.Next(ctx)
		if err != nil {
			t.Fatalf("after %d frames: %v", i, err)
		}
		f := it.Frame
		if f.Codec != CodecH265 || f.DTS != f.PTS {
			t.Fatalf("frame %d: codec %s, DTS %d, PTS %d: want H.265 with DTS = PTS", i, f.Codec, f.DTS, f.PTS)
		}
		if i == 0 && !f.Key {
			t.Fatal("the first frame is not a keyframe")
		}
		if f.Key {
			keys++
			vps, sps, pps := f.ParamSets()
			if !bytes.Equal(vps, clip.VPS) || !bytes.Equal(sps, clip.SPS) || !bytes.Equal(pps, clip.PPS) || !h265.IsRandomAccess(f.AU) {
				t.Fatalf("keyframe %d does not start with the SDP's VPS, SPS and PPS", i)
			}
		}
	}
	if keys < 2 {
		t.Errorf("%d keyframes in 60 frames of a clip with one every 50", keys)
	}
	if st := cs.Status(); st.State != StateStreaming || cs.Hub.Codec() != CodecH265 {
		t.Errorf("state %+v, codec %s: want streaming H.265", st, cs.Hub.Codec())
	}
}

// FrameBuilder normalizes H.265 as it does H.264: delimiters and in-band
// parameter sets out, the latest VPS, SPS and PPS in front of every IRAP,
// nothing for an IRAP whose parameter sets are unknown.
func TestFrameBuilderH265(t *testing.T) {
	t.Parallel()
	clip, err := cameratest.Load(cameratest.Path("h265.mp4"))
	if err != nil {
		t.Fatal(err)
	}
	aud := []byte{byte(h265.NALUType_AUD_NUT) << 1, 1, 0x50}
	key, next := clip.Frames[0].AU, clip.Frames[1].AU

	b := NewFrameBuilder(nil, nil)
	b.ResetH265(nil, nil, nil)
	if f := b.Build(key); f != nil {
		t.Fatal("an IRAP without parameter sets was built")
	}
	// In band, after a delimiter: taken, and put in front.
	f := b.Build(append([][]byte{aud, clip.VPS, clip.SPS, clip.PPS}, key...))
	if f == nil || !f.Key || f.Codec != CodecH265 {
		t.Fatalf("keyframe with in-band parameter sets: %+v", f)
	}
	want := append([][]byte{clip.VPS, clip.SPS, clip.PPS}, key...)
	if len(f.AU) != len(want) {
		t.Fatalf("keyframe has %d NAL units, want %d", len(f.AU), len(want))
	}
	for i := range want {
		if !bytes.Equal(f.AU[i], want[i]) {
			t.Fatalf("NAL unit %d differs", i)
		}
	}
	// Then without: remembered.
	if f := b.Build(key); f == nil || len(f.AU) != len(want) {
		t.Fatal("the next keyframe did not get the remembered parameter sets")
	}
	if f := b.Build(append([][]byte{aud}, next...)); f == nil || f.Key || len(f.AU) != len(next) {
		t.Fatal("a delta frame was not passed through without its delimiter")
	}
	for _, f := range []*Frame{b.Build(key), b.Build(next)} {
		size := 0
		for _, p := range f.Payloads {
			if len(p) > MaxPayloadSize {
				t.Fatalf("payload of %d bytes", len(p))
			}
			size += len(p)
		}
		if size != f.Size || size == 0 {
			t.Fatalf("Size %d, payloads %d", f.Size, size)
		}
	}
}
