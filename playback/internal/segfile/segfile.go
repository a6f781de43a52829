// Package segfile reads and writes camgate's segment files: fragmented MP4
// made of an init block (ftyp + moov, then camgate's own "cgmt" box with the
// segment's wall-clock start and run), followed by fragments, each one moof +
// mdat written with a single write. mediacommon's fmp4 package does the
// (un)marshalling; this package adds the pieces around it: the metadata box,
// reading one fragment at a byte offset, scanning a file that a crash left
// unfinished, and patching the mvhd duration on close.
package segfile

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h265"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/fmp4"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/fmp4/seekablebuffer"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/mp4"
)

// TimeScale is the media clock of the video track: 90 kHz, the RTP clock of
// H.264, so camera timestamps are stored without rounding.
const TimeScale = 90000

// TrackID is the id of the only (video) track.
const TrackID = 1

// MetaBoxType is the four-character code of camgate's metadata box.
const MetaBoxType = "cgmt"

// Bounds that keep a corrupt or hostile file from making a reader allocate
// without limit.
const (
	maxInitSize = 1 << 20
	maxMoofSize = 4 << 20
	maxMdatSize = 256 << 20
)

var (
	// ErrIncomplete reports a box that extends past the end of the file: the
	// tail of a file being written, or left by a crash.
	ErrIncomplete = errors.New("segfile: incomplete box at the end of the file")
	// ErrCorrupt reports bytes that are not a fragment.
	ErrCorrupt = errors.New("segfile: not a fragment")
)

// Meta is the content of the metadata box. A rebuild of the index takes the
// segment's times from it rather than from the file name.
type Meta struct {
	Version int    `json:"v"`
	Camera  string `json:"camera"`
	Run     string `json:"run"`
	Seq     int64  `json:"seq"`
	// Start is the wall time of the first sample, Unix nanoseconds (UTC).
	Start int64 `json:"start"`
}

// Params are the parameter sets of a segment's video track: SPS and PPS
// for H.264; VPS, SPS and PPS for H.265 (a VPS makes it H.265).
type Params struct {
	VPS, SPS, PPS []byte
}

// H265 reports an H.265 track (stored as hvc1: the parameter sets in the
// sample entry, as for H.264's avc1).
func (p Params) H265() bool { return p.VPS != nil }

// Codec is the track's codec for mediacommon's MP4 writers.
func (p Params) Codec() mp4.Codec {
	if p.H265() {
		return &mp4.CodecH265{VPS: p.VPS, SPS: p.SPS, PPS: p.PPS}
	}
	return &mp4.CodecH264{SPS: p.SPS, PPS: p.PPS}
}

// Equal reports the same codec and parameter sets.
func (p Params) Equal(o Params) bool {
	return bytes.Equal(p.VPS, o.VPS) && bytes.Equal(p.SPS, o.SPS) && bytes.Equal(p.PPS, o.PPS)
}

// MarshalInit returns the init block of a segment: ftyp, moov (one H.264
// or H.265 track at TimeScale), and the metadata box.
func MarshalInit(p Params, meta Meta) ([]byte, error) {
	init := fmp4.Init{Tracks: []*fmp4.InitTrack{{
		ID:        TrackID,
		TimeScale: TimeScale,
		Codec:     p.Codec(),
	}}}
	var buf seekablebuffer.Buffer
	if err := init.Marshal(&buf); err != nil {
		return nil, fmt.Errorf("init: %w", err)
	}
	meta.Version = 1
	payload, err := json.Marshal(meta)
	if err != nil {
		return nil, err
	}
	out := buf.Bytes()
	HVC1(out)
	out = binary.BigEndian.AppendUint32(out, uint32(8+len(payload)))
	out = append(out, MetaBoxType...)
	return append(out, payload...), nil
}

// MarshalFragment returns one moof + mdat.
func MarshalFragment(seq uint32, baseTime uint64, samples []*fmp4.Sample) ([]byte, error) {
	part := fmp4.Part{SequenceNumber: seq, Tracks: []*fmp4.PartTrack{{ID: TrackID, BaseTime: baseTime, Samples: samples}}}
	var buf seekablebuffer.Buffer
	if err := part.Marshal(&buf); err != nil {
		return nil, fmt.Errorf("fragment: %w", err)
	}
	return buf.Bytes(), nil
}

// boxHeader reads the 8-byte header of the box at off. It returns io.EOF
// when off is the end of the file.
func boxHeader(r io.ReaderAt, off int64) (size int64, typ string, err error) {
	var h [8]byte
	n, err := r.ReadAt(h[:], off)
	switch {
	case n == 0 && errors.Is(err, io.EOF):
		return 0, "", io.EOF
	case n < len(h) && errors.Is(err, io.EOF):
		return 0, "", ErrIncomplete
	case n < len(h):
		return 0, "", err
	}
	return int64(binary.BigEndian.Uint32(h[:4])), string(h[4:]), nil
}

// Fragment is one moof + mdat read from a file.
type Fragment struct {
	// Offset is the byte offset of the moof; Size covers moof and mdat.
	Offset, Size int64
	// BaseTime is the decode time of the first sample, in TimeScale units
	// from the start of the segment.
	BaseTime uint64
	// Samples of the video track. Their Payloads alias Buf (nil when the
	// fragment was read without payloads).
	Samples []*fmp4.Sample
	Buf     []byte
	// PayloadOffsets are the file offsets of the samples' payloads, and
	// PayloadSizes their sizes (also when read without payloads).
	PayloadOffsets []int64
	PayloadSizes   []int
}

// Duration is the sum of the samples' durations, in TimeScale units.
func (f *Fragment) Duration() uint64 {
	var d uint64
	for _, s := range f.Samples {
		d += uint64(s.Duration)
	}
	return d
}

// StartsWithKeyframe reports whether the first sample is a sync sample.
func (f *Fragment) StartsWithKeyframe() bool {
	return len(f.Samples) > 0 && !f.Samples[0].IsNonSyncSample
}

// payloadPos returns the position in buf of a payload that
// fmp4.Parts.Unmarshal sliced out of buf (it does not copy).
func payloadPos(buf, p []byte) (int, bool) {
	if len(p) == 0 {
		return 0, true
	}
	pos := cap(buf) - cap(p)
	if pos < 0 || pos+len(p) > len(buf) || &buf[pos] != &p[0] {
		return 0, false
	}
	return pos, true
}

// ReadFragment reads the fragment at off. withPayload false reads only the
// moof (enough for timing and sync flags) and checks that the mdat is
// complete by its size. It returns io.EOF when off is the end of the file,
// ErrIncomplete when the fragment is cut short, ErrCorrupt when the bytes at
// off are not a fragment.
func ReadFragment(r io.ReaderAt, off, fileSize int64, withPayload bool) (*Fragment, error) {
	moofSize, typ, err := boxHeader(r, off)
	if err != nil {
		return nil, err
	}
	if typ != "moof" || moofSize < 16 || moofSize > maxMoofSize {
		if moofSize == 0 && typ == "\x00\x00\x00\x00" {
			// Zeros where a box should be: a file system that extended the
			// file but lost the data (power loss). Same as a cut-off tail.
			return nil, ErrIncomplete
		}
		return nil, fmt.Errorf("%w: box %q of %d bytes at %d", ErrCorrupt, printable(typ), moofSize, off)
	}
	mdatSize, typ, err := boxHeader(r, off+moofSize)
	if errors.Is(err, io.EOF) {
		return nil, ErrIncomplete
	}
	if err != nil {
		return nil, err
	}
	if typ != "mdat" || mdatSize < 8 || mdatSize > maxMdatSize {
		if mdatSize == 0 && typ == "\x00\x00\x00\x00" {
			return nil, ErrIncomplete
		}
		return nil, fmt.Errorf("%w: box %q of %d bytes after the moof at %d", ErrCorrupt, printable(typ), mdatSize, off)
	}
	total := moofSize + mdatSize
	if fileSize >= 0 && off+total > fileSize {
		return nil, ErrIncomplete
	}
	buf := make([]byte, total)
	readLen := total
	if !withPayload {
		readLen = moofSize + 8
	}
	n, err := r.ReadAt(buf[:readLen], off)
	if int64(n) < readLen {
		if err == nil || errors.Is(err, io.EOF) {
			return nil, ErrIncomplete
		}
		return nil, err
	}
	var parts fmp4.Parts
	if err := parts.Unmarshal(buf); err != nil {
		return nil, fmt.Errorf("%w: at %d: %w", ErrCorrupt, off, err)
	}
	if len(parts) != 1 || len(parts[0].Tracks) != 1 || parts[0].Tracks[0].ID != TrackID || len(parts[0].Tracks[0].Samples) == 0 {
		return nil, fmt.Errorf("%w: at %d: want one fragment of track %d with samples", ErrCorrupt, off, TrackID)
	}
	tr := parts[0].Tracks[0]
	f := &Fragment{Offset: off, Size: total, BaseTime: tr.BaseTime, Samples: tr.Samples,
		PayloadOffsets: make([]int64, len(tr.Samples)), PayloadSizes: make([]int, len(tr.Samples))}
	for i, smp := range tr.Samples {
		pos, ok := payloadPos(buf, smp.Payload)
		if !ok {
			return nil, fmt.Errorf("%w: at %d: sample %d lies outside its fragment", ErrCorrupt, off, i)
		}
		f.PayloadOffsets[i], f.PayloadSizes[i] = off+int64(pos), len(smp.Payload)
	}
	if withPayload {
		f.Buf = buf
	} else {
		for _, s := range f.Samples {
			s.Payload = nil
		}
	}
	return f, nil
}

func printable(s string) string {
	for _, c := range []byte(s) {
		if c < 0x20 || c > 0x7e {
			return fmt.Sprintf("%x", s)
		}
	}
	return s
}

// Init is the parsed init block of a segment.
type Init struct {
	Params
	Meta    Meta
	HasMeta bool
	// End is the offset of the first fragment.
	End int64
	// MvhdDuration is the offset of the mvhd duration field, and
	// MvhdDuration64 whether it is 64 bits wide (0 when not found).
	MvhdDuration   int64
	MvhdDuration64 bool
}

// ReadInit reads the boxes before the first fragment.
func ReadInit(r io.ReaderAt) (*Init, error) {
	var (
		off                int64
		moovOff, moovSize  int64
		in                 Init
		haveFtyp, haveMoov bool
	)
	for {
		size, typ, err := boxHeader(r, off)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("init: %w", err)
		}
		if typ == "moof" {
			break
		}
		if size < 8 || size > maxInitSize {
			return nil, fmt.Errorf("init: %w: box %q of %d bytes at %d", ErrCorrupt, printable(typ), size, off)
		}
		var last [1]byte
		if _, err := r.ReadAt(last[:], off+size-1); err != nil {
			return nil, fmt.Errorf("init: %w: box %q at %d", ErrIncomplete, printable(typ), off)
		}
		switch typ {
		case "ftyp":
			haveFtyp = true
		case "moov":
			haveMoov, moovOff, moovSize = true, off, size
		case MetaBoxType:
			b := make([]byte, size-8)
			if _, err := r.ReadAt(b, off+8); err != nil {
				return nil, fmt.Errorf("init: meta: %w", ErrIncomplete)
			}
			if err := json.Unmarshal(b, &in.Meta); err == nil && in.Meta.Version >= 1 {
				in.HasMeta = true
			}
		}
		off += size
	}
	if !haveFtyp || !haveMoov {
		return nil, fmt.Errorf("init: %w: no ftyp and moov", ErrCorrupt)
	}
	in.End = off
	b := make([]byte, moovOff+moovSize)
	if n, err := r.ReadAt(b, 0); int64(n) < int64(len(b)) {
		// Not %w: a short read here is an incomplete file, and a wrapped
		// io.EOF would read as the end of the recordings to the player.
		return nil, fmt.Errorf("init: %w (%v)", ErrIncomplete, err) //nolint:errorlint // see above
	}
	var init fmp4.Init
	if err := init.Unmarshal(bytes.NewReader(b)); err != nil {
		return nil, fmt.Errorf("init: %w: %w", ErrCorrupt, err)
	}
	if len(init.Tracks) != 1 {
		return nil, fmt.Errorf("init: %w: %d tracks, want 1", ErrCorrupt, len(init.Tracks))
	}
	switch codec := init.Tracks[0].Codec.(type) {
	case *mp4.CodecH264:
		in.SPS, in.PPS = codec.SPS, codec.PPS
	case *mp4.CodecH265:
		in.VPS, in.SPS, in.PPS = codec.VPS, codec.SPS, codec.PPS
	}
	if in.SPS == nil || init.Tracks[0].TimeScale != TimeScale {
		return nil, fmt.Errorf("init: %w: want one H.264 or H.265 track at 90 kHz", ErrCorrupt)
	}
	in.MvhdDuration, in.MvhdDuration64 = findMvhdDuration(b[moovOff:])
	if in.MvhdDuration > 0 {
		in.MvhdDuration += moovOff
	}
	return &in, nil
}

// findMvhdDuration returns the offset (within moov) of the duration field
// of the mvhd box, and whether it is 64 bits wide.
func findMvhdDuration(moov []byte) (int64, bool) {
	off := 8
	for off+8 <= len(moov) {
		size := int(binary.BigEndian.Uint32(moov[off:]))
		if size < 8 || off+size > len(moov) {
			return 0, false
		}
		if string(moov[off+4:off+8]) == "mvhd" && size >= 32 {
			if moov[off+8] == 1 {
				if size < 44 {
					return 0, false
				}
				// header, version+flags, creation (8), modification (8), timescale (4)
				return int64(off + 8 + 4 + 8 + 8 + 4), true
			}
			return int64(off + 8 + 4 + 4 + 4 + 4), false
		}
		off += size
	}
	return 0, false
}

// PatchDuration writes the segment's duration (in milliseconds, the mvhd
// time scale mediacommon writes) into mvhd, as MediaMTX does on close.
func PatchDuration(w io.WriterAt, in *Init, d uint64) error {
	if in.MvhdDuration == 0 {
		return nil
	}
	if in.MvhdDuration64 {
		var b [8]byte
		binary.BigEndian.PutUint64(b[:], d)
		_, err := w.WriteAt(b[:], in.MvhdDuration)
		return err
	}
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], uint32(min(d, 0xffffffff)))
	_, err := w.WriteAt(b[:], in.MvhdDuration)
	return err
}

// Scan is what a walk over a whole file found.
type Scan struct {
	Init      *Init
	Fragments []*Fragment // without payloads
	// End is the offset just past the last complete fragment: the length
	// the file should have.
	End int64
	// Problem says why the walk stopped before the end of the file ("" if
	// it reached the end cleanly).
	Problem string
}

// Duration is the media duration of all fragments, in TimeScale units.
func (s *Scan) Duration() uint64 {
	if len(s.Fragments) == 0 {
		return 0
	}
	last := s.Fragments[len(s.Fragments)-1]
	return last.BaseTime + last.Duration()
}

// Frames is the number of samples.
func (s *Scan) Frames() int64 {
	var n int64
	for _, f := range s.Fragments {
		n += int64(len(f.Samples))
	}
	return n
}

// ScanFile walks a segment: the init block, then fragments until the end of
// the file or the first box that is incomplete or not a fragment. Only the
// moof boxes are read; an mdat counts as complete when the file is long
// enough to hold it.
func ScanFile(r io.ReaderAt, fileSize int64) (*Scan, error) {
	in, err := ReadInit(r)
	if err != nil {
		return nil, err
	}
	s := &Scan{Init: in, End: in.End}
	off := in.End
	for {
		f, err := ReadFragment(r, off, fileSize, false)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			if errors.Is(err, ErrIncomplete) || errors.Is(err, ErrCorrupt) {
				s.Problem = err.Error()
				break
			}
			return nil, err
		}
		if n := len(s.Fragments); n > 0 {
			prev := s.Fragments[n-1]
			if f.BaseTime < prev.BaseTime+prev.Duration() {
				s.Problem = fmt.Sprintf("fragment at %d goes back in time", off)
				break
			}
		}
		s.Fragments = append(s.Fragments, f)
		off += f.Size
		s.End = off
	}
	return s, nil
}

// CodecInfo returns the RFC 6381 codec string and the picture size of a
// track's parameter sets. For H.265 the string names the profile, tier
// and level only ("hvc1.1.L93": Main, main tier, level 3.1), without the
// compatibility and constraint flags: it is for people reading the index.
func CodecInfo(p Params) (codec string, width, height int) {
	if p.H265() {
		var sps h265.SPS
		if err := sps.Unmarshal(p.SPS); err == nil {
			ptl := sps.ProfileTierLevel
			tier := "L"
			if ptl.GeneralTierFlag == 1 {
				tier = "H"
			}
			codec = fmt.Sprintf("hvc1.%d.%s%d", ptl.GeneralProfileIdc, tier, ptl.GeneralLevelIdc)
			width, height = sps.Width(), sps.Height()
		}
		return codec, width, height
	}
	if len(p.SPS) >= 4 {
		codec = fmt.Sprintf("avc1.%02x%02x%02x", p.SPS[1], p.SPS[2], p.SPS[3])
	}
	var sps h264.SPS
	if err := sps.Unmarshal(p.SPS); err == nil {
		width, height = sps.Width(), sps.Height()
	}
	return codec, width, height
}

// HVC1 renames the H.265 sample entry of an init block (ftyp + moov, as
// mediacommon writes them) from hev1 to hvc1, in place. mediacommon names
// it hev1, which Safari and QuickTime do not play; the parameter sets are
// in the sample entry (hvcC) either way, as hvc1 requires. It changes
// nothing in a block without an hev1 entry.
func HVC1(b []byte) {
	path := []string{"moov", "trak", "mdia", "minf", "stbl", "stsd"}
	start, end := 0, len(b)
	for depth := 0; depth < len(path); {
		found := false
		for off := start; off+8 <= end; {
			size := int(binary.BigEndian.Uint32(b[off:]))
			if size < 8 || off+size > end {
				return
			}
			if string(b[off+4:off+8]) == path[depth] {
				start, end, found = off+8, off+size, true
				break
			}
			off += size
		}
		if !found {
			return
		}
		depth++
	}
	// stsd: version and flags, entry count, then the first entry.
	if entry := start + 8; entry+8 <= end && string(b[entry+4:entry+8]) == "hev1" {
		copy(b[entry+4:], "hvc1")
	}
}
