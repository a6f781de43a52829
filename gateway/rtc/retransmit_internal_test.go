package rtc

import (
	"testing"

	"github.com/pion/rtcp"

	"github.com/camgate/camgate/cameras"
)

// one is a frame of one packet.
var one = frameOf(1, 1)

// nackOf builds a NACK naming the given sequence numbers (each pair covers
// a number and the 16 after it).
func nackOf(seqs ...uint16) *rtcp.TransportLayerNack {
	return &rtcp.TransportLayerNack{Nacks: rtcp.NackPairsFromSequenceNumbers(seqs)}
}

func resentSeqs(h *sendHistory, n *rtcp.TransportLayerNack) ([]uint16, retransmitCounts) {
	var got []uint16
	c := h.resend(n, func(p *sentPacket) { got = append(got, p.seq) })
	return got, c
}

// frameOf is a frame of n one-byte payloads, each naming its frame and
// index.
func frameOf(id byte, n int) *cameras.Frame {
	f := &cameras.Frame{}
	for i := range n {
		f.Payloads = append(f.Payloads, []byte{id, byte(i)})
	}
	return f
}

func TestSendHistoryResendsWhatItHolds(t *testing.T) {
	t.Parallel()
	var h sendHistory
	payloads := map[uint16][]byte{}
	var f *cameras.Frame
	for seq := uint16(65000); seq != 100; seq++ { // wraps around 65535
		i := int(seq % 5) // five packets a frame
		if i == 0 {
			f = frameOf(byte(seq), 5)
		}
		payloads[seq] = f.Payloads[i]
		h.record(seq, uint32(seq/5)*40, f, i)
	}
	var sent []*sentPacket
	c := h.resend(nackOf(65530, 65533, 65534, 0, 3, 18), func(p *sentPacket) {
		cp := *p
		sent = append(sent, &cp)
	})
	if c.sent != 6 || c.expired != 0 || c.refused != 0 {
		t.Fatalf("counts = %+v, want 6 sent", c)
	}
	want := []uint16{65530, 65533, 65534, 0, 3, 18}
	for i, p := range sent {
		if p.seq != want[i] {
			t.Fatalf("resent #%d is %d, want %d (all: %v)", i, p.seq, want[i], want)
		}
		if &p.payload()[0] != &payloads[p.seq][0] {
			t.Fatalf("resent %d with another payload than it was sent with", p.seq)
		}
		if p.timestamp != uint32(p.seq/5)*40 || p.marker() != (p.seq%5 == 4) {
			t.Fatalf("resent %d with timestamp %d marker %v", p.seq, p.timestamp, p.marker())
		}
	}
}

func TestSendHistoryForgetsOldAndUnsentPackets(t *testing.T) {
	t.Parallel()
	var h sendHistory
	for seq := range uint16(3000) {
		h.record(seq, 0, one, 0)
	}
	got, c := resentSeqs(&h, nackOf(100, 1975, 1976, 2999, 3000, 4000))
	// 1976..2999 are the last 1024; 1975 and older were overwritten; 3000
	// and later were never sent.
	if len(got) != 2 || got[0] != 1976 || got[1] != 2999 || c.expired != 4 {
		t.Fatalf("resent %v (counts %+v), want [1976 2999] and 4 expired", got, c)
	}
}

func TestSendHistoryBudget(t *testing.T) {
	t.Parallel()
	var h sendHistory
	// 40 packets sent earn 10 resends.
	for seq := range uint16(40) {
		h.record(seq, 0, one, 0)
	}
	var all []uint16
	for seq := range uint16(40) {
		all = append(all, seq)
	}
	got, c := resentSeqs(&h, nackOf(all...))
	if len(got) != 40/resendShare || c.refused != 40-40/resendShare {
		t.Fatalf("resent %d, refused %d of 40 asked after 40 sent; want %d and %d", len(got), c.refused, 40/resendShare, 40-40/resendShare)
	}
	// Saving up stops at resendBurst.
	for seq := uint16(40); seq < 40+10*resendBurst*resendShare/4; seq++ {
		h.record(seq, 0, one, 0)
	}
	if h.credit != resendBurst*resendShare {
		t.Fatalf("credit = %d after a long quiet run, want the cap %d", h.credit, resendBurst*resendShare)
	}
}

// A NACK with a bitmask of every bit names 17 packets.
func TestSendHistoryReadsTheBitmask(t *testing.T) {
	t.Parallel()
	var h sendHistory
	for seq := range uint16(200) {
		h.record(seq, 0, one, 0)
	}
	got, _ := resentSeqs(&h, &rtcp.TransportLayerNack{Nacks: []rtcp.NackPair{{PacketID: 100, LostPackets: 0xffff}, {PacketID: 150, LostPackets: 0x8001}}})
	want := []uint16{100, 101, 102, 103, 104, 105, 106, 107, 108, 109, 110, 111, 112, 113, 114, 115, 116, 150, 151, 166}
	if len(got) != len(want) {
		t.Fatalf("resent %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("resent %v, want %v", got, want)
		}
	}
}

// A NACK before anything was sent (a confused or hostile viewer) finds
// nothing and breaks nothing.
func TestSendHistoryEmpty(t *testing.T) {
	t.Parallel()
	var h sendHistory
	got, c := resentSeqs(&h, nackOf(0, 1, 500))
	if len(got) != 0 || c.expired != 3 {
		t.Fatalf("resent %v (counts %+v) from an empty history", got, c)
	}
}

// After forget (the sender stopped), nothing is resent and the frames are
// no longer referenced.
func TestSendHistoryForget(t *testing.T) {
	t.Parallel()
	var h sendHistory
	h.record(7, 0, one, 0)
	h.forget()
	if h.ring != nil {
		t.Fatal("the history still holds its packets")
	}
	if got, c := resentSeqs(&h, nackOf(7)); len(got) != 0 || c.expired != 1 {
		t.Fatalf("resent %v (counts %+v) after forget", got, c)
	}
}
