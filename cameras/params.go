package cameras

import (
	"bytes"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h265"
)

// maxParamSetSize bounds a VPS, SPS or PPS; real ones are tens of bytes.
const maxParamSetSize = 256

// paramSets tracks a stream's current parameter sets (H.264: SPS and PPS;
// H.265: VPS, SPS and PPS) and makes every keyframe access unit
// self-contained. Many cameras send them only in the SDP
// (sprop-parameter-sets, sprop-vps/sps/pps) or only now and then, but a
// browser that joins at a keyframe needs them right before it.
type paramSets struct {
	h265          bool // the stream is H.265; otherwise H.264
	vps, sps, pps []byte
	// changed is set when an in-band parameter set differs from the
	// current one.
	changed bool
}

// nalRole is what normalize does with a NAL unit.
type nalRole int

const (
	roleSlice nalRole = iota // kept as it is (slices, SEI, …)
	roleKey                  // a keyframe's slice (H.264 IDR; H.265 IDR or CRA)
	roleVPS
	roleSPS
	rolePPS
	roleDrop // access unit delimiters, and NAL units too short to have a type
)

// role classifies a NAL unit of the stream's codec.
func (p *paramSets) role(nalu []byte) nalRole {
	if p.h265 {
		if len(nalu) < 2 { // the H.265 NAL unit header is two bytes
			return roleDrop
		}
		switch h265.NALUType((nalu[0] >> 1) & 0x3f) {
		case h265.NALUType_VPS_NUT:
			return roleVPS
		case h265.NALUType_SPS_NUT:
			return roleSPS
		case h265.NALUType_PPS_NUT:
			return rolePPS
		case h265.NALUType_AUD_NUT:
			return roleDrop
		case h265.NALUType_IDR_W_RADL, h265.NALUType_IDR_N_LP, h265.NALUType_CRA_NUT:
			return roleKey
		}
		return roleSlice
	}
	if len(nalu) == 0 {
		return roleDrop
	}
	switch h264.NALUType(nalu[0] & 0x1f) {
	case h264.NALUTypeSPS:
		return roleSPS
	case h264.NALUTypePPS:
		return rolePPS
	case h264.NALUTypeAccessUnitDelimiter:
		return roleDrop
	case h264.NALUTypeIDR:
		return roleKey
	}
	return roleSlice
}

// take remembers an in-band parameter set of the given role. A damaged
// packet can carry any bytes under a parameter set's type; taken as the
// stream's SPS it would spoil every later keyframe, so SPSs are kept only
// when they parse, and every set only within maxParamSetSize (a PPS or VPS
// cannot be fully checked without the others).
func (p *paramSets) take(role nalRole, nalu []byte) {
	if len(nalu) > maxParamSetSize {
		return
	}
	switch role {
	case roleVPS:
		p.set(&p.vps, nalu)
	case roleSPS:
		if p.h265 {
			var sps h265.SPS
			if sps.Unmarshal(nalu) != nil {
				return
			}
		} else {
			var sps h264.SPS
			if sps.Unmarshal(nalu) != nil {
				return
			}
		}
		p.set(&p.sps, nalu)
	case rolePPS:
		p.set(&p.pps, nalu)
	}
}

// front returns the parameter sets to put before a keyframe, or nil when
// one is still unknown.
func (p *paramSets) front() [][]byte {
	if p.sps == nil || p.pps == nil || (p.h265 && p.vps == nil) {
		return nil
	}
	if p.h265 {
		return [][]byte{p.vps, p.sps, p.pps}
	}
	return [][]byte{p.sps, p.pps}
}

// normalize returns the access unit to publish and whether it is a
// keyframe. It drops access unit delimiters and in-band parameter sets
// (remembering the latest), and puts the current parameter sets in front
// of every keyframe. A keyframe without known parameter sets cannot be
// decoded and yields an empty AU.
//
// The result owns its bytes: the RTSP client reuses its read buffers once
// the packet callback returns, so the NAL units are copied into one
// allocation that readers may keep.
func (p *paramSets) normalize(au [][]byte) ([][]byte, bool) {
	key := false
	keep := 0
	for _, nalu := range au {
		switch r := p.role(nalu); r {
		case roleVPS, roleSPS, rolePPS:
			p.take(r, nalu)
			continue
		case roleDrop:
			continue
		case roleKey:
			key = true
		}
		keep++
	}
	var front [][]byte
	if key {
		if front = p.front(); front == nil {
			return nil, false
		}
	}
	if keep == 0 {
		return nil, false
	}
	size := 0
	for _, nalu := range au {
		size += len(nalu)
	}
	buf := make([]byte, 0, size)
	out := make([][]byte, 0, keep+len(front))
	out = append(out, front...)
	for _, nalu := range au {
		switch p.role(nalu) {
		case roleVPS, roleSPS, rolePPS, roleDrop:
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
