package playback

import (
	"bytes"
	"testing"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
	"github.com/pion/rtp/codecs"
)

func nalu(typ byte, n int) []byte {
	b := bytes.Repeat([]byte{0xab}, n)
	b[0] = 0x60 | typ
	return b
}

// packetizeCases share one table between the unit test and the fuzz seeds.
var packetizeCases = []struct {
	name    string
	au      [][]byte
	max     int
	packets int
}{
	{"one small NAL unit", [][]byte{nalu(1, 100)}, 1188, 1},
	{"SPS, PPS and a small IDR in one STAP-A", [][]byte{nalu(7, 20), nalu(8, 5), nalu(5, 300)}, 1188, 1},
	{"SPS, PPS, then an IDR fragmented", [][]byte{nalu(7, 20), nalu(8, 5), nalu(5, 5000)}, 1188, 1 + 5},
	{"exactly the limit", [][]byte{nalu(1, 1188)}, 1188, 1},
	{"one byte over", [][]byte{nalu(1, 1189)}, 1188, 2},
	{"two that do not fit together", [][]byte{nalu(1, 700), nalu(1, 700)}, 1188, 2},
	{"tiny limit", [][]byte{nalu(7, 10), nalu(5, 50)}, 12, 1 + 5},
	{"empty units skipped", [][]byte{{}, nalu(1, 10), {}}, 1188, 1},
}

func TestPacketize(t *testing.T) {
	for _, tc := range packetizeCases {
		t.Run(tc.name, func(t *testing.T) {
			payloads, size := packetize(tc.au, tc.max)
			if len(payloads) != tc.packets {
				t.Errorf("%d packets, want %d", len(payloads), tc.packets)
			}
			checkDepacketize(t, tc.au, payloads, size, tc.max)
		})
	}
}

func checkDepacketize(t *testing.T, au, payloads [][]byte, size, max int) {
	t.Helper()
	var got []byte
	total := 0
	var dp codecs.H264Packet
	for _, p := range payloads {
		if len(p) > max {
			t.Fatalf("payload of %d bytes > %d", len(p), max)
		}
		total += len(p)
		b, err := dp.Unmarshal(p)
		if err != nil {
			t.Fatalf("depacketize: %v", err)
		}
		got = append(got, b...)
	}
	if total != size {
		t.Errorf("size %d, payloads %d", size, total)
	}
	var nonEmpty [][]byte
	for _, n := range au {
		if len(n) > 0 {
			nonEmpty = append(nonEmpty, n)
		}
	}
	want, _ := h264.AnnexB(nonEmpty).Marshal()
	if !bytes.Equal(stripStartCodes(got), stripStartCodes(want)) {
		t.Errorf("payloads do not depacketize to the access unit")
	}
}

func FuzzPacketize(f *testing.F) {
	for _, tc := range packetizeCases {
		var flat []byte
		for _, n := range tc.au {
			flat = append(flat, byte(len(n)>>8), byte(len(n)))
			flat = append(flat, n...)
		}
		f.Add(flat, uint16(tc.max))
	}
	f.Fuzz(func(t *testing.T, flat []byte, max uint16) {
		if max < 3 {
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
		payloads, size := packetize(au, int(max))
		checkDepacketize(t, au, payloads, size, int(max))
	})
}

func TestRTPTimestamp(t *testing.T) {
	cases := []struct {
		offset time.Duration
		rate   uint32
		want   uint32
	}{
		{0, 1000, 0},
		{89500 * time.Millisecond, 1000, 89500},
		{-2500 * time.Millisecond, 1000, 0xffffffff - 2500 + 1},
		{1499 * time.Microsecond, 1000, 1},                   // rounds
		{1500 * time.Microsecond, 1000, 2},                   // half up
		{-1500 * time.Microsecond, 1000, 0xffffffff - 2 + 1}, // symmetric
		{time.Second, 90000, 90000},
		{40 * time.Millisecond, 90000, 3600},
		{-40 * time.Millisecond, 90000, 0xffffffff - 3600 + 1},
		{time.Duration(1<<31) * time.Millisecond, 1000, 1 << 31}, // 24.9 days: the signed ms clock wraps
		{14 * time.Hour, 90000, uint32(14 * 3600 * 90000 % (1 << 32))},
	}
	for _, tc := range cases {
		if got := (PlayFrame{Offset: tc.offset}).RTPTimestamp(tc.rate); got != tc.want {
			t.Errorf("RTPTimestamp(%v at %d Hz) = %d, want %d", tc.offset, tc.rate, got, tc.want)
		}
	}
}
