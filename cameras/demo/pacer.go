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
	"github.com/pion/rtp"
)

// clockRate is the RTP clock of H.264.
const clockRate = 90000

// pacer writes the clip to the stream in real time, one access unit per
// 1/FPS, looping forever. Its clock is a schedule of slots, slot k at
// Start + k/FPS with RTP timestamp base + k*90000/FPS; the clip's frames go
// out in order, one per slot. A pacer that falls behind (a busy machine)
// sends the frames it owes at once, as a camera whose sender was held up,
// so its timestamps keep to the wall clock like a real camera's: a reader
// never sees the camera's clock drift (the recorder would start a new run
// at every drift of Recording.MaxDrift). More than maxLag behind, it skips
// the slots it missed, as an encoder that drops frames: the timestamps
// jump, the frames stay in order, and no backlog is ever sent. The loop
// boundary is seamless to a reader: timestamps never repeat.
type pacer struct {
	cfg    config
	enc    *rtph264.Encoder
	stats  *counters
	tsBase uint32 // random, as RFC 3550 asks and real cameras do
	// write sends a frame's packets with the wall time of its slot.
	write func(pkts []*rtp.Packet, ntp time.Time) error
}

// maxLag is how far the pacer may fall behind its schedule before it skips
// slots instead of catching up.
const maxLag = time.Second

func newPacer(cfg config, stream *gortsplib.ServerStream, media *description.Media, stats *counters) (*pacer, error) {
	return newPacerWriting(cfg, stats, func(pkts []*rtp.Packet, ntp time.Time) error {
		for _, pkt := range pkts {
			if err := stream.WritePacketRTPWithNTP(media, pkt, ntp); err != nil {
				return err
			}
		}
		return nil
	})
}

// newPacerWriting is newPacer with the packets going to write.
func newPacerWriting(cfg config, stats *counters, write func([]*rtp.Packet, time.Time) error) (*pacer, error) {
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
	return &pacer{cfg: cfg, enc: enc, stats: stats, tsBase: binary.BigEndian.Uint32(b[:]), write: write}, nil
}

// run sends frames until ctx is cancelled. The first frame goes out at once.
func (p *pacer) run(ctx context.Context) {
	start := time.Now()
	timer := time.NewTimer(time.Hour) // reset before each wait
	defer timer.Stop()

	n := p.cfg.clip.Len()
	slot := int64(0)
	for i := 0; ; i++ {
		p.send(i, slot, start)
		p.stats.frames.Add(1)
		if (i+1)%n == 0 {
			p.stats.loops.Add(1)
		}
		slot++
		wait := time.Until(p.due(start, slot))
		if wait < -maxLag {
			// Too far behind to catch up: the next frame takes the
			// current slot.
			slot = p.slotAt(time.Since(start))
			wait = 0
		}
		if wait <= 0 {
			select {
			case <-ctx.Done():
				return
			default:
			}
			continue
		}
		timer.Reset(wait)
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		}
	}
}

// due is the wall time of a slot, and slotAt the slot due at an elapsed
// time: whole seconds apart from their fraction, so that no product
// overflows however long the server runs.
func (p *pacer) due(start time.Time, slot int64) time.Time {
	fps := int64(p.cfg.fps)
	return start.Add(time.Duration(slot/fps)*time.Second + time.Duration(slot%fps*int64(time.Second)/fps))
}

func (p *pacer) slotAt(elapsed time.Duration) int64 {
	fps := int64(p.cfg.fps)
	return int64(elapsed/time.Second)*fps + int64(elapsed%time.Second)*fps/int64(time.Second)
}

// send packetizes and writes frame i (a global index) in the given slot.
// Errors are not logged: the only ones are "stream closed" during Close,
// and per-packet logs are not wanted anyway.
func (p *pacer) send(i int, slot int64, start time.Time) {
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

	// The uint32 wrap of the RTP timestamp is the normal, expected one.
	ts := p.tsBase + uint32(slot*clockRate/int64(p.cfg.fps))
	out := pkts[:0]
	for _, pkt := range pkts {
		if pkt != nil {
			pkt.Timestamp = ts
			out = append(out, pkt)
		}
	}
	_ = p.write(out, p.due(start, slot))
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
