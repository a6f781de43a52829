package rtc

import (
	"math"

	"github.com/pion/rtcp"

	"github.com/camgate/camgate/cameras"
)

// camgate answers RTCP NACKs (RFC 4585 generic NACK) itself instead of with
// pion's NACK responder interceptor. pion's copies every packet it sends
// into a history of 1024 per viewer (1.85 MB of heap per viewer measured,
// docs/performance.md, and two allocations per packet) and resends whatever it is asked, as often as
// it is asked: under overload the viewers NACKed 18 times what was sent
// and the resends deepened the overload. camgate's frames are never
// modified once packetized, so its history holds references to their
// payloads (16 KB per viewer, nothing per packet), and a budget caps the
// resends.
const (
	// historyPackets is how many of the last packets sent to a viewer can
	// be sent again: a 4 s GOP at 2 Mbit/s replayed to a joining viewer is
	// about 850. A power of two.
	historyPackets = 1024
	// resendShare and resendBurst are the retransmission budget: at most
	// one resend per resendShare packets sent, and at most resendBurst
	// saved up. Real loss costs a few percent; a viewer asking for more is
	// overloaded, and more traffic would not help it.
	resendShare = 4
	resendBurst = 256
)

// sentPacket is what is needed to send a packet again: the viewer's
// sequence number and timestamp, and which payload of which frame it
// carried (16 bytes: the frame is shared by every viewer).
type sentPacket struct {
	frame     *cameras.Frame
	timestamp uint32
	seq       uint16
	index     uint16 // into frame.Payloads
}

func (p *sentPacket) payload() []byte { return p.frame.Payloads[p.index] }

// marker reports the frame's last packet, which carries the RTP marker.
func (p *sentPacket) marker() bool { return int(p.index) == len(p.frame.Payloads)-1 }

// sendHistory is one viewer's recent packets and its retransmission
// budget. Its owner (mediaSender) serialises access.
type sendHistory struct {
	// ring is allocated with the first packet, on its own: exactly 16 KB,
	// a size class of Go's allocator (inside mediaSender it rounded the
	// sender up to 24 KB).
	ring *[historyPackets]sentPacket
	// credit is the budget in 1/resendShare packets: each packet sent
	// adds one, each resend costs resendShare.
	credit int
}

// record remembers a packet just sent: payload index of f.
func (h *sendHistory) record(seq uint16, timestamp uint32, f *cameras.Frame, index int) {
	if h.ring == nil {
		h.ring = new([historyPackets]sentPacket)
	}
	e := &h.ring[seq%historyPackets]
	if index > math.MaxUint16 {
		// A frame of over 77 MB: not resendable, and the slot must not
		// answer for it with an older packet.
		*e = sentPacket{}
	} else {
		*e = sentPacket{frame: f, timestamp: timestamp, seq: seq, index: uint16(index)}
	}
	if h.credit < resendBurst*resendShare {
		h.credit++
	}
}

// forget drops the history: nothing sent before can be sent again.
func (h *sendHistory) forget() { h.ring = nil }

// retransmitCounts are the outcome of one NACK.
type retransmitCounts struct {
	sent      int // packets sent again
	sentBytes int // their payload bytes
	expired   int // no longer in the history (or never sent)
	refused   int // over the budget
}

// resend calls send for each packet of the NACK that is still in the
// history, while the budget lasts.
func (h *sendHistory) resend(nack *rtcp.TransportLayerNack, send func(*sentPacket)) retransmitCounts {
	var c retransmitCounts
	for _, pair := range nack.Nacks {
		// The pair names PacketID and, in the bitmask, up to 16 after it.
		lost := uint32(pair.LostPackets)<<1 | 1
		for i := uint16(0); lost != 0; i, lost = i+1, lost>>1 {
			if lost&1 == 0 {
				continue
			}
			seq := pair.PacketID + i
			var p *sentPacket
			if h.ring != nil {
				p = &h.ring[seq%historyPackets]
			}
			switch {
			case p == nil || p.frame == nil || p.seq != seq:
				c.expired++
			case h.credit < resendShare:
				c.refused++
			default:
				h.credit -= resendShare
				send(p)
				c.sent++
				c.sentBytes += len(p.payload())
			}
		}
	}
	return c
}
