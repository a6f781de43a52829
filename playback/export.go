package playback

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/formats/pmp4"

	"github.com/camgate/camgate/playback/internal/index"
	"github.com/camgate/camgate/playback/internal/segfile"
)

// maxExportBytes keeps an export within the 32-bit chunk offsets of a
// progressive MP4 (stco), with room for the header.
const maxExportBytes = 4_000_000_000

// ExportInfo describes an export before it is written.
type ExportInfo struct {
	// Start is the recorded time of the first frame (the keyframe at or
	// before the requested start, or the first keyframe after it when the
	// start is in a gap); End is the end of the last frame.
	Start, End time.Time
	// Frames is the number of frames.
	Frames int
}

// Export writes a standalone progressive MP4 (ftyp, moov, mdat; playable by
// browsers and ffprobe) of a camera's recording: from the keyframe at or
// before start (or the first recording after start) up to start+duration.
// A gap inside the range is bridged by showing the frame before it for the
// length of the gap, so the file's timeline matches recorded time. An
// export stops early where the camera's parameter sets (resolution,
// profile) change. Everything is checked before the first byte is written:
// *RequestError for a bad duration or camera id, *RangeError when nothing
// is recorded in the range.
func (s *Store) Export(ctx context.Context, cameraID string, start time.Time, duration time.Duration, w io.Writer) (ExportInfo, error) {
	if limit := time.Duration(s.rec.MaxExportDuration); duration <= 0 || duration > limit {
		return ExportInfo{}, &RequestError{Field: "duration", Msg: fmt.Sprintf("must be more than 0s and at most %v (got %v)", limit, duration)}
	}
	c, err := s.camera(ctx, cameraID, false)
	if err != nil {
		return ExportInfo{}, err
	}
	if c == nil {
		return ExportInfo{}, &RangeError{Requested: start}
	}
	plan, err := s.planExport(ctx, c, start.UnixNano(), start.Add(duration).UnixNano())
	if err != nil {
		return ExportInfo{}, err
	}
	defer plan.close()
	info := ExportInfo{Start: nsTime(plan.first), End: nsTime(plan.end), Frames: len(plan.samples)}
	pres := pmp4.Presentation{Tracks: []*pmp4.Track{{
		ID:        segfile.TrackID,
		TimeScale: segfile.TimeScale,
		Codec:     plan.params.Codec(),
		Samples:   plan.samples,
	}}}
	if plan.params.H265() {
		w = &hvc1Writer{w: w}
	}
	if err := pres.Marshal(w); err != nil {
		return info, fmt.Errorf("playback: export: %w", err)
	}
	return info, nil
}

// exportPlan is the sample table of an export, with the files it reads.
type exportPlan struct {
	params     segfile.Params
	samples    []*pmp4.Sample
	files      []*os.File
	first, end int64
}

func (e *exportPlan) close() {
	for _, f := range e.files {
		f.Close()
	}
}

// planExport builds the sample table from the index and the fragments'
// headers, without reading any video data.
func (s *Store) planExport(ctx context.Context, c *camera, from, to int64) (*exportPlan, error) {
	lo, hi, ok, err := c.db.Range(ctx)
	if err != nil {
		return nil, fmt.Errorf("playback: %w", err)
	}
	rangeErr := &RangeError{Requested: nsTime(from)}
	if !ok {
		return nil, rangeErr
	}
	rangeErr.Oldest, rangeErr.Newest = nsTime(lo), nsTime(hi)
	if from >= hi || to <= lo {
		return nil, rangeErr
	}
	// The first segment and fragment: the keyframe at or before from, or
	// the next recording.
	var seg index.Segment
	var off int64
	kf, found, err := c.db.KeyframeAtOrBefore(ctx, from)
	if err != nil {
		return nil, fmt.Errorf("playback: %w", err)
	}
	if found {
		if seg, ok, err = c.db.Segment(ctx, kf.SegmentID); err != nil {
			return nil, fmt.Errorf("playback: %w", err)
		}
		found = ok && from < seg.End
		off = kf.Offset
	}
	if !found {
		if seg, ok, err = c.db.SegmentAfter(ctx, from); err != nil {
			return nil, fmt.Errorf("playback: %w", err)
		}
		if !ok || seg.Start >= to {
			return nil, rangeErr
		}
		off = 0
	}
	plan := &exportPlan{}
	var total int64
	type pending struct {
		s *pmp4.Sample
		t int64
	}
	var last *pending
	for {
		f, err := os.Open(filepath.Join(c.dir, filepath.FromSlash(seg.Path)))
		if err != nil {
			plan.close()
			return nil, fmt.Errorf("playback: export: %w", err)
		}
		plan.files = append(plan.files, f)
		in, err := segfile.ReadInit(f)
		if err != nil {
			plan.close()
			return nil, fmt.Errorf("playback: export %s: %w", seg.Path, err)
		}
		if plan.params.SPS == nil {
			plan.params = in.Params
		} else if !plan.params.Equal(in.Params) {
			break // the picture format changes: one MP4 track cannot follow
		}
		if off == 0 {
			off = in.End
		}
		info, err := f.Stat()
		if err != nil {
			plan.close()
			return nil, err
		}
		stop := false
		for !stop {
			fr, err := segfile.ReadFragment(f, off, info.Size(), false)
			if errors.Is(err, io.EOF) || errors.Is(err, segfile.ErrIncomplete) {
				break // end of the written data (an open segment ends here for now)
			}
			if err != nil {
				plan.close()
				return nil, fmt.Errorf("playback: export %s: %w", seg.Path, err)
			}
			off += fr.Size
			ticks := int64(fr.BaseTime)
			for i, fs := range fr.Samples {
				t := seg.Start + ticksToNs(ticks)
				ticks += int64(fs.Duration)
				if t >= to {
					stop = true
					break
				}
				switch {
				case last != nil:
					// The previous sample lasts until this one: across a
					// segment boundary or a gap, too.
					last.s.Duration = uint32(min(nsToTicksSigned(t-last.t), 1<<31))
				case fs.IsNonSyncSample:
					continue // an export starts with a keyframe
				default:
					plan.first = t
				}
				size := fr.PayloadSizes[i]
				total += int64(size)
				if total > maxExportBytes {
					plan.close()
					return nil, &RequestError{Field: "duration", Msg: "the export would exceed 4 GB; ask for a shorter duration"}
				}
				file, pos := f, fr.PayloadOffsets[i]
				ps := &pmp4.Sample{
					Duration:        fs.Duration,
					PTSOffset:       fs.PTSOffset,
					IsNonSyncSample: fs.IsNonSyncSample,
					PayloadSize:     uint32(size),
					GetPayload: func() ([]byte, error) {
						b := make([]byte, size)
						if _, err := file.ReadAt(b, pos); err != nil {
							return nil, err
						}
						return b, nil
					},
				}
				plan.samples = append(plan.samples, ps)
				last = &pending{s: ps, t: t}
				plan.end = t + ticksToNs(int64(fs.Duration))
			}
		}
		if stop {
			break
		}
		next, ok, err := c.db.SegmentAfter(ctx, seg.Start)
		if err != nil {
			plan.close()
			return nil, fmt.Errorf("playback: %w", err)
		}
		if !ok || next.Start >= to {
			break
		}
		seg, off = next, 0
	}
	if last != nil {
		// The last frame keeps its recorded duration, cut at the end.
		d := min(int64(last.s.Duration), nsToTicksSigned(to-last.t))
		last.s.Duration = uint32(max(d, 1))
		plan.end = last.t + ticksToNs(int64(last.s.Duration))
	}
	if len(plan.samples) == 0 {
		plan.close()
		return nil, rangeErr
	}
	return plan, nil
}

// hvc1Writer names an export's H.265 sample entry hvc1 (segfile.HVC1):
// mediacommon writes ftyp and moov with its first Write, and the samples
// after.
type hvc1Writer struct {
	w       io.Writer
	started bool
}

func (h *hvc1Writer) Write(p []byte) (int, error) {
	if !h.started {
		h.started = true
		p = bytes.Clone(p)
		segfile.HVC1(p)
	}
	return h.w.Write(p)
}
