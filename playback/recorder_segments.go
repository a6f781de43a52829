package playback

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/formats/fmp4"

	"github.com/camgate/camgate/cameras"
	"github.com/camgate/camgate/playback/internal/index"
	"github.com/camgate/camgate/playback/internal/segfile"
)

// Segments and fragments of a run: every fragment is complete on disk (one
// write) before the index mentions it, and a segment's file and row exist
// before any video is written to it, so a crash loses at most what is in
// memory (docs/recording.md, "Crash safety and recovery").

// openSegment is the segment file being written.
type openSegment struct {
	id       int64
	file     *os.File
	rel      string
	init     *segfile.Init
	start    int64 // ns
	firstDTS int64
	size     int64
	frames   int64
	fragSeq  uint32
	endTicks int64 // media written so far, from firstDTS
	lastSync time.Time
}

// add appends a frame of the current run.
func (w *writer) add(f *cameras.Frame, dts int64) {
	if w.held == nil {
		if !w.openSegment(dts) {
			w.abortRun()
			return
		}
		w.held = &held{f: f, dts: dts}
		w.run.lastDTS = dts
		return
	}
	h := w.held
	dur := dts - h.dts
	w.lastDur = dur
	if !w.appendHeld(dur, dts) {
		return
	}
	if f.Key && dts-w.seg.firstDTS >= w.r.segTicks {
		if !w.flushPart() {
			return
		}
		prev := w.seg
		end := prev.start + ticksToNs(prev.endTicks)
		w.finishFile(prev)
		w.seg = nil
		if !w.openSegmentAfter(dts, prev, end) {
			w.abortRun()
			return
		}
	}
	w.held = &held{f: f, dts: dts}
	w.run.lastDTS = dts
}

// appendHeld moves the held frame into the fragment being built, with the
// given duration; next is the DTS that follows it. A fragment is flushed
// first when the held frame is a keyframe or would make it longer than the
// fragment duration.
func (w *writer) appendHeld(dur, next int64) bool {
	h := w.held
	w.held = nil
	if len(w.part) > 0 && (h.f.Key || next-w.partFirst > w.r.fragTicks) {
		if !w.flushPart() {
			return false
		}
	}
	var s fmp4.Sample
	// The composition offset (PTS − DTS, in the trun box) puts a
	// reordered frame (B-frames) at its presentation time; the hub keeps
	// it small (cameras.Frame.DTS), so it fits the box's 32 bits.
	fill := s.FillH264
	if h.f.Codec == cameras.CodecH265 {
		fill = s.FillH265 // hvc1: the same length-prefixed NAL units
	}
	if err := fill(int32(h.f.PTS-h.dts), h.f.AU); err != nil {
		w.r.log.Debug("recorder: frame cannot be stored; skipped", "error", err)
		w.r.skipped.Add(1)
		return true
	}
	s.Duration = uint32(min(dur, 1<<31))
	if len(w.part) == 0 {
		w.partFirst = h.dts
	}
	w.part = append(w.part, &s)
	return true
}

// flushPart writes the fragment being built with one write, then records
// it in the index.
func (w *writer) flushPart() bool {
	if len(w.part) == 0 {
		return true
	}
	seg := w.seg
	base := w.partFirst - seg.firstDTS
	buf, err := segfile.MarshalFragment(seg.fragSeq, uint64(base), w.part)
	if err != nil {
		w.part = w.part[:0]
		w.writeFailed(err)
		return false
	}
	off := seg.size
	if _, err := seg.file.Write(buf); err != nil {
		w.part = w.part[:0]
		w.writeFailed(err)
		return false
	}
	var dur int64
	for _, s := range w.part {
		dur += int64(s.Duration)
	}
	n := int64(len(w.part))
	var kfs []index.Keyframe
	if !w.part[0].IsNonSyncSample {
		kfs = []index.Keyframe{{T: seg.start + ticksToNs(base), Offset: off}}
	}
	w.part = w.part[:0]
	seg.size += int64(len(buf))
	seg.frames += n
	seg.fragSeq++
	seg.endTicks = base + dur
	w.r.fragments.Add(1)
	w.r.written.Add(uint64(n))
	if w.r.syncEvery > 0 {
		if now := time.Now(); now.Sub(seg.lastSync) >= w.r.syncEvery {
			if err := seg.file.Sync(); err != nil {
				w.writeFailed(err)
				return false
			}
			seg.lastSync = now
		}
	}
	if err := w.r.cam.db.Progress(context.Background(), seg.id, seg.start+ticksToNs(seg.endTicks), seg.size, seg.frames, kfs, ""); err != nil {
		w.indexFailed(err)
	}
	return true
}

// openSegment creates the first segment of a run, starting with the
// keyframe at dts.
func (w *writer) openSegment(dts int64) bool {
	return w.openSegmentAfter(dts, nil, 0)
}

// openSegmentAfter creates a segment starting with the keyframe at dts;
// prev (if any) is the segment it follows, whose index row is closed in the
// same transaction.
func (w *writer) openSegmentAfter(dts int64, prev *openSegment, prevEnd int64) bool {
	run := w.run
	start := run.wall0 + ticksToNs(dts-run.dts0)
	rel := segmentRel(start, run.id)
	abs := filepath.Join(w.r.cam.dir, filepath.FromSlash(rel))
	closePrev := func() {
		if prev != nil {
			if err := w.r.cam.db.Progress(context.Background(), prev.id, prevEnd, prev.size, prev.frames, nil, index.StateClosed); err != nil {
				w.indexFailed(err)
			}
		}
	}
	if err := os.MkdirAll(filepath.Dir(abs), 0o750); err != nil {
		closePrev()
		w.writeFailed(err)
		return false
	}
	file, err := os.OpenFile(abs, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o640)
	if err != nil {
		closePrev()
		w.writeFailed(err)
		return false
	}
	initBuf, err := segfile.MarshalInit(run.params, segfile.Meta{Camera: w.r.stream.CameraID, Run: run.id, Seq: run.seq, Start: start})
	if err == nil {
		_, err = file.Write(initBuf)
	}
	var in *segfile.Init
	if err == nil {
		in, err = segfile.ReadInit(bytes.NewReader(initBuf))
	}
	if err != nil {
		file.Close()
		os.Remove(abs)
		closePrev()
		w.writeFailed(err)
		return false
	}
	codec, width, height := segfile.CodecInfo(run.params)
	row := index.Segment{
		Start: start, End: start, Run: run.id, Seq: run.seq, Path: rel, Bytes: int64(len(initBuf)),
		State: index.StateOpen, Codec: codec, Width: int64(width), Height: int64(height),
	}
	var prevID, prevSize, prevFrames int64
	if prev != nil {
		prevID, prevSize, prevFrames = prev.id, prev.size, prev.frames
	}
	id, err := w.r.cam.db.CloseAndOpen(context.Background(), prevID, prevEnd, prevSize, prevFrames, nil, row, nil)
	if err != nil {
		// Without its row the file would be found by the next start-up's
		// recovery; keep recording rather than lose video.
		w.indexFailed(err)
	}
	w.seg = &openSegment{
		id: id, file: file, rel: rel, init: in, start: start, firstDTS: dts,
		size: int64(len(initBuf)), lastSync: time.Now(),
	}
	run.seq++
	w.r.segments.Add(1)
	w.r.log.Debug("recorder: segment opened", "path", rel)
	return true
}

// finishFile patches the segment's duration, syncs and closes its file.
func (w *writer) finishFile(seg *openSegment) {
	if err := segfile.PatchDuration(seg.file, seg.init, uint64(seg.endTicks/90)); err != nil {
		w.writeFailed(err)
	}
	if err := seg.file.Sync(); err != nil {
		w.writeFailed(err)
	}
	if err := seg.file.Close(); err != nil {
		w.writeFailed(err)
	}
}

// closeSegment closes the open segment and its index row. A segment
// without a frame is removed.
func (w *writer) closeSegment() {
	seg := w.seg
	if seg == nil {
		return
	}
	w.seg = nil
	w.finishFile(seg)
	ctx := context.Background()
	if seg.frames == 0 {
		os.Remove(filepath.Join(w.r.cam.dir, filepath.FromSlash(seg.rel)))
		if seg.id != 0 {
			if err := w.r.cam.db.Delete(ctx, index.Segment{ID: seg.id, Start: seg.start, End: seg.start}); err != nil {
				w.indexFailed(err)
			}
		}
		return
	}
	end := seg.start + ticksToNs(seg.endTicks)
	w.lastEnd = max(w.lastEnd, end)
	if seg.id != 0 {
		if err := w.r.cam.db.Progress(ctx, seg.id, end, seg.size, seg.frames, nil, index.StateClosed); err != nil {
			w.indexFailed(err)
		}
	}
}

// writeFailed handles a failed write: the file is cut back to its last
// complete fragment, the run ends, and the next keyframe starts a new one.
func (w *writer) writeFailed(err error) {
	w.r.writeErrors.Add(1)
	w.r.lastError.Store(err.Error())
	if w.errLog.allow(time.Now()) {
		w.r.log.Error("recorder: write failed; recording resumes at the next keyframe", "error", err,
			"errors", w.r.writeErrors.Load())
	}
	if seg := w.seg; seg != nil {
		w.seg = nil
		_ = seg.file.Truncate(seg.size)
		w.seg = seg
		w.part, w.held = nil, nil
		w.closeSegment()
	}
	w.run, w.held, w.part = nil, nil, nil
}

func (w *writer) indexFailed(err error) {
	w.r.lastError.Store(err.Error())
	if w.errLog.allow(time.Now()) {
		w.r.log.Error("recorder: index update failed; the next start-up repairs it from the files", "error", err)
	}
}

// rateLog lets one message through per period.
type rateLog struct{ last time.Time }

func (l *rateLog) allow(now time.Time) bool {
	if !l.last.IsZero() && now.Sub(l.last) < 30*time.Second {
		return false
	}
	l.last = now
	return true
}
