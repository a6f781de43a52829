package segfile

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"github.com/bluenviron/mediacommon/v2/pkg/formats/fmp4"
)

var (
	testSPS = []byte{0x67, 0x42, 0xc0, 0x1e, 0xd9, 0x00, 0xa0, 0x2f, 0xf9, 0x70, 0x11, 0x00, 0x00, 0x03, 0x00, 0x01, 0x00, 0x00, 0x03, 0x00, 0x32, 0x0f, 0x16, 0x2e, 0x48}
	testPPS = []byte{0x68, 0xcb, 0x83, 0xcb, 0x20}
)

// segment builds a file: the init block and n fragments of 25 frames, the
// first of each a keyframe.
func segment(t testing.TB, n int) ([]byte, []int64) {
	t.Helper()
	b, err := MarshalInit(Params{SPS: testSPS, PPS: testPPS}, Meta{Camera: "cam", Run: "r1", Seq: 2, Start: 1_700_000_000_000_000_000})
	if err != nil {
		t.Fatal(err)
	}
	var ends []int64
	for i := range n {
		var samples []*fmp4.Sample
		for j := range 25 {
			s := &fmp4.Sample{Duration: 3600}
			au := [][]byte{{0x41, byte(i), byte(j), 0x55}}
			if j == 0 {
				au = [][]byte{testSPS, testPPS, {0x65, byte(i), 0x88}}
			}
			if err := s.FillH264(0, au); err != nil {
				t.Fatal(err)
			}
			samples = append(samples, s)
		}
		frag, err := MarshalFragment(uint32(i), uint64(i*25*3600), samples)
		if err != nil {
			t.Fatal(err)
		}
		b = append(b, frag...)
		ends = append(ends, int64(len(b)))
	}
	return b, ends
}

// scanCases share one table between the test and the fuzz seeds.
func scanCases(t testing.TB) []struct {
	name      string
	file      []byte
	fragments int
	end       int64
	problem   bool
} {
	full, ends := segment(t, 3)
	zeros := append(bytes.Clone(full[:ends[1]]), make([]byte, 4096)...)
	garbage := append(bytes.Clone(full[:ends[0]]), []byte("\x00\x00\x00\x10junkjunkjunkjunk")...)
	return []struct {
		name      string
		file      []byte
		fragments int
		end       int64
		problem   bool
	}{
		{"complete", full, 3, ends[2], false},
		{"cut in the last mdat", full[:ends[2]-10], 2, ends[1], true},
		{"cut in a moof header", full[:ends[1]+5], 2, ends[1], true},
		{"zeros after a power loss", zeros, 2, ends[1], true},
		{"not a fragment", garbage, 1, ends[0], true},
		{"init only", full[:initLen(full)], 0, initLen(full), false},
	}
}

func initLen(b []byte) int64 {
	in, err := ReadInit(bytes.NewReader(b))
	if err != nil {
		return 0
	}
	return in.End
}

func TestScanFile(t *testing.T) {
	for _, tc := range scanCases(t) {
		t.Run(tc.name, func(t *testing.T) {
			sc, err := ScanFile(bytes.NewReader(tc.file), int64(len(tc.file)))
			if err != nil {
				t.Fatal(err)
			}
			if len(sc.Fragments) != tc.fragments || sc.End != tc.end || (sc.Problem != "") != tc.problem {
				t.Errorf("%d fragments, end %d, problem %q; want %d, %d, %v", len(sc.Fragments), sc.End, sc.Problem, tc.fragments, tc.end, tc.problem)
			}
			if !sc.Init.HasMeta || sc.Init.Meta.Run != "r1" || sc.Init.Meta.Seq != 2 || !bytes.Equal(sc.Init.SPS, testSPS) {
				t.Errorf("init %+v", sc.Init)
			}
			for i, f := range sc.Fragments {
				if !f.StartsWithKeyframe() || f.BaseTime != uint64(i*25*3600) || f.Duration() != 25*3600 || len(f.PayloadOffsets) != 25 {
					t.Errorf("fragment %d: %+v", i, f)
				}
			}
		})
	}
}

func TestReadFragmentPayloads(t *testing.T) {
	full, ends := segment(t, 2)
	f, err := ReadFragment(bytes.NewReader(full), ends[0], -1, true)
	if err != nil {
		t.Fatal(err)
	}
	for i, s := range f.Samples {
		off := f.PayloadOffsets[i]
		if !bytes.Equal(full[off:off+int64(f.PayloadSizes[i])], s.Payload) {
			t.Fatalf("sample %d: payload offset %d does not point at its bytes", i, off)
		}
	}
	if _, err := ReadFragment(bytes.NewReader(full), ends[1], -1, true); !errors.Is(err, io.EOF) {
		t.Errorf("at the end: %v, want io.EOF", err)
	}
	if _, err := ReadFragment(bytes.NewReader(full[:ends[1]-1]), ends[0], -1, true); !errors.Is(err, ErrIncomplete) {
		t.Errorf("cut short: %v, want ErrIncomplete", err)
	}
	if _, err := ReadFragment(bytes.NewReader(full), 0, -1, true); !errors.Is(err, ErrCorrupt) {
		t.Errorf("at the ftyp: %v, want ErrCorrupt", err)
	}
}

func TestPatchDuration(t *testing.T) {
	full, _ := segment(t, 1)
	in, err := ReadInit(bytes.NewReader(full))
	if err != nil || in.MvhdDuration == 0 || in.MvhdDuration64 {
		t.Fatalf("init %+v, %v", in, err)
	}
	w := &writerAt{b: bytes.Clone(full)}
	if err := PatchDuration(w, in, 1000); err != nil {
		t.Fatal(err)
	}
	if got := w.b[in.MvhdDuration : in.MvhdDuration+4]; !bytes.Equal(got, []byte{0, 0, 0x03, 0xe8}) {
		t.Errorf("mvhd duration bytes %x", got)
	}
	if _, err := ScanFile(bytes.NewReader(w.b), int64(len(w.b))); err != nil {
		t.Errorf("patched file: %v", err)
	}
}

type writerAt struct{ b []byte }

func (w *writerAt) WriteAt(p []byte, off int64) (int, error) { return copy(w.b[off:], p), nil }

// FuzzScanFile: a segment file is input from a disk that a crash, a power
// loss or a person may have damaged; scanning must never panic.
func FuzzScanFile(f *testing.F) {
	for _, tc := range scanCases(f) {
		f.Add(tc.file)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		sc, err := ScanFile(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			return
		}
		if sc.End > int64(len(b)) {
			t.Fatalf("end %d past the file (%d)", sc.End, len(b))
		}
		for _, fr := range sc.Fragments {
			if _, err := ReadFragment(bytes.NewReader(b), fr.Offset, int64(len(b)), true); err != nil {
				t.Fatalf("a scanned fragment does not read: %v", err)
			}
		}
	})
}
