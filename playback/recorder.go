package playback

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/fmp4"

	"github.com/camgate/camgate/cameras"
	"github.com/camgate/camgate/playback/internal/index"
	"github.com/camgate/camgate/playback/internal/segfile"
)

// hubQueueFrames is the queue the recorder asks the stream hub for. The
// recorder's own goroutine empties it at once (it only timestamps the
// frames), so it stays short; the deep queue (Recording.QueueFrames) sits
// between that goroutine and the disk.
const hubQueueFrames = 256

// minIdle is the shortest silence after which a run ends (its segment is
// closed) because the camera sent nothing.
const minIdle = 2 * time.Second

// Recorder records one camera stream into the store: a reader of the stream
// hub that never slows the hub down, and a writer that cuts the frames into
// segments and fragments and keeps the index up to date. Create it with
// Store.NewRecorder, then Start; Close flushes what is in memory.
type Recorder struct {
	store  *Store
	cam    *camera
	stream *cameras.Stream
	log    *slog.Logger
	clock  Clock

	segTicks   int64
	fragTicks  int64
	maxDrift   time.Duration
	syncEvery  time.Duration
	idle       time.Duration
	queueDepth int

	mu      sync.Mutex
	started bool
	closed  bool
	reader  *cameras.Reader
	cancel  context.CancelFunc
	wg      sync.WaitGroup

	queue chan arrival

	framesIn    atomic.Uint64
	written     atomic.Uint64
	dropped     atomic.Uint64
	skipped     atomic.Uint64
	runs        atomic.Uint64
	segments    atomic.Uint64
	fragments   atomic.Uint64
	writeErrors atomic.Uint64
	lastError   atomic.Value  // string
	handled     atomic.Uint64 // frames the writer has dealt with (tests wait on it)

	w writer
}

// arrival is a frame with the time the recorder took it from the hub.
type arrival struct {
	f  *cameras.Frame
	at time.Time
	// afterDrop marks the first frame after frames were dropped.
	afterDrop bool
}

// RecorderStats are a recorder's counters since it started.
type RecorderStats struct {
	// FramesIn counts live frames taken from the stream hub.
	FramesIn uint64
	// FramesWritten counts frames written to segment files.
	FramesWritten uint64
	// Dropped counts frames lost because the disk could not keep up (the
	// recorder's queue and the hub's together).
	Dropped uint64
	// Skipped counts frames not recorded while waiting for a keyframe to
	// start a run.
	Skipped uint64
	// Runs, Segments and Fragments count what was started and written.
	Runs, Segments, Fragments uint64
	// WriteErrors counts failed writes; LastError is the latest.
	WriteErrors uint64
	LastError   string
}

// NewRecorder returns a recorder of the stream, which records under the
// stream's CameraID. A camera has at most one recorder at a time
// (ErrRecording).
func (s *Store) NewRecorder(stream *cameras.Stream) (*Recorder, error) {
	c, err := s.camera(context.Background(), stream.CameraID, true)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, ErrClosed
	}
	if _, busy := s.recorders[c.id]; busy {
		return nil, fmt.Errorf("%w: %s", ErrRecording, stream.CameraID)
	}
	r := &Recorder{
		store:      s,
		cam:        c,
		stream:     stream,
		log:        s.log.With("camera", stream.CameraID, "stream", stream.StreamID),
		clock:      s.clock,
		segTicks:   durToTicks(time.Duration(s.rec.SegmentDuration)),
		fragTicks:  durToTicks(time.Duration(s.rec.FragmentDuration)),
		maxDrift:   time.Duration(s.rec.MaxDrift),
		syncEvery:  time.Duration(s.rec.SyncInterval),
		idle:       max(minIdle, 2*time.Duration(s.rec.FragmentDuration)),
		queueDepth: s.rec.QueueFrames,
	}
	r.w.r = r
	s.recorders[c.id] = r
	return r, nil
}

// Start attaches the recorder to the stream hub and starts recording. The
// recorder skips the hub's cached GOP (its frames arrived earlier, so their
// wall times are unknown) and starts at the next keyframe.
func (r *Recorder) Start() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return ErrClosed
	}
	if r.started {
		return nil
	}
	r.started = true
	if newest, ok, err := r.cam.db.Newest(context.Background()); err != nil {
		return fmt.Errorf("playback: recorder: %w", err)
	} else if ok {
		r.w.lastEnd = newest.End
	}
	r.queue = make(chan arrival, r.queueDepth)
	r.reader = r.stream.AddReader(hubQueueFrames)
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	r.wg.Add(2)
	go func() {
		defer r.wg.Done()
		r.readLoop(ctx)
	}()
	go func() {
		defer r.wg.Done()
		r.writeLoop(ctx)
	}()
	r.log.Info("recording", "dir", r.cam.dir)
	return nil
}

// Close stops recording: frames already taken from the hub are written,
// the open segment is closed, and Close returns when the recorder's
// goroutines have exited.
func (r *Recorder) Close() {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return
	}
	r.closed = true
	started := r.started
	r.mu.Unlock()
	if started {
		r.cancel()
		r.reader.Close()
		r.wg.Wait()
	}
	r.store.mu.Lock()
	if r.store.recorders[r.cam.id] == r {
		delete(r.store.recorders, r.cam.id)
	}
	r.store.mu.Unlock()
}

// Stats returns the recorder's counters.
func (r *Recorder) Stats() RecorderStats {
	st := RecorderStats{
		FramesIn:      r.framesIn.Load(),
		FramesWritten: r.written.Load(),
		Dropped:       r.dropped.Load(),
		Skipped:       r.skipped.Load(),
		Runs:          r.runs.Load(),
		Segments:      r.segments.Load(),
		Fragments:     r.fragments.Load(),
		WriteErrors:   r.writeErrors.Load(),
	}
	r.mu.Lock()
	if r.reader != nil {
		st.Dropped += r.reader.Dropped()
	}
	r.mu.Unlock()
	st.LastError, _ = r.lastError.Load().(string)
	return st
}

// readLoop takes frames from the hub as they come, stamps them with the
// clock, and hands them to the writer. It never waits for the writer: when
// the queue is full it drops frames up to the next keyframe and counts them.
func (r *Recorder) readLoop(ctx context.Context) {
	waitKey, dropped := false, false
	for {
		it, err := r.reader.Next(ctx)
		if err != nil {
			return
		}
		if it.CatchUp {
			continue
		}
		a := arrival{f: it.Frame, at: r.clock.Now()}
		r.framesIn.Add(1)
		if waitKey && !a.f.Key {
			r.dropped.Add(1)
			continue
		}
		a.afterDrop = dropped
		select {
		case r.queue <- a:
			waitKey, dropped = false, false
		default:
			waitKey, dropped = true, true
			r.dropped.Add(1)
		}
	}
}

// writeLoop runs the writer until ctx ends, then writes what is queued and
// closes the open segment.
func (r *Recorder) writeLoop(ctx context.Context) {
	w := &r.w
	for {
		var idle <-chan time.Time
		if w.run != nil {
			idle = r.clock.After(r.idle)
		}
		select {
		case a := <-r.queue:
			w.handle(a)
		case <-idle:
			select {
			case a := <-r.queue:
				w.handle(a)
				continue
			default:
			}
			if w.run != nil && r.clock.Now().Sub(w.lastArrival) >= r.idle {
				w.endRun("no frames for " + r.idle.String())
			}
		case <-ctx.Done():
			for {
				select {
				case a := <-r.queue:
					w.handle(a)
					continue
				default:
				}
				break
			}
			w.endRun("recorder closed")
			return
		}
	}
}

// writer is the state of the writer goroutine.
type writer struct {
	r           *Recorder
	run         *run
	seg         *openSegment
	part        []*fmp4.Sample
	partFirst   int64 // DTS of the first sample of part
	held        *held
	lastDur     int64 // duration of the last written sample, ticks
	lastEnd     int64 // end of the newest recording, ns: new runs start after it
	lastArrival time.Time
	errLog      rateLog
}

// run is a stretch of frames with one continuous time base.
type run struct {
	id       string
	epoch    uint64
	sps, pps []byte
	clock0   time.Time // clock at the first frame
	wall0    int64     // wall time given to the first frame, ns
	pts0     int64
	dts0     int64
	dtsx     h264.DTSExtractor
	lastDTS  int64
	prevAt   time.Time // arrival and PTS of the previous frame
	prevPTS  int64
	seq      int64 // sequence number of the next segment
}

// held is the newest frame, kept until the next one gives its duration.
type held struct {
	f   *cameras.Frame
	dts int64
}

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

func (w *writer) handle(a arrival) {
	defer w.r.handled.Add(1)
	w.lastArrival = a.at
	var dts int64
	if w.run != nil {
		var reason string
		dts, reason = w.check(a)
		if reason != "" {
			w.endRun(reason)
		}
	}
	if w.run == nil {
		if !a.f.Key {
			w.r.skipped.Add(1)
			return
		}
		var ok bool
		if dts, ok = w.startRun(a); !ok {
			w.r.skipped.Add(1)
			return
		}
	}
	w.add(a.f, dts)
}

// check returns the frame's DTS, or why the frame cannot continue the run.
func (w *writer) check(a arrival) (int64, string) {
	f, run := a.f, w.run
	if a.afterDrop {
		return 0, "frames were dropped (the disk fell behind)"
	}
	if f.Epoch != run.epoch {
		return 0, "the camera reconnected"
	}
	if f.Key {
		if sps, pps := paramSets(f.AU); !bytes.Equal(sps, run.sps) || !bytes.Equal(pps, run.pps) {
			return 0, "the parameter sets changed"
		}
	}
	dts, err := run.dtsx.Extract(f.AU, f.PTS)
	if err != nil {
		return 0, "bad timestamps: " + err.Error()
	}
	if dts <= run.lastDTS {
		return 0, "the timestamps went back"
	}
	// A jump of the camera's timestamps against camgate's clock from one
	// frame to the next (an RTP timestamp discontinuity) ends the run at
	// once, so that no sample (and no segment) stretches over the jump.
	if step := a.at.Sub(run.prevAt) - ticksToDurSigned(f.PTS-run.prevPTS); step > w.r.maxDrift || step < -w.r.maxDrift {
		return 0, fmt.Sprintf("the camera's timestamps jumped by %v", (-step).Round(time.Millisecond))
	}
	// Slow drift between the two clocks is checked at keyframes, where a
	// new run can start without losing a frame.
	if f.Key {
		drift := a.at.Sub(run.clock0) - ticksToDurSigned(f.PTS-run.pts0)
		if drift > w.r.maxDrift || drift < -w.r.maxDrift {
			return 0, fmt.Sprintf("the camera's clock drifted by %v from camgate's", drift.Round(time.Millisecond))
		}
	}
	run.prevAt, run.prevPTS = a.at, f.PTS
	return dts, ""
}

func ticksToDurSigned(t int64) time.Duration {
	if t < 0 {
		return -ticksToDur(-t)
	}
	return ticksToDur(t)
}

// paramSets returns the SPS and PPS at the front of an IDR access unit (the
// hub puts them there).
func paramSets(au [][]byte) (sps, pps []byte) {
	for _, n := range au {
		if len(n) == 0 {
			continue
		}
		switch h264.NALUType(n[0] & 0x1f) {
		case h264.NALUTypeSPS:
			if sps == nil {
				sps = n
			}
		case h264.NALUTypePPS:
			if pps == nil {
				pps = n
			}
		}
	}
	return sps, pps
}

func newRunID() string {
	var b [8]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return hex.EncodeToString(b[:])
}

// startRun starts a run at keyframe a and returns its DTS.
func (w *writer) startRun(a arrival) (int64, bool) {
	sps, pps := paramSets(a.f.AU)
	if sps == nil || pps == nil {
		return 0, false
	}
	run := &run{id: newRunID(), epoch: a.f.Epoch, sps: sps, pps: pps, clock0: a.at, pts0: a.f.PTS, prevAt: a.at, prevPTS: a.f.PTS}
	run.dtsx.Initialize()
	dts, err := run.dtsx.Extract(a.f.AU, a.f.PTS)
	if err != nil {
		w.r.log.Debug("recorder: keyframe with bad timestamps skipped", "error", err)
		return 0, false
	}
	run.dts0, run.lastDTS = dts, dts
	wall := a.at.UnixNano()
	if wall < w.lastEnd {
		// The clock went back (or the previous run's camera clock ran
		// ahead): recordings never overlap, so this run starts where the
		// last one ended.
		if w.lastEnd-wall > int64(time.Second) {
			w.r.log.Warn("recorder: camgate's clock is behind the newest recording; the new run starts after it",
				"behind", time.Duration(w.lastEnd-wall).Round(time.Millisecond))
		}
		wall = w.lastEnd
	}
	run.wall0 = wall
	w.run = run
	w.r.runs.Add(1)
	return dts, true
}

// add appends a frame of the current run.
func (w *writer) add(f *cameras.Frame, dts int64) {
	if w.held == nil {
		if !w.openSegment(f, dts) {
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
		if !w.openSegmentAfter(f, dts, prev, end) {
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
	if err := s.FillH264(0, h.f.AU); err != nil {
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
		if now := w.r.clock.Now(); now.Sub(seg.lastSync) >= w.r.syncEvery {
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

// openSegment creates the first segment of a run.
func (w *writer) openSegment(f *cameras.Frame, dts int64) bool {
	return w.openSegmentAfter(f, dts, nil, 0)
}

// openSegmentAfter creates a segment starting with keyframe f; prev (if
// any) is the segment it follows, whose index row is closed in the same
// transaction.
func (w *writer) openSegmentAfter(f *cameras.Frame, dts int64, prev *openSegment, prevEnd int64) bool {
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
	initBuf, err := segfile.MarshalInit(run.sps, run.pps, segfile.Meta{Camera: w.r.stream.CameraID, Run: run.id, Seq: run.seq, Start: start})
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
	codec, width, height := segfile.CodecInfo(run.sps)
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
		size: int64(len(initBuf)), lastSync: w.r.clock.Now(),
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

// endRun writes what the run holds in memory and closes its segment.
func (w *writer) endRun(reason string) {
	if w.run == nil {
		return
	}
	if w.held != nil && w.seg != nil {
		dur := w.lastDur
		if dur <= 0 {
			dur = segfile.TimeScale / 25
		}
		next := w.held.dts + dur
		if w.appendHeld(dur, next) {
			w.flushPart()
		}
	}
	w.closeSegment()
	w.r.log.Info("recording run ended", "reason", reason)
	w.run, w.held, w.part = nil, nil, nil
}

// abortRun drops the run after a failure, keeping what was written.
func (w *writer) abortRun() {
	if w.seg != nil {
		w.part = nil
		w.held = nil
		w.closeSegment()
	}
	w.run, w.held, w.part = nil, nil, nil
}

// writeFailed handles a failed write: the file is cut back to its last
// complete fragment, the run ends, and the next keyframe starts a new one.
func (w *writer) writeFailed(err error) {
	w.r.writeErrors.Add(1)
	w.r.lastError.Store(err.Error())
	if w.errLog.allow(w.r.clock.Now()) {
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
	if w.errLog.allow(w.r.clock.Now()) {
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
