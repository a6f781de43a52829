package demo

import (
	"math/rand/v2"

	"github.com/pion/rtp"
)

// Ready-made hooks for Server.Corrupt and Server.CorruptRTP. Each is pure
// (it depends only on its arguments), so one hook may serve several servers
// and a failing test replays the same damage.

// TruncateEvery cuts the last NAL unit (the slice) of every nth frame
// (frames n-1, 2n-1, …) to a third of its length. The RTP stays well formed;
// the picture data does not, as after a camera encoder glitch.
// n <= 0 disables it.
func TruncateEvery(n int) func(frame int, au [][]byte) [][]byte {
	return func(frame int, au [][]byte) [][]byte {
		if n <= 0 || frame%n != n-1 || len(au) == 0 {
			return au
		}
		last := au[len(au)-1]
		au[len(au)-1] = last[:max(1, len(last)/3)]
		return au
	}
}

// GarbageEvery replaces every nth frame (frames n-1, 2n-1, …) with one to
// three NAL units of random bytes, headers included, so the receiver sees
// unknown NAL types, bogus STAP-A lengths and FU-A fragments with no start.
// The bytes are derived from seed and the frame index.
// n <= 0 disables it.
func GarbageEvery(n int, seed uint64) func(frame int, au [][]byte) [][]byte {
	return func(frame int, au [][]byte) [][]byte {
		if n <= 0 || frame%n != n-1 {
			return au
		}
		r := rand.New(rand.NewPCG(seed, uint64(frame)))
		out := make([][]byte, 1+r.IntN(3))
		for i := range out {
			b := make([]byte, 1+r.IntN(3000)) // some fit a packet, some fragment
			for j := range b {
				b[j] = byte(r.Uint32())
			}
			out[i] = b
		}
		return out
	}
}

// DropFragmentEvery drops the second RTP packet of every nth frame (frames
// n-1, 2n-1, …) that spans two packets or more: a frame with a hole in the
// middle, the commonest form of UDP loss. n <= 0 disables it.
func DropFragmentEvery(n int) func(frame int, pkts []*rtp.Packet) []*rtp.Packet {
	return func(frame int, pkts []*rtp.Packet) []*rtp.Packet {
		if n <= 0 || frame%n != n-1 || len(pkts) < 2 {
			return pkts
		}
		return append(pkts[:1], pkts[2:]...)
	}
}
