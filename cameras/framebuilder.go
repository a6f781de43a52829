package cameras

import (
	"github.com/bluenviron/gortsplib/v4/pkg/format/rtph264"
	"github.com/bluenviron/gortsplib/v4/pkg/format/rtph265"
	"github.com/pion/rtp"
)

// Codec is the video codec of a stream's frames.
type Codec string

// The codecs camgate ingests. The values are the codec's name in WebRTC's
// MIME types (video/H264, video/H265).
const (
	CodecH264 Codec = "H264"
	CodecH265 Codec = "H265"
)

// String is the codec as people write it: "H.264", "H.265".
func (c Codec) String() string {
	switch c {
	case CodecH264:
		return "H.264"
	case CodecH265:
		return "H.265"
	}
	return string(c)
}

// FrameBuilder turns H.264 or H.265 access units into Frames. It is the
// one place where camgate shapes video for its senders: the stream hub
// builds live frames with it and playback builds recorded ones, so a
// sender cannot tell them apart. Build normalizes the parameter sets
// (access unit delimiters and in-band parameter sets are taken out, the
// current ones go in front of every keyframe) and packetizes the result
// once with gortsplib's encoder for the codec (H.264: RFC 6184,
// packetization mode 1, single NAL unit, STAP-A and FU-A payloads; H.265:
// RFC 7798, single NAL unit, aggregation and fragmentation units), at most
// MaxPayloadSize bytes each, so per-viewer work is only sequence numbers,
// timestamps and SRTP.
//
// A FrameBuilder belongs to one stream (or one player): it remembers the
// parameter sets it has seen and is not safe for concurrent use.
type FrameBuilder struct {
	params     paramSets
	maxPayload int
	enc264     *rtph264.Encoder
	enc265     *rtph265.Encoder
}

// NewFrameBuilder returns an H.264 builder whose current parameter sets
// are sps and pps (either may be nil: they are then taken from the access
// units).
func NewFrameBuilder(sps, pps []byte) *FrameBuilder {
	return newFrameBuilder(sps, pps, MaxPayloadSize)
}

func newFrameBuilder(sps, pps []byte, maxPayload int) *FrameBuilder {
	b := &FrameBuilder{maxPayload: maxPayload}
	b.Reset(sps, pps)
	return b
}

// fixedIDs are an encoder's SSRC and first sequence number. Both are
// rewritten per viewer, so the encoders' are fixed (their Init would
// otherwise read random ones). Init then only fails for an H.264
// packetization mode camgate does not use.
func fixedIDs() (*uint32, *uint16) {
	ssrc, seq := uint32(0), uint16(0)
	return &ssrc, &seq
}

// Reset starts over with H.264 parameter sets known out of band (a
// camera's SDP at a new epoch, a recording's init block); either may be
// nil.
func (b *FrameBuilder) Reset(sps, pps []byte) {
	b.params = paramSets{sps: sps, pps: pps}
	if b.enc264 == nil {
		b.enc264 = &rtph264.Encoder{PayloadType: 96, PayloadMaxSize: b.maxPayload, PacketizationMode: 1}
		b.enc264.SSRC, b.enc264.InitialSequenceNumber = fixedIDs()
		_ = b.enc264.Init()
	}
}

// ResetH265 starts over with H.265 parameter sets known out of band; any
// may be nil.
func (b *FrameBuilder) ResetH265(vps, sps, pps []byte) {
	b.params = paramSets{h265: true, vps: vps, sps: sps, pps: pps}
	if b.enc265 == nil {
		b.enc265 = &rtph265.Encoder{PayloadType: 96, PayloadMaxSize: b.maxPayload}
		b.enc265.SSRC, b.enc265.InitialSequenceNumber = fixedIDs()
		_ = b.enc265.Init()
	}
}

// Codec is the codec of the frames the builder makes.
func (b *FrameBuilder) Codec() Codec {
	if b.params.h265 {
		return CodecH265
	}
	return CodecH264
}

// Build returns the frame of an access unit with Codec, Key, AU, Payloads
// and Size set; the caller sets Epoch, PTS, DTS and Arrived before it
// shares the frame. It returns nil when the access unit holds nothing a
// decoder can use: no NAL unit besides delimiters and parameter sets, or
// a keyframe while its parameter sets are unknown.
//
// The frame owns its bytes, so the caller may reuse au's buffers once Build
// returns (the RTSP client does). Its payloads point into its AU.
func (b *FrameBuilder) Build(au [][]byte) *Frame {
	au, key := b.params.normalize(au)
	if len(au) == 0 {
		return nil
	}
	var (
		pkts []*rtp.Packet
		err  error
	)
	if b.params.h265 {
		pkts, err = b.enc265.Encode(au)
	} else {
		pkts, err = b.enc264.Encode(au)
	}
	if err != nil || len(pkts) == 0 {
		// The encoders only fail for settings camgate does not use; an
		// access unit without payloads cannot be sent.
		return nil
	}
	f := &Frame{Codec: b.Codec(), Key: key, AU: au, Payloads: make([][]byte, len(pkts))}
	for i, pkt := range pkts {
		f.Payloads[i] = pkt.Payload
		f.Size += len(pkt.Payload)
	}
	return f
}
