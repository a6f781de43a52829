package cameras

import (
	"bytes"
	"testing"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
)

var (
	// testSPS is the demo clip's SPS (640x360 baseline); testSPS2 is a
	// 320x240 High-profile SPS. Both parse: the hub keeps only SPS that do.
	testSPS  = []byte{0x67, 0x42, 0xc0, 0x1e, 0xda, 0x02, 0x80, 0xbf, 0xe5, 0xc0, 0x44, 0x00, 0x00, 0x03, 0x00, 0x04, 0x00, 0x00, 0x03, 0x00, 0xc8, 0x3c, 0x58, 0xba, 0x80}
	testSPS2 = []byte{0x67, 0x64, 0x00, 0x0d, 0xac, 0xd9, 0x41, 0x41, 0xfb, 0x01, 0x10, 0x00, 0x00, 0x03, 0x00, 0x10, 0x00, 0x00, 0x03, 0x03, 0x20, 0xf1, 0x42, 0x99, 0x60}
	testPPS  = []byte{0x68, 0xce, 0x3c, 0x80}
	testIDR  = []byte{0x65, 0x88, 0x84, 0x00}
	testP    = []byte{0x41, 0x9a, 0x02}
	testAUD  = []byte{0x09, 0xf0}
)

func naluTypes(au [][]byte) []h264.NALUType {
	var out []h264.NALUType
	for _, n := range au {
		out = append(out, h264.NALUType(n[0]&0x1f))
	}
	return out
}

func TestParamSetsNormalize(t *testing.T) {
	t.Parallel()
	sps2 := testSPS2
	for _, tc := range []struct {
		name      string
		sdpSPS    []byte
		sdpPPS    []byte
		au        [][]byte
		wantTypes []h264.NALUType
		wantKey   bool
	}{
		{"IDR with parameter sets only in the SDP", testSPS, testPPS, [][]byte{testIDR},
			[]h264.NALUType{h264.NALUTypeSPS, h264.NALUTypePPS, h264.NALUTypeIDR}, true},
		{"IDR with in-band parameter sets", nil, nil, [][]byte{testAUD, testSPS, testPPS, testIDR},
			[]h264.NALUType{h264.NALUTypeSPS, h264.NALUTypePPS, h264.NALUTypeIDR}, true},
		{"IDR without any parameter sets cannot be decoded", nil, nil, [][]byte{testIDR}, nil, false},
		{"P frame passes without parameter sets", testSPS, testPPS, [][]byte{testAUD, testP},
			[]h264.NALUType{h264.NALUTypeNonIDR}, false},
		{"in-band parameter sets before a P frame are held for the next IDR", nil, nil, [][]byte{sps2, testPPS, testP},
			[]h264.NALUType{h264.NALUTypeNonIDR}, false},
		{"only delimiters", testSPS, testPPS, [][]byte{testAUD, {}}, nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := paramSets{sps: tc.sdpSPS, pps: tc.sdpPPS}
			got, key := p.normalize(tc.au)
			if key != tc.wantKey {
				t.Fatalf("key = %v, want %v", key, tc.wantKey)
			}
			if types := naluTypes(got); len(types) != len(tc.wantTypes) || (len(types) > 0 && !equalTypes(types, tc.wantTypes)) {
				t.Fatalf("types = %v, want %v", types, tc.wantTypes)
			}
		})
	}
}

func equalTypes(a, b []h264.NALUType) bool {
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestGarbageParameterSetsAreIgnored(t *testing.T) {
	t.Parallel()
	p := paramSets{sps: testSPS, pps: testPPS}
	garbageSPS := append([]byte{0x67}, make([]byte, 40)...)
	hugePPS := append([]byte{0x68}, make([]byte, maxParamSetSize)...)
	out, key := p.normalize([][]byte{garbageSPS, hugePPS, testIDR})
	if !key || !bytes.Equal(out[0], testSPS) || !bytes.Equal(out[1], testPPS) || p.changed {
		t.Fatalf("garbage replaced the parameter sets: %x %x changed=%v", out[0], out[1], p.changed)
	}
}

func TestParamSetsChangeAndOwnership(t *testing.T) {
	t.Parallel()
	p := paramSets{}
	idr := append([]byte(nil), testIDR...)
	out, key := p.normalize([][]byte{testSPS, testPPS, idr})
	if !key || len(out) != 3 {
		t.Fatalf("first IDR: key=%v types=%v", key, naluTypes(out))
	}
	// The caller's buffer is reused by the RTSP client: the published AU
	// must not change with it.
	idr[1] = 0xff
	if out[2][1] == 0xff {
		t.Fatal("normalized AU aliases the input buffer")
	}
	if p.changed {
		t.Fatal("first parameter sets reported as a change")
	}
	newSPS := testSPS2
	out, _ = p.normalize([][]byte{newSPS, testPPS, testIDR})
	if !bytes.Equal(out[0], newSPS) || !p.changed {
		t.Fatalf("SPS change not taken: %x changed=%v", out[0], p.changed)
	}
}
