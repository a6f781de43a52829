package cameras

import (
	"github.com/bluenviron/gortsplib/v4/pkg/format/rtph264"
)

// FrameBuilder turns H.264 access units into Frames. It is the one place
// where camgate shapes video for its senders: the stream hub builds live
// frames with it and playback builds recorded ones, so a sender cannot tell
// them apart. Build normalizes the parameter sets (access unit delimiters
// and in-band SPS/PPS are taken out, the current SPS and PPS go in front of
// every IDR) and packetizes the result once with gortsplib's H.264 encoder
// (RFC 6184, packetization mode 1: single NAL unit, STAP-A and FU-A
// payloads of at most MaxPayloadSize bytes), so per-viewer work is only
// sequence numbers, timestamps and SRTP.
//
// A FrameBuilder belongs to one stream (or one player): it remembers the
// parameter sets it has seen and is not safe for concurrent use.
type FrameBuilder struct {
	params paramSets
	enc    *rtph264.Encoder
}

// NewFrameBuilder returns a builder whose current parameter sets are sps and
// pps (either may be nil: they are then taken from the access units).
func NewFrameBuilder(sps, pps []byte) *FrameBuilder {
	return newFrameBuilder(sps, pps, MaxPayloadSize)
}

func newFrameBuilder(sps, pps []byte, maxPayload int) *FrameBuilder {
	enc := &rtph264.Encoder{PayloadType: 96, PayloadMaxSize: maxPayload, PacketizationMode: 1}
	// Init only fails for PacketizationMode >= 2 or when the random SSRC
	// cannot be read; sequence numbers and SSRC are rewritten per viewer
	// anyway, so fix them.
	ssrc := uint32(0)
	seq := uint16(0)
	enc.SSRC, enc.InitialSequenceNumber = &ssrc, &seq
	_ = enc.Init()
	return &FrameBuilder{params: paramSets{sps: sps, pps: pps}, enc: enc}
}

// Reset starts over with parameter sets known out of band (a camera's SDP
// at a new epoch, a recording's init block); either may be nil.
func (b *FrameBuilder) Reset(sps, pps []byte) { b.params = paramSets{sps: sps, pps: pps} }

// Build returns the frame of an access unit with Key, AU, Payloads and Size
// set; the caller sets Epoch, PTS and Arrived before it shares the frame. It
// returns nil when the access unit holds nothing a decoder can use: no NAL
// unit besides delimiters and parameter sets, or an IDR while no SPS and PPS
// are known.
//
// The frame owns its bytes, so the caller may reuse au's buffers once Build
// returns (the RTSP client does). Its payloads point into its AU.
func (b *FrameBuilder) Build(au [][]byte) *Frame {
	au, key := b.params.normalize(au)
	if len(au) == 0 {
		return nil
	}
	pkts, err := b.enc.Encode(au)
	if err != nil || len(pkts) == 0 {
		// The encoder only fails for a packetization mode camgate does not
		// use; an access unit without payloads cannot be sent.
		return nil
	}
	f := &Frame{Key: key, AU: au, Payloads: make([][]byte, len(pkts))}
	for i, pkt := range pkts {
		f.Payloads[i] = pkt.Payload
		f.Size += len(pkt.Payload)
	}
	return f
}
