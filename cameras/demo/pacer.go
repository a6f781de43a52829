package demo

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"time"

	"github.com/bluenviron/gortsplib/v4"
	"github.com/bluenviron/gortsplib/v4/pkg/description"
	"github.com/bluenviron/gortsplib/v4/pkg/format/rtph264"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
)

// clockRate is the RTP clock of H.264.
const clockRate = 90000

// pacer writes the clip to the stream in real time, one access unit per
// 1/FPS, looping forever. Frame i (counted from Start, across loops) gets
// RTP timestamp base + i*90000/FPS, so the loop boundary is seamless to a
// reader: timestamps never jump or repeat.
type pacer struct {
	cfg    config
	stream *gortsplib.ServerStream
	media  *description.Media
	enc    *rtph264.Encoder
	stats  *counters
	tsBase uint32 // random, as RFC 3550 asks and real cameras do
}

func newPacer(cfg config, stream *gortsplib.ServerStream, media *description.Media, stats *counters) (*pacer, error) {
	enc := &rtph264.Encoder{
		PayloadType:       payloadType,
		PacketizationMode: 1,
		PayloadMaxSize:    RTPPayloadMaxSize,
	}
	if err := enc.Init(); err != nil {
		return nil, fmt.Errorf("rtp encoder: %w", err)
	}
	var b [4]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, fmt.Errorf("rtp timestamp base: %w", err)
	}
	return &pacer{cfg: cfg, stream: stream, media: media, enc: enc, stats: stats, tsBase: binary.BigEndian.Uint32(b[:])}, nil
}

// run sends frames until ctx is cancelled. The first frame goes out at once.
// If the goroutine falls behind, the ticker drops ticks and the stream
// slows down rather than bursting, as a real encoder would.
func (p *pacer) run(ctx context.Context) {
	start := time.Now()
	ticker := time.NewTicker(time.Second / time.Duration(p.cfg.fps))
	defer ticker.Stop()

	n := p.cfg.clip.Len()
	for i := 0; ; i++ {
		p.send(i, start)
		p.stats.frames.Add(1)
		if (i+1)%n == 0 {
			p.stats.loops.Add(1)
		}
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
	}
}

// send packetizes and writes frame i (a global index). Errors are not
// logged: the only ones are "stream closed" during Close, and per-packet
// logs are not wanted anyway.
func (p *pacer) send(i int, start time.Time) {
	au := p.accessUnit(i)
	if len(au) == 0 {
		return
	}
	pkts, err := p.enc.Encode(au)
	if err != nil {
		return
	}
	if p.cfg.corruptRTP != nil {
		for _, pkt := range pkts {
			// The encoder may alias clip memory; the hook gets its own copy.
			pkt.Payload = append([]byte(nil), pkt.Payload...)
		}
		pkts = p.cfg.corruptRTP(i, pkts)
	}

	// 64-bit arithmetic so neither the product nor the NTP offset overflows
	// however long the server runs; the uint32 wrap of the RTP timestamp is
	// the normal, expected one.
	ts := p.tsBase + uint32(int64(i)*clockRate/int64(p.cfg.fps))
	ntp := start.Add(time.Duration(int64(i) * int64(time.Second) / int64(p.cfg.fps)))
	for _, pkt := range pkts {
		if pkt == nil {
			continue
		}
		pkt.Timestamp = ts
		if err := p.stream.WritePacketRTPWithNTP(p.media, pkt, ntp); err != nil {
			return
		}
	}
}

// accessUnit returns frame i of the loop with the parameter-set policy and
// the Corrupt hook applied, without NAL units of length 0 (which the RTP
// encoder cannot express).
func (p *pacer) accessUnit(i int) [][]byte {
	src := p.cfg.clip.AccessUnit(i % p.cfg.clip.Len())
	au := make([][]byte, 0, len(src))
	for _, nalu := range src {
		if !p.cfg.inBand {
			if t := h264.NALUType(nalu[0] & 0x1f); t == h264.NALUTypeSPS || t == h264.NALUTypePPS {
				continue
			}
		}
		au = append(au, nalu)
	}
	if p.cfg.corrupt != nil {
		for k, nalu := range au {
			au[k] = append([]byte(nil), nalu...)
		}
		au = p.cfg.corrupt(i, au)
	}
	out := au[:0]
	for _, nalu := range au {
		if len(nalu) > 0 {
			out = append(out, nalu)
		}
	}
	return out
}
