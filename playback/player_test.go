package playback

import (
	"testing"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"

	"github.com/camgate/camgate/cameras"
)

func TestRTPTimestamp(t *testing.T) {
	t.Parallel()
	cases := []struct {
		offset time.Duration
		rate   uint32
		want   uint32
	}{
		{0, 1000, 0},
		{89500 * time.Millisecond, 1000, 89500},
		{-2500 * time.Millisecond, 1000, 0xffffffff - 2500 + 1},
		{1499 * time.Microsecond, 1000, 1},                   // rounds
		{1500 * time.Microsecond, 1000, 2},                   // half up
		{-1500 * time.Microsecond, 1000, 0xffffffff - 2 + 1}, // symmetric
		{time.Second, 90000, 90000},
		{40 * time.Millisecond, 90000, 3600},
		{-40 * time.Millisecond, 90000, 0xffffffff - 3600 + 1},
		{time.Duration(1<<31) * time.Millisecond, 1000, 1 << 31}, // 24.9 days: the signed ms clock wraps
		{14 * time.Hour, 90000, uint32(14 * 3600 * 90000 % (1 << 32))},
	}
	for _, tc := range cases {
		if got := (PlayFrame{Offset: tc.offset}).RTPTimestamp(tc.rate); got != tc.want {
			t.Errorf("RTPTimestamp(%v at %d Hz) = %d, want %d", tc.offset, tc.rate, got, tc.want)
		}
	}
}

// A recorded IDR without its parameter sets (a file from elsewhere) gets
// the segment's, as a live IDR gets the SDP's; a damaged sample builds
// nothing and is skipped.
func TestBuildFrameFromSample(t *testing.T) {
	t.Parallel()
	var sps, pps []byte
	var rest [][]byte
	for _, n := range clipAU(loadClip(t), 0) {
		switch h264.NALUType(n[0] & 0x1f) {
		case h264.NALUTypeSPS:
			sps = n
		case h264.NALUTypePPS:
			pps = n
		default:
			rest = append(rest, n)
		}
	}
	p := &Player{build: cameras.NewFrameBuilder(nil, nil)}
	p.build.Reset(sps, pps) // as openCursor does with the segment's init
	payload, err := h264.AVCC(rest).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	f := p.buildFrame(payload)
	if f == nil || !f.Key || !sameAU(f.AU, append([][]byte{sps, pps}, rest...)) {
		t.Fatalf("IDR without parameter sets built as %+v", f)
	}
	checkFrameShape(t, f)
	if f := p.buildFrame([]byte{0, 0, 0, 9, 0x41}); f != nil {
		t.Errorf("a damaged sample built %+v", f)
	}
}
