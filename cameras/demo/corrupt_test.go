package demo

import (
	"bytes"
	"testing"
	"time"

	"github.com/pion/rtp"
)

func TestCorruptHelpers(t *testing.T) {
	t.Parallel()
	au := func() [][]byte { return [][]byte{{0x09, 0xf0}, bytes.Repeat([]byte{0x41}, 300)} }

	if got := TruncateEvery(3)(1, au()); len(got[1]) != 300 {
		t.Error("TruncateEvery touched frame 1 of 3")
	}
	if got := TruncateEvery(3)(2, au()); len(got[1]) != 100 || len(got[0]) != 2 {
		t.Errorf("TruncateEvery(3) frame 2: lengths %d,%d, want 2,100", len(got[0]), len(got[1]))
	}
	if got := TruncateEvery(0)(0, au()); len(got[1]) != 300 {
		t.Error("TruncateEvery(0) is not disabled")
	}

	g := GarbageEvery(2, 42)
	if got := g(0, au()); len(got) != 2 || len(got[1]) != 300 {
		t.Error("GarbageEvery touched frame 0 of 2")
	}
	a, b := g(1, au()), g(1, au())
	if len(a) == 0 || len(a) != len(b) || !bytes.Equal(a[0], b[0]) {
		t.Error("GarbageEvery is not deterministic for a seed and frame")
	}

	pkts := func() []*rtp.Packet {
		return []*rtp.Packet{{Header: rtp.Header{SequenceNumber: 1}}, {Header: rtp.Header{SequenceNumber: 2}}, {Header: rtp.Header{SequenceNumber: 3}}}
	}
	if got := DropFragmentEvery(1)(0, pkts()); len(got) != 2 || got[1].SequenceNumber != 3 {
		t.Errorf("DropFragmentEvery: got %d packets", len(got))
	}
	if got := DropFragmentEvery(1)(0, pkts()[:1]); len(got) != 1 {
		t.Error("DropFragmentEvery dropped the only packet of a frame")
	}
}

// TestCorruptHooksDoNotTouchTheClip: hooks get private copies, so mangling
// bytes in place cannot damage the shared clip or later loops.
func TestCorruptHooksDoNotTouchTheClip(t *testing.T) {
	t.Parallel()
	clip := smallClip(t, testFrames)
	want := bytes.Clone(slice(clip.AccessUnit(3)))
	zero := func(b []byte) {
		for i := range b {
			b[i] = 0
		}
	}
	s := startServer(t, &Server{
		Clip: clip, FPS: testFPS, InBandParameterSets: true,
		Corrupt: func(_ int, au [][]byte) [][]byte {
			for _, n := range au {
				zero(n)
			}
			return au
		},
		CorruptRTP: func(_ int, pkts []*rtp.Packet) []*rtp.Packet {
			for _, p := range pkts {
				zero(p.Payload)
			}
			return pkts
		},
	})
	deadline := time.Now().Add(5 * time.Second)
	for s.Stats().FramesSent < 2*testFrames && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if !bytes.Equal(slice(clip.AccessUnit(3)), want) {
		t.Fatal("a hook modified the clip")
	}
}

// TestReaderSurvivesCorruption: with garbage frames, truncated slices and
// lost fragments mixed in, the server keeps streaming and a reader keeps
// getting intact frames with intact timestamps afterwards.
func TestReaderSurvivesCorruption(t *testing.T) {
	t.Parallel()
	for _, tr := range []struct {
		name string
		udp  bool
	}{{"tcp", false}, {"udp", true}} {
		t.Run(tr.name, func(t *testing.T) {
			t.Parallel()
			clip := smallClip(t, testFrames)
			garbage, truncate := GarbageEvery(3, 1), TruncateEvery(7)
			s := startServer(t, &Server{
				Clip: clip, FPS: testFPS,
				Corrupt: func(i int, au [][]byte) [][]byte {
					return truncate(i, garbage(i, au))
				},
				CorruptRTP: DropFragmentEvery(5),
			})
			transport := tcp
			if tr.udp {
				transport = udp
			}
			r := mustDial(t, s.URL(), transport)

			// Intact IDRs keep coming (the IDR is frame 0 mod 10; garbage
			// hits frames 2 mod 3, truncation 6 mod 7, loss 4 mod 5), and
			// their PTS are whole loops apart. Garbage can look like an IDR,
			// so intact ones are recognised by their bytes.
			idr := slice(clip.AccessUnit(0))
			intactIDR := func() frame {
				for {
					if f := r.next(t); bytes.Equal(slice(f.au), idr) {
						return f
					}
				}
			}
			first := intactIDR()
			for range 3 {
				f := intactIDR()
				if d := f.pts - first.pts; d <= 0 || d%(testFrames*ptsStep) != 0 {
					t.Fatalf("IDR PTS distance %d is not a whole number of loops", d)
				}
			}
			if st := s.Stats(); st.Sessions != 1 {
				t.Errorf("Sessions = %d, want 1: the reader was dropped", st.Sessions)
			}
		})
	}
}
