package cameras

import (
	"bytes"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
)

// maxParamSetSize bounds an SPS or PPS; real ones are tens of bytes.
const maxParamSetSize = 256

// paramSets tracks a stream's current SPS and PPS and makes every IDR access
// unit self-contained. Many cameras send SPS/PPS only in the SDP
// (sprop-parameter-sets) or only now and then, but a browser that joins at a
// keyframe needs them right before it.
type paramSets struct {
	sps, pps []byte
	// changed is set when an in-band SPS or PPS differs from the current one.
	changed bool
}

// normalize returns the access unit to publish and whether it is an IDR. It
// drops access unit delimiters and in-band parameter sets (remembering the
// latest), and puts the current SPS and PPS in front of every IDR. An IDR
// without known parameter sets cannot be decoded and yields an empty AU.
//
// The result owns its bytes: the RTSP client reuses its read buffers once
// the packet callback returns, so the NAL units are copied into one
// allocation that readers may keep.
func (p *paramSets) normalize(au [][]byte) ([][]byte, bool) {
	key := false
	keep := 0
	for _, nalu := range au {
		if len(nalu) == 0 {
			continue
		}
		switch h264.NALUType(nalu[0] & 0x1f) {
		case h264.NALUTypeSPS:
			// A damaged packet can carry any bytes under an SPS type; taken
			// as the stream's SPS it would spoil every later keyframe. Keep
			// only parameter sets that parse.
			var sps h264.SPS
			if len(nalu) <= maxParamSetSize && sps.Unmarshal(nalu) == nil {
				p.set(&p.sps, nalu)
			}
			continue
		case h264.NALUTypePPS:
			// A PPS cannot be parsed without its SPS; bound its size at
			// least (real ones are a few bytes).
			if len(nalu) <= maxParamSetSize {
				p.set(&p.pps, nalu)
			}
			continue
		case h264.NALUTypeAccessUnitDelimiter:
			continue
		case h264.NALUTypeIDR:
			key = true
		}
		keep++
	}
	if keep == 0 || (key && (p.sps == nil || p.pps == nil)) {
		return nil, false
	}
	n := keep
	if key {
		n += 2
	}
	size := 0
	for _, nalu := range au {
		size += len(nalu)
	}
	buf := make([]byte, 0, size)
	out := make([][]byte, 0, n)
	if key {
		out = append(out, p.sps, p.pps)
	}
	for _, nalu := range au {
		if len(nalu) == 0 {
			continue
		}
		switch h264.NALUType(nalu[0] & 0x1f) {
		case h264.NALUTypeSPS, h264.NALUTypePPS, h264.NALUTypeAccessUnitDelimiter:
			continue
		}
		start := len(buf)
		buf = append(buf, nalu...)
		out = append(out, buf[start:len(buf):len(buf)])
	}
	return out, key
}

// set replaces a parameter set when it changed. The old slice is never
// modified: frames already published keep pointing at it.
func (p *paramSets) set(dst *[]byte, nalu []byte) {
	if bytes.Equal(*dst, nalu) {
		return
	}
	if *dst != nil {
		p.changed = true
	}
	*dst = append([]byte(nil), nalu...)
}
