package demo

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
)

// DefaultFPS is the frame rate of a clip unless told otherwise. Raw Annex-B
// carries no container timing, and the VUI timing info is optional and often
// wrong, so the rate is a parameter rather than something parsed.
const DefaultFPS = 25

// ErrInvalidClip is wrapped by every error that ParseClip and LoadClip return
// for content that cannot be used as a looping camera clip.
var ErrInvalidClip = errors.New("invalid demo clip")

// Clip is an H.264 elementary stream split into access units, ready to be
// looped by a Server. It is immutable once parsed and safe for concurrent use.
type Clip struct {
	frames [][][]byte // access units; every IDR carries SPS and PPS in front
	idr    []bool     // idr[i] reports whether frames[i] is an IDR
	sps    []byte
	pps    []byte
	width  int
	height int
	fps    int
}

// LoadClip reads and parses an Annex-B file; see ParseClip.
func LoadClip(path string) (*Clip, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load demo clip: %w", err)
	}
	c, err := ParseClip(data)
	if err != nil {
		return nil, fmt.Errorf("load demo clip %s: %w", path, err)
	}
	return c, nil
}

// ParseClip splits a raw H.264 Annex-B stream into access units.
//
// The clip must have one slice per frame: an access unit ends at each VCL NAL
// unit (type 1 or 5), and the non-VCL units before it (SPS, PPS, SEI, AUD…)
// belong to it. Frames before the first IDR are skipped, since nothing can
// decode them; non-VCL units after the last slice are dropped. The clip must
// contain an SPS and a PPS, and every SPS (and every PPS) must be identical,
// because a Server that strips them in-band announces one pair in the SDP.
// IDR frames that lack SPS/PPS in front get them added, so that a server
// with in-band parameter sets sends them before every IDR, as cameras do.
//
// To loop without a visible jump, the clip should be a whole number of GOPs.
// The data is copied; the caller may reuse it. The frame rate is DefaultFPS;
// use WithFPS to change it.
func ParseClip(data []byte) (*Clip, error) {
	// mediacommon parses a buffer as one access unit and caps it at 8 MiB;
	// demo clips are a few MB, so say so plainly rather than split the file.
	if len(data) > h264.MaxAccessUnitSize {
		return nil, fmt.Errorf("%w: %d bytes, at most %d are supported", ErrInvalidClip, len(data), h264.MaxAccessUnitSize)
	}
	var nalus h264.AnnexB
	if err := nalus.Unmarshal(bytes.Clone(data)); err != nil {
		return nil, fmt.Errorf("%w: annex-b: %w", ErrInvalidClip, err)
	}

	c := &Clip{fps: DefaultFPS}
	var pending [][]byte // non-VCL units waiting for their slice
	started := false     // an IDR has been seen

	for _, nalu := range nalus {
		// trailing_zero_8bits belong to the byte stream, not to the NAL unit.
		nalu = bytes.TrimRight(nalu, "\x00")
		if len(nalu) == 0 {
			continue
		}
		typ := h264.NALUType(nalu[0] & 0x1f)

		switch typ {
		case h264.NALUTypeSPS:
			if err := c.setParam(&c.sps, nalu, "SPS"); err != nil {
				return nil, err
			}
		case h264.NALUTypePPS:
			if err := c.setParam(&c.pps, nalu, "PPS"); err != nil {
				return nil, err
			}
		}

		if typ != h264.NALUTypeIDR && typ != h264.NALUTypeNonIDR {
			pending = append(pending, nalu)
			continue
		}

		// The access unit takes over pending's array; the next one starts
		// a new one.
		pending = append(pending, nalu)
		au := pending
		pending = nil
		if typ == h264.NALUTypeIDR {
			started = true
		}
		if !started {
			continue
		}
		c.frames = append(c.frames, au)
		c.idr = append(c.idr, typ == h264.NALUTypeIDR)
	}

	switch {
	case c.sps == nil:
		return nil, fmt.Errorf("%w: no SPS", ErrInvalidClip)
	case c.pps == nil:
		return nil, fmt.Errorf("%w: no PPS", ErrInvalidClip)
	case len(c.frames) == 0:
		return nil, fmt.Errorf("%w: no IDR frame", ErrInvalidClip)
	}

	var sps h264.SPS
	if err := sps.Unmarshal(c.sps); err != nil {
		return nil, fmt.Errorf("%w: SPS: %w", ErrInvalidClip, err)
	}
	c.width, c.height = sps.Width(), sps.Height()

	for i, au := range c.frames {
		if c.idr[i] {
			c.frames[i] = c.withParams(au)
		}
	}
	return c, nil
}

// setParam records the first SPS or PPS and rejects a different later one.
func (c *Clip) setParam(dst *[]byte, nalu []byte, name string) error {
	if *dst == nil {
		*dst = nalu
		return nil
	}
	if !bytes.Equal(*dst, nalu) {
		return fmt.Errorf("%w: the %s changes mid-clip, which a looping camera cannot announce", ErrInvalidClip, name)
	}
	return nil
}

// withParams returns au with SPS and PPS in front unless it already has both.
func (c *Clip) withParams(au [][]byte) [][]byte {
	hasSPS, hasPPS := false, false
	for _, n := range au {
		switch h264.NALUType(n[0] & 0x1f) {
		case h264.NALUTypeSPS:
			hasSPS = true
		case h264.NALUTypePPS:
			hasPPS = true
		}
	}
	if hasSPS && hasPPS {
		return au
	}
	out := make([][]byte, 0, len(au)+2)
	out = append(out, c.sps, c.pps)
	for _, n := range au {
		if t := h264.NALUType(n[0] & 0x1f); t != h264.NALUTypeSPS && t != h264.NALUTypePPS {
			out = append(out, n)
		}
	}
	return out
}

// WithFPS returns a copy of the clip that plays at fps frames per second.
// The copy shares the (immutable) frames. fps must be in 1..MaxFPS.
func (c *Clip) WithFPS(fps int) (*Clip, error) {
	if fps < 1 || fps > MaxFPS {
		return nil, fmt.Errorf("demo clip: fps %d out of range 1..%d", fps, MaxFPS)
	}
	cp := *c
	cp.fps = fps
	return &cp, nil
}

// Len is the number of access units (frames) in one pass of the clip.
func (c *Clip) Len() int { return len(c.frames) }

// FPS is the clip's nominal frame rate.
func (c *Clip) FPS() int { return c.fps }

// Duration is the length of one pass of the clip at its frame rate.
func (c *Clip) Duration() time.Duration {
	return time.Duration(len(c.frames)) * time.Second / time.Duration(c.fps)
}

// AccessUnit returns frame i's NAL units (without start codes), SPS and PPS
// included in front of an IDR. The slices are shared: do not modify them.
func (c *Clip) AccessUnit(i int) [][]byte { return c.frames[i] }

// IsIDR reports whether frame i is an IDR (a keyframe).
func (c *Clip) IsIDR(i int) bool { return c.idr[i] }

// SPS returns the clip's sequence parameter set (shared; do not modify).
func (c *Clip) SPS() []byte { return c.sps }

// PPS returns the clip's picture parameter set (shared; do not modify).
func (c *Clip) PPS() []byte { return c.pps }

// Size returns the picture size in pixels, as decoded from the SPS.
func (c *Clip) Size() (width, height int) { return c.width, c.height }
