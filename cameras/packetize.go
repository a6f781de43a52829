package cameras

import (
	"github.com/bluenviron/gortsplib/v4/pkg/format/rtph264"
)

// packetizer turns access units into RTP payloads once per stream, so that
// per-viewer work is only sequence numbers, timestamps and SRTP.
type packetizer struct {
	enc *rtph264.Encoder
}

func newPacketizer(maxPayload int) *packetizer {
	enc := &rtph264.Encoder{PayloadType: 96, PayloadMaxSize: maxPayload, PacketizationMode: 1}
	// Init only fails for PacketizationMode >= 2 or when the random SSRC
	// cannot be read; the SSRC is rewritten per viewer anyway, so fix it.
	ssrc := uint32(0)
	seq := uint16(0)
	enc.SSRC, enc.InitialSequenceNumber = &ssrc, &seq
	_ = enc.Init()
	return &packetizer{enc: enc}
}

// packetize returns the frame's RTP payloads and their total size. A NAL
// unit the encoder rejects yields no payloads; the frame is then skipped.
func (p *packetizer) packetize(au [][]byte) ([][]byte, int) {
	pkts, err := p.enc.Encode(au)
	if err != nil {
		return nil, 0
	}
	payloads := make([][]byte, len(pkts))
	size := 0
	for i, pkt := range pkts {
		payloads[i] = pkt.Payload
		size += len(pkt.Payload)
	}
	return payloads, size
}
