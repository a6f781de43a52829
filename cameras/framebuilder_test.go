package cameras

import (
	"bytes"
	"testing"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
	"github.com/pion/rtp/codecs"
)

// nalu returns a NAL unit of type typ and n bytes.
func nalu(typ byte, n int) []byte {
	b := bytes.Repeat([]byte{0xab}, n)
	b[0] = 0x60 | typ
	return b
}

// buildCases share one table between the unit test and the fuzz seeds. The
// packet counts are those of gortsplib's encoder: NAL units share a STAP-A
// while they fit together, a NAL unit shorter than the limit goes alone,
// one of the limit's size or more is cut into FU-A fragments.
var buildCases = []struct {
	name    string
	au      [][]byte
	max     int
	packets int
	key     bool
}{
	{"one small NAL unit", [][]byte{nalu(1, 100)}, 1188, 1, false},
	{"SPS, PPS and a small IDR in one STAP-A", [][]byte{testSPS, testPPS, nalu(5, 300)}, 1188, 1, true},
	{"SPS, PPS, then an IDR fragmented", [][]byte{testSPS, testPPS, nalu(5, 5000)}, 1188, 1 + 5, true},
	{"one byte under the limit", [][]byte{nalu(1, 1187)}, 1188, 1, false},
	{"exactly the limit", [][]byte{nalu(1, 1188)}, 1188, 2, false},
	{"one byte over", [][]byte{nalu(1, 1189)}, 1188, 2, false},
	{"two that do not fit together", [][]byte{nalu(1, 700), nalu(1, 700)}, 1188, 2, false},
	{"tiny limit", [][]byte{testSPS, testPPS, nalu(5, 50)}, 12, 3 + 1 + 5, true},
	{"empty units and delimiters skipped", [][]byte{{}, testAUD, nalu(1, 10), {}}, 1188, 1, false},
}

func TestFrameBuilderPacketizes(t *testing.T) {
	t.Parallel()
	for _, tc := range buildCases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFrameBuilder(nil, nil, tc.max).Build(tc.au)
			if f == nil {
				t.Fatal("no frame")
			}
			if len(f.Payloads) != tc.packets || f.Key != tc.key {
				t.Errorf("%d packets, key %v; want %d, %v", len(f.Payloads), f.Key, tc.packets, tc.key)
			}
			checkDepacketize(t, f, tc.max)
		})
	}
}

// checkDepacketize checks a frame's payloads against its AU with pion's
// depacketizer (what a browser's side does): each within maxSize, together
// the AU, their sizes summed in Size.
func checkDepacketize(t *testing.T, f *Frame, maxSize int) {
	t.Helper()
	var got []byte
	total := 0
	var dp codecs.H264Packet
	for _, p := range f.Payloads {
		if len(p) > maxSize {
			t.Fatalf("payload of %d bytes > %d", len(p), maxSize)
		}
		total += len(p)
		b, err := dp.Unmarshal(p)
		if err != nil {
			t.Fatalf("depacketize: %v", err)
		}
		got = append(got, b...)
	}
	if total != f.Size {
		t.Errorf("size %d, payloads %d", f.Size, total)
	}
	want, _ := h264.AnnexB(f.AU).Marshal()
	if !bytes.Equal(stripStartCodes(got), stripStartCodes(want)) {
		t.Errorf("payloads do not depacketize to the access unit")
	}
}

// stripStartCodes reduces Annex-B to its NAL units' bytes, so that 3- and
// 4-byte start codes compare equal.
func stripStartCodes(b []byte) []byte {
	var au h264.AnnexB
	if err := au.Unmarshal(b); err != nil {
		return b
	}
	return bytes.Join(au, []byte{0xff, 0xfe})
}

func TestFrameBuilderOwnsItsBytes(t *testing.T) {
	t.Parallel()
	b := NewFrameBuilder(testSPS, testPPS)
	idr := nalu(5, 3000)
	f := b.Build([][]byte{idr})
	want := bytes.Clone(f.Payloads[len(f.Payloads)-1])
	idr[len(idr)-1] = 0x00 // the RTSP client reuses its buffers
	if !bytes.Equal(f.Payloads[len(f.Payloads)-1], want) || f.AU[2][len(idr)-1] != 0xab {
		t.Fatal("the frame aliases the caller's buffer")
	}
	if b.Build([][]byte{testSPS, testPPS}) != nil || b.Build(nil) != nil {
		t.Error("an access unit of parameter sets only built a frame")
	}
	b.Reset(nil, nil)
	if b.Build([][]byte{idr}) != nil {
		t.Error("an IDR without parameter sets built a frame")
	}
}

func FuzzFrameBuilder(f *testing.F) {
	for _, tc := range buildCases {
		var flat []byte
		for _, n := range tc.au {
			flat = append(flat, byte(len(n)>>8), byte(len(n)))
			flat = append(flat, n...)
		}
		f.Add(flat, uint16(tc.max))
	}
	f.Fuzz(func(t *testing.T, flat []byte, maxSize uint16) {
		if maxSize < 3 {
			return
		}
		var au [][]byte
		for len(flat) >= 2 {
			n := int(flat[0])<<8 | int(flat[1])
			flat = flat[2:]
			n = min(n, len(flat))
			if n > 0 {
				nal := append([]byte(nil), flat[:n]...)
				nal[0] = nal[0]&0x60 | 1 // forbidden bit clear, a coded slice
				au = append(au, nal)
			}
			flat = flat[n:]
		}
		fr := newFrameBuilder(nil, nil, int(maxSize)).Build(au)
		if len(au) == 0 {
			if fr != nil {
				t.Fatal("a frame from nothing")
			}
			return
		}
		if fr == nil || len(fr.AU) != len(au) {
			t.Fatalf("frame %+v from %d coded slices", fr, len(au))
		}
		for i := range au {
			if !bytes.Equal(fr.AU[i], au[i]) {
				t.Fatalf("NAL unit %d changed", i)
			}
		}
		checkDepacketize(t, fr, int(maxSize))
	})
}
