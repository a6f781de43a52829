package demo

import (
	"bytes"
	"errors"
	"testing"
	"time"
)

func TestDemoClipProperties(t *testing.T) {
	t.Parallel()
	c := loadDemo(t)

	if c.Len() != 500 {
		t.Errorf("frames = %d, want 500 (20 s at 25 fps)", c.Len())
	}
	if c.FPS() != DefaultFPS || c.Duration() != 20*time.Second {
		t.Errorf("fps %d duration %v, want 25 and 20s", c.FPS(), c.Duration())
	}
	if w, h := c.Size(); w != 640 || h != 360 {
		t.Errorf("size %dx%d, want 640x360", w, h)
	}
	if len(c.SPS()) == 0 || len(c.PPS()) == 0 {
		t.Fatal("SPS/PPS missing")
	}
	for i := range c.Len() {
		wantIDR := i%100 == 0 // a keyframe every 4 s, so GOP = 100
		if c.IsIDR(i) != wantIDR {
			t.Errorf("frame %d: IDR = %v, want %v", i, c.IsIDR(i), wantIDR)
		}
		au := c.AccessUnit(i)
		vcl := 0
		for _, n := range au {
			if isVCL(n) {
				vcl++
			}
		}
		if vcl != 1 || !isVCL(au[len(au)-1]) {
			t.Errorf("frame %d: %d slices, last NAL type %d; want one slice per frame, last", i, vcl, au[len(au)-1][0]&0x1f)
		}
		if sps, pps := hasParams(au); wantIDR && (!sps || !pps) {
			t.Errorf("frame %d: IDR without SPS/PPS in front", i)
		}
	}
}

func TestParseClipSkipsLeadingNonIDRAndAddsParams(t *testing.T) {
	t.Parallel()
	demo := loadDemo(t)
	sps, pps := demo.SPS(), demo.PPS()
	idr := slice(demo.AccessUnit(0))
	p1, p2 := slice(demo.AccessUnit(1)), slice(demo.AccessUnit(2))
	aud := []byte{0x09, 0xf0}

	// A P frame before the first IDR, an IDR without parameter sets in
	// front (they came earlier), an AUD, and a trailing SEI after the last
	// slice.
	data := annexB(t, [][]byte{sps, pps, p1}, [][]byte{idr}, [][]byte{aud, p2}, [][]byte{{0x06, 0x05, 0x01, 0x80}})
	c, err := ParseClip(data)
	if err != nil {
		t.Fatalf("ParseClip: %v", err)
	}
	if c.Len() != 2 {
		t.Fatalf("frames = %d, want 2 (leading P skipped, trailing SEI dropped)", c.Len())
	}
	if !c.IsIDR(0) || c.IsIDR(1) {
		t.Errorf("IDR flags = %v %v, want true false", c.IsIDR(0), c.IsIDR(1))
	}
	want0 := [][]byte{sps, pps, idr}
	if !equalAU(c.AccessUnit(0), want0) {
		t.Errorf("frame 0 has %d NALs; want SPS, PPS, IDR", len(c.AccessUnit(0)))
	}
	if !equalAU(c.AccessUnit(1), [][]byte{aud, p2}) {
		t.Errorf("frame 1: AUD not attached to the following slice")
	}

	// The clip owns a copy of the input.
	for i := range data {
		data[i] = 0
	}
	if !bytes.Equal(c.AccessUnit(0)[2], idr) {
		t.Error("clip aliases the caller's buffer")
	}
}

func equalAU(a, b [][]byte) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !bytes.Equal(a[i], b[i]) {
			return false
		}
	}
	return true
}

// clipCase is one entry of the table shared by TestParseClipErrors and the
// fuzz seeds.
type clipCase struct {
	name string
	data func(t testing.TB, demo *Clip) []byte
	ok   bool
}

func clipCases() []clipCase {
	part := func(demo *Clip, i int) []byte { return slice(demo.AccessUnit(i)) }
	return []clipCase{
		{"empty", func(testing.TB, *Clip) []byte { return nil }, false},
		{"no start code", func(testing.TB, *Clip) []byte { return []byte("hello, camera") }, false},
		{"only zeros", func(testing.TB, *Clip) []byte { return make([]byte, 64) }, false},
		{"no SPS", func(t testing.TB, d *Clip) []byte { return annexB(t, [][]byte{d.PPS(), part(d, 0)}) }, false},
		{"no PPS", func(t testing.TB, d *Clip) []byte { return annexB(t, [][]byte{d.SPS(), part(d, 0)}) }, false},
		{"no IDR", func(t testing.TB, d *Clip) []byte {
			return annexB(t, [][]byte{d.SPS(), d.PPS(), part(d, 1)}, [][]byte{part(d, 2)})
		}, false},
		{"SPS changes", func(t testing.TB, d *Clip) []byte {
			other := append(bytes.Clone(d.SPS()), 0x01)
			return annexB(t, [][]byte{d.SPS(), d.PPS(), part(d, 0)}, [][]byte{other, d.PPS(), part(d, 0)})
		}, false},
		{"broken SPS", func(t testing.TB, d *Clip) []byte {
			return annexB(t, [][]byte{{0x67, 0xff}, d.PPS(), part(d, 0)})
		}, false},
		{"one IDR", func(t testing.TB, d *Clip) []byte { return annexB(t, d.AccessUnit(0)) }, true},
		{"IDR and P", func(t testing.TB, d *Clip) []byte { return annexB(t, d.AccessUnit(0), d.AccessUnit(1)) }, true},
	}
}

func TestParseClipErrors(t *testing.T) {
	t.Parallel()
	demo := loadDemo(t)
	for _, tc := range clipCases() {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseClip(tc.data(t, demo))
			switch {
			case tc.ok && err != nil:
				t.Fatalf("ParseClip: %v", err)
			case !tc.ok && !errors.Is(err, ErrInvalidClip):
				t.Fatalf("ParseClip error = %v, want ErrInvalidClip", err)
			}
		})
	}
}

func TestLoadClipMissingFile(t *testing.T) {
	t.Parallel()
	if _, err := LoadClip(t.TempDir() + "/nope.h264"); err == nil {
		t.Fatal("LoadClip of a missing file succeeded")
	}
}

func TestWithFPS(t *testing.T) {
	t.Parallel()
	c := smallClip(t, 10)
	fast, err := c.WithFPS(100)
	if err != nil {
		t.Fatal(err)
	}
	if fast.FPS() != 100 || c.FPS() != DefaultFPS || fast.Duration() != 100*time.Millisecond {
		t.Errorf("WithFPS: got %d (orig %d, %v)", fast.FPS(), c.FPS(), fast.Duration())
	}
	if _, err := c.WithFPS(0); err == nil {
		t.Error("WithFPS(0) succeeded")
	}
}

// FuzzParseClip: whatever the bytes, ParseClip returns a clip or an error
// wrapping ErrInvalidClip, never panics, and a clip it returns is usable.
func FuzzParseClip(f *testing.F) {
	demo, err := LoadClip(demoClipPath)
	if err != nil {
		f.Fatal(err)
	}
	for _, tc := range clipCases() {
		f.Add(tc.data(f, demo))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := ParseClip(data)
		if err != nil {
			if !errors.Is(err, ErrInvalidClip) {
				t.Fatalf("error does not wrap ErrInvalidClip: %v", err)
			}
			return
		}
		if c.Len() == 0 || !c.IsIDR(0) || c.SPS() == nil || c.PPS() == nil {
			t.Fatal("accepted clip is not playable")
		}
	})
}
